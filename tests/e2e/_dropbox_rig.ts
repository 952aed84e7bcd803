/**
 * Identities on a fake Dropbox (in this process, on 127.0.0.1), driven
 * through the real CLI: each signs in with `syft auth dropbox --no-browser`
 * read as a user would (the printed address opened with fetch; the fake
 * approves as the identity and redirects to syft's loopback listener), then
 * runs `init --transport dropbox` and anything else with `SYFT_DROPBOX_API`
 * pointing at the fake. Sites have `_rig.ts`'s `Site` shape, so `peerUp`
 * and the other helpers apply. Everything made is removed by
 * `close()`, and at the latest when the test module unloads.
 * @module
 */
import { posix } from "node:path";
import { assertEquals } from "../assert.ts";
import { runSyft, type SyftRun } from "../../scripts/syft_process.ts";
import {
  type FakeDropbox,
  type FakeDropboxOptions,
  startFakeDropbox,
} from "../fakes/dropbox_server.ts";
import { type RunningSyft, spawnSyft } from "../cli/_gdrive_world.ts";
import { put, type Site } from "./_rig.ts";
import { openSync } from "../../cli/sync.ts";
import { Output } from "../../cli/output.ts";
import type { Context } from "../../cli/context.ts";
import { loadConfig } from "../../core/config/load.ts";
import { homeLayout } from "../../core/config/home.ts";
import { readKeys } from "../../core/config/keystore.ts";
import { PeerService } from "../../core/peers/service.ts";
import type { Session } from "../../core/sync/session.ts";
import { type RoundSummary, runRound } from "../../core/sync/round.ts";
import { RoutedTransport } from "../../core/sync/routed_transport.ts";
import type { Transport } from "../../core/transport/contract.ts";
import { startPlugin } from "../../plugins/host.ts";
import { dropboxManifest } from "../../plugins/dropbox/manifest.ts";
import { DROPBOX_SCOPES, writeDropboxTokens } from "../../plugins/dropbox/_tokens.ts";

/** One identity's folders on the fake Dropbox. */
export interface DropboxSite extends Site {
  dir: string;
  env: Record<string, string>;
  /** Start `syft <args>` and hand back the address it prints as it comes. */
  spawn(args: string[], options?: { stdin?: boolean }): RunningSyft;
}

