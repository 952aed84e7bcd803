/**
 * The peer lifecycle of docs/protocol.md §5 over a {@linkcode Transport} and a
 * {@linkcode PeerStore}: request, discovery of incoming channels (trust on
 * first use), approve with an optional fingerprint check, reject, remove, and
 * trusting a changed key. The control records that tell the other side
 * (`peer.accept`, `peer.reject`, `peer.remove`) are the sync engine's job: this
 * service leaves `accept_sent`/`reject_sent`/`remove_sent` false for it.
 *
 * State transitions (what we record):
 * ```
 * (none) ──add──► requested ──sync reads their peer.accept──► accepted
 *                 requested ──approve (mutual request, their keys pinned)──► accepted
 * (none) ──their channel with a valid hello──► pending ──approve──► accepted
 * any ──reject──► rejected ──approve (keys pinned)──► accepted
 * any ──remove──► removed ──add──► requested
 * ```
 * @module
 */
import { quoteFp, recordProblems } from "./record_problems.ts";
import { posix } from "node:path";
import { channelName, type ChannelRef, type Transport } from "../transport/contract.ts";
import { PERMISSION_FILE } from "../datasite/names.ts";
import { encodeBase64 } from "../encoding/base64.ts";
import { readCapped } from "../encoding/bytes.ts";
import { describeError, isSyftError, SyftError } from "../errors/mod.ts";
import { writeFileAtomic } from "../fs/atomic.ts";
import { fingerprint, type IdentityKeys, publicKeys } from "../identity/keys.ts";
import { loadDatasitePermissions } from "../permissions/mod.ts";
import { PROTOCOL_VERSION, VERSION } from "../version.ts";
import { movePeer } from "./state.ts";
import {
  createHello,
  type Hello,
  HELLO_NAME,
  MAX_HELLO_BYTES,
  parseHello,
  sameBytes,
} from "./hello.ts";
import {
  emptyRecord,
  MAX_REASON_LENGTH,
  parseFingerprint,
  type PeerRecord,
  type PeerState,
  type PeerStore,
} from "./store.ts";

/** What the service works with; all passed in so tests drive it in process. */
export interface PeerServiceDeps {
  transport: Transport;
  store: PeerStore;
  /** Our identity (lower-case). */
  me: string;
  keys: IdentityKeys;
  /** ms since the epoch. */
  now(): number;
  /** Written into our hello (default: this client's version). */
  clientVersion?: string | undefined;
  /**
   * With several transports: the named transport an unknown sender's channel
   * was found on (undefined: the default). A new request's record keeps it as
   * `via`, so approving answers over the storage the request came by.
   */
  foundOn?: ((sender: string) => string | undefined) | undefined;
}

/** What {@linkcode PeerService.requestPeer} did. */
export interface RequestResult {
  email: string;
  state: PeerState;
  /** `requested`: a new request; `unchanged`: already requested or accepted. */
  outcome: "requested" | "unchanged";
  /** Our channel's name, `syft1#<me>#<peer>`. */
  channel: string;
}

/** What {@linkcode PeerService.discover} found. */
export interface DiscoverResult {
  /** Senders that became `pending` in this discovery. */
  newPending: string[];
  /** One line per problem: invalid hellos, changed keys, newer protocols, corrupt records. */
  problems: string[];
}

/** Options of {@linkcode PeerService.approvePeer}. */
export interface ApproveOptions {
  /** Our datasite folder (`<root>/<me>`): the peer's inbox permission file goes there. */
  datasite: string;
  /** The fingerprint the user compared out of band; a mismatch refuses. */
  fingerprint?: string | undefined;
}

/** What {@linkcode PeerService.approvePeer} did. */
export interface ApproveResult {
  email: string;
  /** The pinned fingerprint. */
  fingerprint: string;
  /** `accepted`: newly; `unchanged`: it already was (channel and permission file re-checked). */
  outcome: "accepted" | "unchanged";
  /** Datasite-relative path of the inbox permission file. */
  permissionFile: string;
  /** Things the user should know (e.g. a permission file that does not grant the inbox). */
  warnings: string[];
}

/** Datasite-relative folder where `peer` may write jobs to us. */
export function inboxFolder(peer: string): string {
  return `app_data/job/inbox/${peer}`;
}

/** The inbox permission file written at approval. */
export function inboxPermissionText(peer: string): string {
  return [
    `# Written by \`syft peer approve ${peer}\`: ${peer} may submit jobs here.`,
    "# Nothing they write runs until you approve it (syft job approve).",
    "rules:",
    "  - pattern: '**'",
    "    access:",
    `      write: ['${peer}']`,
    "",
  ].join("\n");
}

