/**
 * `syft peer add | list | approve | reject | remove | show | trust`
 *
 * Every command first discovers incoming channels, so a request that arrived
 * since the last command is known (e.g. `peer approve` right after the other
 * side's `peer add`, without a `peer list` in between).
 * @module
 */
import type { Command } from "commander";
import { type Config, DEFAULT_TRANSPORT } from "../core/config/config.ts";
import type { RoutedTransport } from "../core/sync/routed_transport.ts";
import { homeLayout } from "../core/config/home.ts";
import { readKeys } from "../core/config/keystore.ts";
import { loadConfig } from "../core/config/load.ts";
import { datasiteDir } from "../core/datasite/layout.ts";
import { SyftError } from "../core/errors/mod.ts";
import { parseIdentity } from "../core/paths/identity.ts";
import { isoTime } from "../core/time/iso.ts";
import { type DiscoverResult, PeerService, PeerStore, recordProblems } from "../core/peers/mod.ts";
import { channelName } from "../core/transport/contract.ts";
import { recordDecision } from "./audit.ts";
import { type Context, withContext } from "./context.ts";
import { syncAfterChange } from "./round_hook.ts";
import { checkVia, openTransports } from "./transport.ts";

/** Register the `peer` group. */
export function registerPeer(program: Command): void {
  const peer = program
    .command("peer")
    .summary("request, approve, reject, remove and trust peers");

  peer
    .command("add <email>")
    .summary("send a peer request (creates your channel to <email>)")
    .option(
      "--via <name>",
      "the transport <email> is reached through (`syft transport list`; default: init's)",
    )
    .action(withContext(runAdd));

  peer
    .command("list")
    .summary("your peers with state and fingerprint; finds new requests")
    .action(withContext(runList));

  peer
    .command("approve <email>")
    .summary("accept <email>'s request; prints the fingerprint it pins")
    .option(
      "--fingerprint <fp>",
      "the fingerprint <email> told you out of band; a mismatch refuses (exit 3)",
    )
    .action(withContext(runApprove));

  peer
    .command("reject <email>")
    .summary("refuse <email>'s request (or stop peering)")
    .option("--reason <text>", "why (sent to them)")
    .action(withContext(runReject));

  peer
    .command("remove <email>")
    .summary("stop peering with <email>")
    .action(withContext(runRemove));

  peer
    .command("show <email>")
    .summary("fingerprint, keys, channels and state of one peer")
    .action(withContext(runShow));

  peer
    .command("trust <email>")
    .summary("accept <email>'s changed keys after comparing fingerprints")
    .requiredOption("--fingerprint <fp>", "the new fingerprint <email> told you out of band")
    .action(withContext(runTrust));
}

interface Session {
  config: Config;
  store: PeerStore;
  service: PeerService;
  discovery: DiscoverResult;
  /** Set when config.yaml names several transports. */
  routed: RoutedTransport | undefined;
}

/**
 * Open the transports, discover, run `body`, and always close them.
 * `check` runs on the config first, before anything is opened.
 */
async function withPeers<T>(
  ctx: Context,
  body: (s: Session) => Promise<T>,
  check?: (config: Config) => void,
): Promise<T> {
  const config = await loadConfig(ctx.home);
  check?.(config);
  const layout = homeLayout(ctx.home);
  const keys = await readKeys(layout.keys);
  const store = new PeerStore(layout.peers);
  const { transport, routed } = await openTransports(config, ctx.home, store);
  try {
    const service = new PeerService({
      transport,
      store,
      me: config.email,
      keys,
      now: () => Date.now(),
      foundOn: routed && ((sender) => routed.foundOn(sender)),
    });
    const discovery = await service.discover();
    return await body({ config, store, service, discovery, routed });
  } finally {
    await transport.close();
  }
}

function peerArg(args: string[]): string {
  return parseIdentity(args[0] ?? "", "peer");
}

function when(iso: string | null): string {
  return iso ?? "never";
}

function approveHint(email: string, fp: string | null): string {
  return `syft peer approve ${email} --fingerprint '${fp ?? ""}'`;
}

