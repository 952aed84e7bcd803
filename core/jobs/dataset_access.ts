/**
 * Which datasets a job may read: those whose private data is here and whose
 * mock its submitter may read, as the permission engine decides for the
 * owner's datasite (a dataset created with `--users`, or a mock whose read
 * grant was revoked, is not shared). Checked at intake, at approval and
 * before a run, since permissions change.
 * @module
 */
import { posix } from "node:path";
import { denoFs } from "../fs/deno_fs.ts";
import type { LocalFs } from "../fs/local_fs.ts";
import { DATASET_META_FILE, mockFolder, privateFolder } from "../datasets/mod.ts";
import { PermissionEngine, reloadPermissionFile } from "../permissions/mod.ts";

/**
 * The folders whose permission file can govern `<mock>/dataset.yaml`: the
 * deepest of them with a file governs, so only these are read (not the whole
 * datasite).
 */
function governingCandidates(name: string): string[] {
  const parts = mockFolder(name).split("/");
  return ["", ...parts.map((_, i) => parts.slice(0, i + 1).join("/"))];
}

async function isDir(path: string, fs: LocalFs): Promise<boolean> {
  return await fs.lstat(path).then((i) => i.isDirectory, () => false);
}

async function isFile(path: string, fs: LocalFs): Promise<boolean> {
  return await fs.lstat(path).then((i) => i.isFile, () => false);
}

/**
 * The datasets of `names` that `submitter` may not use in `owner`'s datasite:
 * absent here, or with a mock the submitter may not read.
 */
export async function datasetsNotShared(
  datasite: string,
  owner: string,
  submitter: string,
  names: readonly string[],
  fs: LocalFs = denoFs,
): Promise<string[]> {
  const out: string[] = [];
  for (const name of names) {
    const meta = posix.join(mockFolder(name), DATASET_META_FILE);
    const present = await isDir(posix.join(datasite, privateFolder(name)), fs) &&
      await isFile(posix.join(datasite, meta), fs);
    if (!present) {
      out.push(name);
      continue;
    }
    const engine = new PermissionEngine();
    for (const folder of governingCandidates(name)) {
      await reloadPermissionFile(engine, datasite, folder, { fs });
    }
    if (!engine.allows(owner, meta, submitter, "read")) out.push(name);
  }
  return out;
}

/**
 * Why a job may not read `names`, in one clause the submitter may read: it
 * does not say which exist, so a rejection is no way to learn the names of
 * datasets not shared with them.
 */
export function notSharedReason(names: readonly string[], submitter: string): string {
  return `dataset ${names.join(", ")} does not exist here or is not shared with ${submitter}`;
}
