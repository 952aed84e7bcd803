import { posix } from "node:path";
import { assert, assertEquals, assertMatch, assertStringIncludes } from "../assert.ts";
import { runSyft, type SyftRun } from "../../scripts/syft_process.ts";
import { tempDir } from "../_temp.ts";
import { emptyRecord, serializePeerRecord } from "../../core/peers/store.ts";
import { fingerprint, generateIdentityKeys, publicKeys } from "../../core/identity/keys.ts";
import { encodeBase64 } from "../../core/encoding/base64.ts";

interface Check {
  user: string;
  path: string;
  access: string;
  expect: boolean;
}
interface Case {
  id: string;
  datasite_owner: string;
  files: Record<string, string>;
  checks: Check[];
}

const CASES_URL = new URL("../testdata/permission-cases.json", import.meta.url);

async function writeFiles(dir: string, files: Record<string, string>): Promise<void> {
  for (const [rel, text] of Object.entries(files)) {
    const abs = posix.join(dir, rel);
    await Deno.mkdir(posix.dirname(abs), { recursive: true });
    await Deno.writeTextFile(abs, text);
  }
}

/** Run `fns` with at most `n` in flight (the CLI is a child process each time). */
async function pooled<T>(n: number, fns: (() => Promise<T>)[]): Promise<T[]> {
  const results: T[] = new Array(fns.length);
  let next = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    while (next < fns.length) {
      const i = next++;
      results[i] = await fns[i]!();
    }
  }));
  return results;
}

Deno.test("every shared conformance case passes through `syft perm check --datasite` without init", async () => {
  const cases: Case[] = JSON.parse(await Deno.readTextFile(CASES_URL));
  const base = await tempDir("syft-perm-conformance-");
  const jobs: (() => Promise<string | null>)[] = [];
  for (const [i, c] of cases.entries()) {
    const site = posix.join(base, String(i), c.datasite_owner);
    await Deno.mkdir(site, { recursive: true });
    await writeFiles(site, c.files);
    for (const check of c.checks) {
      jobs.push(async () => {
        // No --home and a HOME without syft: --datasite must need no config.
        const r = await runSyft(
          [
            "perm",
            "check",
            check.path,
            "--user",
            check.user,
            "--access",
            check.access,
            "--datasite",
            site,
          ],
          { env: { HOME: base } },
        );
        const expected = check.expect ? 0 : 1;
        return r.code === expected
          ? null
          : `[${c.id}] ${check.user} ${check.access} ${JSON.stringify(check.path)}: ` +
            `expected exit ${expected}, got ${r.code}: ${r.stdout.trim()} ${r.stderr.trim()}`;
      });
    }
  }
  const failures = (await pooled(4, jobs)).filter((f) => f !== null);
  assertEquals(failures, []);
  assert(jobs.length > 20, "the conformance file has checks");
});

async function initialised() {
  const base = await tempDir("syft-perm-test-");
  const home = posix.join(base, ".syft");
  await Deno.mkdir(posix.join(base, "shared"));
  const syft = (args: string[]) => runSyft(["--home", home, ...args], { env: { HOME: base } });
  const init = await syft([
    "init",
    "--email",
    "owner@x.org",
    "--root",
    `${base}/root`,
    "--transport",
    `local:${base}/shared`,
  ]);
  assertEquals(init.code, 0, init.stderr);
  return { base, site: posix.join(base, "root", "owner@x.org"), syft };
}

function code(r: SyftRun, expected: number): void {
  assertEquals(r.code, expected, `${r.stdout}\n${r.stderr}`);
}

Deno.test("perm check --json prints {allowed, governing_file, rule, reason} and exits 1 on deny", async () => {
  const o = await initialised();
  const allowed = await o.syft([
    "perm",
    "check",
    "public//a.csv",
    "--user",
    "Bob@Y.org",
    "--access",
    "read",
    "--json",
  ]);
  code(allowed, 0);
  const a = JSON.parse(allowed.stdout);
  assertEquals(Object.keys(a).sort(), ["allowed", "governing_file", "reason", "rule"]);
  assertEquals(a.allowed, true);
  assertEquals(a.governing_file, "public/syft.pub.yaml");
  assertEquals(a.rule.pattern, "**");
  const denied = await o.syft([
    "perm",
    "check",
    "public/a.csv",
    "--user",
    "bob@y.org",
    "--access",
    "write",
  ]);
  code(denied, 1);
  assertEquals(denied.stdout, "deny\n");
  assertEquals(denied.stderr.includes("error:"), false, "a negative answer is not an error");
});

