/**
 * `syft doctor --fix`: narrow the modes doctor complains about, and nothing
 * else. Only real folders and files owned by the user are changed; links and
 * other users' folders are left for the user to decide (doctor keeps naming them).
 * @module
 */
import type { Config } from "../config/config.ts";
import { currentUid, inspectHome, judgeHome } from "../config/home_guard.ts";
import { homeLayout } from "../config/home.ts";
import { keyFiles } from "../config/keystore.ts";
import { narrowPrivate, privateDir } from "./private_modes.ts";

/** Key files of ours that others may read: 0600 is the only right mode for a secret. */
async function narrowKeyFiles(home: string, uid: number | null): Promise<string[]> {
  const fixed: string[] = [];
  for (const file of Object.values(keyFiles(homeLayout(home).keys))) {
    const info = await Deno.lstat(file).catch(() => null);
    if (!info?.isFile || info.mode === null || (info.mode & 0o077) === 0) continue;
    if (uid !== null && info.uid !== uid) continue;
    await Deno.chmod(file, 0o600);
    fixed.push(file);
  }
  return fixed;
}

/** Repair the home's and private/'s modes; returns every path changed. */
export async function repairModes(home: string, config: Config | undefined): Promise<string[]> {
  const uid = currentUid();
  const fixed: string[] = [];
  const facts = await inspectHome(home);
  for (const p of judgeHome(facts, uid)) {
    if (!p.fixable) continue;
    const kind = facts.find((f) => f.path === p.path)?.kind;
    await Deno.chmod(p.path, kind === "folder" ? 0o700 : 0o600);
    fixed.push(p.path);
  }
  for (const file of await narrowKeyFiles(home, uid)) {
    if (!fixed.includes(file)) fixed.push(file);
  }
  if (config) {
    const root = await Deno.lstat(config.root).catch(() => null);
    const mine = uid === null || root?.uid === uid;
    if (root?.isDirectory && mine && root.mode !== null && (root.mode & 0o077) !== 0) {
      await Deno.chmod(config.root, 0o700);
      fixed.push(config.root);
    }
    fixed.push(...await narrowPrivate(privateDir(config)));
  }
  return fixed;
}
