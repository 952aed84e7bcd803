/**
 * `syft init --email <email> --transport <spec> [--root <dir>] [--yes] [--force]`
 * @module
 */
import type { Command } from "commander";
import { defaultRoot, expandPath } from "../core/config/home.ts";
import { initialise } from "../core/config/init.ts";
import { readConfigIfAny } from "../core/config/load.ts";
import { parseTransportSpec, type TransportSpec } from "../core/config/transport_spec.ts";
import { SyftError } from "../core/errors/mod.ts";
import { parseIdentity } from "../core/paths/identity.ts";
import { BUILT_TRANSPORTS, transportChoices } from "../core/transport/kinds.ts";
import { type Context, withContext } from "./context.ts";
import { ensureDropboxSignIn, requireDropboxAccount } from "./dropbox_account.ts";
import { ensureGdriveSignIn, requireDriveAccount } from "./gdrive_account.ts";
import { checkTransportSpec } from "./transport.ts";

interface InitFlags {
  email?: string;
  root?: string;
  transport?: string;
  yes?: boolean;
  force?: boolean;
}

/** Register `syft init`. */
export function registerInit(program: Command): void {
  program
    .command("init")
    .summary("create your identity, keys and datasite")
    .description(
      "Create $SYFT_HOME/config.yaml, your signing and agreement keys, and your datasite\n" +
        "folder with public/ (readable by every peer) and private/ (never leaves this machine).\n" +
        "Running it again with the same values changes nothing.\n" +
        "With --transport gdrive, sign in first (syft auth gdrive) or at the prompt;\n" +
        "init refuses (exit 3) when Google Drive answers as another account than --email.\n" +
        "With --transport dropbox, likewise: syft auth dropbox first, or at the prompt.",
    )
    .option("--email <email>", "your identity (lower-cased)")
    .option("--root <dir>", "datasite root folder (default ~/SyftBox)")
    .option("--transport <spec>", `where messages travel: ${transportChoices()}`)
    .option("--yes", "do not ask questions")
    .option("--force", "replace an existing config with different values (keys are kept)")
    .action(withContext(runInit));
}

async function runInit(ctx: Context, flags: InitFlags): Promise<void> {
  let rawEmail = flags.email;
  if (rawEmail === undefined && ctx.interactive && !flags.yes) {
    rawEmail = prompt("Your email (your syft identity):") ?? undefined;
  }
  if (!rawEmail) {
    throw new SyftError("E_USAGE", "missing --email", {
      hint: "run `syft init --email you@example.org --transport local:<folder>`",
    });
  }
  const email = parseIdentity(rawEmail, "--email");
  const root = flags.root ? expandPath(flags.root, ctx.env, ctx.cwd) : defaultRoot(ctx.env);
  const transport = await chooseTransport(ctx, flags);

  const result = await initialise(
    { home: ctx.home, email, root, transport, force: flags.force ?? false },
    {
      // Only the default shared folder is ours to create; a folder the user named must exist.
      checkTransport: async (spec) => {
        // Drive: a stored sign-in first (the plugin's manifest reads its client file).
        if (spec.kind === "gdrive") await ensureGdriveSignIn(ctx, email);
        // Dropbox: the account before the plugin starts, so nothing is made as another user.
        if (spec.kind === "dropbox") {
          await ensureDropboxSignIn(ctx, email);
          await requireDropboxAccount(ctx.home, email);
        }
        await checkTransportSpec(spec, { identity: email, home: ctx.home, create: false });
        if (spec.kind === "gdrive") await requireDriveAccount(ctx.home, email);
      },
      now: () => Date.now(),
    },
  );

  const { config } = result;
  ctx.out.result({
    outcome: result.outcome,
    email: config.email,
    fingerprint: result.fingerprint,
    home: ctx.home,
    root: config.root,
    datasite: result.datasite,
    transport: config.transport,
  }, (r) => {
    const verb = r.outcome === "unchanged"
      ? "Already initialised"
      : r.outcome === "repaired"
      ? "Already initialised (recreated missing datasite folders)"
      : r.outcome === "replaced"
      ? "Re-initialised"
      : "Initialised";
    ctx.out.line(`${verb} ${r.email}`);
    ctx.out.fields([
      ["fingerprint", r.fingerprint],
      ["home", r.home],
      ["datasite", r.datasite],
      ["transport", r.transport],
    ]);
    if (r.outcome === "created") {
      ctx.out.line();
      ctx.out.line(
        "Next: share your fingerprint with peers out of band, then `syft peer add <email>`.",
      );
    }
  });
}

/**
 * The transport: `--transport`, else the one this home already has (re-running
 * init changes nothing), else asked on a terminal. There is no default: a
 * folder only this machine sees would connect no one.
 */
async function chooseTransport(ctx: Context, flags: InitFlags): Promise<TransportSpec> {
  let raw = flags.transport;
  if (raw === undefined) {
    const existing = await readConfigIfAny(ctx.home).catch(() => null);
    if (existing) raw = existing.transport;
  }
  if (raw === undefined && ctx.interactive && !flags.yes) {
    ctx.out.line("Where do messages to and from your peers travel?");
    const width = Math.max(...BUILT_TRANSPORTS.map((t) => t.spec.length));
    for (const t of BUILT_TRANSPORTS) ctx.out.line(`  ${t.spec.padEnd(width)}  ${t.about}`);
    raw = prompt("Transport (no default):")?.trim() || undefined;
  }
  if (raw === undefined) {
    throw new SyftError("E_USAGE", "missing --transport: where messages to your peers travel", {
      hint: `pass --transport ${
        BUILT_TRANSPORTS.map((t) => t.spec).join(" or --transport ")
      } (the same place as your peers)`,
    });
  }
  return parseTransportSpec(raw, ctx.env, ctx.cwd);
}
