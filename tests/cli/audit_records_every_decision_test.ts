/**
 * The owner's audit log records every decision once it took effect (peers,
 * permissions, datasets, jobs), and nothing for a no-op or a refusal. Three
 * identities on one `local:` folder, driven in-process through `runCli`.
 */
import { posix } from "node:path";
import { assert, assertEquals, assertMatch } from "../assert.ts";
import { runCli } from "../../main.ts";
import { runSyft } from "../../scripts/syft_process.ts";
import { tempDir } from "../_temp.ts";
import { put } from "../e2e/_rig.ts";
import { probeBubblewrap } from "../../core/sandbox/probe.ts";
import type { AuditRecord } from "../../core/audit/log.ts";
import { readKeys } from "../../core/config/keystore.ts";
import { fingerprint, publicKeys } from "../../core/identity/keys.ts";

const ALICE = "alice@example.org";
const BOB = "bob@example.org";
const CAROL = "carol@example.org";
const SANDBOX = (await probeBubblewrap()).available ? "bwrap" : "none";
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

interface Who {
  email: string;
  home: string;
  root: string;
  run(args: string[], expected?: number): Promise<void>;
}

/** An identity; `folder` tells a second install of the same email apart. */
async function site(base: string, email: string, folder = email.split("@")[0]!): Promise<Who> {
  const dir = posix.join(base, folder);
  const home = posix.join(dir, ".syft");
  const root = posix.join(dir, "SyftBox");
  const run = async (args: string[], expected = 0) => {
    let errors = "";
    const sink = { out: () => {}, err: (text: string) => void (errors += text) };
    const code = await runCli(["--home", home, "--quiet", ...args], sink);
    assertEquals(code, expected, `syft ${args.join(" ")} as ${email}: ${errors}`);
  };
  await run(["init", "--email", email, "--root", root, "--transport", `local:${base}/shared`]);
  return { email, home, root, run };
}

async function readLog(who: Who): Promise<AuditRecord[]> {
  const text = await Deno.readTextFile(posix.join(who.home, "audit.log"));
  return text.trimEnd().split("\n").map((l) => JSON.parse(l) as AuditRecord);
}

/** The actions and subjects recorded after the first `from` records. */
async function since(who: Who, from: number): Promise<[string, string][]> {
  return (await readLog(who)).slice(from).map((r) => [r.action, r.subject]);
}

async function jobIds(owner: Who, submitter: string): Promise<string[]> {
  const inbox = posix.join(owner.root, owner.email, "app_data/job/inbox", submitter);
  const ids: string[] = [];
  for await (const e of Deno.readDir(inbox)) if (e.isDirectory) ids.push(e.name);
  return ids.sort();
}

