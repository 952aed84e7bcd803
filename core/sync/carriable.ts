/**
 * Which of our paths the protocol can carry. A reader refuses a whole batch or
 * checkpoint holding one path its strict inbound parser refuses (a backslash,
 * a newline, a `..` segment...), asks for a resync, and refuses the answer
 * again: one such file in our datasite cut the peer off for good. So the
 * writer asks the reader's own predicate and never sends such a path.
 * @module
 */
import { checkInboundPath } from "../paths/mod.ts";

/** Why `path` cannot travel, or null when it can. */
export function uncarriableReason(path: string): string | null {
  const check = checkInboundPath(path);
  return check.ok ? null : `its name cannot travel: ${check.reason}`;
}

/** Whether `path` can travel (the reader's inbound parser accepts it). */
export function isCarriable(path: string): boolean {
  return checkInboundPath(path).ok;
}

/** `files` without the paths that cannot travel, and those paths with the reason. */
export function splitCarriable<T>(
  files: ReadonlyMap<string, T>,
): { carriable: Map<string, T>; refused: Map<string, string> } {
  const carriable = new Map<string, T>();
  const refused = new Map<string, string>();
  for (const [path, value] of files) {
    const reason = uncarriableReason(path);
    if (reason === null) carriable.set(path, value);
    else refused.set(path, reason);
  }
  return { carriable, refused };
}
