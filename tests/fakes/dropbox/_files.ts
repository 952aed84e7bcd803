/**
 * The file routes: get_metadata, create_folder_v2, delete_v2, upload and
 * download, each answering with its documented result and error union.
 * @module
 */
import type { Call, RouteSpec } from "./_api.ts";
import {
  badInput,
  DbxError,
  NOT_FILE,
  NOT_FOUND,
  requestId,
  routeError,
  type Tagged,
} from "./_errors.ts";
import { dropboxContentHash } from "./_hash.ts";
import { type Arg, bool, contentBody, hexHash, known, str, union } from "./_request.ts";
import { Refusal, splitPath, type Store, type User } from "./_store.ts";
import { metadata, pathsOf, untagged } from "./_views.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A path argument as user-visible components: `/a/b`, `id:…` (a file or
 * folder the user can see), or "" for the root where `allowRoot`.
 */
export function resolvePath(
  store: Store,
  user: User,
  raw: string,
  kind: "lookup" | "write",
  allowRoot: boolean,
): string[] {
  if (raw === "") {
    if (allowRoot) return [];
    throw badInput(
      `request body: path: 'path' did not match pattern '(/(.|[\\r\\n])*)|(ns:[0-9]+(/.*)?)|(id:.*)'`,
    );
  }
  if (raw === "/" && allowRoot) {
    throw badInput(
      `request body: path: Specify the root folder as an empty string rather than as "/".`,
    );
  }
  if (raw.startsWith("id:")) {
    const node = store.byId.get(raw);
    const paths = node ? pathsOf(store, user, node) : null;
    if (!paths) throw new Refusal("lookup", NOT_FOUND);
    return paths.display.slice(1).split("/");
  }
  if (raw.startsWith("ns:")) throw new Refusal("lookup", NOT_FOUND);
  if (!raw.startsWith("/")) {
    throw badInput(
      `request body: path: '${
        raw.slice(0, 80)
      }' did not match pattern '(/(.|[\\r\\n])*)|(ns:[0-9]+(/.*)?)|(id:.*)'`,
    );
  }
  return splitPath(raw, kind);
}

/** Run `fn`, turning the store's refusals into the route's error union via `wrap`. */
export function refusing<T>(fn: () => T, wrap: (r: Refusal) => Tagged): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof Refusal) throw routeError(wrap(err));
    throw err;
  }
}

/** `{".tag": tag, tag: reason}`: the common `path` wrapping of a LookupError or WriteError. */
export function under(tag: string, reason: Tagged): Tagged {
  return { ".tag": tag, [tag]: reason };
}

/** JSON for an HTTP header: non-ASCII escaped, as Dropbox sends `Dropbox-API-Result`. */
export function headerJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[\u007f-\uffff]/g,
    (c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0"),
  );
}

/** The commit part of an upload (CommitInfo), parsed once. */
export interface Commit {
  path: string;
  mode: "add" | "overwrite" | { update: string };
  autorename: boolean;
  strictConflict: boolean;
  clientModified: string | null;
}

/** CommitInfo's fields. */
export const COMMIT_FIELDS = [
  "path",
  "mode",
  "autorename",
  "client_modified",
  "mute",
  "property_groups",
  "strict_conflict",
];

/** Parse a CommitInfo. */
export function parseCommit(arg: Arg): Commit {
  const path = str(arg, "path");
  const mode = union(arg, "mode", ["add", "overwrite", "update"], "add");
  let parsedMode: Commit["mode"] = mode.tag === "update" ? { update: "" } : mode.tag as "add";
  if (mode.tag === "update") {
    const rev = mode.value.update;
    if (typeof rev !== "string" || !/^[0-9a-f]{9,}$/.test(rev)) {
      throw badInput(
        `request body: mode: update: '${String(rev)}' did not match pattern '[0-9a-f]+'`,
      );
    }
    parsedMode = { update: rev };
  }
  const clientModified = arg.client_modified;
  if (
    clientModified !== undefined &&
    (typeof clientModified !== "string" ||
      !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/.test(clientModified))
  ) {
    throw badInput(`request body: client_modified: expected timestamp '%Y-%m-%dT%H:%M:%SZ'`);
  }
  bool(arg, "mute", false);
  return {
    path,
    mode: parsedMode,
    autorename: bool(arg, "autorename", false),
    strictConflict: bool(arg, "strict_conflict", false),
    clientModified: typeof clientModified === "string" ? clientModified : null,
  };
}

