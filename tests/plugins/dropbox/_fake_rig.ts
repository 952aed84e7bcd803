/**
 * A fake Dropbox in a child process and what the Dropbox plugin's tests need
 * around it: a credentials folder per identity (the token file `syft auth
 * dropbox` writes), and raw reads with a user's own token that bypass the
 * plugin.
 * @module
 */
import { channelName, type ChannelRef } from "../../../core/transport/contract.ts";
import { DROPBOX_TOKEN_FILE, type DropboxTokens } from "../../../plugins/dropbox/_tokens.ts";

/** The running fake and its helpers. */
export interface FakeDropboxProcess {
  /** What `SYFT_DROPBOX_API` takes. */
  url: string;
  /** A fresh credentials folder signed in as `identity`. */
  credentials(identity: string): Promise<string>;
  /** `identity`'s account id. */
  accountId(identity: string): Promise<string>;
  /** Read object `name` of `channel` with `identity`'s own token, straight from the API. */
  readAs(identity: string, channel: ChannelRef, name: string): Promise<Uint8Array>;
  /** An RPC with `identity`'s own token; the parsed answer (throws on a failure). */
  rpc(identity: string, route: string, arg: unknown): Promise<unknown>;
  /** Upload `bytes` to `path` as `identity` (mode add), bypassing the plugin. */
  upload(identity: string, path: string, bytes: Uint8Array<ArrayBuffer>): Promise<void>;
  /** Send a control request to the fake (see `_fake_child.ts`). */
  control(request: Record<string, unknown>): Promise<Record<string, unknown>>;
  /** Stop the fake and remove every credentials folder. */
  close(): Promise<void>;
}

/** Start the fake Dropbox in its own process. */
export async function startFakeDropboxProcess(): Promise<FakeDropboxProcess> {
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
      if (done) throw new Error("the fake Dropbox process exited");
      buffered += value;
    }
  };
  const writer = child.stdin.getWriter();
  const encoder = new TextEncoder();
  let queue: Promise<unknown> = Promise.resolve();
  const ask = (request: unknown): Promise<Record<string, unknown>> => {
    const turn = queue.then(async () => {
      await writer.write(encoder.encode(JSON.stringify(request) + "\n"));
      return JSON.parse(await nextLine()) as Record<string, unknown>;
    });
    queue = turn.catch(() => {});
    return turn;
  };

  const { url } = JSON.parse(await nextLine()) as { url: string };
  const dirs: string[] = [];
  const creds = new Map<
    string,
    { access: string; refresh: string; accountId: string; appKey: string }
  >();
  const credsOf = async (identity: string) => {
    let c = creds.get(identity);
    if (!c) {
      c = (await ask({ creds: identity })) as {
        access: string;
        refresh: string;
        accountId: string;
        appKey: string;
      };
      creds.set(identity, c);
    }
    return c;
  };

  /** A request that rides out injected faults (5xx, 429, cut connections). */
  const send = async (identity: string, path: string, init: RequestInit): Promise<Response> => {
    const { access } = await credsOf(identity);
    for (let attempt = 1;; attempt++) {
      let status = 0;
      let text = "";
      try {
        const headers = new Headers(init.headers);
        headers.set("authorization", `Bearer ${access}`);
        const response = await fetch(`${url}${path}`, { ...init, headers });
        if (response.ok) return response;
        status = response.status;
        text = await response.text();
      } catch {
        // a dropped connection: try again
      }
      if ((status >= 400 && status < 500 && status !== 429) || attempt >= 30) {
        throw new Error(`${path}: HTTP ${status} ${text}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  const rpc = async (identity: string, route: string, arg: unknown): Promise<unknown> => {
    const response = await send(identity, `/api/2/${route}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(arg),
    });
    return await response.json();
  };

  return {
    url,
    async credentials(identity) {
      const c = await credsOf(identity);
      const dir = await Deno.makeTempDir({ prefix: "syft-dropbox-creds-" });
      dirs.push(dir);
      const tokens: DropboxTokens = {
        app_key: c.appKey,
        access_token: c.access,
        refresh_token: c.refresh,
        expires_at: Date.now() + 3_600_000,
        account_id: c.accountId,
        email: identity,
        scope: "account_info.read files.metadata.read files.metadata.write " +
          "files.content.read files.content.write sharing.read sharing.write",
      };
      await Deno.writeTextFile(`${dir}/${DROPBOX_TOKEN_FILE}`, JSON.stringify(tokens), {
        mode: 0o600,
      });
      return dir;
    },
    accountId: async (identity) => (await credsOf(identity)).accountId,
    rpc,
    async upload(identity, path, bytes) {
      await send(identity, "/content/2/files/upload", {
        method: "POST",
        headers: {
          "content-type": "application/octet-stream",
          "dropbox-api-arg": JSON.stringify({ path, mode: "add", autorename: false }),
        },
        body: bytes,
      });
    },
    control: (request) => ask(request),
    async readAs(identity, channel, name) {
      let folder: string | undefined;
      if (channel.sender === identity) {
        folder = `/syft/${channelName(channel)}`;
      } else {
        const r = await rpc(identity, "sharing/list_mountable_folders", {}) as {
          entries: { name: string; path_lower?: string }[];
        };
        folder = r.entries.find((e) => e.name.toLowerCase() === channelName(channel))?.path_lower;
      }
      if (!folder) throw new Error(`${identity} cannot see ${channelName(channel)}`);
      for (let attempt = 1;; attempt++) {
        const response = await send(identity, "/content/2/files/download", {
          method: "POST",
          headers: { "dropbox-api-arg": JSON.stringify({ path: `${folder}/${name}` }) },
        });
        try {
          return new Uint8Array(await response.arrayBuffer());
        } catch (err) {
          if (attempt >= 20) throw err; // the body was cut mid-way: read it again
        }
      }
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
