/**
 * Datasets on disk: creating one (temp folders, then renames), deleting one,
 * and finding them in the own datasite and in peers' mirrors.
 * @module
 */
import { posix } from "node:path";
import { hashFile } from "../crypto/hash.ts";
import { isHiddenName, PERMISSION_FILE } from "../datasite/names.ts";
import { describeError, SyftError } from "../errors/mod.ts";
import { exists, syncDir, tempNameFor, writeFileAtomic } from "../fs/atomic.ts";
import { isIdentity } from "../paths/identity.ts";
import {
  type DatasetMeta,
  datasetPermissionFile,
  parseDatasetMeta,
  serializeDatasetMeta,
} from "./meta.ts";
import {
  DATASET_META_FILE,
  DATASET_NAME_RE,
  DATASETS_FOLDER,
  mockFolder,
  parseDatasetName,
  privateFolder,
} from "./name.ts";
import type { CreatePlan, Source } from "./plan.ts";

/** A dataset found on disk: its metadata and the absolute path of its mock folder. */
export type LocatedDataset = DatasetMeta & { location: string };

/** What {@linkcode createDataset} wrote. */
export interface CreatedDataset {
  meta: DatasetMeta;
  /** Absolute path of the mock folder. */
  mock_dir: string;
  /** Absolute path of the private folder. */
  private_dir: string;
}

/** Longest readme kept, in bytes. */
export const MAX_README_BYTES = 1024 * 1024;

/**
 * Read a `--readme` file as UTF-8 text.
 * @throws {SyftError} `E_INPUT` when missing, not a regular file, too large or not UTF-8
 */
export async function readReadme(path: string): Promise<string> {
  const hint = "pass --readme <a UTF-8 text file up to 1 MiB>";
  let info: Deno.FileInfo;
  try {
    info = await Deno.lstat(path);
  } catch (err) {
    const what = err instanceof Deno.errors.NotFound ? "does not exist" : describeError(err);
    throw new SyftError("E_INPUT", `readme ${path} ${what}`, { hint });
  }
  if (!info.isFile) {
    throw new SyftError("E_INPUT", `readme ${path} is not a regular file`, { hint });
  }
  if (info.size > MAX_README_BYTES) {
    throw new SyftError("E_INPUT", `readme ${path} is larger than 1 MiB`, { hint });
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(await Deno.readFile(path));
  } catch (err) {
    throw new SyftError("E_INPUT", `readme ${path} cannot be read as UTF-8 text`, {
      hint,
      cause: err,
    });
  }
}

/** Absolute mock and private folders of `name` in `me`'s datasite. */
export function ownFolders(root: string, me: string, name: string): { mock: string; priv: string } {
  return {
    mock: posix.join(root, me, mockFolder(name)),
    priv: posix.join(root, me, privateFolder(name)),
  };
}

/** True when `me` already has a dataset (or a leftover half of one) called `name`. */
export async function ownDatasetExists(root: string, me: string, name: string): Promise<boolean> {
  const { mock, priv } = ownFolders(root, me, name);
  return (await exists(mock)) || (await exists(priv));
}

/** The error for a name that is taken. */
export function takenError(name: string): SyftError {
  return new SyftError("E_EXISTS", `you already have a dataset named "${name}"`, {
    hint: `pick another name, or remove it first with \`syft dataset delete ${name}\``,
  });
}

/** Private copies are the owner's alone (folders 0700, files 0600), whatever the source's mode. */
const PRIVATE_DIR_MODE = 0o700;
const PRIVATE_FILE_MODE = 0o600;

async function copyInto(source: Source, dir: string, hash: boolean) {
  const secret = source.kind === "private";
  const out: { path: string; size: number; sha256: string }[] = [];
  for (const f of source.files) {
    const dest = posix.join(dir, f.rel);
    try {
      await Deno.mkdir(posix.dirname(dest), {
        recursive: true,
        ...(secret ? { mode: PRIVATE_DIR_MODE } : {}),
      });
      await Deno.copyFile(f.abs, dest);
      // copyFile keeps the source's mode; the 0700 temp folder hides the copy until then.
      if (secret) await Deno.chmod(dest, PRIVATE_FILE_MODE);
      // The copy is what gets published: its hash and size are what dataset.yaml promises.
      if (hash) {
        const h = await hashFile(dest);
        out.push({ path: f.rel, size: h.size, sha256: h.hash });
      }
    } catch (err) {
      throw new SyftError(
        "E_INPUT",
        `cannot copy ${source.kind} file ${f.abs}: ${describeError(err)}`,
        {
          hint: `make it readable by this user and check the free space under ${dir}`,
          cause: err,
        },
      );
    }
  }
  return out;
}

