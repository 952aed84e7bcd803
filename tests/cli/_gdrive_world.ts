/**
 * Identities that sign in to a fake Drive (run in its own process) through
 * the real CLI: `syft auth gdrive --no-browser` read as a user would, the
 * printed address opened with fetch (the fake approves at once and redirects
 * to syft's loopback listener), then anything else as that identity with
 * `SYFT_GDRIVE_API` pointing at the fake. Everything made is removed by
 * `close()`, and at the latest when the test module unloads.
 * @module
 */
import { posix } from "node:path";
import { assertEquals } from "../assert.ts";
import { childEnv, runSyft, syftArgv, type SyftRun } from "../../scripts/syft_process.ts";
import { type FakeDriveProcess, startFakeDriveProcess } from "../plugins/gdrive/_fake_rig.ts";
import { CLIENT_FILE } from "../../plugins/gdrive/_tokens.ts";

/** One identity's folders on the fake Drive. */
export interface DriveSite {
  email: string;
  dir: string;
  home: string;
  root: string;
  env: Record<string, string>;
  syft(args: string[], options?: { stdin?: string }): Promise<SyftRun>;
  ok(args: string[]): Promise<SyftRun>;
  /** Start `syft <args>` and hand back the lines it prints as they come. */
  spawn(args: string[], options?: { stdin?: boolean }): RunningSyft;
}

/** A syft process still running. */
export interface RunningSyft {
  /** The first stdout line that is an http(s) address. */
  url: Promise<string>;
  /** Write a line on its stdin (when started with `stdin: true`). */
  write(line: string): Promise<void>;
  done: Promise<SyftRun>;
}

/** The fake, a client file of its OAuth client, and sites. */
export interface DriveWorld {
  fake: FakeDriveProcess;
  clientFile: string;
  site(email: string): Promise<DriveSite>;
  /** `auth gdrive --no-browser` for `site`, approved by the fake; its result. */
  signIn(site: DriveSite, extra?: string[]): Promise<SyftRun>;
  close(): Promise<void>;
}

const made = new Set<string>();
globalThis.addEventListener("unload", () => {
  for (const base of made) {
    try {
      Deno.removeSync(base, { recursive: true });
    } catch {
      // removed by its test already
    }
  }
});

/** A fake Drive with `users` as Google accounts, and a temp folder for sites. */
export async function driveWorld(users: string[]): Promise<DriveWorld> {
  const base = await Deno.makeTempDir({ prefix: "syft-gdrive-cli-" });
  made.add(base);
  const fake = await startFakeDriveProcess();
  await fake.addUsers(users);
  // A credentials folder of the fake's holds Google's client JSON as is.
  const creds = await fake.credentials(users[0]!);
  const clientFile = posix.join(base, "client_secret_fake.json");
  await Deno.copyFile(posix.join(creds, CLIENT_FILE), clientFile);
  const api = fake.api;

  const world: DriveWorld = {
    fake,
    clientFile,
    async site(email) {
      const dir = posix.join(base, email.split("@")[0]!);
      await Deno.mkdir(dir);
      const home = posix.join(dir, ".syft");
      const env = { HOME: dir, SYFT_GDRIVE_API: api };
      const syft = (args: string[], options: { stdin?: string } = {}) =>
        runSyft(["--home", home, ...args], { env, ...options });
      return {
        email,
        dir,
        home,
        root: posix.join(dir, "SyftBox"),
        env,
        syft,
        async ok(args) {
          const r = await syft(args);
          assertEquals(r.code, 0, `syft ${args.join(" ")} (${email}):\n${r.stdout}\n${r.stderr}`);
          return r;
        },
        spawn: (args, options = {}) => spawnSyft(["--home", home, ...args], env, options),
      };
    },
    async signIn(site, extra = []) {
      const run = site.spawn([
        "auth",
        "gdrive",
        "--no-browser",
        "--client-file",
        clientFile,
        ...extra,
      ]);
      const response = await fetch(await run.url); // the fake approves and redirects to syft
      await response.body?.cancel();
      return await run.done;
    },
    async close() {
      await fake.close();
      await Deno.remove(base, { recursive: true }).catch(() => {});
      made.delete(base);
    },
  };
  return world;
}

export function spawnSyft(
  args: string[],
  env: Record<string, string>,
  options: { stdin?: boolean },
): RunningSyft {
  const child = new Deno.Command(Deno.execPath(), {
    args: syftArgv(args),
    env: childEnv(env),
    stdin: options.stdin ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const url = Promise.withResolvers<string>();
  // Human output goes to stdout, beside --json to stderr: look in both.
  const collect = async (stream: ReadableStream<Uint8Array>) => {
    let text = "";
    const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += value;
      const line = text.split("\n").slice(0, -1).find((l) => /^https?:\/\//.test(l));
      if (line) url.resolve(line);
    }
    return text;
  };
  const stdout = collect(child.stdout);
  const stderr = collect(child.stderr);
  const writer = options.stdin ? child.stdin.getWriter() : null;
  // A sign-in the test failed to finish must not wait out syft's 10 minutes.
  const guard = setTimeout(() => child.kill("SIGKILL"), 60_000);
  const done = (async () => {
    const [status, out, err] = await Promise.all([child.status, stdout, stderr]);
    clearTimeout(guard);
    await writer?.close().catch(() => {});
    url.reject(new Error(`syft printed no address:\n${out}\n${err}`));
    return { code: status.code, stdout: out, stderr: err };
  })();
  url.promise.catch(() => {});
  return {
    url: url.promise,
    async write(line) {
      await writer!.write(new TextEncoder().encode(line + "\n"));
    },
    done,
  };
}
