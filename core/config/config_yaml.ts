/**
 * `config.yaml` read with the YAML parser: any text, hand-edited or not,
 * with errors naming the file, the field and the line. Loaded only when the
 * text is not exactly what syft writes (core/config/config.ts).
 * @module
 */
import { isMap, isScalar, LineCounter, parseDocument } from "yaml";
import { SyftError } from "../errors/mod.ts";
import {
  type Config,
  configFrom,
  type ConfigSection,
  FIX_HINT,
  MAX_CONFIG_BYTES,
} from "./config.ts";

/**
 * Parse the text of `config.yaml`.
 * @param text the file's contents
 * @param file the file's path, named in every error
 * @throws {SyftError} `E_INPUT` naming the file, the field and the line
 */
export function parseConfig(text: string, file: string): Config {
  if (text.length > MAX_CONFIG_BYTES) {
    throw new SyftError("E_INPUT", `${file} is larger than 1 MiB and cannot be a syft config`, {
      hint: FIX_HINT,
    });
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true });
  const firstError = doc.errors[0];
  if (firstError) {
    const line = firstError.linePos?.[0].line;
    const where = line === undefined ? "" : ` (line ${line})`;
    throw new SyftError(
      "E_INPUT",
      `${file} is not valid YAML${where}: ${firstError.message.split("\n")[0]}`,
      { hint: FIX_HINT },
    );
  }
  const contents = doc.contents;
  if (!isMap(contents)) {
    throw new SyftError("E_INPUT", `${file} must be a mapping of settings`, { hint: FIX_HINT });
  }
  return configFrom({
    value: (key) => contents.get(key),
    section: (key): ConfigSection | "absent" | "not a mapping" => {
      const node = contents.get(key, true);
      if (node === undefined || node === null) return "absent";
      if (!isMap(node)) return "not a mapping";
      const items = (node as unknown as { items: { key: unknown; value: unknown }[] }).items;
      return {
        entries: () =>
          items.map((item) => [
            isScalar(item.key) ? item.key.value : item.key,
            isScalar(item.value) ? item.value.value : item.value,
          ]),
        get: (k) => (node as unknown as { get(key: string): unknown }).get(k),
      };
    },
    fail: (key, problem) => {
      const node = contents.get(key, true);
      const offset = isScalar(node) && node.range ? node.range[0] : undefined;
      const where = offset === undefined ? "" : ` (line ${lineCounter.linePos(offset).line})`;
      throw new SyftError("E_INPUT", `${file}: "${key}" ${problem}${where}`, { hint: FIX_HINT });
    },
  });
}