/** Write a file as `user` and give its metadata, or throw the route's error (`wrap`). */
export function commitFile(
  store: Store,
  user: User,
  commit: Commit,
  bytes: Uint8Array,
  wrap: (r: Refusal) => Tagged,
): Record<string, unknown> {
  return refusing(() => {
    const parts = resolvePath(store, user, commit.path, "write", false);
    const node = store.writeFile(user, parts, bytes, commit);
    return untagged(metadata(store, user, node, pathsOf(store, user, node)!));
  }, wrap);
}

/** A body that sends half its bytes, then loses the connection (a download cut midway). */
function cutMidway(
  call: Call,
  bytes: Uint8Array,
  front: { drop(k: number): void; forwarded(k: number): number },
): ReadableStream<Uint8Array> {
  const key = call.cut!;
  const half = Math.floor(bytes.length / 2);
  const before = front.forwarded(key);
  let sent = false;
  return new ReadableStream({
    async pull(c) {
      if (!sent) {
        sent = true;
        if (half > 0) c.enqueue(bytes.slice(0, half));
        return;
      }
      let last = -1;
      for (let i = 0; i < 200; i++) {
        const now = front.forwarded(key) - before;
        if (now >= half && now === last) break;
        last = now;
        await sleep(5);
      }
      front.drop(key);
      c.close();
    },
  });
}

/** `Range: bytes=a-b | a- | -n` against `size`: [start, end] inclusive, or "bad". */
function parseRange(header: string, size: number): [number, number] | "bad" {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === "" && m[2] === "")) return "bad";
  if (m[1] === "") {
    const n = Number(m[2]);
    if (n === 0 || size === 0) return "bad";
    return [Math.max(0, size - n), size - 1];
  }
  const start = Number(m[1]);
  const end = m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (start >= size || end < start) return "bad";
  return [start, end];
}

