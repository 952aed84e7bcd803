/**
 * `syft perm check | explain | grant | revoke | list`
 * @module
 */
import { isPrivatePath } from "../core/datasite/names.ts";
import { type Command, Option } from "commander";
import { posix } from "node:path";
import { loadConfig } from "../core/config/load.ts";
import { datasiteDir } from "../core/datasite/layout.ts";
import { describeError, SyftError } from "../core/errors/mod.ts";
import { parseIdentity } from "../core/paths/identity.ts";
import { parseQueryPath } from "../core/paths/query.ts";
import {
  ACCESS_LEVELS,
  type AccessLevel,
  formatPermissionFileError,
  hasGlobChars,
  loadDatasitePermissions,
  type PermissionEngine,
} from "../core/permissions/mod.ts";
import { homeLayout } from "../core/config/home.ts";
import { PeerStore } from "../core/peers/store.ts";
import {
  grantAccess,
  type PermSite,
  type PermTarget,
  revokeAccess,
} from "../core/permissions/change.ts";
import { type Context, withContext } from "./context.ts";
import { ExitWith } from "./errors.ts";

/** Register the `perm` group. */
export function registerPerm(program: Command): void {
  const perm = program
    .command("perm")
    .summary("check, explain, grant, revoke and list permissions (syft.pub.yaml)");

  perm
    .command("check <path>")
    .summary("is <user> allowed <access> on <path>? exit 0 allowed, 1 denied")
    .requiredOption("--user <user>", "the user asking (an opaque, case-preserved string)")
    .addOption(
      new Option("--access <level>", "the access asked for").choices(ACCESS_LEVELS)
        .makeOptionMandatory(),
    )
    .option("--datasite <dir>", "a datasite folder (named by its owner's email); no init needed")
    .action(withContext(runCheck));

  perm
    .command("explain <path>")
    .summary("which file and rule govern <path>, and who can read, write, admin")
    .option("--user <user>", "also show this user's decisions")
    .option("--datasite <dir>", "a datasite folder (named by its owner's email)")
    .action(withContext(runExplain));

  perm
    .command("grant <path> <user>")
    .summary("give <user> (an email, an email glob or *) access to <path>")
    .option("--read", "read access")
    .option("--write", "write access (includes read)")
    .option("--admin", "admin access (includes write and read)")
    .action(withContext(runGrant));

  perm
    .command("revoke <path> <user>")
    .summary("remove <user> from the rules that grant it <path>")
    .action(withContext(runRevoke));

  perm
    .command("list [dir]")
    .summary("every permission file and its rules; invalid ones flagged")
    .action(withContext(runList));
}

interface Datasite {
  dir: string;
  owner: string;
}

async function resolveDatasite(ctx: Context, flag: string | undefined): Promise<Datasite> {
  let dir: string;
  if (flag !== undefined) dir = posix.resolve(ctx.cwd, flag);
  else {
    const config = await loadConfig(ctx.home);
    dir = datasiteDir(config.root, config.email);
  }
  try {
    if (!(await Deno.stat(dir)).isDirectory) throw new Error("not a folder");
  } catch (err) {
    throw new SyftError("E_INPUT", `datasite folder ${dir} cannot be used: ${describeError(err)}`, {
      hint: "pass --datasite <folder named by the owner's email>",
    });
  }
  return { dir, owner: posix.basename(dir) };
}

function loadEngine(site: Datasite): Promise<PermissionEngine> {
  return loadDatasitePermissions(site.dir);
}

function warnInvalid(ctx: Context, error: Parameters<typeof formatPermissionFileError>[0] | null) {
  if (error) {
    ctx.out.warn(
      `invalid permission file ${
        formatPermissionFileError(error)
      } (everything it governs is denied)`,
    );
  }
}

interface CheckFlags {
  user: string;
  access: AccessLevel;
  datasite?: string;
}

async function runCheck(ctx: Context, flags: CheckFlags, args: string[]): Promise<void> {
  const site = await resolveDatasite(ctx, flags.datasite);
  const engine = await loadEngine(site);
  const d = engine.check(site.owner, args[0] ?? "", flags.user, flags.access);
  warnInvalid(ctx, d.file_error);
  ctx.out.result(
    { allowed: d.allowed, governing_file: d.governing_file, rule: d.rule, reason: d.reason },
    (r) => {
      ctx.out.line(r.allowed ? "allow" : "deny");
      ctx.out.note(`reason: ${r.reason}`);
    },
  );
  if (!d.allowed) throw new ExitWith(1);
}