Deno.test("the audit log records every owner decision once, after it took effect, and no no-op", async () => {
  const base = await tempDir("syft-audit-");
  await Deno.mkdir(posix.join(base, "shared"));
  const alice = await site(base, ALICE);
  const bob = await site(base, BOB);
  const carol = await site(base, CAROL);

  // Peers: approve (twice: the second is a no-op), reject (twice), remove.
  await bob.run(["peer", "add", ALICE]);
  await carol.run(["peer", "add", ALICE]);
  await alice.run(["peer", "approve", BOB]);
  await alice.run(["peer", "approve", BOB]);
  await alice.run(["peer", "reject", CAROL, "--reason", "who are you?"]);
  await alice.run(["peer", "reject", CAROL, "--reason", "who are you?"]);
  await alice.run(["peer", "remove", CAROL]);
  // Refused: nothing recorded.
  await alice.run(["peer", "approve", "dave@example.org"], 2);
  await alice.run(["peer", "trust", BOB, "--fingerprint", "0".repeat(32)], 2);
  await bob.run(["sync"]);

  // Datasets and permissions: a grant, the same grant again (no-op), a revoke, again (no-op).
  const src = posix.join(base, "data");
  await put(src, "mock/ages.csv", "age\n1\n");
  await put(src, "private/ages.csv", "age\n41\n");
  await alice.run([
    "dataset",
    "create",
    "ages",
    "--mock",
    `${src}/mock`,
    "--private",
    `${src}/private`,
  ]);
  await alice.run(["dataset", "create", "ages", "--mock", `${src}/mock`, "--private", src], 2);
  await alice.run(["perm", "grant", "public/notes/", BOB, "--write"]);
  await alice.run(["perm", "grant", "public/notes/", BOB, "--write"]);
  await alice.run(["perm", "revoke", "public/notes/", BOB]);
  await alice.run(["perm", "revoke", "public/notes/", BOB]);

  // Jobs: one approved, run and released; one rejected.
  await bob.run(["sync"]);
  await put(
    posix.join(base, "j1"),
    "run.sh",
    'wc -l < "$SYFT_DATASET_AGES/ages.csv" > "$SYFT_OUTPUT_DIR/n"\n',
  );
  await put(posix.join(base, "j2"), "run.sh", "echo other\n");
  const submit = (dir: string) =>
    bob.run([
      "job",
      "submit",
      "--to",
      ALICE,
      "--dataset",
      "ages",
      "--script",
      `${base}/${dir}/run.sh`,
    ]);
  await submit("j1");
  await alice.run(["sync"]);
  const [first] = await jobIds(alice, BOB);
  await submit("j2");
  await alice.run(["sync"]);
  const second = (await jobIds(alice, BOB)).find((id) => id !== first)!;
  const mark = (await readLog(alice)).length;
  await alice.run(["job", "approve", first!]);
  await alice.run(["job", "run", first!, "--sandbox", SANDBOX]);
  await alice.run(["job", "release", first!]);
  await alice.run(["job", "reject", second, "--reason", "not this one"]);
  await alice.run(["dataset", "delete", "ages", "--yes"]);

  // Bob reinstalls: his channel carries new keys, which alice trusts.
  await Deno.remove(posix.join(base, "shared", `syft1#${BOB}#${ALICE}`), { recursive: true });
  const bob2 = await site(base, BOB, "bob2");
  await bob2.run(["peer", "approve", ALICE]);
  const newFp = await fingerprint(await publicKeys(await readKeys(posix.join(bob2.home, "keys"))));
  await alice.run(["peer", "trust", BOB, "--fingerprint", newFp]);

  const log = await readLog(alice);
  const job1 = `${BOB}/${first}`;
  const job2 = `${BOB}/${second}`;
  assertEquals(log.slice(0, mark).map((r) => [r.action, r.subject]), [
    ["peer.approve", BOB],
    ["peer.reject", CAROL],
    ["peer.remove", CAROL],
    ["dataset.create", "ages"],
    ["perm.grant", "public/notes/"],
    ["perm.revoke", "public/notes/"],
    ["job.receive", job1],
    ["job.receive", job2],
  ]);
  assertEquals(await since(alice, mark), [
    ["job.approve", job1],
    ["job.run", job1],
    ["job.release", job1],
    ["job.reject", job2],
    ["dataset.delete", "ages"],
    ["peer.trust", BOB],
  ]);
  for (const r of log) {
    assertEquals(r.actor, ALICE);
    assertMatch(r.at, ISO_UTC);
    assertEquals(Object.keys(r), ["at", "actor", "action", "subject", "details"]);
  }
  const find = (action: string) => log.find((r) => r.action === action)!.details;
  assertMatch(String(find("peer.approve").fingerprint), /^[0-9a-f]{4}( [0-9a-f]{4}){7}$/);
  assertEquals(find("peer.reject").reason, "who are you?");
  assertEquals(find("peer.trust").fingerprint, newFp);
  assertEquals(find("peer.trust").previous_fingerprint, find("peer.approve").fingerprint);
  assertEquals(find("perm.grant").user, BOB);
  assertEquals(find("perm.grant").access, "write");
  assertEquals(find("perm.grant").file, "public/syft.pub.yaml");
  assertEquals(find("perm.grant").rule, "notes/**");
  assertEquals(find("perm.revoke").files, ["public/syft.pub.yaml"]);
  assertEquals(find("dataset.create").readers, ["*"]);
  const hash = find("job.approve").policy_hash;
  assertMatch(String(hash), /^[0-9a-f]{64}$/);
  assertEquals(find("job.run").policy_hash, hash, "the run names the hash approved");
  assertEquals(find("job.run").sandbox, SANDBOX);
  assertEquals(find("job.release").how, "manual");
  assertEquals(find("job.reject").reason, "not this one");
  assert(Array.isArray(find("dataset.delete").removed));
  assertEquals((await Deno.stat(posix.join(alice.home, "audit.log"))).mode! & 0o777, 0o600);

  // The scientist decided nothing as an owner.
  assertEquals(
    await Deno.stat(posix.join(bob.home, "audit.log")).then(() => true, () => false),
    false,
  );

  // `syft audit` reads it back: filtered by action and time, as JSON.
  const grants = await runSyft([
    "--home",
    alice.home,
    "audit",
    "--action",
    "perm",
    "--since",
    "1h",
    "--json",
  ]);
  assertEquals(grants.code, 0, grants.stderr);
  assertEquals(
    (JSON.parse(grants.stdout) as AuditRecord[]).map((r) => r.action),
    ["perm.grant", "perm.revoke"],
  );
});