async function runAdd(ctx: Context, flags: { via?: string }, args: string[]): Promise<void> {
  const email = peerArg(args);
  let via: string | undefined;
  const result = await withPeers(ctx, async (s) => {
    if (via !== undefined) s.routed?.bind(email, via);
    const r = await s.service.requestPeer(email, via === undefined ? {} : { via });
    return {
      ...r,
      via: via ?? DEFAULT_TRANSPORT,
      own_fingerprint: (await s.service.ownKeys()).fingerprint,
    };
  }, (config) => {
    if (flags.via !== undefined) via = checkVia(config, flags.via);
  });
  ctx.out.result(result, (r) => {
    ctx.out.line(
      r.outcome === "requested"
        ? `requested ${email} (channel ${r.channel}${
          r.via === DEFAULT_TRANSPORT ? "" : `, via transport ${r.via}`
        })`
        : `${email} is already ${r.state}; channel ${r.channel} checked`,
    );
    ctx.out.line(`your fingerprint: ${r.own_fingerprint}`);
    if (r.state === "requested") {
      ctx.out.line(`give it to ${email} out of band, so they can approve with --fingerprint`);
    }
  });
  await syncAfterChange(ctx);
}

async function runList(ctx: Context): Promise<void> {
  const { rows, discovery } = await withPeers(ctx, async (s) => {
    const listing = await s.store.list();
    return { rows: listing.records, discovery: s.discovery };
  });
  for (const p of discovery.problems) ctx.out.warn(p);
  const json = rows.map((r) => ({
    email: r.email,
    state: r.state,
    fingerprint: r.fingerprint,
    last_seen: isoTime(r.last_seen),
  }));
  // Not in the --json rows (docs/cli.md's shape); `transport list --json` has the peers per transport.
  const via = new Map(rows.map((r) => [r.email, r.via ?? DEFAULT_TRANSPORT]));
  ctx.out.result(json, (list) => {
    if (list.length === 0) {
      ctx.out.line("no peers yet (syft peer add <email> sends a request)");
      return;
    }
    ctx.out.table(list, [
      { header: "email", value: (r) => r.email },
      { header: "state", value: (r) => r.state },
      { header: "fingerprint", value: (r) => r.fingerprint ?? "-" },
      { header: "last seen", value: (r) => when(r.last_seen) },
      ...([...via.values()].some((v) => v !== DEFAULT_TRANSPORT)
        ? [{ header: "via", value: (r: (typeof list)[number]) => via.get(r.email) ?? "" }]
        : []),
    ]);
    for (const email of discovery.newPending) {
      const fp = list.find((r) => r.email === email)?.fingerprint ?? null;
      ctx.out.line(
        `new request from ${email}: compare the fingerprint with them, then run \`${
          approveHint(email, fp)
        }\``,
      );
    }
  });
}

interface ApproveFlags {
  fingerprint?: string;
}

async function runApprove(ctx: Context, flags: ApproveFlags, args: string[]): Promise<void> {
  const email = peerArg(args);
  const r = await withPeers(ctx, async (s) => {
    const approved = await s.service.approvePeer(email, {
      datasite: datasiteDir(s.config.root, s.config.email),
      fingerprint: flags.fingerprint,
    });
    // "Already approved" changed nothing: only decisions that took effect are audited.
    if (approved.outcome === "accepted") {
      await recordDecision(ctx, s.config.email, "peer.approve", email, {
        fingerprint: approved.fingerprint,
        checked_fingerprint: flags.fingerprint !== undefined,
        permission_file: approved.permissionFile,
      });
    }
    return approved;
  });
  for (const w of r.warnings) ctx.out.warn(w);
  ctx.out.result(
    {
      email,
      state: "accepted",
      fingerprint: r.fingerprint,
      outcome: r.outcome,
      permission_file: r.permissionFile,
    },
    (v) => {
      ctx.out.line(
        v.outcome === "accepted" ? `approved ${email}` : `${email} was already approved`,
      );
      ctx.out.line(`pinned fingerprint: ${v.fingerprint}`);
      ctx.out.line(`${email} may submit jobs into ${v.permission_file.replace(/[^/]+$/, "")}`);
      if (flags.fingerprint === undefined) {
        ctx.out.line(
          `compare it with ${email} out of band (they see it in \`syft status\`); if it differs, run \`syft peer remove ${email}\``,
        );
      }
    },
  );
  await syncAfterChange(ctx);
}

interface RejectFlags {
  reason?: string;
}

async function runReject(ctx: Context, flags: RejectFlags, args: string[]): Promise<void> {
  const email = peerArg(args);
  const r = await withPeers(ctx, async (s) => {
    const before = await s.store.get(email);
    const after = await s.service.rejectPeer(email, flags.reason);
    if (before?.state !== "rejected" || (before.reason ?? null) !== (after.reason ?? null)) {
      await recordDecision(ctx, s.config.email, "peer.reject", email, {
        previous_state: before?.state ?? null,
        fingerprint: after.fingerprint,
        reason: after.reason ?? null,
      });
    }
    return after;
  });
  ctx.out.result(
    { email, state: r.state, reason: r.reason ?? null },
    (v) => ctx.out.line(`rejected ${email}${v.reason ? ` (${v.reason})` : ""}`),
  );
  await syncAfterChange(ctx);
}

