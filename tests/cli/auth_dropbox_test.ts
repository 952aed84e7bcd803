/**
 * `syft auth dropbox` against the fake Dropbox, through the real CLI with
 * `--no-browser`: the printed address carries PKCE S256, state, offline
 * access and the agreed scopes; the loopback redirect finishes the sign-in;
 * the sign-in is stored 0600; a forged state, a refusal, an unknown app key or
 * another account is refused with docs/cli.md's exit codes and stores
 * nothing; init checks the account, doctor passes, and a revoked grant is
 * exit 4 with `hint: syft auth dropbox`, which mends it.
 */
import { posix } from "node:path";
import { assert, assertEquals, assertMatch, assertStringIncludes } from "../assert.ts";
import { runSyft } from "../../scripts/syft_process.ts";
import { dropboxWorld } from "../e2e/_dropbox_rig.ts";
import { DROPBOX_SCOPES } from "../../plugins/dropbox/_tokens.ts";

const ALICE = "alice@example.org";
const BOB = "bob@example.net";

async function missing(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return false;
  } catch {
    return true;
  }
}

Deno.test("auth dropbox --no-browser prints the address alone, finishes on the loopback redirect and stores the sign-in 0600", async () => {
  const world = await dropboxWorld([ALICE, BOB]);
  try {
    const alice = await world.site(ALICE);
    world.fake.approveAs(ALICE);
    const run = alice.spawn([
      "--json",
      "auth",
      "dropbox",
      "--no-browser",
      "--app-key",
      world.fake.appKey,
    ]);
    const url = new URL(await run.url);
    assertEquals(url.origin + url.pathname, `${world.fake.url}/oauth2/authorize`);
    const p = url.searchParams;
    assertEquals(p.get("client_id"), world.fake.appKey);
    assertEquals(p.get("response_type"), "code");
    assertEquals(p.get("code_challenge_method"), "S256");
    assertMatch(p.get("code_challenge") ?? "", /^[A-Za-z0-9_-]{43}$/);
    assertMatch(p.get("state") ?? "", /^[A-Za-z0-9_-]{20,}$/);
    assertEquals(p.get("token_access_type"), "offline");
    assertEquals(p.get("scope"), DROPBOX_SCOPES.join(" "));
    assertMatch(p.get("redirect_uri") ?? "", /^http:\/\/127\.0\.0\.1:\d+$/);
    const page = await fetch(url); // the fake approves as alice and redirects to syft
    assertEquals(page.status, 200);
    await page.body?.cancel();
    const r = await run.done;
    assertEquals(r.code, 0, r.stderr);
    const credentials = posix.join(alice.home, "credentials");
    assertEquals(JSON.parse(r.stdout), {
      email: ALICE,
      account_id: world.fake.accountId(ALICE),
      scope: DROPBOX_SCOPES.join(" "),
      credentials,
    });
    const file = posix.join(credentials, "dropbox-token.json");
    assertEquals((await Deno.stat(file)).mode! & 0o777, 0o600);
    assertEquals((await Deno.stat(credentials)).mode! & 0o777, 0o700);
    const stored = JSON.parse(await Deno.readTextFile(file));
    assertEquals(Object.keys(stored).sort(), [
      "access_token",
      "account_id",
      "app_key",
      "email",
      "expires_at",
      "refresh_token",
      "scope",
    ]);
    assertEquals([stored.app_key, stored.email], [world.fake.appKey, ALICE]);
    assert(stored.refresh_token.length > 10, "a refresh token is stored");
    assert(stored.expires_at > Date.now() + 3600_000, "with the access token's expiry");
  } finally {
    await world.close();
  }
});

Deno.test("a forged state (exit 3), a refused consent (exit 3), an unknown app key (exit 2) and another account than --email (exit 3) store nothing", async () => {
  const world = await dropboxWorld([ALICE, BOB]);
  try {
    const alice = await world.site(ALICE);
    const credentials = posix.join(alice.home, "credentials");

    world.fake.approveAs(ALICE);
    const run = alice.spawn(["auth", "dropbox", "--no-browser", "--app-key", world.fake.appKey]);
    const approved = await fetch(await run.url, { redirect: "manual" });
    const location = new URL(approved.headers.get("location")!);
    location.searchParams.set("state", "forged-state-forged-state-forged");
    const answer = await fetch(location);
    assertEquals(answer.status, 400);
    await answer.body?.cancel();
    const forged = await run.done;
    assertEquals(forged.code, 3, forged.stderr);
    assertMatch(forged.stderr, /^error: refused a sign-in answer whose state does not match/m);

    const denied = await world.signIn(alice, { approve: "deny" });
    assertEquals(denied.code, 3, denied.stderr);
    assertMatch(denied.stderr, /^error: Dropbox sign-in did not complete: access_denied/m);
    assertMatch(denied.stderr, /^hint: .*press Allow$/m);

    const started = Date.now();
    const badKey = await alice.syft([
      "auth",
      "dropbox",
      "--no-browser",
      "--app-key",
      "nosuchappkey99",
    ]);
    assertEquals(badKey.code, 2, badKey.stderr);
    assertMatch(badKey.stderr, /^error: Dropbox does not accept app key nosuchappkey99/m);
    assertMatch(badKey.stderr, /^hint: copy the App key/m);
    assert(Date.now() - started < 20_000, "refused at once, not after the sign-in's timeout");
    const notAKey = await alice.syft(["auth", "dropbox", "--app-key", "sl.u.AAAA-a-token"]);
    assertEquals(notAKey.code, 2, notAKey.stderr);

    const other = await world.signIn(alice, { approve: BOB, extra: ["--email", ALICE] });
    assertEquals(other.code, 3, other.stderr);
    assertMatch(
      other.stderr,
      new RegExp(`^error: signed in to Dropbox as ${BOB}, not ${ALICE}`, "m"),
    );
    assert(await missing(credentials), "nothing stored");
  } finally {
    await world.close();
  }
});

