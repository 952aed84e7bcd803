/**
 * Reading an installation's config from $SYFT_HOME.
 * @module
 */
import { describeError, SyftError } from "../errors/mod.ts";
import { type Config, readWrittenConfig } from "./config.ts";
import { lazyImport } from "../lazy_import.ts";
import { homeLayout } from "./home.ts";

/**
 * Load `config.yaml`, or `undefined` when the home was never initialised.
 * @throws {SyftError} `E_INPUT` for a malformed or unreadable file
 */
export async function readConfigIfAny(home: string): Promise<Config | undefined> {
  const file = homeLayout(home).config;
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    if (err instanceof Deno.errors.IsADirectory) {
      throw new SyftError("E_INPUT", `${file} is a folder, not a config file`, {
        hint: "remove it and run `syft init` again",
      });
    }
    throw new SyftError("E_INPUT", `cannot read ${file}: ${describeError(err)}`, {
      hint: `make it readable by this user (chmod 600 ${file})`,
    });
  }
  return await parseConfigText(text, file);
}

/**
 * The config in `text`: what syft wrote is read directly; anything else
 * (a hand edit, a mistake) loads the YAML parser, which also names the error.
 * @throws {SyftError} `E_INPUT` naming the file, the field and the line
 */
export async function parseConfigText(text: string, file: string): Promise<Config> {
  const written = readWrittenConfig(text);
  if (written !== undefined) return written;
  const yaml = await lazyImport<typeof import("./config_yaml.ts")>(
    new URL("./config_yaml.ts", import.meta.url),
  );
  return yaml.parseConfig(text, file);
}

/**
 * Load `config.yaml`.
 * @throws {SyftError} `E_NOT_INITIALIZED` when there is none
 */
export async function loadConfig(home: string): Promise<Config> {
  const config = await readConfigIfAny(home);
  if (!config) {
    throw new SyftError("E_NOT_INITIALIZED", `syft is not initialised in ${home}`, {
      hint:
        "run `syft init --email you@example.org --transport local:<folder>` (or pass --home <dir>)",
    });
  }
  return config;
}
