/**
 * A fake Drive in a child process and what the Drive plugin's tests need
 * around it: a credentials folder per identity (Google's client file and a
 * signed-in token file, as `syft auth gdrive` will write them), and raw reads
 * with a user's own token that bypass the plugin.
 * @module
 */
import type { ChannelRef } from "../../../core/transport/contract.ts";
import { channelName } from "../../../core/transport/contract.ts";
import { CLIENT_FILE, TOKEN_FILE } from "../../../plugins/gdrive/_tokens.ts";

/** The running fake and its helpers. */
export interface FakeDriveProcess {
  /** API base, ending in `/`. */
  api: string;
  /** Create Google accounts (Drive shares only with addresses that have one). */
  addUsers(emails: string[]): Promise<void>;
  /** A fresh credentials folder signed in as `identity`. */
  credentials(identity: string): Promise<string>;
  /** Read object `name` of `channel` with `identity`'s own token, straight from the API. */
  readAs(identity: string, channel: ChannelRef, name: string): Promise<Uint8Array>;
  /**
   * Read `sender`'s pool object `name` with `identity`'s own token, straight
   * from the API: found among the files shared with `identity` (so it fails
   * for one that is not a reader).
   */
  readPoolAs(identity: string, sender: string, name: string): Promise<Uint8Array>;
  /** Send a control request to the fake (see `_fake_child.ts`) and return its answer. */
  control(request: Record<string, unknown>): Promise<Record<string, unknown>>;
  /** A raw API call with `identity`'s own token; the parsed JSON answer (null for none). */
  raw(identity: string, method: string, path: string, body?: unknown): Promise<unknown>;
  /** Stop the fake and remove every credentials folder. */
  close(): Promise<void>;
}

/** Start the fake Drive in its own process. */
export async function startFakeDriveProcess(): Promise<FakeDriveProcess> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "--allow-net=127.0.0.1",
      new URL("./_fake_child.ts", import.meta.url).pathname,
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  const nextLine = async (): Promise<string> => {
    for (;;) {
      const newline = buffered.indexOf("\n");
      if (newline >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        return line;
      }
      const { done, value } = await lines.read();
      if (done) throw new Error("the fake Drive process exited");
      buffered += value;
    }
  };
  const writer = child.stdin.getWriter();
  const encoder = new TextEncoder();
  /** One request at a time: answers come back in order. */
  let queue: Promise<unknown> = Promise.resolve();
  const ask = (request: unknown): Promise<Record<string, unknown>> => {
    const turn = queue.then(async () => {
      await writer.write(encoder.encode(JSON.stringify(request) + "\n"));
      return JSON.parse(await nextLine()) as Record<string, unknown>;
    });
    queue = turn.catch(() => {});
    return turn;
  };

  const hello = JSON.parse(await nextLine()) as { url: string; clientFile: unknown };
  const api = `${hello.url}/`;
  const dirs: string[] = [];
  const accessTokens = new Map<string, string>();

  const token = async (identity: string): Promise<{ access: string; refresh: string }> => {
    const answer = await ask({ creds: identity });
    if (typeof answer.access !== "string" || typeof answer.refresh !== "string") {
      throw new Error(`no token for ${identity}`);
    }
    return { access: answer.access, refresh: answer.refresh };
  };

  /** A GET that rides out injected faults (5xx, 429, 403 rate limits, cut connections). */
  const get = async (access: string, path: string): Promise<Response> => {
    for (let attempt = 1;; attempt++) {
      let status = 0;
      try {
        const response = await fetch(`${api}${path}`, {
          headers: { authorization: `Bearer ${access}` },
        });
        if (response.ok) return response;
        status = response.status;
        await response.body?.cancel();
      } catch {
        // a dropped connection: try again
      }
      if (status === 400 || status === 401 || status === 404 || attempt >= 20) {
        throw new Error(`${path}: HTTP ${status}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };

  const q = (s: string) => `'${s.replaceAll("\\", "\\\\").replaceAll("'", "\\'")}'`;
  const list = async (access: string, query: string): Promise<{ id: string; name: string }[]> => {
    const response = await get(
      access,
      `drive/v3/files?fields=files(id,name)&q=${encodeURIComponent(query)}`,
    );
    return ((await response.json()) as { files?: { id: string; name: string }[] }).files ?? [];
  };
  /** A file's bytes, read again when a fault cuts the body mid-way. */
  const media = async (access: string, id: string): Promise<Uint8Array> => {
    for (let attempt = 1;; attempt++) {
      const response = await get(access, `drive/v3/files/${id}?alt=media`);
      try {
        return new Uint8Array(await response.arrayBuffer());
      } catch (err) {
        if (attempt >= 20) throw err;
      }
    }
  };

  return {
    api,
    async addUsers(emails) {
      await ask({ users: emails });
    },
    async credentials(identity) {
      const { access, refresh } = await token(identity);
      accessTokens.set(identity, access);
      const dir = await Deno.makeTempDir({ prefix: "syft-gdrive-creds-" });
      dirs.push(dir);
      await Deno.writeTextFile(`${dir}/${CLIENT_FILE}`, JSON.stringify(hello.clientFile), {
        mode: 0o600,
      });
      await Deno.writeTextFile(
        `${dir}/${TOKEN_FILE}`,
        JSON.stringify({
          access_token: access,
          refresh_token: refresh,
          expiry_date: Date.now() + 3_000_000,
          scope: "https://www.googleapis.com/auth/drive",
          token_type: "Bearer",
        }),
        { mode: 0o600 },
      );
      return dir;
    },
    control: (request) => ask(request),
    async raw(identity, method, path, body) {
      const access = accessTokens.get(identity) ?? (await token(identity)).access;
      accessTokens.set(identity, access);
      const response = await fetch(`${api}${path}`, {
        method,
        headers: { authorization: `Bearer ${access}`, "content-type": "application/json" },
        body: body === undefined ? null : JSON.stringify(body),
      });
      const text = await response.text();
      if (!response.ok) throw new Error(`${method} ${path}: HTTP ${response.status} ${text}`);
      return text === "" ? null : JSON.parse(text);
    },
    async readAs(identity, channel, name) {
      const access = accessTokens.get(identity) ?? (await token(identity)).access;
      const folder = (await list(access, `name = ${q(channelName(channel))} and trashed = false`))
        .find((f) => f.name === channelName(channel));
      if (!folder) throw new Error(`${identity} cannot see ${channelName(channel)}`);
      const file = (await list(access, `name = ${q(name)} and ${q(folder.id)} in parents`))
        .find((f) => f.name === name);
      if (!file) throw new Error(`${identity} cannot see ${name}`);
      return await media(access, file.id);
    },
    async readPoolAs(identity, sender, name) {
      const access = accessTokens.get(identity) ?? (await token(identity)).access;
      const file = (await list(
        access,
        `name = ${q(name)} and ${q(sender)} in owners and sharedWithMe = true and trashed = false`,
      )).find((f) => f.name === name);
      if (!file) throw new Error(`${identity} cannot see ${sender}'s ${name}`);
      return await media(access, file.id);
    },
    async close() {
      await writer.close().catch(() => {});
      await lines.cancel().catch(() => {});
      try {
        child.kill("SIGTERM");
      } catch {
        // already gone
      }
      await child.status;
      for (const dir of dirs) await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}
