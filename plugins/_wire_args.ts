/**
 * The arguments a plugin's Worker receives from the host, checked once, the
 * same way for every transport: a channel ref, list options, and who may
 * write or read a channel. Each plugin turns a refusal into its own
 * `E_TRANSPORT` error naming the operation.
 * @module
 */
import { SyftError } from "../core/errors/mod.ts";
import { channelName, type ChannelRef, OBJECT_NAME_RE } from "../core/transport/contract.ts";
import { isIdentity } from "../core/paths/identity.ts";

/** Listings never return more than this many objects per page (the contract's cap). */
export const MAX_LIST_PAGE = 1000;

/** A short, printable rendering of an outside value for a message. */
export function preview(value: unknown): string {
  try {
    return (JSON.stringify(value) ?? String(value)).slice(0, 80);
  } catch {
    return String(value).slice(0, 80);
  }
}

/** `value` as a channel ref, or why it is not one. */
export function parseChannelRef(value: unknown): ChannelRef | string {
  if (typeof value === "object" && value !== null) {
    const { sender, recipient } = value as Record<string, unknown>;
    if (
      typeof sender === "string" && typeof recipient === "string" && isIdentity(sender) &&
      isIdentity(recipient)
    ) {
      return { sender, recipient };
    }
  }
  return `${preview(value)} is not a valid channel`;
}

/** Checked list options (`limit` capped at {@linkcode MAX_LIST_PAGE}), or why they are wrong. */
export function parseListArgs(
  value: unknown,
): { prefix: string | undefined; after: string | undefined; limit: number; all: boolean } | string {
  const o = typeof value === "object" && value !== null ? value as Record<string, unknown> : {};
  const { prefix, after, limit, all } = o;
  if (all !== undefined && typeof all !== "boolean") return "all must be a boolean";
  if (prefix !== undefined && typeof prefix !== "string") return "prefix must be a string";
  if (after !== undefined && typeof after !== "string") return "after must be a string";
  if (limit !== undefined && (typeof limit !== "number" || !Number.isInteger(limit) || limit < 1)) {
    return `limit must be a positive integer, not ${preview(limit)}`;
  }
  return {
    prefix,
    after,
    limit: Math.min(limit ?? MAX_LIST_PAGE, MAX_LIST_PAGE),
    all: all === true,
  };
}

/** Most readers one pool call names: bounds what a hostile caller makes a plugin store. */
export const MAX_POOL_READERS = 10_000;

/** `value` as a pool's readers (valid identities, at least one, deduplicated), or why not. */
export function parseReaders(value: unknown): string[] | string {
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_POOL_READERS) {
    return `readers must be a list of 1 to ${MAX_POOL_READERS} identities`;
  }
  for (const r of value) {
    if (typeof r !== "string" || !isIdentity(r)) return `${preview(r)} is not a valid identity`;
  }
  return [...new Set(value as string[])];
}

/** Why `me` may not write channel `ref` (only its sender writes), or null. */
export function writeRefusal(me: string, ref: ChannelRef): { detail: string; hint: string } | null {
  return ref.sender === me ? null : {
    detail: `refused: ${channelName(ref)} is written only by ${ref.sender}`,
    hint: "a peer answers in its own channel, never in the other's",
  };
}

/** Why `me` may not read channel `ref` (only its sender and recipient do), or null. */
export function readRefusal(me: string, ref: ChannelRef): string | null {
  return ref.sender === me || ref.recipient === me
    ? null
    : `refused: ${me} is neither the sender nor the recipient of ${channelName(ref)}`;
}

/** The errors a transport plugin raises, each naming the transport and the operation. */
export interface WireErrors {
  /** `E_TRANSPORT`: `<kind> transport failed during <op>: <detail>`. */
  fail(
    op: string,
    detail: string,
    options?: { hint?: string | undefined; cause?: unknown },
  ): SyftError;
  /** `E_EXISTS` for a create-only put of a taken name. */
  exists(ref: ChannelRef, name: string): SyftError;
  /** `E_EXISTS` for a create-only poolPut of a taken name. */
  poolExists(sender: string, name: string): SyftError;
  /** Refuse anything but a valid object name. */
  checkName(op: string, name: unknown): asserts name is string;
  /** Checked list options, or `E_TRANSPORT`. */
  listOptions(op: string, options: unknown): Exclude<ReturnType<typeof parseListArgs>, string>;
}

/** The {@linkcode WireErrors} of transport `kind` (e.g. `local`, `gdrive`). */
export function wireErrors(kind: string): WireErrors {
  const fail: WireErrors["fail"] = (op, detail, options = {}) =>
    new SyftError("E_TRANSPORT", `${kind} transport failed during ${op}: ${detail}`, options);
  return {
    fail,
    exists: (ref, name) =>
      new SyftError(
        "E_EXISTS",
        `${kind} transport failed during put: ${JSON.stringify(name)} already exists in ${
          channelName(ref)
        }`,
        { hint: "objects are create-only: write under the next free name" },
      ),
    poolExists: (sender, name) =>
      new SyftError(
        "E_EXISTS",
        `${kind} transport failed during poolPut: ${
          JSON.stringify(name)
        } already exists in ${sender}'s pool`,
        { hint: "pool objects are create-only: write under a fresh name" },
      ),
    checkName(op, name): asserts name is string {
      if (typeof name !== "string" || !OBJECT_NAME_RE.test(name)) {
        throw fail(op, `${preview(name)} is not a valid object name`, {
          hint: "object names use A-Z a-z 0-9 . _ - only, do not start with a dot, at most 255",
        });
      }
    },
    listOptions(op, options) {
      const parsed = parseListArgs(options);
      if (typeof parsed === "string") throw fail(op, parsed);
      return parsed;
    },
  };
}
