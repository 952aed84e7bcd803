/**
 * `perm grant` and `perm revoke` as one step each: plan the edit of the
 * governing `syft.pub.yaml`, prove it does what was asked, write it (temp
 * file + rename), and record the decision in the audit log. Nothing is
 * written when a check fails, and a no-op records nothing.
 * @module
 */
import { posix } from "node:path";
import { appendAudit, type AuditAction, type AuditValue } from "../audit/log.ts";
import { SyftError } from "../errors/mod.ts";
import { writeFileAtomic } from "../fs/atomic.ts";
import { isoNow } from "../time/iso.ts";
import { addGrant, removeUser } from "./edit.ts";
import type { AccessLevel, PermissionEngine } from "./engine.ts";
import { hasGlobChars } from "./glob.ts";
import { loadDatasitePermissions } from "./load.ts";
import { formatPermissionFileError, parsePermissionFile } from "./parse.ts";
import { planGrant, planRevoke } from "./plan.ts";

/** A path in the owner's datasite, as `perm grant`/`revoke` name it. */
export interface PermTarget {
  segments: string[];
  /** Datasite-relative, `""` for the whole datasite. */
  path: string;
  isFolder: boolean;
  exists: boolean;
}

/** Whose datasite, where its folder is, and where decisions are logged. */
export interface PermSite {
  dir: string;
  owner: string;
  auditLog: string;
}

/** What a grant wrote (the `--json` of `perm grant`). */
export interface Granted {
  file: string;
  pattern: string;
  user: string;
  level: AccessLevel;
  created: boolean;
  changed: boolean;
}

/** Grant `user` (an email, `*` or an email glob) `level` on `target`. */
export async function grantAccess(
  site: PermSite,
  target: PermTarget,
  user: string,
  level: AccessLevel,
): Promise<Granted> {
  if (!target.exists && !target.isFolder) {
    throw new SyftError("E_INPUT", `${target.path} does not exist in ${site.dir}`, {
      hint: `to grant a folder that does not exist yet, end the path with / (${target.path}/)`,
    });
  }
  const engine = await loadDatasitePermissions(site.dir);
  const plan = planGrant(engine, site.owner, target.segments, target.isFolder);
  const existing = engine.getFile(plan.folder);
  if (existing?.error) {
    throw new SyftError(
      "E_INPUT",
      `cannot edit invalid permission file ${formatPermissionFileError(existing.error)}`,
      { hint: "fix that file first (syft perm list shows every problem)" },
    );
  }
  const fileAbs = posix.join(site.dir, plan.file);
  const edit = addGrant(
    await readText(fileAbs),
    plan.file,
    plan.pattern,
    user,
    level,
    plan.shadowing,
    plan.seed,
  );
  mustParse(edit.text, plan.folder);
  // Prove the edit does what was asked before writing it.
  engine.setFile(plan.folder, edit.text);
  const probeUser = user === "*" ? "anyone@example.org" : hasGlobChars(user) ? null : user;
  if (probeUser && !engine.allows(site.owner, plan.probe, probeUser, level)) {
    const d = engine.check(site.owner, plan.probe, probeUser, level);
    throw new SyftError(
      "E_INTERNAL",
      `the edit of ${plan.file} would not grant ${level}: ${d.reason}`,
      { hint: "edit the file by hand; nothing was written" },
    );
  }
  if (edit.changed) {
    if (!target.exists) {
      await Deno.mkdir(posix.join(site.dir, ...target.segments), { recursive: true });
    }
    await writeFileAtomic(fileAbs, edit.text);
    await record(site, "perm.grant", target, {
      user,
      access: level,
      file: plan.file,
      rule: plan.pattern,
      created_file: plan.create,
    });
  }
  return {
    file: plan.file,
    pattern: plan.pattern,
    user,
    level,
    created: plan.create,
    changed: edit.changed,
  };
}

/** What a revoke removed, and a rule that still lets the user read (the `--json` of `perm revoke`). */
export interface Revoked {
  user: string;
  removed: { file: string; patterns: string[] }[];
  still_allowed: { file: string | null; rule: string | null } | null;
}

/** Remove `user` from every rule that covers `target`. */
export async function revokeAccess(
  site: PermSite,
  target: PermTarget,
  user: string,
): Promise<Revoked> {
  const engine = await loadDatasitePermissions(site.dir);
  const edits = await planEdits(site, engine, target, user);
  for (const e of edits) {
    await writeFileAtomic(posix.join(site.dir, e.file), e.text);
    engine.setFile(e.folder, e.text);
  }
  const probe = target.isFolder
    ? (target.path === "" ? "syft-probe" : `${target.path}/syft-probe`)
    : target.path;
  const checkUser = user === "*" ? "anyone@example.org" : hasGlobChars(user) ? null : user;
  const still = checkUser ? engine.check(site.owner, probe, checkUser, "read") : null;
  const stillVia = still?.allowed
    ? { file: still.governing_file, rule: still.rule?.pattern ?? null }
    : null;
  if (edits.length > 0) {
    await record(site, "perm.revoke", target, {
      user,
      files: edits.map((e) => e.file),
      rules: edits.flatMap((e) => e.patterns),
      still_allowed_by: stillVia ? `${stillVia.file}: ${stillVia.rule}` : null,
    });
  }
  return {
    user,
    removed: edits.map((e) => ({ file: e.file, patterns: e.patterns })),
    still_allowed: stillVia,
  };
}

/** Every permission file a revoke changes, checked before any is written. */
async function planEdits(
  site: PermSite,
  engine: PermissionEngine,
  target: PermTarget,
  user: string,
): Promise<{ file: string; folder: string; text: string; patterns: string[] }[]> {
  const edits = [];
  for (const t of planRevoke(engine, site.owner, target.segments, target.isFolder)) {
    const r = removeUser(
      await readText(posix.join(site.dir, t.file)),
      t.file,
      new Set(t.patterns),
      user,
    );
    if (!r.changed) continue;
    mustParse(r.text, t.folder);
    edits.push({ file: t.file, folder: t.folder, text: r.text, patterns: r.removedFrom });
  }
  return edits;
}

/** A target as the audit log names it: datasite-relative, folders with a trailing `/`. */
export function auditSubject(target: PermTarget): string {
  return target.path === "" ? "./" : target.isFolder ? `${target.path}/` : target.path;
}

/** Record a decision that took effect (never a refusal or a no-op). */
async function record(
  site: PermSite,
  action: AuditAction,
  target: PermTarget,
  details: Record<string, AuditValue>,
): Promise<void> {
  await appendAudit(site.auditLog, {
    at: isoNow(),
    actor: site.owner,
    action,
    subject: auditSubject(target),
    details,
  });
}

async function readText(path: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return "";
    throw err;
  }
}

/** Re-parse what we are about to write: an edit never leaves an invalid file behind. */
function mustParse(text: string, folder: string): void {
  const parsed = parsePermissionFile(text, folder);
  if (!parsed.ok) {
    throw new SyftError(
      "E_INTERNAL",
      `editing would leave ${formatPermissionFileError(parsed.error)}`,
    );
  }
}