Deno.test("init over dropbox before any sign-in exits 4 with the sign-in command and writes nothing", async () => {
  const base = await Deno.makeTempDir({ prefix: "syft-dropbox-nosignin-" });
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
        "dropbox",
      ],
      { env: { HOME: base, SYFT_DROPBOX_API: "http://127.0.0.1:9" } },
    );
    assertEquals(r.code, 4, r.stderr);
    assertMatch(r.stderr, /^error: not signed in to Dropbox$/m);
    assertStringIncludes(
      r.stderr,
      `hint: syft auth dropbox --app-key <your app key> --email ${ALICE}`,
    );
    assert(await missing(home), "no home made");
  } finally {
    await Deno.remove(base, { recursive: true });
  }
});

Deno.test("init with another Dropbox account exits 3; with the right one doctor passes; a revoked grant is exit 4 with hint: syft auth dropbox, which signs in again with the stored app key", async () => {
  const world = await dropboxWorld([ALICE, BOB]);
  try {
    const bob = await world.site(BOB);
    const wrong = await world.signIn(bob, { approve: ALICE }); // the browser is signed in as alice
    assertEquals(wrong.code, 0, wrong.stderr);
    assertStringIncludes(wrong.stdout, `Signed in to Dropbox as ${ALICE}`);
    const init = await bob.syft([
      "init",
      "--email",
      BOB,
      "--root",
      bob.root,
      "--transport",
      "dropbox",
    ]);
    assertEquals(init.code, 3, init.stderr);
    assertMatch(
      init.stderr,
      new RegExp(`^error: Dropbox is signed in as ${ALICE}, not ${BOB}$`, "m"),
    );
    assertMatch(init.stderr, /^hint: .*syft auth dropbox --email bob@example\.net$/m);
    assert(await missing(posix.join(bob.home, "config.yaml")), "no config written");
    const asAlice = Object.keys(world.fake.callCounts(ALICE))
      .filter((route) => route !== "total" && route !== "users/get_current_account");
    assertEquals(asAlice, [], "nothing but who-am-I was asked as alice");

    const alice = await world.site(ALICE);
    assertEquals((await world.signIn(alice, { extra: ["--email", ALICE] })).code, 0);
    const made = await alice.ok([
      "--json",
      "init",
      "--email",
      ALICE,
      "--root",
      alice.root,
      "--transport",
      "dropbox",
    ]);
    assertEquals(JSON.parse(made.stdout).transport, "dropbox");
    const doctor = await alice.syft(["--json", "doctor"]);
    const report = JSON.parse(doctor.stdout);
    assertEquals(report.checks.filter((c: { status: string }) => c.status === "fail"), []);
    const names = report.checks.map((c: { name: string }) => c.name);
    for (const name of ["signin", "scope", "dropbox", "transport", "clock"]) {
      assert(names.includes(name), `doctor checks ${name}: ${names}`);
    }

    world.fake.revoke(ALICE);
    world.fake.expireAccessTokens(ALICE);
    const sync = await alice.syft(["sync"]);
    assertEquals(sync.code, 4, sync.stderr);
    assertMatch(sync.stderr, /^hint: syft auth dropbox$/m);
    const after = JSON.parse((await alice.syft(["--json", "doctor"])).stdout);
    const signin = after.checks.find((c: { name: string }) => c.name === "signin");
    assertEquals([signin.status, signin.hint], ["fail", "syft auth dropbox"]);

    // The hint as printed: no flag needed, the stored app key is used again.
    world.fake.approveAs(ALICE);
    const again = alice.spawn(["auth", "dropbox", "--no-browser"]);
    await (await fetch(await again.url)).body?.cancel();
    assertEquals((await again.done).code, 0);
    await alice.ok(["sync"]);
  } finally {
    await world.close();
  }
});

Deno.test("--port pins the loopback redirect for apps that list a port; a bad --port is a usage error", async () => {
  const world = await dropboxWorld([ALICE]);
  try {
    const alice = await world.site(ALICE);
    const free = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (free.addr as Deno.NetAddr).port;
    free.close();
    const r = await world.signIn(alice, { extra: ["--port", String(port), "--json"] });
    assertEquals(r.code, 0, r.stderr);
    assertStringIncludes(r.stderr, `redirect_uri=http%3A%2F%2F127.0.0.1%3A${port}&`);
    const bad = await alice.syft([
      "auth",
      "dropbox",
      "--app-key",
      world.fake.appKey,
      "--port",
      "http",
    ]);
    assertEquals(bad.code, 2, bad.stderr);
    assertMatch(bad.stderr, /^error: --port "http" is not a port$/m);
  } finally {
    await world.close();
  }
});
