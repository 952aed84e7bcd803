/**
 * `syft transport add <name> <spec>`, `syft transport list`,
 * `syft transport remove <name>`: more than one transport, for peers on other
 * storage. `init`'s transport is the default, named `default`; the others live
 * in config.yaml under `transports:`, and a peer is bound to one with
 * `syft peer add <email> --via <name>`.
 * @module
 */
import type { Command } from "commander";
import {
  type Config,
  DEFAULT_TRANSPORT,
  MAX_TRANSPORTS,
  serializeConfig,
  transportNameProblem,
} from "../core/config/config.ts";
import { homeLayout } from "../core/config/home.ts";
import { loadConfig } from "../core/config/load.ts";
import { formatTransportSpec, parseTransportSpec } from "../core/config/transport_spec.ts";
import { type TransportRow, transportRows, unboundPeers } from "../core/config/transport_rows.ts";
import { SyftError } from "../core/errors/mod.ts";
import { writeFileAtomic } from "../core/fs/atomic.ts";
import { PeerStore } from "../core/peers/store.ts";
import { transportChoices } from "../core/transport/kinds.ts";
import { type Context, withContext } from "./context.ts";
import { checkTransportSpec } from "./transport.ts";

/** One row of `syft transport list --json`. */
export type { TransportRow };

/** Register the `transport` group. */
export function registerTransport(program: Command): void {
  const group = program
    .command("transport")
    .summary("more than one transport: for peers on other storage");

  group
    .command("add <name> <spec>")
    .summary(`add a transport by name (spec: ${transportChoices()})`)
    .description(
      "Add a transport for peers on other storage; bind a peer to it with\n" +
        "`syft peer add <email> --via <name>`. Requests arriving on it are answered on it.\n" +
        "The spec is checked as `syft init` checks it (a local folder must exist).",
    )
    .action(withContext(runAdd));

  group
    .command("list")
    .summary("the transports, which is the default, and the peers on each")
    .action(withContext(runList));

  group
    .command("remove <name>")
    .summary("remove a named transport no peer uses")
    .action(withContext(runRemove));
}

async function writeConfig(ctx: Context, config: Config): Promise<void> {
  await writeFileAtomic(homeLayout(ctx.home).config, serializeConfig(config), { mode: 0o600 });
}

async function runAdd(ctx: Context, _flags: unknown, args: string[]): Promise<void> {
  const [name = "", raw = ""] = args;
  const config = await loadConfig(ctx.home);
  const problem = transportNameProblem(name);
  if (problem !== null) {
    throw new SyftError("E_USAGE", `transport name ${JSON.stringify(name)} ${problem}`, {
      hint: "e.g. `syft transport add lab local:/mnt/lab-share`",
    });
  }
  const existing = config.transports[name];
  if (existing !== undefined) {
    throw new SyftError("E_USAGE", `transport ${name} already exists (${existing})`, {
      hint: "pick another name; `syft transport list` shows them",
    });
  }
  if (Object.keys(config.transports).length >= MAX_TRANSPORTS) {
    throw new SyftError("E_USAGE", `there are already ${MAX_TRANSPORTS} named transports`, {
      hint: "remove one no peer uses with `syft transport remove <name>`",
    });
  }
  const parsed = parseTransportSpec(raw, ctx.env, ctx.cwd);
  const spec = formatTransportSpec(parsed);
  const twin = transportRows(config, []).find((r) => r.spec === spec);
  if (twin) {
    throw new SyftError("E_USAGE", `${spec} is already transport ${twin.name}`, {
      hint: `bind peers to it with \`syft peer add <email> --via ${twin.name}\``,
    });
  }
  await checkTransportSpec(parsed, { identity: config.email, home: ctx.home, create: false });
  await writeConfig(ctx, { ...config, transports: { ...config.transports, [name]: spec } });
  ctx.out.result({ name, spec, default: false, peers: [] } satisfies TransportRow, (r) => {
    ctx.out.line(`added transport ${r.name} (${r.spec})`);
    ctx.out.line(`bind a peer to it with \`syft peer add <email> --via ${r.name}\``);
  });
}

/** Peers and their transport, from the records (a removed peer once it was told). */
async function peerVias(ctx: Context): Promise<{ email: string; via: string }[]> {
  const listing = await new PeerStore(homeLayout(ctx.home).peers).list();
  for (const p of listing.problems) ctx.out.warn(p);
  return listing.records
    .filter((r) => r.state !== "removed" || r.remove_sent === false)
    .map((r) => ({ email: r.email, via: r.via ?? DEFAULT_TRANSPORT }));
}

async function runList(ctx: Context): Promise<void> {
  const config = await loadConfig(ctx.home);
  const peers = await peerVias(ctx);
  const list = transportRows(config, peers);
  for (const p of unboundPeers(list, peers)) {
    ctx.out.warn(
      `${p.email} is bound to transport ${p.via}, which is not in config.yaml: it does not sync (add it back with \`syft transport add ${p.via} <spec>\`)`,
    );
  }
  ctx.out.result(list, (all) => {
    ctx.out.table(all, [
      { header: "name", value: (r) => r.name + (r.default ? " (default)" : "") },
      { header: "spec", value: (r) => r.spec },
      { header: "peers", value: (r) => r.peers.length ? r.peers.join(", ") : "-" },
    ]);
  });
}

async function runRemove(ctx: Context, _flags: unknown, args: string[]): Promise<void> {
  const [name = ""] = args;
  const config = await loadConfig(ctx.home);
  if (name === DEFAULT_TRANSPORT) {
    throw new SyftError("E_USAGE", "the default transport cannot be removed", {
      hint: "change it with `syft init --force --transport <spec>`",
    });
  }
  const spec = config.transports[name];
  if (spec === undefined) {
    throw new SyftError("E_USAGE", `there is no transport ${JSON.stringify(name)}`, {
      hint: "`syft transport list` shows them",
    });
  }
  const users = (await peerVias(ctx)).filter((p) => p.via === name).map((p) => p.email);
  if (users.length > 0) {
    throw new SyftError(
      "E_USAGE",
      `transport ${name} carries ${users.length} peer(s): ${users.join(", ")}`,
      {
        hint: `remove them first (\`syft peer remove ${
          users[0]
        }\`, then \`syft sync\` to tell them), then the transport`,
      },
    );
  }
  const transports = { ...config.transports };
  delete transports[name];
  await writeConfig(ctx, { ...config, transports });
  ctx.out.result({ name, spec, removed: true }, (r) => {
    ctx.out.line(`removed transport ${r.name} (${r.spec})`);
  });
}
