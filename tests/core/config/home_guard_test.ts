import { assertEquals, assertStringIncludes } from "../../assert.ts";
import { judgeHome, type PathFacts } from "../../../core/config/home_guard.ts";

const DIR = 0o40000;
const me = 1000;
const folder = (path: string, mode: number, uid = me, linkTarget?: string): PathFacts => ({
  path,
  kind: "folder",
  uid,
  mode: DIR | mode,
  linkTarget,
});

Deno.test("judgeHome() accepts folders of ours that others cannot write, links included", () => {
  assertEquals(
    judgeHome([folder("/h", 0o700), folder("/h/keys", 0o755), folder("/h/s", 0o700, me, "/x")], me),
    [],
  );
});

Deno.test("judgeHome() flags group- and world-writable folders with mode and chmod 700", () => {
  const [world, group] = judgeHome([folder("/h", 0o777), folder("/h/keys", 0o770)], me);
  assertEquals(world, {
    path: "/h",
    message: "/h is world-writable (mode 0777)",
    fix: "chmod 700 /h",
    fixable: true,
  });
  assertEquals(group!.message, "/h/keys is group-writable (mode 0770)");
});

Deno.test("judgeHome() judges a link by its target and never lets --fix chmod through it", () => {
  const [p] = judgeHome([folder("/h/state", 0o1777, me, "/tmp")], me);
  assertEquals(p!.message, "/h/state (a link to /tmp) is world-writable (mode 1777)");
  assertStringIncludes(p!.fix, "chmod 700 /tmp");
  assertEquals(p!.fixable, false);
});

Deno.test("judgeHome() flags another user's folder even at 0700, and files want chmod 600", () => {
  const [foreign, file] = judgeHome([
    folder("/h", 0o700, 65534),
    { path: "/h/config.yaml", kind: "file", uid: me, mode: 0o100666, linkTarget: undefined },
  ], me);
  assertStringIncludes(foreign!.message, "owned by another user (uid 65534");
  assertEquals(foreign!.fixable, false);
  assertEquals(file!.fix, "chmod 600 /h/config.yaml");
});

Deno.test("judgeHome() skips the owner check where the platform has no uid", () => {
  assertEquals(judgeHome([folder("/h", 0o700, 65534)], null), []);
});