interface ExplainFlags {
  user?: string;
  datasite?: string;
}

function who(
  lists: { admin: readonly string[]; write: readonly string[]; read: readonly string[] },
) {
  const uniq = (xs: readonly string[]) => [...new Set(xs)];
  const show = (xs: string[]) => (xs.length ? xs.join(", ") : "nobody");
  return {
    admin: show(uniq(lists.admin)),
    write: show(uniq([...lists.admin, ...lists.write])),
    read: show(uniq([...lists.admin, ...lists.write, ...lists.read])),
  };
}

async function runExplain(ctx: Context, flags: ExplainFlags, args: string[]): Promise<void> {
  const site = await resolveDatasite(ctx, flags.datasite);
  const engine = await loadEngine(site);
  const e = engine.explain(site.owner, args[0] ?? "", flags.user);
  warnInvalid(ctx, e.file_error);
  ctx.out.result({ owner: site.owner, ...e }, (r) => {
    ctx.out.fields([
      ["path", r.path === "" ? "(datasite root)" : r.path],
      ["owner", `${r.owner} (always allowed)`],
      ["governed by", r.governing_file ?? "no permission file: everyone but the owner is denied"],
    ]);
    if (r.private) ctx.out.line("private/ never opens to peers, whatever a rule says");
    if (r.file_error) ctx.out.line(`INVALID: ${formatPermissionFileError(r.file_error)}`);
    if (r.terminal && r.governing_file) {
      ctx.out.line("terminal: deeper permission files are ignored");
    }
    for (const f of r.ignored_files) ctx.out.line(`ignored: ${f}`);
    if (r.rules.length) {
      ctx.out.line(
        `rules, in the order tried (path relative to the file: ${r.relative_path || "."}):`,
      );
      for (const rule of r.rules) {
        const mark = rule.matches === true ? "match" : rule.matches === null ? "user?" : "     ";
        const chosen = r.rule && r.rule.index === rule.index ? "→" : " ";
        ctx.out.line(`  ${chosen} ${mark}  ${rule.pattern}  (line ${rule.line})`);
      }
    }
    if (r.access) {
      const w = who(r.access);
      ctx.out.fields([["admin", w.admin], ["write", w.write], ["read", w.read]]);
    } else if (r.governing_file) ctx.out.line("no rule matches: everyone but the owner is denied");
    if (r.decisions) {
      for (const level of ACCESS_LEVELS) {
        const d = r.decisions[level];
        ctx.out.line(`${flags.user} ${level}: ${d.allowed ? "allow" : "deny"} (${d.reason})`);
      }
    }
  });
}

type Target = PermTarget;

/** The datasite with the home's audit log, where grants and revokes are recorded. */
function auditedSite(ctx: Context, site: Datasite): PermSite {
  return { ...site, auditLog: homeLayout(ctx.home).auditLog };
}

