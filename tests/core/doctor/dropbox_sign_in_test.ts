/**
 * doctor's Dropbox verdict: all three checks pass for init's account with the
 * agreed scopes; a missing scope, another account and a skewed clock each
 * name what to do.
 */
import { assertEquals, assertMatch } from "../../assert.ts";
import { judgeDropboxSignIn } from "../../../core/doctor/dropbox_sign_in.ts";
import { DROPBOX_SCOPES } from "../../../plugins/dropbox/_tokens.ts";

const NOW = Date.parse("2026-12-05T08:00:00Z");
const FACTS = {
  identity: "alice@example.org",
  scope: DROPBOX_SCOPES.join(" "),
  needed: DROPBOX_SCOPES,
  email: "alice@example.org",
  accountId: "dbid:AAA",
  expiresInS: 14_399,
  serverTime: NOW + 2_000,
  now: NOW,
};

Deno.test("a fresh sign-in as init's account with every scope passes signin, scope and dropbox", () => {
  const checks = judgeDropboxSignIn(FACTS);
  assertEquals(checks.map((c) => [c.name, c.status]), [
    ["signin", "ok"],
    ["scope", "ok"],
    ["dropbox", "ok"],
  ]);
  assertEquals(checks[0]!.detail, "Dropbox token refreshed, valid 239 min");
});

Deno.test("a missing scope fails and names the Permissions tab; another account fails; a skewed clock warns", () => {
  const scope = judgeDropboxSignIn({
    ...FACTS,
    scope: DROPBOX_SCOPES.filter((s) => s !== "sharing.write").join(" "),
  })[1]!;
  assertEquals(scope.status, "fail");
  assertMatch(scope.detail, /lacks sharing\.write;/);
  assertMatch(scope.hint!, /Permissions tab.*syft auth dropbox --email alice@example\.org$/);
  const other = judgeDropboxSignIn({ ...FACTS, email: "bob@example.org" })[2]!;
  assertEquals(other.status, "fail");
  assertMatch(other.detail, /answers as bob@example\.org, but syft is initialised as alice/);
  const skewed = judgeDropboxSignIn({ ...FACTS, serverTime: NOW - 11 * 60_000 })[2]!;
  assertEquals([skewed.status, skewed.detail.includes("660 s off")], ["warn", true]);
});