function unknownPeer(email: string): SyftError {
  return new SyftError("E_INPUT", `${email} is not a known peer`, {
    hint:
      `run \`syft peer list\` to see your peers, or \`syft peer add ${email}\` to send a request`,
  });
}

/** Read a whole small object, refusing past `max` bytes without reading further. */
async function readSmall(stream: ReadableStream<Uint8Array>, max: number): Promise<Uint8Array> {
  const { bytes, truncated } = await readCapped(stream, max);
  // One byte over is enough for the parser to name the problem.
  return truncated ? new Uint8Array(max + 1) : bytes;
}

/** The peer lifecycle for one identity. */
export class PeerService {
  readonly #t: Transport;
  readonly #store: PeerStore;
  readonly #me: string;
  readonly #keys: IdentityKeys;
  readonly #now: () => number;
  readonly #clientVersion: string;
  readonly #foundOn: (sender: string) => string | undefined;
  #ours: { signKey: Uint8Array; agreeKey: Uint8Array; fingerprint: string } | null = null;

  constructor(deps: PeerServiceDeps) {
    this.#t = deps.transport;
    this.#store = deps.store;
    this.#me = deps.me;
    this.#keys = deps.keys;
    this.#now = deps.now;
    this.#clientVersion = deps.clientVersion ?? VERSION;
    this.#foundOn = deps.foundOn ?? (() => undefined);
  }