/** The file routes. */
export function fileRoutes(
  store: Store,
  front: { drop(k: number): void; forwarded(k: number): number },
): Record<string, RouteSpec> {
  return {
    "files/get_metadata": {
      host: "api",
      scope: "files.metadata.read",
      takesArg: true,
      run: (c) => {
        known(c.arg, [
          "path",
          "include_media_info",
          "include_deleted",
          "include_has_explicit_shared_members",
          "include_property_groups",
        ]);
        const raw = str(c.arg, "path");
        if (raw === "" || raw === "/") {
          throw badInput(`request body: path: The root folder is unsupported.`);
        }
        return refusing(() => {
          const parts = resolvePath(store, c.user, raw, "lookup", false);
          const loc = store.locate(c.user, parts);
          const node = store.nodeAt(loc);
          if (!node) throw new Refusal("lookup", NOT_FOUND);
          return metadata(store, c.user, node, pathsOf(store, c.user, node)!);
        }, (r) => under("path", r.reason));
      },
    },
    "files/create_folder_v2": {
      host: "api",
      scope: "files.content.write",
      takesArg: true,
      run: (c) => {
        known(c.arg, ["path", "autorename"]);
        const raw = str(c.arg, "path");
        const autorename = bool(c.arg, "autorename", false);
        return refusing(() => {
          const parts = resolvePath(store, c.user, raw, "write", false);
          const node = store.createFolder(c.user, parts, autorename);
          return {
            metadata: untagged(metadata(store, c.user, node, pathsOf(store, c.user, node)!)),
          };
        }, (r) => under("path", r.reason));
      },
    },
    "files/delete_v2": {
      host: "api",
      scope: "files.content.write",
      takesArg: true,
      run: (c) => {
        known(c.arg, ["path", "parent_rev"]);
        const raw = str(c.arg, "path");
        const parentRev = c.arg.parent_rev;
        return refusing(
          () => {
            const parts = resolvePath(store, c.user, raw, "lookup", false);
            const loc = store.locate(c.user, parts);
            const existing = store.nodeAt(loc);
            if (!existing) throw new Refusal("lookup", NOT_FOUND);
            if (parentRev !== undefined && parentRev !== null && existing.rev !== parentRev) {
              throw new Refusal("write", { ".tag": "conflict", conflict: { ".tag": "file" } });
            }
            const paths = pathsOf(store, c.user, existing)!;
            const shown = metadata(store, c.user, existing, paths);
            store.delete(c.user, parts);
            return { metadata: shown };
          },
          (r) =>
            r.kind === "lookup" ? under("path_lookup", r.reason) : under("path_write", r.reason),
        );
      },
    },
    "files/move_v2": {
      host: "api",
      scope: "files.content.write",
      takesArg: true,
      run: (c) => {
        known(c.arg, [
          "from_path",
          "to_path",
          "allow_shared_folder",
          "autorename",
          "allow_ownership_transfer",
        ]);
        const fromRaw = str(c.arg, "from_path"), toRaw = str(c.arg, "to_path");
        const autorename = bool(c.arg, "autorename", false);
        bool(c.arg, "allow_shared_folder", false);
        bool(c.arg, "allow_ownership_transfer", false);
        return refusing(() => {
          const from = resolvePath(store, c.user, fromRaw, "lookup", false);
          let to: string[];
          try {
            to = resolvePath(store, c.user, toRaw, "write", false);
          } catch (err) {
            if (err instanceof Refusal) throw new Refusal("write", under("to", err.reason));
            throw err;
          }
          const node = store.move(c.user, from, to, autorename);
          return { metadata: metadata(store, c.user, node, pathsOf(store, c.user, node)!) };
        }, (r) => {
          if (r.kind === "lookup") return under("from_lookup", r.reason);
          const tag = r.reason[".tag"];
          // RelocationError's own tags pass as they are; a bare WriteError is about the destination.
          return tag === "to" || tag === "from_write" || tag.startsWith("cant_")
            ? r.reason
            : under("to", r.reason);
        });
      },
    },
    "files/upload": {
      host: "content",
      scope: "files.content.write",
      takesArg: true,
      run: async (c) => {
        known(c.arg, [...COMMIT_FIELDS, "content_hash"], `HTTP header "Dropbox-API-Arg"`);
        const commit = parseCommit(c.arg);
        const expected = hexHash(c.arg, "content_hash");
        const bytes = await contentBody(c.req);
        if (expected !== null && dropboxContentHash(bytes) !== expected) {
          throw routeError({ ".tag": "content_hash_mismatch" });
        }
        return commitFile(store, c.user, commit, bytes, (r) => ({
          ".tag": "path",
          reason: r.reason,
          upload_session_id: "",
        }));
      },
    },
    "files/download": {
      host: "content",
      scope: "files.content.read",
      takesArg: true,
      run: (c) => {
        known(c.arg, ["path", "rev"], `HTTP header "Dropbox-API-Arg"`);
        const raw = str(c.arg, "path");
        const node = refusing(() => {
          const parts = resolvePath(store, c.user, raw, "lookup", false);
          const found = store.nodeAt(store.locate(c.user, parts));
          if (!found) throw new Refusal("lookup", NOT_FOUND);
          if (found.kind !== "file") throw new Refusal("lookup", NOT_FILE);
          return found;
        }, (r) => under("path", r.reason));
        const bytes = node.content ?? new Uint8Array(0);
        const headers: Record<string, string> = {
          "content-type": "application/octet-stream",
          "dropbox-api-result": headerJson(
            untagged(metadata(store, c.user, node, pathsOf(store, c.user, node)!)),
          ),
          "x-dropbox-request-id": requestId(),
          "accept-ranges": "bytes",
        };
        // The rev names the content: a client holding it need not fetch it again.
        headers.etag = `W/"${node.rev}"`;
        if (c.req.headers.get("if-none-match") === headers.etag) {
          return new Response(null, { status: 304, headers: { etag: headers.etag } });
        }
        let body = bytes, status = 200;
        const range = c.req.headers.get("range");
        if (range !== null) {
          const r = parseRange(range, bytes.length);
          if (r === "bad") {
            throw new DbxError(416, "Requested Range Not Satisfiable", {
              "content-range": `bytes */${bytes.length}`,
            });
          }
          body = bytes.subarray(r[0], r[1] + 1);
          status = 206;
          headers["content-range"] = `bytes ${r[0]}-${r[1]}/${bytes.length}`;
        }
        headers["content-length"] = String(body.length);
        if (c.cut === null) {
          return new Response(body as Uint8Array<ArrayBuffer>, { status, headers });
        }
        return new Response(cutMidway(c, body, front), { status, headers });
      },
    },
  };
}
