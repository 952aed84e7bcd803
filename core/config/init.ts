/**
 * `syft init` as a service: validate everything first, then create home, keys,
 * datasite and finally config.yaml, undoing what it created if any step fails,
 * so a failed init leaves no config, keys or datasite behind.
 * @module
 */
import { posix } from "node:path";
import { describeError, SyftError } from "../errors/mod.ts";
import { exists, writeFileAtomic } from "../fs/atomic.ts";
import { fingerprint, generateIdentityKeys, publicKeys } from "../identity/keys.ts";
import { DATASITE_FOLDERS, datasiteDir, DEFAULT_PERMISSION_FILES } from "../datasite/layout.ts";
import { isPrivatePath } from "../datasite/names.ts";
import {
  type Config,
  DEFAULT_GDRIVE,
  DEFAULT_SANDBOX,
  DEFAULT_SYNC,
  serializeConfig,
} from "./config.ts";
import { homeLayout } from "./home.ts";
import { keyFiles, readKeys, writeKeys } from "./keystore.ts";
import { readConfigIfAny } from "./load.ts";
import { formatTransportSpec, type TransportSpec } from "./transport_spec.ts";

/** What the user asked for. */
export interface InitRequest {
  home: string;
  email: string;
  root: string;
  transport: TransportSpec;
  /** Replace an existing config that differs. */
  force: boolean;
}

/** Effects init needs from outside core (the transport plugins sit outside core). */
export interface InitDeps {
  /** Throws a SyftError when the transport cannot be used. */
  checkTransport(spec: TransportSpec): Promise<void>;
  now(): number;
}

/** What init did. */
export interface InitResult {
  /** `repaired`: same settings, but missing datasite folders or default files were recreated. */
  outcome: "created" | "unchanged" | "repaired" | "replaced";
  config: Config;
  fingerprint: string;
  datasite: string;
}

/** Records what a run created so a failure can remove exactly that. */
class Undo {
  #created: string[] = [];

  async mkdir(path: string, mode = 0o755): Promise<void> {
    if (await exists(path)) {
      const info = await Deno.stat(path);
      if (!info.isDirectory) {
        throw new SyftError("E_INPUT", `${path} exists and is not a folder`, {
          hint: "move it away or choose another location",
        });
      }
      return;
    }
    await this.mkdir(posix.dirname(path));
    try {
      await Deno.mkdir(path, { mode });
    } catch (err) {
      if (err instanceof Deno.errors.AlreadyExists) return;
      throw new SyftError("E_INPUT", `cannot create folder ${path}: ${describeError(err)}`, {
        hint: "choose a location you can write to (--home, --root)",
      });
    }
    this.#created.push(path);
  }

  async writeNew(path: string, text: string, mode = 0o644): Promise<void> {
    if (await exists(path)) return;
    await writeFileAtomic(path, text, { mode, createOnly: true });
    this.#created.push(path);
  }

  /** How many paths this run created. */
  get count(): number {
    return this.#created.length;
  }

  /** Note a file this run (re)wrote so a failure removes it. */
  record(path: string): void {
    this.#created.push(path);
  }

  async rollback(): Promise<void> {
    for (const path of this.#created.reverse()) {
      await Deno.remove(path, { recursive: true }).catch(() => {});
    }
  }
}

/** `private/` is the owner's alone: other local users may not list or read it. */
const PRIVATE_FOLDER_MODE = 0o700;
const PRIVATE_FILE_MODE = 0o600;

/** Create the datasite's missing folders and default permission files; existing ones are kept. */
async function ensureDatasite(undo: Undo, datasite: string): Promise<void> {
  await undo.mkdir(datasite);
  for (const folder of DATASITE_FOLDERS) {
    const mode = isPrivatePath(folder) ? PRIVATE_FOLDER_MODE : undefined;
    await undo.mkdir(posix.join(datasite, folder), mode);
  }
  for (const [rel, text] of Object.entries(DEFAULT_PERMISSION_FILES)) {
    await undo.writeNew(
      posix.join(datasite, rel),
      text,
      isPrivatePath(rel) ? PRIVATE_FILE_MODE : undefined,
    );
  }
}