async function resolveTarget(site: Datasite, raw: string, command: string): Promise<Target> {
  const q = parseQueryPath(raw);
  if (q.hasDotSegment) {
    throw new SyftError("E_INPUT", `path ${JSON.stringify(raw)} has a "." or ".." segment`, {
      hint: "name the path from the datasite root, without . or ..",
    });
  }
  const segments = [...q.segments];
  if (isPrivatePath(segments.join("/"))) {
    throw new SyftError(
      "E_PERMISSION",
      `private/ is never shared with peers, so it cannot be ${command}ed`,
      {
        hint: "move what you want to share out of private/ (e.g. into public/)",
      },
    );
  }
  const abs = posix.join(site.dir, ...segments);
  try {
    const info = await Deno.lstat(abs);
    return { segments, path: segments.join("/"), isFolder: info.isDirectory, exists: true };
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  const trailing = raw.endsWith("/") || segments.length === 0;
  return { segments, path: segments.join("/"), isFolder: trailing, exists: false };
}

function parseGrantee(raw: string): string {
  if (raw === "*") return raw;
  if (hasGlobChars(raw)) {
    if (!raw.includes("@") || /[\s/]/.test(raw)) {
      throw new SyftError("E_INPUT", `${JSON.stringify(raw)} is not an email glob`, {
        hint: "use an email, * (everyone) or a glob such as *@hospital.org",
      });
    }
    return raw.toLowerCase();
  }
  return parseIdentity(raw, "user");
}

/**
 * Why a grant to `user` does nothing yet, or null: only accepted peers sync, so
 * a grant to anyone else waits (it is still written, and applies once peered).
 */
async function notAPeer(ctx: Context, owner: string, user: string): Promise<string | null> {
  if (user === "*" || hasGlobChars(user) || user === owner) return null;
  const record = await new PeerStore(homeLayout(ctx.home).peers).get(user).catch(() => null);
  const state = record?.state ?? null;
  if (state === "accepted") return null;
  const why = state === null
    ? `run \`syft peer add ${user}\``
    : state === "requested"
    ? "your peer request waits for their approval"
    : state === "pending"
    ? `they asked to peer: \`syft peer approve ${user}\``
    : `you ${state} them; \`syft peer add ${user}\` to peer again`;
  return `${user} is not your peer${
    state === null ? "" : ` (${state})`
  }: the grant is written and applies once you are peers (${why})`;
}

interface GrantFlags {
  read?: boolean;
  write?: boolean;
  admin?: boolean;
}

async function runGrant(ctx: Context, flags: GrantFlags, args: string[]): Promise<void> {
  const levels = ACCESS_LEVELS.filter((l) => flags[l]);
  if (levels.length !== 1) {
    throw new SyftError("E_USAGE", "say which access to grant", {
      hint: "add exactly one of --read, --write, --admin",
    });
  }
  const level = levels[0]!;
  const user = parseGrantee(args[1] ?? "");
  const site = await resolveDatasite(ctx, undefined);
  const target = await resolveTarget(site, args[0] ?? "", "grant");
  const granted = await grantAccess(auditedSite(ctx, site), target, user, level);
  const shown = target.path === ""
    ? "the whole datasite"
    : target.isFolder
    ? `${target.path}/`
    : target.path;
  const notPeer = await notAPeer(ctx, site.owner, user);
  if (notPeer) ctx.out.warn(notPeer);
  ctx.out.result(
    granted,
    (r) =>
      ctx.out.line(
        r.changed
          ? `granted ${level} on ${shown} to ${user} in ${r.file} (rule '${r.pattern}')`
          : `${user} already had ${level} on ${shown} in ${r.file}; nothing changed`,
      ),
  );
}

async function runRevoke(ctx: Context, _flags: unknown, args: string[]): Promise<void> {
  const raw = args[1] ?? "";
  const user = raw === "*" || hasGlobChars(raw) ? raw : parseIdentity(raw, "user");
  const site = await resolveDatasite(ctx, undefined);
  const target = await resolveTarget(site, args[0] ?? "", "revoke");
  const revoked = await revokeAccess(auditedSite(ctx, site), target, user);
  ctx.out.result(
    revoked,
    (r) => {
      if (r.removed.length === 0) {
        ctx.out.line(
          `${user} was not named in any rule for ${target.path || "the datasite"}; nothing changed`,
        );
      }
      for (const e of r.removed) {
        ctx.out.line(
          `removed ${user} from ${e.patterns.map((p) => `'${p}'`).join(", ")} in ${e.file}`,
        );
      }
      if (r.still_allowed) {
        ctx.out.line(
          `note: ${user} can still read ${
            target.path || "the datasite"
          } through rule '${r.still_allowed.rule}' in ${r.still_allowed.file}`,
        );
      }
    },
  );
}

async function runList(ctx: Context, _flags: unknown, args: string[]): Promise<void> {
  const site = await resolveDatasite(ctx, args[0]);
  const engine = await loadEngine(site);
  const files = engine.files().map((f) => ({
    file: f.file,
    valid: f.error === null,
    error: f.error ? formatPermissionFileError(f.error) : null,
    terminal: f.terminal,
    rules: (f.ruleSet?.rules ?? []).map((r) => ({
      pattern: r.pattern,
      access: r.access,
      line: r.line,
    })),
  }));
  ctx.out.result(files, (list) => {
    if (list.length === 0) {
      ctx.out.line(`no permission files in ${site.dir}: only the owner has access`);
    }
    for (const f of list) {
      ctx.out.line(
        `${f.file}${f.terminal && f.valid ? " (terminal)" : ""}${f.valid ? "" : "  INVALID"}`,
      );
      if (f.error) ctx.out.line(`  ${f.error}`);
      if (f.valid && f.rules.length === 0) ctx.out.line("  no rules: grants nobody");
      for (const r of f.rules) {
        const parts = ACCESS_LEVELS.filter((l) => r.access[l].length).map((l) =>
          `${l}: ${r.access[l].join(", ")}`
        );
        ctx.out.line(`  ${r.pattern.padEnd(24)} ${parts.length ? parts.join("; ") : "nobody"}`);
      }
    }
  });
}