  /** Our own public keys and fingerprint. */
  async ownKeys(): Promise<{ signKey: Uint8Array; agreeKey: Uint8Array; fingerprint: string }> {
    if (!this.#ours) {
      const pub = await publicKeys(this.#keys);
      this.#ours = { ...pub, fingerprint: await fingerprint(pub) };
    }
    return this.#ours;
  }

  /**
   * Open (create if needed) our channel to `peer` and make sure it holds our
   * hello. docs/protocol.md §2: a channel folder that exists with a hello that is
   * not ours is refused — someone else created it under our name.
   * @throws {SyftError} `E_PERMISSION` when the channel's hello is not ours
   */
  async ensureOwnChannel(peer: string): Promise<ChannelRef> {
    const channel = await this.#t.openChannel(peer);
    // Two tries: a put that loses a race (E_EXISTS) re-reads what won.
    for (let attempt = 0; attempt < 2; attempt++) {
      const existing = await this.#readHello(channel);
      if (existing !== null) {
        await this.#mustBeOurs(channel, existing);
        return channel;
      }
      const bytes = await createHello({
        sender: this.#me,
        recipient: peer,
        keys: this.#keys,
        clientVersion: this.#clientVersion,
        now: this.#now(),
      });
      try {
        await this.#t.put(channel, HELLO_NAME, bytes);
        return channel;
      } catch (err) {
        if (!(isSyftError(err) && err.code === "E_EXISTS")) throw err;
      }
    }
    throw new SyftError("E_TRANSPORT", `${HELLO_NAME} in ${channelName(channel)} keeps changing`, {
      hint: "try again; if it persists, someone else is writing into your channel",
    });
  }

  /**
   * Send a peer request: our channel to `email` with our hello, and the record
   * `requested`. Idempotent. If `email` already asked us (`pending`), this
   * refuses and says to approve instead: approving is the step that should
   * come with a fingerprint check, so `add` does not silently do it.
   * @throws {SyftError} `E_INPUT` for ourselves or a pending peer, `E_PERMISSION` (see ensureOwnChannel)
   */
  async requestPeer(email: string, options: { via?: string } = {}): Promise<RequestResult> {
    if (email === this.#me) {
      throw new SyftError("E_INPUT", `${email} is you`, {
        hint: "peer with someone else's email address",
      });
    }
    const current = await this.#store.get(email);
    if (current?.state === "pending") {
      throw new SyftError("E_INPUT", `${email} already asked to peer with you (pending)`, {
        hint:
          `compare fingerprints with ${email}, then run \`syft peer approve ${email} --fingerprint ${
            quoteFp(current.fingerprint ?? "")
          }\``,
      });
    }
    // `via` absent means the default transport, as in the record.
    if (current && (current.state === "requested" || current.state === "accepted")) {
      if (current.via !== options.via) {
        throw new SyftError(
          "E_INPUT",
          `${email} is already ${current.state} via ${current.via ?? "the default transport"}`,
          {
            hint:
              `to move them, \`syft peer remove ${email}\`, then \`syft peer add ${email} --via <name>\``,
          },
        );
      }
    }
    const channel = channelName(await this.ensureOwnChannel(email));
    const now = this.#now();
    let outcome: RequestResult["outcome"] = "requested";
    const record = await this.#store.update(email, (r) => {
      if (r?.state === "pending") return null; // they asked meanwhile: leave it for approve
      if (r && (r.state === "requested" || r.state === "accepted")) {
        outcome = "unchanged";
        if (r.channel_open) return null;
        return { ...r, channel_open: true };
      }
      // New, or re-requesting a peer we rejected or removed (pinned keys kept).
      const next: PeerRecord = r === null
        ? emptyRecord(email, "requested")
        : movePeer(r, "requested");
      if (options.via === undefined) delete next.via;
      else next.via = options.via;
      next.requested_at = now;
      next.accepted_at = null;
      next.channel_open = true;
      delete next.reject_sent;
      delete next.remove_sent;
      delete next.accept_sent;
      delete next.removed_by_peer;
      return next;
    });
    const state = record?.state ?? "requested";
    return { email, state, outcome, channel };
  }

  /**
   * Look at every incoming channel's hello. An unknown sender with a valid
   * hello becomes `pending` with its keys pinned (trust on first use); a known
   * one with the pinned keys is marked seen; one with other keys gets a
   * `key_change` that is refused (and reported) until `trustPeer`. A channel
   * without a hello is not ready yet and skipped; an invalid one is reported.
   */
  async discover(): Promise<DiscoverResult> {
    const newPending: string[] = [];
    const problems: string[] = [];
    for (const channel of await this.#t.listIncoming()) {
      if (channel.recipient !== this.#me || channel.sender === this.#me) continue;
      let hello: Hello | null;
      try {
        hello = await this.#readHello(channel);
      } catch (err) {
        if (isSyftError(err) && err.code === "E_BAD_MESSAGE") {
          problems.push(`${err.message}; ignored`);
          continue;
        }
        throw err;
      }
      if (hello === null) continue; // the sender has not written it yet
      try {
        if (await this.#pin(hello)) newPending.push(hello.sender);
      } catch (err) {
        // A corrupt record of this sender: reported below by list(), and the
        // other channels are still looked at.
        if (!(isSyftError(err) && err.code === "E_INPUT")) throw err;
      }
    }
    const listing = await this.#store.list();
    problems.push(...listing.problems);
    for (const record of listing.records) problems.push(...recordProblems(record));
    return { newPending, problems: [...new Set(problems)] };
  }

  /**
   * Approve `email`: our channel with our hello, the permission file that makes
   * `app_data/job/inbox/<email>/` writable by it, and the record `accepted`
   * (`accept_sent: false` until the sync engine publishes `peer.accept`).
   * With `fingerprint`, a mismatch with the pinned keys refuses: that is how an
   * impostor channel created under the peer's name is caught.
   * @throws {SyftError} `E_INPUT` unknown peer or nothing to approve, `E_PERMISSION` fingerprint mismatch or changed keys
   */
  async approvePeer(email: string, options: ApproveOptions): Promise<ApproveResult> {
    const wanted = options.fingerprint === undefined
      ? undefined
      : parseFingerprint(options.fingerprint);
    const record = await this.#store.get(email);
    if (!record) throw unknownPeer(email);
    if (record.state === "removed") {
      throw new SyftError("E_INPUT", `${email} was removed`, {
        hint: `run \`syft peer add ${email}\` to peer again`,
      });
    }
    const pinned = record.fingerprint;
    if (pinned === null) {
      throw new SyftError(
        "E_INPUT",
        `${email} has not opened a channel to you yet: nothing to approve`,
        {
          hint: `wait for their side of the request (\`syft peer list\` shows it as pending)`,
        },
      );
    }
    if (record.key_change) {
      throw new SyftError(
        "E_PERMISSION",
        `${email}'s channel now carries other keys (fingerprint ${record.key_change.fingerprint}, pinned ${pinned})`,
        {
          hint:
            `compare fingerprints with ${email} out of band; if the new one is right, run \`syft peer trust ${email} --fingerprint ${
              quoteFp(record.key_change.fingerprint)
            }\` first`,
        },
      );
    }
    if (wanted !== undefined && wanted !== pinned) {
      throw new SyftError(
        "E_PERMISSION",
        `refused: the channel from ${email} has fingerprint ${pinned}, not ${wanted}; someone else may have created it under ${email}'s name`,
        {
          hint:
            `do not approve; check the fingerprint with ${email} again (they see theirs in \`syft status\`) and ask the transport's owner who created ${
              channelName({ sender: email, recipient: this.#me })
            }`,
        },
      );
    }
    if ((record.protocol ?? PROTOCOL_VERSION) > PROTOCOL_VERSION) {
      throw new SyftError(
        "E_INPUT",
        `${email} speaks syft protocol ${record.protocol}; this syft speaks ${PROTOCOL_VERSION}`,
        { hint: "upgrade syft, then approve again" },
      );
    }

    await this.ensureOwnChannel(email);
    const permission = await this.#writeInboxPermission(email, options.datasite);

    const now = this.#now();
    let outcome: ApproveResult["outcome"] = "accepted";
    const after = await this.#store.update(email, (r) => {
      if (!r) throw unknownPeer(email);
      // Keys changed while we were writing: approve nothing we did not check.
      if (r.fingerprint !== pinned || r.key_change) {
        throw new SyftError("E_PERMISSION", `${email}'s keys changed during approval`, {
          hint: "run `syft peer show` and approve again",
        });
      }
      if (r.state === "accepted") {
        outcome = "unchanged";
        return r.channel_open ? null : { ...r, channel_open: true };
      }
      const next = movePeer(r, "accepted");
      next.accepted_at = now;
      next.accept_sent = false;
      next.channel_open = true;
      next.reason = null;
      delete next.reject_sent;
      delete next.remove_sent;
      return next;
    });
    return {
      email,
      fingerprint: after?.fingerprint ?? pinned,
      outcome,
      permissionFile: permission.file,
      warnings: permission.warnings,
    };
  }

  /**
   * Reject `email` (any state): record `rejected` with the reason. If we ever
   * opened our channel to them, `reject_sent: false` asks the sync engine to
   * send `peer.reject`. Pinned keys are kept, so the same request does not
   * come back as new.
   * @throws {SyftError} `E_INPUT` for an unknown peer or an over-long reason
   */
  async rejectPeer(email: string, reason?: string): Promise<PeerRecord> {
    if (reason !== undefined && reason.length > MAX_REASON_LENGTH) {
      throw new SyftError("E_INPUT", `the reason is longer than ${MAX_REASON_LENGTH} characters`, {
        hint: "shorten --reason",
      });
    }
    const record = await this.#store.update(email, (r) => {
      if (!r) throw unknownPeer(email);
      const next = movePeer(r, "rejected");
      next.reason = reason ?? null;
      delete next.accept_sent;
      delete next.remove_sent;
      delete next.removed_by_peer;
      if (next.channel_open) next.reject_sent = false;
      else delete next.reject_sent;
      return next;
    });
    return record!;
  }

  /**
   * Remove `email`: record `removed`. If we opened our channel, `remove_sent:
   * false` asks the sync engine to send `peer.remove` (and later delete the
   * channel, docs/protocol.md §5.4). Pinned keys are kept.
   * @throws {SyftError} `E_INPUT` for an unknown peer
   */
  async removePeer(email: string): Promise<PeerRecord> {
    const record = await this.#store.update(email, (r) => {
      if (!r) throw unknownPeer(email);
      const next = movePeer(r, "removed");
      delete next.accept_sent;
      delete next.reject_sent;
      delete next.removed_by_peer; // ours now: their peer.accept no longer restores it
      if (next.channel_open) next.remove_sent = false;
      else delete next.remove_sent;
      return next;
    });
    return record!;
  }

  /**
   * Accept the changed keys of `email` — only when a `key_change` is recorded
   * and `fp` is its fingerprint; the new keys replace the pinned ones.
   * @throws {SyftError} `E_INPUT` unknown peer or no change to trust, `E_PERMISSION` fingerprint mismatch
   */
  async trustPeer(email: string, fp: string): Promise<PeerRecord> {
    const wanted = parseFingerprint(fp);
    const now = this.#now();
    const record = await this.#store.update(email, (r) => {
      if (!r) throw unknownPeer(email);
      const change = r.key_change;
      if (!change) {
        const detail = r.fingerprint === wanted
          ? `it is already the pinned fingerprint`
          : `pinned fingerprint ${r.fingerprint ?? "(none yet)"}`;
        throw new SyftError(
          "E_INPUT",
          `${email}'s keys have not changed: nothing to trust (${detail})`,
          {
            hint: "peer trust is for a peer whose keys changed; `syft peer show` shows them",
          },
        );
      }
      if (change.fingerprint !== wanted) {
        throw new SyftError(
          "E_PERMISSION",
          `refused: ${email}'s new keys have fingerprint ${change.fingerprint}, not ${wanted}`,
          { hint: `check the fingerprint with ${email} again out of band; nothing was changed` },
        );
      }
      r.sign_key = change.sign_key;
      r.agree_key = change.agree_key;
      r.fingerprint = change.fingerprint;
      r.pinned_at = now;
      r.last_seen = now;
      r.key_change = null;
      delete r.controls_read;
      delete r.proposals_read;
      return r;
    });
    return record!;
  }

  /** Our hello or theirs in `channel`, or null when the channel has none yet. */
  async #readHello(channel: ChannelRef): Promise<Hello | null> {
    const page = await this.#t.list(channel, { prefix: HELLO_NAME, limit: 10 });
    if (!page.objects.some((o) => o.name === HELLO_NAME)) return null;
    const bytes = await readSmall(await this.#t.get(channel, HELLO_NAME), MAX_HELLO_BYTES);
    return await parseHello(bytes, channel);
  }

  async #mustBeOurs(channel: ChannelRef, hello: Hello): Promise<void> {
    const ours = await this.ownKeys();
    if (sameBytes(hello.signKey, ours.signKey) && sameBytes(hello.agreeKey, ours.agreeKey)) return;
    throw new SyftError(
      "E_PERMISSION",
      `refused: ${
        channelName(channel)
      } already exists with a hello.json that is not yours (fingerprint ${hello.fingerprint}, yours ${ours.fingerprint})`,
      {
        hint:
          `someone may have created it under your name: tell ${channel.recipient} your fingerprint out of band, and ask the transport's owner to remove that folder`,
      },
    );
  }

  /** Pin or check a verified hello's keys; true when its sender just became pending. */
  async #pin(hello: Hello): Promise<boolean> {
    const now = this.#now();
    const signKey = encodeBase64(hello.signKey);
    const agreeKey = encodeBase64(hello.agreeKey);
    let isNew = false;
    await this.#store.update(hello.sender, (r) => {
      if (r === null) {
        isNew = true;
        const via = this.#foundOn(hello.sender);
        return {
          ...emptyRecord(hello.sender, "pending"),
          ...(via === undefined ? {} : { via }),
          fingerprint: hello.fingerprint,
          sign_key: signKey,
          agree_key: agreeKey,
          pinned_at: now,
          requested_at: now,
          last_seen: now,
          protocol: hello.protocol,
        };
      }
      if (r.sign_key === null || r.agree_key === null) {
        // A peer we asked (or rejected/removed before any hello): trust on first use.
        return {
          ...r,
          fingerprint: hello.fingerprint,
          sign_key: signKey,
          agree_key: agreeKey,
          pinned_at: now,
          last_seen: now,
          protocol: hello.protocol,
        };
      }
      if (r.sign_key === signKey && r.agree_key === agreeKey) {
        // Back to the pinned keys: a reported change is no longer there.
        return { ...r, last_seen: now, protocol: hello.protocol, key_change: null };
      }
      if (r.key_change?.fingerprint === hello.fingerprint) return null; // already recorded
      return {
        ...r,
        key_change: {
          sign_key: signKey,
          agree_key: agreeKey,
          fingerprint: hello.fingerprint,
          seen_at: now,
        },
      };
    });
    return isNew;
  }

  async #writeInboxPermission(
    peer: string,
    datasite: string,
  ): Promise<{ file: string; warnings: string[] }> {
    const folder = inboxFolder(peer);
    const file = `${folder}/${PERMISSION_FILE}`;
    const abs = posix.join(datasite, file);
    const warnings: string[] = [];
    // The datasite lives on the same file system as the peer records.
    const fs = this.#store.fs;
    try {
      await fs.mkdir(posix.join(datasite, folder), { recursive: true });
      // A file the owner already has (perhaps edited by hand) is kept as it is.
      await writeFileAtomic(abs, inboxPermissionText(peer), { createOnly: true, fs });
    } catch (err) {
      if (!(err instanceof Deno.errors.AlreadyExists)) {
        throw new SyftError("E_INPUT", `cannot write ${abs}: ${describeError(err)}`, {
          hint: "make your datasite writable, then approve again",
        });
      }
    }
    // Prove the grant holds: a terminal or invalid file above would void it.
    const owner = posix.basename(datasite);
    const engine = await loadDatasitePermissions(datasite, { fs });
    if (!engine.allows(owner, `${folder}/job/run.sh`, peer, "write")) {
      const d = engine.check(owner, `${folder}/job/run.sh`, peer, "write");
      warnings.push(
        `${peer} cannot write its inbox ${folder}/ (${d.reason}); fix ${
          d.governing_file ?? file
        } or \`syft perm grant ${folder}/ ${peer} --write\``,
      );
    }
    return { file, warnings };
  }
}
