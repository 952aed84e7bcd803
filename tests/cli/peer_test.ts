/**
 * `syft peer …` end to end: two (or three) installations, each its own home,
 * sharing one `local:` folder, driven through the real CLI as child processes.
 */
import { posix } from "node:path";
import { assert, assertEquals, assertMatch, assertStringIncludes } from "../assert.ts";
import { runSyft, type SyftRun } from "../../scripts/syft_process.ts";
import { tempDir } from "../_temp.ts";

interface Install {
  email: string;
  home: string;
  root: string;
  syft: (args: string[]) => Promise<SyftRun>;
  fingerprint: string;
}

async function install(base: string, email: string): Promise<Install> {
  const dir = posix.join(base, email);
  const home = posix.join(dir, ".syft");
  const root = posix.join(dir, "SyftBox");
  const syft = (args: string[]) => runSyft(["--home", home, ...args], { env: { HOME: dir } });
  await Deno.mkdir(dir, { recursive: true });
  const init = await syft([
    "init",
    "--email",
    email,
    "--root",
    root,
    "--transport",
    `local:${base}/shared`,
    "--json",
  ]);
  assertEquals(init.code, 0, init.stderr);
  // The fingerprint a user reads out to a peer is the one `syft status` shows.
  const status = await syft(["status", "--json"]);
  assertEquals(status.code, 0, status.stderr);
  return { email, home, root, syft, fingerprint: JSON.parse(status.stdout).fingerprint };
}

async function world(...emails: string[]): Promise<Install[]> {
  const base = await tempDir("syft-peer-cli-");
  await Deno.mkdir(posix.join(base, "shared"));
  return await Promise.all(emails.map((e) => install(base, e)));
}