Deno.test("perm check denies a path with . or .. segments with the reason, exit 1", async () => {
  const o = await initialised();
  const r = await o.syft([
    "perm",
    "check",
    "public/../private/x",
    "--user",
    "bob@y.org",
    "--access",
    "read",
    "--json",
  ]);
  code(r, 1);
  const d = JSON.parse(r.stdout);
  assertEquals(d.allowed, false);
  assertMatch(d.reason, /\.\./);
});

Deno.test("perm check on an invalid governing file denies and names the file on stderr", async () => {
  const o = await initialised();
  await Deno.writeTextFile(
    posix.join(o.site, "public", "syft.pub.yaml"),
    "rules:\n  - pattern: '**'\n    access: {read: [1, 2]}\n",
  );
  const r = await o.syft([
    "perm",
    "check",
    "public/a.csv",
    "--user",
    "bob@y.org",
    "--access",
    "read",
  ]);
  code(r, 1);
  assertStringIncludes(r.stderr, "public/syft.pub.yaml");
  const list = JSON.parse((await o.syft(["perm", "list", "--json"])).stdout);
  const bad = list.find((f: { file: string }) => f.file === "public/syft.pub.yaml");
  assertEquals(bad.valid, false);
  const status = JSON.parse((await o.syft(["status", "--json"])).stdout);
  assert(
    status.problems.some((p: string) => p.includes("public/syft.pub.yaml")),
    status.problems.join("; "),
  );
});

Deno.test("perm grant then revoke round-trips and keeps other rules and comments", async () => {
  const o = await initialised();
  await Deno.mkdir(posix.join(o.site, "shared-data"));
  const file = posix.join(o.site, "shared-data", "syft.pub.yaml");
  const original = [
    "# Data shared with the consortium",
    "terminal: false",
    "rules:",
    "  # analysts see summaries",
    "  - pattern: 'summary/*.csv'",
    "    access:",
    "      read: ['*@consortium.org'] # whole consortium",
    "",
  ].join("\n");
  await Deno.writeTextFile(file, original);
  code(await o.syft(["perm", "grant", "shared-data/", "bob@y.org", "--write"]), 0);
  const granted = await Deno.readTextFile(file);
  for (
    const kept of [
      "# Data shared with the consortium",
      "# analysts see summaries",
      "# whole consortium",
    ]
  ) {
    assertStringIncludes(granted, kept);
  }
  code(
    await o.syft([
      "perm",
      "check",
      "shared-data/summary/q1.csv",
      "--user",
      "bob@y.org",
      "--access",
      "write",
    ]),
    0,
  );
  code(
    await o.syft([
      "perm",
      "check",
      "shared-data/raw/x.bin",
      "--user",
      "bob@y.org",
      "--access",
      "write",
    ]),
    0,
  );
  code(
    await o.syft([
      "perm",
      "check",
      "shared-data/summary/q1.csv",
      "--user",
      "ann@consortium.org",
      "--access",
      "read",
    ]),
    0,
  );

  code(await o.syft(["perm", "revoke", "shared-data/", "bob@y.org"]), 0);
  code(
    await o.syft([
      "perm",
      "check",
      "shared-data/raw/x.bin",
      "--user",
      "bob@y.org",
      "--access",
      "read",
    ]),
    1,
  );
  const revoked = await Deno.readTextFile(file);
  assertStringIncludes(revoked, "# whole consortium");
  assertStringIncludes(revoked, "*@consortium.org");
  assertEquals(revoked.includes("bob@y.org"), false);
});

Deno.test("perm grant on a file never takes access away from others", async () => {
  const o = await initialised();
  await Deno.mkdir(posix.join(o.site, "data"));
  await Deno.writeTextFile(posix.join(o.site, "data", "x.csv"), "1");
  code(await o.syft(["perm", "grant", "data/", "bob@y.org", "--read"]), 0);
  code(await o.syft(["perm", "grant", "data/x.csv", "carol@y.org", "--write"]), 0);
  code(await o.syft(["perm", "check", "data/x.csv", "--user", "bob@y.org", "--access", "read"]), 0);
  code(
    await o.syft(["perm", "check", "data/x.csv", "--user", "carol@y.org", "--access", "write"]),
    0,
  );
  code(
    await o.syft(["perm", "check", "data/other.csv", "--user", "carol@y.org", "--access", "read"]),
    1,
  );
});

