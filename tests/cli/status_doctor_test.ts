import { posix } from "node:path";
import { assert, assertEquals, assertMatch, assertStringIncludes } from "../assert.ts";
import { runSyft } from "../../scripts/syft_process.ts";
import { tempDir } from "../_temp.ts";

async function initialised(email: string, shared?: string) {
  const base = await tempDir("syft-status-test-");
  const home = posix.join(base, ".syft");
  const transportDir = shared ?? posix.join(base, "shared");
  await Deno.mkdir(transportDir, { recursive: true });
  const syft = (args: string[]) => runSyft(["--home", home, ...args], { env: { HOME: base } });
  const init = await syft([
    "init",
    "--email",
    email,
    "--root",
    `${base}/SyftBox`,
    "--transport",
    `local:${transportDir}`,
    "--json",
  ]);
  assertEquals(init.code, 0, init.stderr);
  return {
    base,
    home,
    transportDir,
    syft,
    fingerprint: JSON.parse(init.stdout).fingerprint as string,
  };
}

Deno.test("syft status --json reports identity, fingerprint, transport and empty sections", async () => {
  const a = await initialised("alice@example.org");
  const r = await a.syft(["status", "--json"]);
  assertEquals(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout);
  assertEquals(s.email, "alice@example.org");
  assertEquals(s.fingerprint, a.fingerprint);
  assertEquals(s.transport, `local:${a.transportDir}`);
  assertEquals(s.peers, { requested: 0, pending: 0, accepted: 0, rejected: 0, removed: 0 });
  assertEquals(s.last_sync, null);
  assertEquals(s.quarantined, []);
  assertEquals(s.problems, []);
});

Deno.test("syft status names quarantined objects with the word quarantined", async () => {
  const a = await initialised("alice@example.org");
  const q = posix.join(a.home, "state", "quarantine");
  await Deno.mkdir(q, { recursive: true });
  await Deno.writeTextFile(
    posix.join(q, "1.json"),
    JSON.stringify({
      object: "syft1#bob@x.org#alice@example.org/b-0000000000000002.syft",
      reason: "bad signature",
      at: 1,
    }),
  );
  const r = await a.syft(["status"]);
  assertEquals(r.code, 0, r.stderr);
  assertMatch(
    r.stdout,
    /quarantined syft1#bob@x\.org#alice@example\.org\/b-0000000000000002\.syft: bad signature/,
  );
});

Deno.test("every time in syft status --json is an ISO 8601 UTC string", async () => {
  const a = await initialised("alice@example.org");
  const sync = await a.syft(["sync"]);
  assertEquals(sync.code, 0, sync.stderr);
  const q = posix.join(a.home, "state", "quarantine");
  await Deno.mkdir(q, { recursive: true });
  await Deno.writeTextFile(
    posix.join(q, "1.json"),
    JSON.stringify({
      object: "x.syft",
      reason: "bad signature",
      at: Date.UTC(2026, 0, 2, 3, 4, 5),
    }),
  );
  const s = JSON.parse((await a.syft(["status", "--json"])).stdout);
  assertMatch(s.last_sync, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  assert(Math.abs(Date.parse(s.last_sync) - Date.now()) < 600_000, s.last_sync);
  assertEquals(s.quarantined[0].at, "2026-01-02T03:04:05.000Z");
  assertStringIncludes((await a.syft(["status"])).stdout, `last sync:    ${s.last_sync}`);
});

Deno.test("syft status reports key files readable by others as a problem", async () => {
  const a = await initialised("alice@example.org");
  await Deno.chmod(posix.join(a.home, "keys", "agree.key"), 0o644);
  const s = JSON.parse((await a.syft(["status", "--json"])).stdout);
  assertEquals(s.problems.length, 1);
  assertStringIncludes(s.problems[0], "agree.key is readable by other users");
});

Deno.test("syft doctor reaches the local transport and reports every check", async () => {
  const a = await initialised("alice@example.org");
  const r = await a.syft(["doctor", "--json"]);
  const report = JSON.parse(r.stdout);
  const names = report.checks.map((c: { name: string }) => c.name);
  assertEquals(names, [
    "config",
    "home",
    "keys",
    "datasite",
    "private",
    "transport",
    "sandbox",
    "memory",
    "clock",
    "disk",
  ]);
  const transport = report.checks.find((c: { name: string }) => c.name === "transport");
  assertEquals(transport.status, "ok", transport.detail);
  assertStringIncludes(transport.detail, "reachable as alice@example.org");
  assertEquals(r.code, report.ok ? 0 : 1);
});

Deno.test("syft doctor fails the transport check when the shared folder disappears", async () => {
  const a = await initialised("alice@example.org");
  await Deno.remove(a.transportDir, { recursive: true });
  const r = await a.syft(["doctor"]);
  assertEquals(r.code, 1);
  assertMatch(r.stdout, /^FAIL {2}transport .*does not exist/m);
  assertMatch(r.stdout, /fix: /);
  assertMatch(r.stderr, /^error: 1 doctor check\(s\) failed: transport$/m);
});

Deno.test("syft doctor with a broken config.yaml reports it as one failed check and runs the others", async () => {
  const a = await initialised("alice@example.org");
  const file = posix.join(a.home, "config.yaml");
  const good = await Deno.readTextFile(file);
  const cases = [
    {
      text: good.replace(/^email: .*$/m, "email: 42"),
      detail: /config\.yaml: "email" .*\(line 3\)/,
    },
    { text: `${good}sync: [unclosed\n`, detail: /config\.yaml is not valid YAML \(line \d+\)/ },
  ];
  for (const c of cases) {
    await Deno.writeTextFile(file, c.text);
    const r = await a.syft(["doctor", "--json"]);
    assertEquals(r.code, 1, r.stderr);
    const report = JSON.parse(r.stdout);
    assertEquals(report.ok, false);
    const names = report.checks.map((x: { name: string }) => x.name);
    assertEquals(names, ["config", "home", "keys", "sandbox", "memory", "clock", "disk"]);
    const failed = report.checks.filter((x: { status: string }) => x.status === "fail");
    assertEquals(failed.length, 1, JSON.stringify(failed));
    assertMatch(failed[0].detail, c.detail);
    assertStringIncludes(failed[0].detail, file);
    assertStringIncludes(failed[0].detail, "transport not checked until it loads");
    assert(failed[0].hint, "the failed check says how to fix it");
    assertMatch(r.stderr, /^error: 1 doctor check\(s\) failed: config$/m);
  }
  const human = await a.syft(["doctor"]);
  assertEquals(human.code, 1);
  assertMatch(human.stdout, /^FAIL {2}config {5}.*config\.yaml is not valid YAML/m);
  assertMatch(human.stdout, /^ok {4}keys /m);
});

Deno.test("two identities sharing one transport folder both pass the transport check", async () => {
  const a = await initialised("alice@example.org");
  const b = await initialised("bob@example.org", a.transportDir);
  const both = [await a.syft(["doctor", "--json"]), await b.syft(["doctor", "--json"])];
  for (const r of both) {
    const t = JSON.parse(r.stdout).checks.find((c: { name: string }) => c.name === "transport");
    assert(t.status === "ok", t.detail);
  }
});