/** The fake and a temp folder for sites. */
export interface DropboxWorld {
  fake: FakeDropbox;
  base: string;
  /** A site's folders (not signed in, not initialised). */
  site(email: string): Promise<DropboxSite>;
  /**
   * `auth dropbox --no-browser --app-key <the fake's>` for `site`, approved by
   * the fake as `approve` (default: the site's own account); its result.
   */
  signIn(site: DropboxSite, options?: { approve?: string; extra?: string[] }): Promise<SyftRun>;
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

/** A fake Dropbox with `users` as accounts, and a temp folder for sites. */
export async function dropboxWorld(
  users: string[],
  options: FakeDropboxOptions = {},
): Promise<DropboxWorld> {
  const base = await Deno.makeTempDir({ prefix: "syft-dropbox-" });
  made.add(base);
  const fake = await startFakeDropbox({ ...options, users });
  return {
    fake,
    base,
    async site(email) {
      const dir = posix.join(base, email.replace("@", "-at-"));
      await Deno.mkdir(dir);
      const home = posix.join(dir, ".syft");
      const root = posix.join(dir, "SyftBox");
      const env = { HOME: dir, SYFT_DROPBOX_API: fake.url };
      const syft = (args: string[]) => runSyft(["--home", home, ...args], { env });
      return {
        email,
        dir,
        home,
        root,
        env,
        datasite: posix.join(root, email),
        mirror: (peer) => posix.join(root, peer.email),
        syft,
        async ok(args) {
          const r = await syft(args);
          assertEquals(r.code, 0, `syft ${args.join(" ")} (${email}):\n${r.stdout}\n${r.stderr}`);
          return r;
        },
        spawn: (args, o = {}) => spawnSyft(["--home", home, ...args], env, o),
      };
    },
    async signIn(site, o = {}) {
      // The fake's approver is global: sign-ins run one at a time.
      fake.approveAs(o.approve ?? site.email);
      const run = site.spawn([
        "auth",
        "dropbox",
        "--no-browser",
        "--app-key",
        fake.appKey,
        ...(o.extra ?? []),
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
}

/** The world and one signed-in, initialised site per email. */
export interface DropboxSites {
  world: DropboxWorld;
  sites: DropboxSite[];
  close(): Promise<void>;
}

/** Sign each of `emails` in to a fresh fake Dropbox and init it over dropbox. */
export async function dropboxSites(
  emails: string[],
  options: FakeDropboxOptions = {},
): Promise<DropboxSites> {
  const world = await dropboxWorld(emails, options);
  try {
    const sites: DropboxSite[] = [];
    for (const email of emails) {
      const site = await world.site(email);
      const signIn = await world.signIn(site, { extra: ["--email", email] });
      assertEquals(signIn.code, 0, `auth dropbox (${email}):\n${signIn.stdout}\n${signIn.stderr}`);
      sites.push(site);
    }
    // Inits are independent: run them side by side.
    await Promise.all(
      sites.map((s) =>
        s.ok(["init", "--email", s.email, "--root", s.root, "--transport", "dropbox"])
      ),
    );
    return { world, sites, close: () => world.close() };
  } catch (err) {
    await world.close();
    throw err;
  }
}

/** A site's sync engine and peer service in this process, over a transport given to it. */
export interface InProcessSite {
  service: PeerService;
  peers: Session["peers"];
  round(): Promise<RoundSummary>;
  close(): Promise<void>;
}

/**
 * Open `site`'s engine in this process over `transport` (closed with it), as
 * `syft sync` opens it, so a test can run many rounds without a process each.
 */
export async function inProcess(site: Site, transport: Transport): Promise<InProcessSite> {
  const ctx: Context = {
    home: site.home,
    out: new Output({ json: false, quiet: true }, { out: () => {}, err: () => {} }),
    env: { HOME: posix.dirname(site.home) },
    cwd: Deno.cwd(),
    debug: false,
    interactive: false,
  };
  const config = await loadConfig(site.home);
  const opened = await openSync(ctx, config, { transport });
  const routed = transport instanceof RoutedTransport ? transport : undefined;
  const service = new PeerService({
    transport,
    store: opened.peers,
    me: site.email,
    keys: await readKeys(homeLayout(site.home).keys),
    now: () => Date.now(),
    foundOn: routed && ((s) => routed.foundOn(s)),
  });
  return {
    service,
    peers: opened.peers,
    round: () => runRound(opened.sync, opened.peers),
    close: () => opened.close(),
  };
}

/**
 * The Dropbox plugin as `identity` against the fake at `apiBase`, in a Worker
 * under its manifest's grants, with the sign-in stored in `credentialsDir`;
 * `backoff` shortens the retry schedule for runs with faults.
 */
export function dropboxPlugin(
  apiBase: string,
  identity: string,
  credentialsDir: string,
  backoff?: { baseMs: number; capMs: number; tries: number },
): Promise<Transport> {
  return startPlugin(dropboxManifest({ identity, credentialsDir, apiBase, backoff }));
}

/** The credentials folder `syft auth dropbox` would have made for `site`: its home's. */
export function credentialsOf(site: Site): string {
  return homeLayout(site.home).credentials;
}

/**
 * Store a sign-in for `email` on the fake (as `syft auth dropbox` would) in
 * `credentialsDir`, without the browser round trip: for sites initialised on
 * another transport that a test opens over Dropbox in process.
 */
export async function storeFakeSignIn(
  fake: FakeDropbox,
  email: string,
  credentialsDir: string,
): Promise<void> {
  await Deno.mkdir(credentialsDir, { recursive: true, mode: 0o700 });
  await writeDropboxTokens(credentialsDir, {
    app_key: fake.appKey,
    access_token: fake.token(email),
    refresh_token: fake.refreshToken(email),
    expires_at: Date.now() + 3600_000,
    account_id: fake.accountId(email),
    email,
    scope: DROPBOX_SCOPES.join(" "),
  });
}

/** A job script counting the rows of the `ages` dataset into outputs/count.txt. */
const COUNT_SH = [
  "#!/usr/bin/env bash",
  "set -euo pipefail",
  'n=$(grep -c "^[0-9]" "$SYFT_DATASET_AGES/ages.csv")',
  'echo "$n" > "$SYFT_OUTPUT_DIR/count.txt"',
  "",
].join("\n");

/** An `ages` dataset at `site`: three mock rows public, `rows` private. */
export async function publishAges(site: Site, rows: number[]): Promise<void> {
  const src = posix.join(posix.dirname(site.root), "source");
  await put(src, "mock/ages.csv", "age\n1\n2\n3\n");
  await put(src, "private/ages.csv", `age\n${rows.join("\n")}\n`);
  await site.ok([
    "dataset",
    "create",
    "ages",
    "--mock",
    posix.join(src, "mock"),
    "--private",
    posix.join(src, "private"),
  ]);
}

/** `scientist` sends the counting job on `ages` to `owners`; the job id. */
export async function submitCount(scientist: Site, owners: Site[]): Promise<string> {
  const dir = posix.join(posix.dirname(scientist.root), "job");
  await put(dir, "run.sh", COUNT_SH);
  const r = await scientist.ok([
    "job",
    "submit",
    "--to",
    owners.map((o) => o.email).join(","),
    "--script",
    posix.join(dir, "run.sh"),
    "--dataset",
    "ages",
    "--name",
    "count",
    "--json",
  ]);
  return (JSON.parse(r.stdout) as { id: string }).id;
}