Deno.test("syft audit reads the job lines of earlier versions, skips torn ones, and refuses a bad --since", async () => {
  const base = await tempDir("syft-audit-read-");
  const home = posix.join(base, ".syft");
  await Deno.mkdir(posix.join(base, "shared"));
  const init = await runSyft([
    "--home",
    home,
    "init",
    "--email",
    ALICE,
    "--root",
    `${base}/SyftBox`,
    "--transport",
    `local:${base}/shared`,
  ], { env: { HOME: base } });
  assertEquals(init.code, 0, init.stderr);
  await Deno.writeTextFile(
    posix.join(home, "audit.log"),
    [
      JSON.stringify({
        at: "2026-01-02T03:04:05.000Z",
        action: "approve",
        job: `${BOB}/j1`,
        by: ALICE,
        how: "manual",
        policy_hash: "ab",
      }),
      JSON.stringify({
        at: "2026-01-03T00:00:00.000Z",
        actor: ALICE,
        action: "peer.remove",
        subject: BOB,
        details: { fingerprint: null },
      }),
      '{"at":"2026-01-04T00:00',
    ].join("\n") + "\n",
    { mode: 0o600 },
  );
  const all = await runSyft(["--home", home, "audit", "--json"]);
  assertEquals(all.code, 0, all.stderr);
  assertEquals(JSON.parse(all.stdout), [
    {
      at: "2026-01-02T03:04:05.000Z",
      actor: ALICE,
      action: "job.approve",
      subject: `${BOB}/j1`,
      details: { how: "manual", policy_hash: "ab" },
    },
    {
      at: "2026-01-03T00:00:00.000Z",
      actor: ALICE,
      action: "peer.remove",
      subject: BOB,
      details: { fingerprint: null },
    },
  ]);
  assertMatch(all.stderr, /^warning: 1 line\(s\) of .*audit\.log are not decisions/m);

  const human = await runSyft(["--home", home, "audit", "--since", "2026-01-03"]);
  assertEquals(human.code, 0, human.stderr);
  assertMatch(
    human.stdout,
    /^TIME\s+ACTION\s+SUBJECT\s+DETAILS\n2026-01-03T00:00:00\.000Z\s+peer\.remove\s+bob@example\.org\s*\n$/,
  );

  const bad = await runSyft(["--home", home, "audit", "--since", "yesterday"]);
  assertEquals(bad.code, 2);
  assertMatch(bad.stderr, /^error: --since "yesterday" is not a time or an age\nhint: /);
});
