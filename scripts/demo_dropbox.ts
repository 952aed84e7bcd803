/**
 * The Dropbox side of `deno task demo -- --transport dropbox`: the fake
 * Dropbox of the tests (tests/fakes/dropbox_server.ts) on 127.0.0.1 in this
 * process, with an account per demo identity and an app key of its own, and a
 * sign-in that runs the real `syft auth dropbox --no-browser` and opens the
 * address it prints, as a user would in a browser; the fake approves as the
 * identity signing in and redirects to syft's loopback listener. No real
 * Dropbox account is touched.
 * @module
 */
import type { SyftRun } from "./syft_process.ts";
import { signInThroughCli } from "./demo_gdrive.ts";
import { startFakeDropbox } from "../tests/fakes/dropbox_server.ts";

/** A running fake Dropbox for the demo. */
export interface DemoDropbox {
  /** What `SYFT_DROPBOX_API` takes. */
  api: string;
  /** The fake's app key, as `--app-key` takes it. */
  appKey: string;
  /** Run `syft --home <home> <args>` (an `auth dropbox --no-browser`), approved as `email`. */
  signIn(
    home: string,
    env: Record<string, string>,
    args: string[],
    email: string,
  ): Promise<SyftRun>;
  close(): Promise<void>;
}

/** Start the fake with `emails` as Dropbox accounts. */
export async function startDemoDropbox(emails: string[]): Promise<DemoDropbox> {
  const fake = await startFakeDropbox({ users: emails });
  return {
    api: fake.url,
    appKey: fake.appKey,
    signIn: (home, env, args, email) => {
      fake.approveAs(email); // the user signs in to dropbox.com as themself
      return signInThroughCli(["--home", home, ...args], env);
    },
    close: () => fake.close(),
  };
}
