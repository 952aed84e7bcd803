/**
 * What to publish to a peer, decided without touching anything: the events
 * that take the peer's mirror of our datasite from what we published to what
 * it may read now, the mass-delete guard, and how they are cut into batches.
 * The effects (puts, saves) are the {@linkcode ChannelWriter}'s.
 * @module
 */
import { posix } from "node:path";
import { BATCH_LIMITS, type Control } from "../events/types.ts";
import { SyftError } from "../errors/mod.ts";
import { projectReadable } from "../permissions/mod.ts";
import { changeEvent, deletionEvent } from "../events/make.ts";
import type { OutgoingEvent } from "./propose.ts";
import type { ChannelState } from "./state.ts";
import { isCarriable } from "./carriable.ts";

export {
  ACK_LAG_BATCHES,
  indexFingerprint,
  nothingToPublish,
  type PublishInput,
} from "./publish_input.ts";
import { ACK_LAG_BATCHES, type PublishInput } from "./publish_input.ts";

/** Who publishes, where its datasite is, and when. */
export interface Publisher {
  me: string;
  /** Our datasite folder (sources of the events). */
  datasite: string;
  now: number;
  allowMassDelete: boolean;
}

/** What one publication will write: the events in order, and the record once they are sent. */
export interface PublicationPlan {
  outgoing: OutgoingEvent[];
  /** `published` as it stands once every batch is written. */
  published: Record<string, string>;
  /** Controls for the first batch. */
  controls: Control[];
  /** Acks lag far enough to be worth a batch of their own. */
  acksAdvanced: boolean;
}

/** What the peer may read of our datasite, without the paths that cannot travel. */
export function carriableProjection(
  me: string,
  state: ChannelState,
  input: Pick<PublishInput, "engine" | "index">,
): Set<string> {
  const projection = projectReadable(input.engine, me, state.peer, input.index.keys());
  return new Set([...projection].filter((p) => isCarriable(p)));
}

/**
 * The events of one publication: our datasite's changes the peer may read
 * (unless only controls go), then our proposals, with the controls and acks
 * due. Throws on a mass delete the user did not allow.
 */
export function planPublication(
  who: Publisher,
  state: ChannelState,
  input: PublishInput,
): PublicationPlan {
  let outgoing: OutgoingEvent[] = [];
  let published = state.published;
  if (input.publishDatasite) {
    const pub = publicationEvents(who, state, input);
    const before = Object.keys(state.published).length;
    if (!state.published_once) {
      // A fresh identity's first round never deletes.
      pub.events = pub.events.filter((e) => !e.event.deleted);
    } else if (pub.deletions > 10 && pub.deletions * 2 > before && !who.allowMassDelete) {
      throw new SyftError(
        "E_INPUT",
        `this round would delete ${pub.deletions} of ${before} files from ${state.peer}'s mirror`,
        { hint: "if that is intended, run `syft sync --allow-mass-delete`" },
      );
    }
    outgoing = pub.events;
    published = pub.published;
  }
  // Proposals are checked where they are collected; this keeps any other
  // path the reader would refuse (and with it the whole batch) out.
  outgoing = outgoing.concat(input.proposals.filter((p) => isCarriable(p.event.path)));
  // Acks ride on every batch we write anyway; one written only to carry acks
  // waits until they lag by ACK_LAG_BATCHES, so a peer's every batch does not
  // cost us a put (the owner's collection just runs a little later).
  const acksAdvanced = state.ack_needed && state.cursor - state.acks_sent >= ACK_LAG_BATCHES;
  return {
    outgoing,
    published,
    controls: [...input.extraControls, ...state.controls],
    acksAdvanced,
  };
}

/** Whether a plan writes nothing (a resync is answered with a cf at a seq of its own). */
export function writesNothing(plan: PublicationPlan, state: ChannelState): boolean {
  return plan.outgoing.length === 0 && plan.controls.length === 0 && !plan.acksAdvanced &&
    !state.cf_due;
}

function publicationEvents(
  who: Publisher,
  state: ChannelState,
  input: PublishInput,
): { events: OutgoingEvent[]; published: Record<string, string>; deletions: number } {
  const out: OutgoingEvent[] = [];
  // A path that cannot travel never reached the reader (it refused the whole
  // batch): it leaves our record without a deletion, which it would refuse too.
  const published = Object.fromEntries(
    Object.entries(state.published).filter(([p]) => isCarriable(p)),
  );
  let deletions = 0;
  const projection = carriableProjection(who.me, state, input);
  const forced = new Set(state.republish);
  for (const path of [...projection].sort()) {
    const info = input.index.get(path)!;
    if (published[path] === info.hash && !forced.has(path)) continue;
    out.push({
      event: changeEvent(who.me, path, info, published[path] ?? null, who.now),
      source: posix.join(who.datasite, path),
    });
    published[path] = info.hash;
  }
  const lost = Object.keys(published).filter((p) => !projection.has(p));
  // The mass-delete guard counts only files we had published and no longer
  // publish, outside what the peer may write itself: a deletion the peer
  // proposed and we applied is its own doing, not ours.
  for (const path of lost) {
    if (!input.engine.allows(who.me, path, state.peer, "write")) deletions++;
  }
  // A rejected proposal for a path the peer cannot read: its mirror copy must
  // go. Never counted: a peer that proposes many such files must not make our
  // every round look like a mass delete (and stop it).
  for (const p of forced) {
    if (!projection.has(p) && !(p in published) && isCarriable(p)) lost.push(p);
  }
  for (const path of lost.sort()) {
    out.push({
      event: deletionEvent(who.me, path, published[path] ?? null, who.now),
      source: null,
    });
    delete published[path];
  }
  // Deletions first: a file replaced by a folder of the same name (or back)
  // must be gone before anything is written where it was.
  const ordered = [...out.filter((e) => e.event.deleted), ...out.filter((e) => !e.event.deleted)];
  return { events: ordered, published, deletions };
}

/** Split into batches within the limits (never one object per event). */
export function groupEvents(outgoing: OutgoingEvent[]): OutgoingEvent[][] {
  const groups: OutgoingEvent[][] = [[]];
  let inlineBytes = 0;
  for (const e of outgoing) {
    const g = groups[groups.length - 1]!;
    const add = e.event.content === "inline" ? e.event.size : 0;
    if (
      g.length >= BATCH_LIMITS.events ||
      (inlineBytes + add > BATCH_LIMITS.inflatedBytes && g.length)
    ) {
      groups.push([e]);
      inlineBytes = add;
    } else {
      g.push(e);
      inlineBytes += add;
    }
  }
  return groups;
}

/**
 * `published` as it stands once `plan` is sent, with the paths whose content
 * changed since the scan (`stale` hashes) put back as they were `before`:
 * they were not sent.
 */
export function sentRecord(
  plan: Pick<PublicationPlan, "outgoing" | "published">,
  sent: { me: string; before: Record<string, string>; stale: ReadonlySet<string> },
): Record<string, string> {
  if (sent.stale.size === 0) return plan.published;
  const out = { ...plan.published };
  for (const { event } of plan.outgoing) {
    if (event.datasite !== sent.me || !event.new_hash || !sent.stale.has(event.new_hash)) continue;
    if (sent.before[event.path] === undefined) delete out[event.path];
    else out[event.path] = sent.before[event.path]!;
  }
  return out;
}
