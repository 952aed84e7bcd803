/**
 * Upload sessions: start, append_v2 and finish, with offsets checked
 * (`incorrect_offset` carries `correct_offset`, so a client resumes after a
 * dropped connection), sequential or concurrent (4 MiB-aligned appends), and
 * each call's `content_hash` checked. A finished session is gone: a second
 * finish answers `lookup_failed/not_found/`, as on Dropbox.
 * @module
 */
import type { RouteSpec } from "./_api.ts";
import { NOT_FOUND, routeError, type Tagged } from "./_errors.ts";
import { BLOCK_SIZE, dropboxContentHash } from "./_hash.ts";
import { COMMIT_FIELDS, commitFile, parseCommit } from "./_files.ts";
import {
  type Arg,
  bool,
  contentBody,
  hexHash,
  int,
  known,
  str,
  struct,
  union,
} from "./_request.ts";
import { randomText, type Store, type User } from "./_store.ts";

interface Session {
  id: string;
  owner: string;
  concurrent: boolean;
  closed: boolean;
  /** Data by offset (a sequential session's pieces are contiguous). */
  pieces: Map<number, Uint8Array>;
  /** Bytes received (for a sequential session, also the next offset). */
  length: number;
  /** Where the content ends, once closed. */
  end: number;
}

/** The most open sessions (oldest dropped first, as expired). */
const MAX_SESSIONS = 1000;

/** A cursor argument: `{session_id, offset}`. */
function cursorOf(arg: Arg): { sessionId: string; offset: number } {
  const cursor = struct(arg, "cursor");
  known(cursor, ["session_id", "offset"], `HTTP header "Dropbox-API-Arg": cursor`);
  return {
    sessionId: str(cursor, "session_id"),
    offset: int(cursor, "offset", undefined, 0, Number.MAX_SAFE_INTEGER),
  };
}

/** The open sessions. */
export class UploadSessions {
  readonly #sessions = new Map<string, Session>();
  #bytes = 0;

  constructor(private readonly store: Store) {}

  /** Number of open sessions (for leak checks). */
  get size(): number {
    return this.#sessions.size;
  }

  start(user: User, concurrent: boolean, close: boolean, data: Uint8Array): string {
    while (this.#sessions.size >= MAX_SESSIONS) this.#drop(this.#sessions.keys().next().value!);
    const session: Session = {
      id: `pid_upload_session:${randomText(40)}`,
      owner: user.email,
      concurrent,
      closed: close,
      pieces: new Map(),
      length: 0,
      end: 0,
    };
    this.#sessions.set(session.id, session);
    this.#add(session, 0, data);
    if (close) session.end = data.length;
    return session.id;
  }

  /** The session behind a cursor (null: `not_found`, also for another user's). */
  lookup(user: User, sessionId: string): Session | null {
    const s = this.#sessions.get(sessionId);
    return s && s.owner === user.email ? s : null;
  }

  /** Check an append at `offset` of `size` bytes: the UploadSessionLookupError, or null. */
  check(s: Session, offset: number, size: number, close: boolean): Tagged | null {
    // Concurrent appends land in any order: a closed one may still fill gaps before its close.
    if (s.closed && !(s.concurrent && offset + size <= s.end)) return { ".tag": "closed" };
    if (s.length + size > this.store.limits.maxFileBytes) return { ".tag": "too_large" };
    if (!s.concurrent) {
      if (offset !== s.length) return { ".tag": "incorrect_offset", correct_offset: s.length };
      return null;
    }
    if (offset % BLOCK_SIZE !== 0) return { ".tag": "concurrent_session_invalid_offset" };
    if (size % BLOCK_SIZE !== 0 && !close) {
      return { ".tag": "concurrent_session_invalid_data_size" };
    }
    return null;
  }

  /** Store `data` at `offset`. */
  append(s: Session, offset: number, data: Uint8Array, close: boolean): Tagged | null {
    if (this.#bytes + data.length > this.store.limits.maxTotalBytes) {
      return { ".tag": "too_large" };
    }
    this.#add(s, offset, data);
    if (close && !s.closed) {
      s.closed = true;
      s.end = offset + data.length;
    }
    return null;
  }

  /** The whole content of a session, or the error why it is not whole. */
  content(s: Session): Uint8Array | Tagged {
    const out = new Uint8Array(s.length);
    let at = 0;
    for (const offset of [...s.pieces.keys()].sort((a, b) => a - b)) {
      if (offset !== at) return { ".tag": "concurrent_session_missing_data" };
      const piece = s.pieces.get(offset)!;
      out.set(piece, at);
      at += piece.length;
    }
    if (s.concurrent && at !== s.end) return { ".tag": "concurrent_session_missing_data" };
    return out;
  }

  /** Forget a session (finished, or dropped as expired). */
  #drop(id: string): void {
    const s = this.#sessions.get(id);
    if (!s) return;
    for (const p of s.pieces.values()) this.#bytes -= p.length;
    this.#sessions.delete(id);
  }

