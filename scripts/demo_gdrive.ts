/**
 * The Google Drive side of `deno task demo -- --transport gdrive`: the fake
 * Drive of the tests (tests/fakes/gdrive_server.ts) started in its own
 * process on 127.0.0.1, with a Google account per demo identity and Google's
 * client JSON of its OAuth client, and a sign-in that runs the real
 * `syft auth gdrive --no-browser` and opens the address it prints, as a user
 * would in a browser; the fake approves at once and redirects to syft's
 * loopback listener. No real Google account is touched.
 * @module
 */
import { posix } from "node:path";
import { childEnv, syftArgv, type SyftRun } from "./syft_process.ts";
import { startFakeDriveProcess } from "../tests/plugins/gdrive/_fake_rig.ts";
import { CLIENT_FILE } from "../plugins/gdrive/_tokens.ts";

/** A running fake Drive for the demo. */
export interface DemoDrive {
  /** What `SYFT_GDRIVE_API` takes. */
  api: string;
  /** Google's client JSON of the fake's OAuth client, as `--client-file` takes it. */
  clientFile: string;
  /** Run `syft --home <home> <args>` (an `auth gdrive --no-browser`) and approve its address. */
  signIn(home: string, env: Record<string, string>, args: string[]): Promise<SyftRun>;
  close(): Promise<void>;
}

/** Start the fake with `emails` as Google accounts; its client file goes in `dir`. */
export async function startDemoDrive(emails: string[], dir: string): Promise<DemoDrive> {
  const fake = await startFakeDriveProcess();
  try {
    await fake.addUsers(emails);
    const clientFile = posix.join(dir, "client_secret_demo.json");
    await Deno.copyFile(posix.join(await fake.credentials(emails[0]!), CLIENT_FILE), clientFile);
    return {
      api: fake.api,
      clientFile,
      signIn: (home, env, args) => signInThroughCli(["--home", home, ...args], env),
      close: () => fake.close(),
    };
  } catch (err) {
    await fake.close();
    throw err;
  }
}

/** Run syft, open the first address it prints with fetch, and wait for it to finish. */
export async function signInThroughCli(
  args: string[],
  env: Record<string, string>,
): Promise<SyftRun> {
  const child = new Deno.Command(Deno.execPath(), {
    args: syftArgv(args),
    env: childEnv(env),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  // A sign-in that never gets its redirect must not hold the demo for syft's 10 minutes.
  const guard = setTimeout(() => child.kill("SIGKILL"), 60_000);
  let opened: Promise<void> | null = null;
  const open = (url: string) => {
    opened ??= fetch(url).then(async (r) => {
      await r.body?.cancel();
    });
  };
  const collect = async (stream: ReadableStream<Uint8Array>): Promise<string> => {
    let text = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      text += chunk;
      const line = text.split("\n").slice(0, -1).find((l) => /^https?:\/\//.test(l));
      if (line) open(line);
    }
    return text;
  };
  const [status, stdout, stderr] = await Promise.all([
    child.status,
    collect(child.stdout),
    collect(child.stderr),
  ]);
  clearTimeout(guard);
  await (opened ?? Promise.resolve()).catch(() => {});
  return { code: status.code, stdout, stderr };
}