/**
 * Write a checked dataset: both sides are copied into temp folders beside their
 * final places (names sync never picks up), then renamed into place, private
 * first; on any failure both temps (and a private folder already renamed) go.
 * @throws {SyftError} `E_EXISTS` when the name was taken meanwhile, `E_INPUT` when a copy fails
 */
export async function createDataset(
  root: string,
  me: string,
  plan: CreatePlan,
  now: () => Date = () => new Date(),
): Promise<CreatedDataset> {
  const { mock, priv } = ownFolders(root, me, plan.name);
  if (await ownDatasetExists(root, me, plan.name)) throw takenError(plan.name);
  await Deno.mkdir(posix.dirname(mock), { recursive: true });
  await Deno.mkdir(posix.dirname(priv), { recursive: true, mode: PRIVATE_DIR_MODE });
  const mockTemp = tempNameFor(mock);
  const privTemp = tempNameFor(priv);
  let privPlaced = false;
  try {
    await Deno.mkdir(mockTemp);
    await Deno.mkdir(privTemp, { mode: PRIVATE_DIR_MODE });
    const mock_files = await copyInto(plan.mock, mockTemp, true);
    await copyInto(plan.private, privTemp, false);
    const at = now().toISOString();
    const meta: DatasetMeta = {
      name: plan.name,
      summary: plan.summary,
      owner: me,
      created_at: at,
      updated_at: at,
      mock_files,
      readme: plan.readme,
    };
    await writeFileAtomic(posix.join(mockTemp, DATASET_META_FILE), serializeDatasetMeta(meta));
    await writeFileAtomic(
      posix.join(mockTemp, PERMISSION_FILE),
      datasetPermissionFile(plan.readers),
    );
    // rename(2) onto an empty folder succeeds: check again right before.
    if (await ownDatasetExists(root, me, plan.name)) throw takenError(plan.name);
    await Deno.rename(privTemp, priv);
    privPlaced = true;
    await Deno.rename(mockTemp, mock);
    await syncDir(posix.dirname(priv));
    await syncDir(posix.dirname(mock));
    return { meta, mock_dir: mock, private_dir: priv };
  } catch (err) {
    if (privPlaced) await Deno.remove(priv, { recursive: true }).catch(() => {});
    await Deno.remove(mockTemp, { recursive: true }).catch(() => {});
    await Deno.remove(privTemp, { recursive: true }).catch(() => {});
    throw err;
  }
}

/**
 * Remove `me`'s dataset `name`: each folder is renamed to a temp name (so a sync
 * sees it gone at once) and then removed. Returns the folders removed.
 */
export async function deleteDataset(root: string, me: string, name: string): Promise<string[]> {
  const { mock, priv } = ownFolders(root, me, name);
  const removed: string[] = [];
  for (const dir of [mock, priv]) {
    if (!(await exists(dir))) continue;
    const temp = tempNameFor(dir);
    await Deno.rename(dir, temp);
    await syncDir(posix.dirname(dir));
    await Deno.remove(temp, { recursive: true });
    removed.push(dir);
  }
  return removed;
}

/** Options for {@linkcode listDatasets}. */
export interface ListOptions {
  /** Only this owner's datasets. */
  owner?: string | undefined;
  /** Told about each dataset skipped because it cannot be read or parsed. */
  onProblem?: ((message: string) => void) | undefined;
}

