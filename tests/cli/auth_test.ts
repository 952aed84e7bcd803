/**
 * `syft auth gdrive` against a fake Drive and its OAuth endpoints, through
 * the real CLI with `--no-browser`: the printed address carries PKCE S256,
 * state, offline access with consent and the login hint; the loopback
 * redirect (or the address pasted on stdin) finishes the sign-in; tokens are
 * stored 0600; a forged state, another account or a revoked sign-in is
 * refused with docs/cli.md's exit codes.
 */
import { posix } from "node:path";
import { assert, assertEquals, assertMatch, assertStringIncludes } from "../assert.ts";
import { runSyft } from "../../scripts/syft_process.ts";
import { driveWorld } from "./_gdrive_world.ts";

const ALICE = "alice@example.org";
const BOB = "bob@example.net";

async function mode(path: string): Promise<number> {
  return (await Deno.stat(path)).mode! & 0o777;
}

async function missing(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return false;
  } catch {
    return true;
  }
}

Deno.test("auth gdrive --no-browser prints the address alone, finishes on the loopback redirect and stores 0600 tokens", async () => {
  const world = await driveWorld([ALICE, BOB]);
  try {
    const alice = await world.site(ALICE);
    const run = alice.spawn([
      "--json",
      "auth",
      "gdrive",
      "--no-browser",
      "--client-file",
      world.clientFile,
      "--email",
      ALICE,
    ]);
    const url = new URL(await run.url);
    const p = url.searchParams;
    assertEquals(p.get("code_challenge_method"), "S256");
    assertMatch(p.get("code_challenge") ?? "", /^[A-Za-z0-9_-]{43}$/);
    assertMatch(p.get("state") ?? "", /^[A-Za-z0-9_-]{20,}$/);
    assertEquals(p.get("access_type"), "offline");
    assertEquals(p.get("prompt"), "consent");
    assertEquals(p.get("login_hint"), ALICE);
    assertEquals(p.get("scope"), "https://www.googleapis.com/auth/drive");
    assertEquals(p.get("response_type"), "code");
    assertMatch(p.get("redirect_uri") ?? "", /^http:\/\/127\.0\.0\.1:\d+$/);
    const page = await fetch(url); // the fake approves as the hinted user and redirects
    assertEquals(page.status, 200);
    await page.body?.cancel();
    const r = await run.done;
    assertEquals(r.code, 0, r.stderr);
    // --json keeps stdout one document: the address went to stderr
    const result = JSON.parse(r.stdout);
    const credentials = posix.join(alice.home, "credentials");
    assertEquals(result, {
      email: ALICE,
      scope: "https://www.googleapis.com/auth/drive",
      credentials,
    });
    assertEquals(await mode(alice.home), 0o700);
    assertEquals(await mode(credentials), 0o700);
    for (const file of ["gdrive-client.json", "gdrive-token.json"]) {
      assertEquals(await mode(posix.join(credentials, file)), 0o600, file);
    }
    assertEquals(
      await Deno.readTextFile(posix.join(credentials, "gdrive-client.json")),
      await Deno.readTextFile(world.clientFile),
    );
    const tokens = JSON.parse(
      await Deno.readTextFile(posix.join(credentials, "gdrive-token.json")),
    );
    assert(tokens.refresh_token.length > 10, "a refresh token is stored");
    assert(tokens.expiry_date > Date.now(), "with the access token's expiry");
  } finally {
    await world.close();
  }
});

Deno.test("a redirect whose state is not this sign-in's is refused (exit 3) and nothing is stored", async () => {
  const world = await driveWorld([ALICE]);
  try {
    const alice = await world.site(ALICE);
    const run = alice.spawn(["auth", "gdrive", "--no-browser", "--client-file", world.clientFile]);
    const approved = await fetch(await run.url, { redirect: "manual" });
    const location = new URL(approved.headers.get("location")!);
    location.searchParams.set("state", "forged-state-forged-state-forged");
    const answer = await fetch(location);
    assertEquals(answer.status, 400);
    await answer.body?.cancel();
    const r = await run.done;
    assertEquals(r.code, 3, r.stderr);
    assertMatch(r.stderr, /^error: refused a sign-in answer whose state does not match/m);
    assert(await missing(posix.join(alice.home, "credentials")), "nothing stored");
  } finally {
    await world.close();
  }
});

Deno.test("signing in as another account than --email is refused (exit 3) and nothing is stored", async () => {
  const world = await driveWorld([ALICE, BOB]);
  try {
    const alice = await world.site(ALICE);
    await world.fake.control({ approve: BOB }); // the user picked the wrong account
    const r = await world.signIn(alice, ["--email", ALICE]);
    assertEquals(r.code, 3, r.stderr);
    assertMatch(r.stderr, new RegExp(`^error: signed in to Google as ${BOB}, not ${ALICE}`, "m"));
    assert(await missing(posix.join(alice.home, "credentials")), "nothing stored");
  } finally {
    await world.close();
  }
});

