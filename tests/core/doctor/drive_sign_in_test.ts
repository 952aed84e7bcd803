import { assertEquals } from "../../assert.ts";
import {
  DRIVE_FULL_SCOPE,
  judgeDriveSignIn,
  MAX_CLOCK_SKEW_MS,
} from "../../../core/doctor/drive_sign_in.ts";

const base = {
  identity: "a@x.org",
  email: "a@x.org",
  scope: DRIVE_FULL_SCOPE,
  expiresInS: 3599,
  serverTime: 1_000_000,
  now: 1_000_000,
};

function statuses(facts: typeof base | Record<string, unknown>): Record<string, string> {
  const checks = judgeDriveSignIn({ ...base, ...facts });
  return Object.fromEntries(checks.map((c) => [c.name, c.status]));
}

Deno.test("a refreshed Drive sign-in with the full scope as init's account passes", () => {
  assertEquals(statuses({}), { signin: "ok", scope: "ok", drive: "ok" });
});

Deno.test("drive.file alone fails the scope check: peers' shared folders stay invisible", () => {
  assertEquals(statuses({ scope: "https://www.googleapis.com/auth/drive.file" }).scope, "fail");
});

Deno.test("Drive answering as another account fails; a clock far from Drive's warns", () => {
  assertEquals(statuses({ email: "b@x.org" }).drive, "fail");
  assertEquals(statuses({ now: base.now + MAX_CLOCK_SKEW_MS + 1 }).drive, "warn");
  assertEquals(statuses({ serverTime: null, now: 0 }).drive, "ok");
});