  finished(s: Session): void {
    this.#drop(s.id);
  }

  /** Forget every session, as Dropbox does after 7 days: their cursors answer `not_found`. */
  expireAll(): void {
    for (const id of [...this.#sessions.keys()]) this.#drop(id);
  }

  #add(s: Session, offset: number, data: Uint8Array): void {
    if (data.length === 0) return;
    const old = s.pieces.get(offset);
    if (old) {
      this.#bytes -= old.length;
      s.length -= old.length;
    }
    s.pieces.set(offset, data);
    s.length += data.length;
    this.#bytes += data.length;
  }
}

const HEADER = `HTTP header "Dropbox-API-Arg"`;

/** The three session routes. */
export function sessionRoutes(store: Store, sessions: UploadSessions): Record<string, RouteSpec> {
  const hashMismatch = (expected: string | null, data: Uint8Array) =>
    expected !== null && dropboxContentHash(data) !== expected;
  return {
    "files/upload_session/start": {
      host: "content",
      scope: "files.content.write",
      takesArg: true,
      run: async (c) => {
        known(c.arg, ["close", "session_type", "content_hash"], HEADER);
        const close = bool(c.arg, "close", false);
        const type = union(c.arg, "session_type", ["sequential", "concurrent"], "sequential");
        const expected = hexHash(c.arg, "content_hash");
        const data = await contentBody(c.req);
        const concurrent = type.tag === "concurrent";
        if (concurrent && data.length > 0) {
          throw routeError({ ".tag": "concurrent_session_data_not_allowed" });
        }
        if (concurrent && close) {
          throw routeError({ ".tag": "concurrent_session_close_not_allowed" });
        }
        if (hashMismatch(expected, data)) throw routeError({ ".tag": "content_hash_mismatch" });
        if (data.length > store.limits.maxFileBytes) {
          throw routeError({ ".tag": "payload_too_large" });
        }
        return { session_id: sessions.start(c.user, concurrent, close, data) };
      },
    },
    "files/upload_session/append_v2": {
      host: "content",
      scope: "files.content.write",
      takesArg: true,
      run: async (c) => {
        known(c.arg, ["cursor", "close", "content_hash"], HEADER);
        const cursor = cursorOf(c.arg);
        const close = bool(c.arg, "close", false);
        const expected = hexHash(c.arg, "content_hash");
        const data = await contentBody(c.req);
        const s = sessions.lookup(c.user, cursor.sessionId);
        if (!s) throw routeError(NOT_FOUND);
        const bad = sessions.check(s, cursor.offset, data.length, close);
        if (bad) throw routeError(bad);
        if (hashMismatch(expected, data)) throw routeError({ ".tag": "content_hash_mismatch" });
        const full = sessions.append(s, cursor.offset, data, close);
        if (full) throw routeError(full);
        return null;
      },
    },
    "files/upload_session/finish": {
      host: "content",
      scope: "files.content.write",
      takesArg: true,
      run: async (c) => {
        known(c.arg, ["cursor", "commit", "content_hash"], HEADER);
        const cursor = cursorOf(c.arg);
        const commitArg = struct(c.arg, "commit");
        known(commitArg, COMMIT_FIELDS, `${HEADER}: commit`);
        const commit = parseCommit(commitArg);
        const expected = hexHash(c.arg, "content_hash");
        const data = await contentBody(c.req);
        const lookupFailed = (e: Tagged) =>
          routeError({ ".tag": "lookup_failed", lookup_failed: e });
        const s = sessions.lookup(c.user, cursor.sessionId);
        if (!s) throw lookupFailed(NOT_FOUND);
        if (s.concurrent) {
          if (data.length > 0) throw routeError({ ".tag": "concurrent_session_data_not_allowed" });
          if (!s.closed) throw routeError({ ".tag": "concurrent_session_not_closed" });
        } else if (data.length > 0 || !s.closed) {
          const bad = sessions.check(s, cursor.offset, data.length, true);
          if (bad) throw lookupFailed(bad);
        } else if (cursor.offset !== s.length) {
          throw lookupFailed({ ".tag": "incorrect_offset", correct_offset: s.length });
        }
        if (hashMismatch(expected, data)) throw routeError({ ".tag": "content_hash_mismatch" });
        if (!s.concurrent && data.length > 0) {
          const full = sessions.append(s, cursor.offset, data, true);
          if (full) throw lookupFailed(full);
        }
        const whole = sessions.content(s);
        if (!(whole instanceof Uint8Array)) throw routeError(whole);
        const result = commitFile(store, c.user, commit, whole, (r) => ({
          ".tag": "path",
          path: r.reason,
        }));
        sessions.finished(s);
        return result;
      },
    },
  };
}