function sameSettings(a: Config, req: InitRequest): boolean {
  return a.email === req.email && a.root === req.root &&
    a.transport === formatTransportSpec(req.transport);
}

/**
 * Initialise (or re-check) an installation.
 * @throws {SyftError} `E_EXISTS` when a different config exists and `force` is not set
 */
export async function initialise(req: InitRequest, deps: InitDeps): Promise<InitResult> {
  const layout = homeLayout(req.home);
  let existing: Config | undefined;
  try {
    existing = await readConfigIfAny(req.home);
  } catch (err) {
    if (!req.force) {
      throw new SyftError(
        "E_INPUT",
        err instanceof SyftError ? err.message : describeError(err),
        { hint: "fix the file, or run `syft init --force` with your flags to replace it" },
      );
    }
  }
  const datasite = datasiteDir(req.root, req.email);

  if (existing && sameSettings(existing, req)) {
    const keys = await readKeys(layout.keys);
    const fp = await fingerprint(await publicKeys(keys));
    const undo = new Undo();
    await ensureDatasite(undo, datasite);
    const outcome = undo.count ? "repaired" : "unchanged";
    return { outcome, config: existing, fingerprint: fp, datasite };
  }
  if (existing && !req.force) {
    const diffs = [
      existing.email !== req.email ? `email ${existing.email}` : "",
      existing.root !== req.root ? `root ${existing.root}` : "",
      existing.transport !== formatTransportSpec(req.transport)
        ? `transport ${existing.transport}`
        : "",
    ].filter(Boolean).join(", ");
    throw new SyftError("E_EXISTS", `${layout.config} already exists with ${diffs}`, {
      hint: "run with the same values, or add --force to replace the config (keys are kept)",
    });
  }

  await deps.checkTransport(req.transport);

  const undo = new Undo();
  try {
    await undo.mkdir(req.home, 0o700);
    await undo.mkdir(layout.keys, 0o700);
    await undo.mkdir(layout.peers, 0o700);
    await undo.mkdir(layout.credentials, 0o700);
    await undo.mkdir(layout.state, 0o700);
    await undo.mkdir(layout.logs, 0o700);

    const files = keyFiles(layout.keys);
    const haveKeys = (await exists(files.sign)) && (await exists(files.agree));
    const keys = haveKeys ? await readKeys(layout.keys) : await generateIdentityKeys();
    if (!haveKeys) {
      undo.record(files.sign);
      undo.record(files.agree);
      await writeKeys(layout.keys, keys);
    }

    // Mirrors hold what peers shared with this user alone, and unreleased job
    // outputs are computed from private data: no other local user reads the root.
    await undo.mkdir(req.root, 0o700);
    await ensureDatasite(undo, datasite);

    const config: Config = {
      version: 1,
      email: req.email,
      root: req.root,
      transport: formatTransportSpec(req.transport),
      // Peers bound to a named transport keep it through `init --force`.
      transports: existing?.transports ?? {},
      created_at: existing?.created_at || deps.now(),
      sync: existing?.sync ?? { ...DEFAULT_SYNC },
      jobs: existing?.jobs ?? { python_index: null },
      sandbox: existing?.sandbox ?? { ...DEFAULT_SANDBOX },
      gdrive: existing?.gdrive ?? { ...DEFAULT_GDRIVE },
    };
    // Written last: its presence is what "initialised" means.
    await writeFileAtomic(layout.config, serializeConfig(config), { mode: 0o600 });
    const fp = await fingerprint(await publicKeys(keys));
    return { outcome: existing ? "replaced" : "created", config, fingerprint: fp, datasite };
  } catch (err) {
    await undo.rollback();
    throw err;
  }
}
