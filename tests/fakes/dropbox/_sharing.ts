/**
 * The sharing routes: share a folder (at once, or as a job with
 * `force_async`), add members (an e-mail without an account is an invitee
 * until it signs up), list what one can mount, mount (under `name (1)` when
 * the name is taken), list members, folder metadata.
 * @module
 */
import type { RouteSpec } from "./_api.ts";
import { badInput, routeError, type Tagged } from "./_errors.ts";
import { refusing, resolvePath } from "./_files.ts";
import { type Arg, bool, int, known, str, union } from "./_request.ts";
import {
  type AccessLevel,
  randomText,
  Refusal,
  type SharedFolder,
  type Store,
  type User,
} from "./_store.ts";
import { inviteeMembership, sharedFolderMetadata, userMembership } from "./_views.ts";

/** The most members one add_folder_member call takes. */
const MAX_ADD = 1000;
const MAX_JOBS = 10_000;
const MAX_PAGES = 10_000;

/** The shared folder an argument names, if the caller is a member; else SharedFolderAccessError. */
function folderFor(store: Store, user: User, arg: Arg): SharedFolder | Tagged {
  const id = str(arg, "shared_folder_id");
  if (!/^[-_0-9a-zA-Z:]+$/.test(id)) {
    throw badInput(
      `request body: shared_folder_id: '${
        id.slice(0, 40)
      }' did not match pattern '[-_0-9a-zA-Z:]+'`,
    );
  }
  const sf = store.shared.get(id);
  if (!sf) return { ".tag": "invalid_id" };
  if (!sf.members.has(user.email)) return { ".tag": "not_a_member" };
  return sf;
}

function isFolder(x: SharedFolder | Tagged): x is SharedFolder {
  return "ns" in x;
}

/** Paged answers kept for `…/continue` calls. */
class Pages {
  readonly #pages = new Map<string, { email: string; rest: unknown[]; limit: number }>();