function code(r: SyftRun, expected: number): void {
  assertEquals(r.code, expected, `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
}

function json<T = unknown>(r: SyftRun): T {
  code(r, 0);
  return JSON.parse(r.stdout) as T;
}

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const ALICE = "alice@example.org";
const BOB = "bob@example.org";

Deno.test("peer add → pending on the other side with the status fingerprint → approve --fingerprint → accepted", async () => {
  const [alice, bob] = await world(ALICE, BOB);

  const add = json<Record<string, unknown>>(
    await alice!.syft(["peer", "add", "Bob@Example.org", "--json"]),
  );
  assertEquals(add.email, BOB, "emails are lower-cased");
  assertEquals(add.state, "requested");
  assertEquals(add.channel, `syft1#${ALICE}#${BOB}`);
  assertEquals(add.own_fingerprint, alice!.fingerprint);

  const list = json<Record<string, unknown>[]>(await bob!.syft(["peer", "list", "--json"]));
  assertEquals(list.length, 1);
  assertEquals(Object.keys(list[0]!).sort(), ["email", "fingerprint", "last_seen", "state"]);
  assertEquals(list[0]!.email, ALICE);
  assertEquals(list[0]!.state, "pending");
  assertEquals(list[0]!.fingerprint, alice!.fingerprint);
  // Every time in --json is ISO 8601 UTC, as jobs' are.
  assertMatch(String(list[0]!.last_seen), ISO_UTC);

  // People read the human table; it names the new request and how to approve it.
  const human = await bob!.syft(["peer", "list"]);
  code(human, 0);
  assertMatch(human.stdout, /EMAIL\s+STATE\s+FINGERPRINT\s+LAST SEEN/);
  assertStringIncludes(human.stdout, `${ALICE}  pending  ${alice!.fingerprint}`);

  const status = json<{ peers: Record<string, number> }>(await bob!.syft(["status", "--json"]));
  assertEquals(status.peers.pending, 1);

  // A wrong fingerprint is refused with exit 3 and leaves the request pending.
  const wrong = await bob!.syft(["peer", "approve", ALICE, "--fingerprint", bob!.fingerprint]);
  code(wrong, 3);
  assertMatch(
    wrong.stderr,
    /^error: refused: the channel from alice@example\.org has fingerprint/m,
  );
  assertMatch(wrong.stderr, /^hint: do not approve/m);

  const approve = await bob!.syft(["peer", "approve", ALICE, "--fingerprint", alice!.fingerprint]);
  code(approve, 0);
  assertStringIncludes(approve.stdout, `pinned fingerprint: ${alice!.fingerprint}`);
  const perm = await Deno.readTextFile(
    posix.join(bob!.root, BOB, "app_data/job/inbox", ALICE, "syft.pub.yaml"),
  );
  assertStringIncludes(perm, `write: ['${ALICE}']`);
  const check = await bob!.syft([
    "perm",
    "check",
    `app_data/job/inbox/${ALICE}/job1/run.sh`,
    "--user",
    ALICE,
    "--access",
    "write",
  ]);
  code(check, 0);

  const after = json<{ email: string; state: string }[]>(
    await bob!.syft(["peer", "list", "--json"]),
  );
  assertEquals(after.map((p) => [p.email, p.state]), [[ALICE, "accepted"]]);

  // Alice sees bob's channel: his keys pinned, still requested until sync reads peer.accept.
  const hers = json<{ email: string; state: string; fingerprint: string }[]>(
    await alice!.syft(["peer", "list", "--json"]),
  );
  assertEquals(hers.map((p) => [p.email, p.state, p.fingerprint]), [
    [BOB, "requested", bob!.fingerprint],
  ]);

  const show = json<Record<string, unknown>>(await bob!.syft(["peer", "show", ALICE, "--json"]));
  assertEquals(show.state, "accepted");
  assertEquals(show.removed_by, null);
  assertEquals(show.fingerprint, alice!.fingerprint);
  assertEquals(show.channel_out, `syft1#${BOB}#${ALICE}`);
  assertEquals(show.channel_in, `syft1#${ALICE}#${BOB}`);
  assert(typeof show.sign_key === "string" && typeof show.agree_key === "string");
  for (const t of ["pinned_at", "requested_at", "accepted_at", "last_seen"]) {
    assertMatch(String(show[t]), ISO_UTC, t);
  }
  const showHuman = await bob!.syft(["peer", "show", ALICE]);
  code(showHuman, 0);
  assertMatch(showHuman.stdout, /fingerprint:\s+[0-9a-f]{4}( [0-9a-f]{4}){7}/);
  assertMatch(showHuman.stdout, /channel out:\s+syft1#bob@example\.org#alice@example\.org/);
});

Deno.test("unknown peers exit 2 with a hint; bad emails and missing flags exit 2", async () => {
  const [alice] = await world(ALICE);
  for (
    const cmd of [["show"], ["approve"], ["reject"], ["remove"], [
      "trust",
      "--fingerprint",
      alice!.fingerprint,
    ]]
  ) {
    const [verb, ...rest] = cmd;
    const r = await alice!.syft(["peer", verb!, "nobody@example.org", ...rest]);
    code(r, 2);
    assertMatch(r.stderr, /^error: nobody@example\.org is not a known peer$/m);
    assertMatch(r.stderr, /^hint: run `syft peer list`/m);
  }
  const bad = await alice!.syft(["peer", "add", "not-an-email"]);
  code(bad, 2);
  assertMatch(bad.stderr, /not a valid email address/);
  code(await alice!.syft(["peer", "trust", BOB]), 2); // --fingerprint is required
  const self = await alice!.syft(["peer", "add", ALICE]);
  code(self, 2);
  assertMatch(self.stderr, /is you/);
  assertEquals(json(await alice!.syft(["peer", "list", "--json"])), []);
});

Deno.test("peer reject, remove and trust through the CLI, with their --json shapes", async () => {
  const [alice, bob, carol] = await world(ALICE, BOB, "carol@example.org");
  code(await alice!.syft(["peer", "add", BOB]), 0);
  code(await carol!.syft(["peer", "add", BOB]), 0);

  // A request arriving during a sync is news, not a warning: nothing went wrong.
  const synced = await bob!.syft(["sync"]);
  code(synced, 0);
  assertMatch(synced.stderr, /^alice@example\.org asks to peer with you: check with/m);
  assertMatch(synced.stderr, /^carol@example\.org asks to peer with you/m);
  assertEquals(synced.stderr.includes("warning:"), false, synced.stderr);

  // approve (without --fingerprint) and reject run discovery themselves: no `peer list` needed.
  const approved = json<Record<string, unknown>>(
    await bob!.syft(["peer", "approve", ALICE, "--json"]),
  );
  assertEquals(approved.email, ALICE);
  assertEquals(approved.state, "accepted");
  assertEquals(approved.fingerprint, alice!.fingerprint);
  assertEquals(approved.permission_file, `app_data/job/inbox/${ALICE}/syft.pub.yaml`);

  const rejected = json(
    await bob!.syft(["peer", "reject", "carol@example.org", "--reason", "unknown to me", "--json"]),
  );
  assertEquals(rejected, {
    email: "carol@example.org",
    state: "rejected",
    reason: "unknown to me",
  });

  const removed = json(await bob!.syft(["peer", "remove", ALICE, "--json"]));
  assertEquals(removed, { email: ALICE, state: "removed" });
  const shownRemoved = json<Record<string, unknown>>(
    await bob!.syft(["peer", "show", ALICE, "--json"]),
  );
  assertEquals([shownRemoved.state, shownRemoved.removed_by], ["removed", "you"]);
  // Alice learns it at her next sync: removed by them, who may add her back.
  code(await bob!.syft(["sync"]), 0);
  code(await alice!.syft(["sync"]), 0);
  const atAlice = json<Record<string, unknown>>(
    await alice!.syft(["peer", "show", BOB, "--json"]),
  );
  assertEquals([atAlice.state, atAlice.removed_by], ["removed", "them"]);
  assertMatch((await alice!.syft(["peer", "show", BOB])).stdout, /state:\s+removed \(by them/);

  const states = json<{ email: string; state: string }[]>(
    await bob!.syft(["peer", "list", "--json"]),
  );
  assertEquals(states.map((p) => [p.email, p.state]), [[ALICE, "removed"], [
    "carol@example.org",
    "rejected",
  ]]);
  const status = json<{ peers: Record<string, number> }>(await bob!.syft(["status", "--json"]));
  assertEquals(status.peers, { requested: 0, pending: 0, accepted: 0, rejected: 1, removed: 1 });

  // Nothing changed about alice's keys: there is nothing to trust.
  const trust = await bob!.syft(["peer", "trust", ALICE, "--fingerprint", alice!.fingerprint]);
  code(trust, 2);
  assertMatch(trust.stderr, /keys have not changed: nothing to trust/);
});