/** Owners whose datasets we can see: `me` first, then each peer mirror under `root`. */
async function owners(root: string, me: string, only: string | undefined): Promise<string[]> {
  if (only !== undefined) return [only];
  const peers: string[] = [];
  try {
    for await (const e of Deno.readDir(root)) {
      if (e.isDirectory && e.name !== me && isIdentity(e.name)) peers.push(e.name);
    }
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  return [me, ...peers.sort()];
}

/**
 * Read one dataset folder's `dataset.yaml`, checking that it names that folder
 * and that datasite's owner (a peer cannot publish a dataset as someone else's).
 */
async function readMeta(root: string, me: string, owner: string, name: string) {
  const location = posix.join(root, owner, mockFolder(name));
  const file = posix.join(location, DATASET_META_FILE);
  const code = owner === me ? "E_INPUT" : "E_BAD_MESSAGE";
  let text: string;
  try {
    const info = await Deno.lstat(file);
    if (!info.isFile) throw new Error("not a regular file");
    text = await Deno.readTextFile(file);
  } catch (err) {
    const what = err instanceof Deno.errors.NotFound ? "is missing" : describeError(err);
    throw new SyftError(code, `${file} ${what}`, {
      hint: owner === me
        ? `remove the half-made dataset with \`syft dataset delete ${name}\``
        : "run `syft sync`; if it stays, ask the owner to re-create the dataset",
    });
  }
  const meta = parseDatasetMeta(text, file, { code });
  if (meta.name !== name || meta.owner !== owner) {
    throw new SyftError(
      code,
      `${file} names dataset "${meta.name}" of ${meta.owner}, but it is in "${name}" of ${owner}`,
      { hint: "the folder decides: ask the owner to re-create the dataset" },
    );
  }
  return { ...meta, location };
}

/**
 * Every dataset `me` can see: its own and those in peers' mirrors
 * (`<root>/<peer>/public/syft_datasets/<name>/dataset.yaml`), own first, then
 * by owner and name. A dataset that cannot be read is skipped and reported
 * through `opts.onProblem`, never fatal.
 */
export async function listDatasets(
  root: string,
  me: string,
  opts: ListOptions = {},
): Promise<LocatedDataset[]> {
  const out: LocatedDataset[] = [];
  for (const owner of await owners(root, me, opts.owner)) {
    const dir = posix.join(root, owner, "public", DATASETS_FOLDER);
    let entries: Deno.DirEntry[];
    try {
      entries = await Array.fromAsync(Deno.readDir(dir));
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) continue;
      opts.onProblem?.(`cannot read ${dir}: ${describeError(err)}`);
      continue;
    }
    const names = entries
      .filter((e) => e.isDirectory && !isHiddenName(e.name))
      .map((e) => e.name)
      .sort();
    for (const name of names) {
      if (!DATASET_NAME_RE.test(name)) {
        opts.onProblem?.(`skipped ${posix.join(dir, name)}: not a valid dataset name`);
        continue;
      }
      try {
        out.push(await readMeta(root, me, owner, name));
      } catch (err) {
        opts.onProblem?.(`skipped dataset "${name}" of ${owner}: ${describeError(err)}`);
      }
    }
  }
  return out;
}

/**
 * The dataset called `name`, own or in a peer's mirror (only `owner`'s when given).
 * @throws {SyftError} `E_INPUT` when it is not found, or found under several
 *   owners and `owner` is not given; the parse error of a malformed `dataset.yaml`
 */
export async function findDataset(
  root: string,
  me: string,
  name: string,
  owner?: string,
): Promise<LocatedDataset> {
  parseDatasetName(name);
  const found: string[] = [];
  for (const o of await owners(root, me, owner)) {
    const info = await Deno.lstat(posix.join(root, o, mockFolder(name))).catch(() => null);
    if (info?.isDirectory) found.push(o);
  }
  if (found.length === 0) {
    throw new SyftError(
      "E_INPUT",
      `no dataset named "${name}"${owner === undefined ? "" : ` from ${owner}`}`,
      {
        hint:
          "`syft dataset list` shows the datasets you can see (a peer's appear after `syft sync`)",
      },
    );
  }
  if (found.length > 1) {
    throw new SyftError(
      "E_INPUT",
      `dataset "${name}" exists under several owners: ${found.join(", ")}`,
      { hint: `pass --owner <email> (one of ${found.join(", ")})` },
    );
  }
  return await readMeta(root, me, found[0]!, name);
}