  /** The first `limit` items, and a cursor when more are left. */
  page(email: string, items: unknown[], limit: number): { items: unknown[]; cursor?: string } {
    if (items.length <= limit) return { items };
    for (const key of this.#pages.keys()) {
      if (this.#pages.size < MAX_PAGES) break;
      this.#pages.delete(key);
    }
    const cursor = randomText(32);
    this.#pages.set(cursor, { email, rest: items.slice(limit), limit });
    return { items: items.slice(0, limit), cursor };
  }

  /** The next page behind a cursor, or null when the cursor is unknown. */
  next(email: string, cursor: string): { items: unknown[]; cursor?: string } | null {
    const p = this.#pages.get(cursor);
    if (!p || p.email !== email) return null;
    return this.page(email, p.rest, p.limit);
  }
}

/** A ListFoldersArgs route and its `/continue`, listing what `list` gives, in pages. */
function folderLists(
  route: string,
  pages: Pages,
  list: (user: User) => unknown[],
): Record<string, RouteSpec> {
  const result = (p: { items: unknown[]; cursor?: string }) => ({
    entries: p.items,
    ...(p.cursor ? { cursor: p.cursor } : {}),
  });
  return {
    [route]: {
      host: "api",
      scope: "sharing.read",
      takesArg: true,
      run: (c) => {
        known(c.arg, ["limit", "actions"]);
        const limit = int(c.arg, "limit", 1000, 1, 1000);
        return result(pages.page(c.user.email, list(c.user), limit));
      },
    },
    [`${route}/continue`]: {
      host: "api",
      scope: "sharing.read",
      takesArg: true,
      run: (c) => {
        known(c.arg, ["cursor"]);
        const p = pages.next(c.user.email, str(c.arg, "cursor"));
        if (!p) throw routeError({ ".tag": "invalid_cursor" });
        return result(p);
      },
    },
  };
}

/** The sharing routes. */
export function sharingRoutes(store: Store): Record<string, RouteSpec> {
  const jobs = new Map<string, { email: string; folder: string; polled: boolean }>();
  const pages = new Pages();
  const mountable = (user: User) =>
    store.sharedWith(user).filter((sf) => sf.owner !== user)
      .map((sf) => sharedFolderMetadata(user, sf));
  const members = (sf: SharedFolder) => {
    const out: { user?: unknown; invitee?: unknown }[] = [];
    const sorted = [...sf.members].sort(([, a], [, b]) =>
      (a.access === "owner" ? 0 : 1) - (b.access === "owner" ? 0 : 1)
    );
    for (const [email, m] of sorted) {
      const u = store.users.get(email);
      out.push(
        u ? { user: userMembership(u, m.access) } : { invitee: inviteeMembership(email, m.access) },
      );
    }
    return out;
  };
  const membersResult = (page: { items: unknown[]; cursor?: string }) => {
    const items = page.items as { user?: unknown; invitee?: unknown }[];
    return {
      users: items.filter((i) => i.user).map((i) => i.user),
      groups: [],
      invitees: items.filter((i) => i.invitee).map((i) => i.invitee),
      ...(page.cursor ? { cursor: page.cursor } : {}),
    };
  };

  return {
    "sharing/share_folder": {
      host: "api",
      scope: "sharing.write",
      takesArg: true,
      run: (c) => {
        known(c.arg, [
          "path",
          "acl_update_policy",
          "force_async",
          "member_policy",
          "shared_link_policy",
          "viewer_info_policy",
          "access_inheritance",
          "actions",
          "link_settings",
        ]);
        const raw = str(c.arg, "path");
        const forceAsync = bool(c.arg, "force_async", false);
        const sf = refusing(() => {
          try {
            return store.shareFolder(c.user, resolvePath(store, c.user, raw, "write", false));
          } catch (err) {
            const existing = err instanceof Refusal && err.reason[".tag"] === "already_shared"
              ? store.shared.get(err.reason.already_shared as string)
              : undefined;
            if (existing) {
              throw new Refusal("write", {
                ".tag": "already_shared",
                ...sharedFolderMetadata(c.user, existing),
              });
            }
            if (err instanceof Refusal && err.reason[".tag"] === "malformed_path") {
              throw new Refusal("write", { ".tag": "invalid_path" });
            }
            throw err;
          }
        }, (r) => ({ ".tag": "bad_path", bad_path: r.reason }));
        if (!forceAsync) return { ".tag": "complete", ...sharedFolderMetadata(c.user, sf) };
        for (const key of jobs.keys()) {
          if (jobs.size < MAX_JOBS) break;
          jobs.delete(key);
        }
        const id = `dbjid:${randomText(40)}`;
        jobs.set(id, { email: c.user.email, folder: sf.id, polled: false });
        return { ".tag": "async_job_id", async_job_id: id };
      },
    },
    "sharing/check_share_job_status": {
      host: "api",
      scope: "sharing.write",
      takesArg: true,
      run: (c) => {
        known(c.arg, ["async_job_id"]);
        const job = jobs.get(str(c.arg, "async_job_id"));
        if (!job || job.email !== c.user.email) {
          throw routeError({ ".tag": "invalid_async_job_id" });
        }
        // A job is seen running once, so a client must poll as the documentation says.
        if (!job.polled) {
          job.polled = true;
          return { ".tag": "in_progress" };
        }
        const sf = store.shared.get(job.folder);
        if (!sf) return { ".tag": "failed", failed: { ".tag": "no_permission" } };
        return { ".tag": "complete", ...sharedFolderMetadata(c.user, sf) };
      },
    },
    "sharing/add_folder_member": {
      host: "api",
      scope: "sharing.write",
      takesArg: true,
      run: (c) => {
        known(c.arg, ["shared_folder_id", "members", "quiet", "custom_message"]);
        bool(c.arg, "quiet", false);
        const list = c.arg.members;
        if (!Array.isArray(list)) throw badInput("request body: members: expected list");
        if (list.length > MAX_ADD) throw routeError({ ".tag": "too_many_members" });
        const wanted: { email: string; access: AccessLevel }[] = [];
        for (const raw of list) {
          if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
            throw badInput("request body: members: expected object");
          }
          const m = raw as Arg;
          known(m, ["member", "access_level"], "request body: members");
          const who = union(m, "member", ["email", "dropbox_id"]);
          const level = union(m, "access_level", [
            "owner",
            "editor",
            "viewer",
            "viewer_no_comment",
            "traverse",
            "no_access",
          ], "viewer");
          let email: string;
          if (who.tag === "email") {
            const e = who.value.email;
            if (typeof e !== "string" || !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(e)) {
              throw routeError({
                ".tag": "bad_member",
                bad_member: { ".tag": "invalid_email", invalid_email: String(e) },
              });
            }
            email = e.toLowerCase();
          } else {
            const id = who.value.dropbox_id;
            const u = typeof id === "string" ? store.userById(id) : undefined;
            if (!u) {
              throw routeError({
                ".tag": "bad_member",
                bad_member: { ".tag": "invalid_dropbox_id", invalid_dropbox_id: String(id) },
              });
            }
            email = u.email;
          }
          if (!["editor", "viewer", "viewer_no_comment"].includes(level.tag)) {
            throw routeError({ ".tag": "no_permission" });
          }
          wanted.push({ email, access: level.tag === "editor" ? "editor" : "viewer" });
        }
        const sf = folderFor(store, c.user, c.arg);
        if (!isFolder(sf)) throw routeError({ ".tag": "access_error", access_error: sf });
        refusing(() => {
          for (const w of wanted) store.addMember(c.user, sf, w.email, w.access);
        }, (r) => r.reason);
        return null;
      },
    },
    ...folderLists("sharing/list_mountable_folders", pages, mountable),
    // Every shared folder the user is in, its own included.
    ...folderLists(
      "sharing/list_folders",
      pages,
      (user) => store.sharedWith(user).map((sf) => sharedFolderMetadata(user, sf)),
    ),
    "sharing/mount_folder": {
      host: "api",
      scope: "sharing.write",
      takesArg: true,
      run: (c) => {
        known(c.arg, ["shared_folder_id"]);
        const sf = folderFor(store, c.user, c.arg);
        if (!isFolder(sf)) throw routeError({ ".tag": "access_error", access_error: sf });
        refusing(() => store.mount(c.user, sf), (r) => r.reason);
        return sharedFolderMetadata(c.user, sf);
      },
    },
    "sharing/list_folder_members": {
      host: "api",
      scope: "sharing.read",
      takesArg: true,
      run: (c) => {
        known(c.arg, ["shared_folder_id", "actions", "limit"]);
        const limit = int(c.arg, "limit", 1000, 1, 1000);
        const sf = folderFor(store, c.user, c.arg);
        if (!isFolder(sf)) throw routeError(sf);
        return membersResult(pages.page(c.user.email, members(sf), limit));
      },
    },
    "sharing/list_folder_members/continue": {
      host: "api",
      scope: "sharing.read",
      takesArg: true,
      run: (c) => {
        known(c.arg, ["cursor"]);
        const p = pages.next(c.user.email, str(c.arg, "cursor"));
        if (!p) throw routeError({ ".tag": "invalid_cursor" });
        return membersResult(p);
      },
    },
    "sharing/get_folder_metadata": {
      host: "api",
      scope: "sharing.read",
      takesArg: true,
      run: (c) => {
        known(c.arg, ["shared_folder_id", "actions"]);
        const sf = folderFor(store, c.user, c.arg);
        if (!isFolder(sf)) throw routeError(sf);
        return sharedFolderMetadata(c.user, sf);
      },
    },
  };
}
