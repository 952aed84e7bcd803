/**
 * Writes of ours a datasite owner refused (or that were never sent because no
 * owner could accept them): the words the owner gives, the words we fall back
 * on when an older owner gives none, and the lines `syft sync` and
 * `syft status` print. A refusal is listed as long as its `.rejected` copy
 * exists, as `git status` lists what still needs the user. Pure.
 * @module
 */
import { posix } from "node:path";
import type { RejectReason } from "../events/types.ts";

/** One refused write, kept in the channel state of the peer that refused it. */
export interface Refusal {
  /** The path in the peer's datasite we tried to write. */
  path: string;
  /** Why, as the wire says it; "local" when it was refused here before sending. */
  reason: RejectReason | "local";
  /** The owner's (or our) words; null when an older owner sent none. */
  detail: string | null;
  /** Where the refused content is kept, relative to the mirror of the peer. */
  copy: string;
  /** When it was refused (ms). */
  at: number;
}

/** A refusal and the peer whose datasite it concerns. */
export interface PeerRefusal extends Refusal {
  peer: string;
}

/** Refusals a channel state keeps at most (the newest); older ones are dropped. */
export const MAX_KEPT_REFUSALS = 200;

/** Refusals `syft sync` names one by one; the rest are counted. */
export const MAX_REFUSAL_LINES = 20;

/**
 * The words an owner sends with a refusal: the proposer may not know our
 * permission files, so a permission refusal names the folder it was for.
 */
export function ownerDetail(reason: RejectReason, path: string, quotaBytes?: number): string {
  switch (reason) {
    case "permission": {
      const dir = posix.dirname(path);
      return `you may not write ${dir === "." ? path : `${dir}/`}`;
    }
    case "conflict":
      return "the file changed here since your copy; sync to get the current one";
    case "invalid":
      return "a folder or link is at that path";
    case "quota":
      return quotaBytes === undefined
        ? "over your inbox quota"
        : `over your inbox quota (${Math.round(quotaBytes / (1024 * 1024))} MiB)`;
  }
}

/** What to say when an older owner sent no detail. */
function fallbackText(reason: Refusal["reason"]): string {
  switch (reason) {
    case "permission":
      return "you may not write there";
    case "conflict":
      return "the file changed on their side since your copy";
    case "invalid":
      return "not a valid place for a file there";
    case "quota":
      return "over your inbox quota";
    case "local":
      return "it cannot be sent";
  }
}

/** The one line that names a refusal (`refused: public/x.csv by do@x.org: you may not write public/`). */
export function describeRefusal(
  r: Pick<PeerRefusal, "peer" | "path" | "reason" | "detail">,
): string {
  const why = r.detail ?? fallbackText(r.reason);
  return r.reason === "local"
    ? `refused: ${r.path} for ${r.peer} (not sent): ${why}`
    : `refused: ${r.path} by ${r.peer}: ${why}`;
}

/** Refusals in a stable order: by peer, then path, then time. */
export function sortRefusals(list: readonly PeerRefusal[]): PeerRefusal[] {
  return [...list].sort((a, b) =>
    a.peer < b.peer
      ? -1
      : a.peer > b.peer
      ? 1
      : a.path < b.path
      ? -1
      : a.path > b.path
      ? 1
      : a.at - b.at
  );
}

/**
 * The lines `syft sync` prints for the refusals a round brought: the first
 * {@linkcode MAX_REFUSAL_LINES} by name, then a count of the rest.
 */
export function refusalLines(list: readonly PeerRefusal[]): string[] {
  const sorted = sortRefusals(list);
  const lines = sorted.slice(0, MAX_REFUSAL_LINES).map(describeRefusal);
  const more = sorted.length - MAX_REFUSAL_LINES;
  if (more > 0) lines.push(`… and ${more} more refused write(s): see \`syft status\``);
  return lines;
}

/** `kept` with `added` appended, the oldest dropped past {@linkcode MAX_KEPT_REFUSALS}. */
export function keepRefusals(kept: readonly Refusal[], added: readonly Refusal[]): Refusal[] {
  const all = [...kept, ...added];
  return all.slice(Math.max(0, all.length - MAX_KEPT_REFUSALS));
}
