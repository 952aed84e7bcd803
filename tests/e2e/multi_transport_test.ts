/**
 * Several transports at once (issue 13 item 8): an owner reachable on two
 * storages (two `local:` folders, A and B), peer1 on A, peer2 on B. Each
 * peer's channels go through its own storage, and one storage failing stops
 * only its peer.
 */
import { posix } from "node:path";
import { assert, assertEquals, assertMatch, assertStringIncludes } from "../assert.ts";
import { peerUp, put, type Site, world } from "./_rig.ts";

/** Channel folders in a `local:` transport folder. */
async function channels(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) if (e.name.startsWith("syft1#")) names.push(e.name);
  return names.sort();
}

async function read(site: Site, rel: string): Promise<string> {
  return await Deno.readTextFile(posix.join(site.root, rel));
}

Deno.test("an owner on two storages syncs peer1 on one and peer2 on the other; losing one storage stops only its peer", async () => {
  const w = await world();
  const folderB = posix.join(w.base, "shared-b");
  await Deno.mkdir(folderB);
  const owner = await w.site("owner@hospital.org");
  const peer1 = await w.site("peer1@lab.org");
  const peer2 = await w.site("peer2@uni.org", { transport: `local:${folderB}` });
  await owner.ok(["transport", "add", "b", `local:${folderB}`]);

  // peer1 asks over A (the owner's default); peer2 asks over B, so the owner answers over B.
  await peerUp(peer1, owner);
  await peerUp(peer2, owner);
  assertMatch((await owner.ok(["peer", "list"])).stdout, /peer2@uni\.org +accepted .* b\n/);
  const listed = JSON.parse((await owner.ok(["transport", "list", "--json"])).stdout);
  assertEquals(listed, [
    { name: "default", spec: `local:${w.shared}`, default: true, peers: [peer1.email] },
    { name: "b", spec: `local:${folderB}`, default: false, peers: [peer2.email] },
  ]);
  assertEquals(await channels(w.shared), [
    `syft1#${owner.email}#${peer1.email}`,
    `syft1#${peer1.email}#${owner.email}`,
  ]);
  assertEquals(await channels(folderB), [
    `syft1#${owner.email}#${peer2.email}`,
    `syft1#${peer2.email}#${owner.email}`,
  ]);

  // Publish: both peers get the owner's file, each over its storage.
  await put(owner.datasite, "public/readme.txt", "v1");
  await owner.ok(["sync"]);
  await peer1.ok(["sync"]);
  await peer2.ok(["sync"]);
  assertEquals(await read(peer1, `${owner.email}/public/readme.txt`), "v1");
  assertEquals(await read(peer2, `${owner.email}/public/readme.txt`), "v1");

  // Proposals the other way: each peer writes into its inbox in its mirror.
  for (const p of [peer1, peer2]) {
    await put(p.mirror(owner), `app_data/job/inbox/${p.email}/job1/run.sh`, `echo ${p.email}\n`);
    await p.ok(["sync"]);
  }
  await owner.ok(["sync"]);
  for (const p of [peer1, peer2]) {
    assertEquals(
      await read(owner, `${owner.email}/app_data/job/inbox/${p.email}/job1/run.sh`),
      `echo ${p.email}\n`,
    );
  }
  // And the peers' own public files reach the owner.
  await put(peer2.datasite, "public/from-b.txt", "hello from B");
  await peer2.ok(["sync"]);
  await owner.ok(["sync"]);
  assertEquals(await read(owner, `${peer2.email}/public/from-b.txt`), "hello from B");

  // Storage B disappears: the owner's round fails for peer2 alone (exit 4), peer1 still syncs.
  await Deno.remove(folderB, { recursive: true });
  await put(owner.datasite, "public/readme.txt", "v2");
  const failed = await owner.syft(["sync"]);
  assertEquals(failed.code, 4, `${failed.stdout}\n${failed.stderr}`);
  assertStringIncludes(failed.stderr, peer2.email);
  assert(!failed.stderr.includes(`${peer1.email} failed`), failed.stderr);
  assertMatch(failed.stderr, /transport b \(local:.*shared-b\)/);
  await peer1.ok(["sync"]);
  assertEquals(await read(peer1, `${owner.email}/public/readme.txt`), "v2");
  const status = JSON.parse((await owner.ok(["status", "--json"])).stdout);
  assertEquals(
    status.peer_problems.map((p: { peer: string }) => p.peer),
    [peer2.email],
    JSON.stringify(status.peer_problems),
  );
  assertEquals(status.transports, { b: `local:${folderB}` });

  const human = (await owner.ok(["status"])).stdout;
  assertMatch(human, /transport b: +local:/);
  assertMatch(human, /reading from peer2@uni\.org: transport b/);
});