Deno.test("perm grant to someone who is not a peer warns and still writes the grant", async () => {
  const o = await initialised();
  // carol is an accepted peer (her record as `peer approve` leaves it); dan asked; bob is unknown.
  const peers = posix.join(o.base, ".syft", "peers");
  await Deno.mkdir(peers, { recursive: true, mode: 0o700 });
  for (const [email, state] of [["carol@y.org", "accepted"], ["dan@y.org", "pending"]] as const) {
    const keys = await publicKeys(await generateIdentityKeys());
    const record = {
      ...emptyRecord(email, state),
      fingerprint: await fingerprint(keys),
      sign_key: encodeBase64(keys.signKey),
      agree_key: encodeBase64(keys.agreeKey),
    };
    await Deno.writeTextFile(posix.join(peers, `${email}.json`), serializePeerRecord(record), {
      mode: 0o600,
    });
  }
  const bob = await o.syft(["perm", "grant", "public/", "bob@y.org", "--read"]);
  code(bob, 0);
  assertEquals(
    bob.stderr,
    "warning: bob@y.org is not your peer: the grant is written and applies once you are peers " +
      "(run `syft peer add bob@y.org`)\n",
  );
  code(await o.syft(["perm", "check", "public/a", "--user", "bob@y.org", "--access", "read"]), 0);
  const dan = await o.syft(["perm", "grant", "public/", "dan@y.org", "--read"]);
  code(dan, 0);
  assertMatch(
    dan.stderr,
    /^warning: dan@y\.org is not your peer \(pending\): .*syft peer approve dan@y\.org/,
  );
  for (const user of ["carol@y.org", "*@y.org", "*"]) {
    const r = await o.syft(["perm", "grant", "public/", user, "--write"]);
    code(r, 0);
    assertEquals(r.stderr, "", `no warning for ${user}`);
  }
});

Deno.test("perm revoke says when a wider rule still grants the path", async () => {
  const o = await initialised();
  const r = await o.syft(["perm", "revoke", "public/", "bob@y.org"]);
  code(r, 0);
  assertMatch(r.stdout, /can still read public through rule '\*\*' in public\/syft\.pub\.yaml/);
});

Deno.test("perm grant refuses private/, a missing path without /, and a bad user, writing nothing", async () => {
  const o = await initialised();
  const before = await Deno.readTextFile(posix.join(o.site, "syft.pub.yaml"));
  code(await o.syft(["perm", "grant", "private/x", "bob@y.org", "--read"]), 3);
  const missing = await o.syft(["perm", "grant", "nothere", "bob@y.org", "--read"]);
  code(missing, 2);
  assertStringIncludes(
    missing.stderr,
    "hint: to grant a folder that does not exist yet, end the path with /",
  );
  code(await o.syft(["perm", "grant", "public/", "not an email", "--read"]), 2);
  code(await o.syft(["perm", "grant", "public/", "bob@y.org"]), 2);
  code(await o.syft(["perm", "check", "x", "--user", "u", "--access", "everything"]), 2);
  assertEquals(await Deno.readTextFile(posix.join(o.site, "syft.pub.yaml")), before);
  const created = await o.syft(["perm", "grant", "later/", "bob@y.org", "--read", "--json"]);
  code(created, 0);
  assertEquals(JSON.parse(created.stdout).file, "syft.pub.yaml");
  code(await o.syft(["perm", "check", "later/a", "--user", "bob@y.org", "--access", "read"]), 0);
});

Deno.test("perm explain names the governing file, the rules in order and who can do what", async () => {
  const o = await initialised();
  const r = await o.syft(["perm", "explain", "public/a.csv", "--user", "bob@y.org"]);
  code(r, 0);
  assertMatch(r.stdout, /governed by: public\/syft\.pub\.yaml/);
  assertMatch(r.stdout, /read: +\*/);
  assertMatch(r.stdout, /bob@y\.org read: allow/);
  assertMatch(r.stdout, /bob@y\.org write: deny/);
});