Deno.test("the redirected address pasted on stdin signs in, and init with another account exits 3", async () => {
  const world = await driveWorld([ALICE, BOB]);
  try {
    const bob = await world.site(BOB);
    await world.fake.control({ approve: ALICE }); // the browser is signed in as alice
    const run = bob.spawn(["auth", "gdrive", "--no-browser", "--client-file", world.clientFile], {
      stdin: true,
    });
    const approved = await fetch(await run.url, { redirect: "manual" });
    await approved.body?.cancel();
    // The browser is on another machine: the user pastes where it ended.
    await run.write(approved.headers.get("location")!);
    const r = await run.done;
    assertEquals(r.code, 0, r.stderr);
    assertStringIncludes(r.stdout, `Signed in to Google Drive as ${ALICE}`);

    const init = await bob.syft([
      "init",
      "--email",
      BOB,
      "--root",
      bob.root,
      "--transport",
      "gdrive",
    ]);
    assertEquals(init.code, 3, init.stderr);
    assertMatch(init.stderr, new RegExp(`^error: .*${ALICE}.*not ${BOB}`, "m"));
    assertMatch(init.stderr, /^hint: .*syft auth gdrive/m);
    assert(await missing(posix.join(bob.home, "config.yaml")), "no config written");
  } finally {
    await world.close();
  }
});

Deno.test("init over gdrive with the signed-in account succeeds, doctor passes, and a revoked sign-in is exit 4 with hint: syft auth gdrive", async () => {
  const world = await driveWorld([ALICE]);
  try {
    const alice = await world.site(ALICE);
    const signIn = await world.signIn(alice, ["--email", ALICE]);
    assertEquals(signIn.code, 0, signIn.stderr);
    const init = await alice.ok(
      ["--json", "init", "--email", ALICE, "--root", alice.root, "--transport", "gdrive"],
    );
    assertEquals(JSON.parse(init.stdout).transport, "gdrive");

    const doctor = await alice.syft(["--json", "doctor"]);
    const report = JSON.parse(doctor.stdout);
    const failed = report.checks.filter((c: { status: string }) => c.status === "fail");
    assertEquals(failed, []);
    assertEquals(doctor.code, 0, doctor.stderr);
    const names = report.checks.map((c: { name: string }) => c.name);
    for (const name of ["signin", "scope", "drive", "transport", "clock"]) {
      assert(names.includes(name), `doctor checks ${name}`);
    }

    await world.fake.control({ revoke: ALICE });
    const sync = await alice.syft(["sync"]);
    assertEquals(sync.code, 4, sync.stderr);
    assertMatch(sync.stderr, /^hint: syft auth gdrive$/m);
    const doctorAfter = await alice.syft(["--json", "doctor"]);
    const signin = JSON.parse(doctorAfter.stdout).checks.find((c: { name: string }) =>
      c.name === "signin"
    );
    assertEquals(signin.status, "fail");
    assertEquals(signin.hint, "syft auth gdrive");
  } finally {
    await world.close();
  }
});

Deno.test("two identities who signed in to Drive peer up, and the owner's public file reaches the other's mirror", async () => {
  const owner = "owner@hospital.org";
  const ds = "ds@lab.org";
  const world = await driveWorld([owner, ds]);
  try {
    const sites = [];
    for (const email of [owner, ds]) {
      const site = await world.site(email);
      const signIn = await world.signIn(site, ["--email", email]);
      assertEquals(signIn.code, 0, signIn.stderr);
      await site.ok(["init", "--email", email, "--root", site.root, "--transport", "gdrive"]);
      sites.push(site);
    }
    const [o, d] = sites as [typeof sites[0], typeof sites[0]];
    await d.ok(["peer", "add", owner]);
    const fp = JSON.parse((await d.ok(["status", "--json"])).stdout).fingerprint;
    await o.ok(["peer", "list"]);
    await o.ok(["peer", "approve", ds, "--fingerprint", fp]);
    await o.ok(["sync"]);
    await d.ok(["sync"]);
    const file = posix.join(o.root, owner, "public", "hello.txt");
    await Deno.writeTextFile(file, "hello over Drive");
    await o.ok(["sync"]);
    await d.ok(["sync"]);
    assertEquals(
      await Deno.readTextFile(posix.join(d.root, owner, "public", "hello.txt")),
      "hello over Drive",
    );
  } finally {
    await world.close();
  }
});

Deno.test("init over gdrive before any sign-in exits 4 with the sign-in command and writes nothing", async () => {
  const base = await Deno.makeTempDir({ prefix: "syft-gdrive-nosignin-" });
  try {
    const home = posix.join(base, ".syft");
    const r = await runSyft(
      [
        "--home",
        home,
        "init",
        "--email",
        ALICE,
        "--root",
        posix.join(base, "r"),
        "--transport",
        "gdrive",
      ],
      { env: { HOME: base } },
    );
    assertEquals(r.code, 4, r.stderr);
    assertMatch(r.stderr, /^error: not signed in to Google Drive$/m);
    assertStringIncludes(
      r.stderr,
      `hint: syft auth gdrive --client-file <client_secret.json> --email ${ALICE}`,
    );
    assert(await missing(home), "no home made");
  } finally {
    await Deno.remove(base, { recursive: true });
  }
});
