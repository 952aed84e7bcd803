/**
 * Publishing and receiving between datasites in memory: what a peer may read
 * arrives in its mirror, changes and deletions follow, and what it may not
 * read never leaves.
 */
import { assertEquals } from "../../../assert.ts";
import { MemoryWorld } from "../../../../core/testing/world.ts";

const A = "alice@example.org";
const B = "bob@example.org";

Deno.test("a public file reaches the peer's mirror, and its edit and deletion follow", async () => {
  const world = new MemoryWorld();
  const alice = await world.site(A);
  const bob = await world.site(B);
  await world.connect(alice, bob);

  alice.writeOwn("public/hello.txt", "hello");
  await world.settle();
  assertEquals(bob.read(`${A}/public/hello.txt`), "hello");

  alice.writeOwn("public/hello.txt", "hello again");
  await world.settle();
  assertEquals(bob.read(`${A}/public/hello.txt`), "hello again");

  alice.remove(`${A}/public/hello.txt`);
  await world.settle();
  assertEquals(bob.read(`${A}/public/hello.txt`), null);
});

Deno.test("private files and files no rule shares never reach a peer", async () => {
  const world = new MemoryWorld();
  const alice = await world.site(A);
  const bob = await world.site(B);
  await world.connect(alice, bob);
  alice.writeOwn("private/secret.txt", "secret");
  alice.writeOwn("notes/mine.txt", "mine");
  alice.writeOwn("public/ok.txt", "ok");
  await world.settle();
  assertEquals(bob.files(A).filter((p) => !p.endsWith("syft.pub.yaml")), [
    `${A}/public/ok.txt`,
  ]);
  assertEquals(world.storage.calls.get("put")! > 0, true);
});

Deno.test("three datasites: each peer receives only what the owner's rules let it read", async () => {
  const world = new MemoryWorld();
  const alice = await world.site(A);
  const bob = await world.site(B);
  const carol = await world.site("carol@example.org");
  await world.connect(bob, alice);
  await world.connect(carol, alice);
  alice.writeOwn(
    "shared/syft.pub.yaml",
    `rules:\n  - pattern: '**'\n    access:\n      read: ['${B}']\n`,
  );
  alice.writeOwn("shared/for-bob.txt", "bob only");
  alice.writeOwn("public/all.txt", "everyone");
  await world.settle();
  assertEquals(bob.read(`${A}/shared/for-bob.txt`), "bob only");
  assertEquals(bob.read(`${A}/public/all.txt`), "everyone");
  assertEquals(carol.read(`${A}/shared/for-bob.txt`), null);
  assertEquals(carol.read(`${A}/public/all.txt`), "everyone");
});