async function runRemove(ctx: Context, _flags: unknown, args: string[]): Promise<void> {
  const email = peerArg(args);
  const r = await withPeers(ctx, async (s) => {
    const before = await s.store.get(email);
    const after = await s.service.removePeer(email);
    if (before?.state !== "removed") {
      await recordDecision(ctx, s.config.email, "peer.remove", email, {
        previous_state: before?.state ?? null,
        fingerprint: after.fingerprint,
      });
    }
    return after;
  });
  ctx.out.result({ email, state: r.state }, () => ctx.out.line(`removed ${email}`));
  await syncAfterChange(ctx);
}

async function runShow(ctx: Context, _flags: unknown, args: string[]): Promise<void> {
  const email = peerArg(args);
  const { record, me } = await withPeers(ctx, async (s) => ({
    record: await s.store.get(email),
    me: s.config.email,
  }));
  if (!record) {
    throw new SyftError("E_INPUT", `${email} is not a known peer`, {
      hint:
        `run \`syft peer list\` to see your peers, or \`syft peer add ${email}\` to send a request`,
    });
  }
  const shown = {
    email,
    state: record.state,
    fingerprint: record.fingerprint,
    sign_key: record.sign_key,
    agree_key: record.agree_key,
    channel_out: channelName({ sender: me, recipient: email }),
    channel_in: channelName({ sender: email, recipient: me }),
    channel_out_open: record.channel_open ?? false,
    via: record.via ?? DEFAULT_TRANSPORT,
    pinned_at: isoTime(record.pinned_at),
    requested_at: isoTime(record.requested_at),
    accepted_at: isoTime(record.accepted_at),
    last_seen: isoTime(record.last_seen),
    reason: record.reason ?? null,
    // Who ended the pairing: "them" may add us back, and their next
    // peer.accept makes them accepted again without a command of ours.
    removed_by: record.state !== "removed" ? null : record.removed_by_peer ? "them" : "you",
    protocol: record.protocol ?? null,
    key_change: record.key_change
      ? { ...record.key_change, seen_at: isoTime(record.key_change.seen_at) }
      : null,
    problems: recordProblems(record),
  };
  ctx.out.result(shown, (v) => {
    ctx.out.fields([
      ["peer", v.email],
      [
        "state",
        v.removed_by === "them"
          ? "removed (by them: if they add you back, you are peered again)"
          : v.state,
      ],
      ["fingerprint", v.fingerprint ?? "not pinned yet (no hello from them seen)"],
      ["sign key", v.sign_key ?? "-"],
      ["agree key", v.agree_key ?? "-"],
      ["channel out", `${v.channel_out}${v.channel_out_open ? "" : " (not opened)"}`],
      ["channel in", v.channel_in],
      ["via", v.via],
      ["pinned", when(v.pinned_at)],
      ["requested", when(v.requested_at)],
      ["accepted", when(v.accepted_at)],
      ["last seen", when(v.last_seen)],
      ...(v.reason ? [["reason", v.reason] as const] : []),
      ...(v.protocol !== null ? [["protocol", String(v.protocol)] as const] : []),
      ...(v.key_change
        ? [["new keys", `fingerprint ${v.key_change.fingerprint} (refused until trusted)`] as const]
        : []),
    ]);
    for (const p of v.problems) ctx.out.line(`problem: ${p}`);
  });
}

interface TrustFlags {
  fingerprint: string;
}

async function runTrust(ctx: Context, flags: TrustFlags, args: string[]): Promise<void> {
  const email = peerArg(args);
  const r = await withPeers(ctx, async (s) => {
    const before = await s.store.get(email);
    const after = await s.service.trustPeer(email, flags.fingerprint);
    await recordDecision(ctx, s.config.email, "peer.trust", email, {
      fingerprint: after.fingerprint,
      previous_fingerprint: before?.fingerprint ?? null,
    });
    return after;
  });
  ctx.out.result(
    { email, state: r.state, fingerprint: r.fingerprint },
    (v) => ctx.out.line(`trusted ${email}'s new keys; pinned fingerprint: ${v.fingerprint}`),
  );
}
