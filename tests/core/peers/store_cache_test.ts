/**
 * The peer store's shortcuts (records parsed once per text, one update queue
 * per peers folder) never serve a stale or shared record and never make one
 * folder wait for another. In memory: nothing to clean up.
 */
import { assertEquals, assertRejects } from "../../assert.ts";
import { encodeBase64 } from "../../../core/encoding/base64.ts";
import { fingerprint, generateIdentityKeys, publicKeys } from "../../../core/identity/keys.ts";
import {
  emptyRecord,
  type PeerRecord,
  PeerStore,
  serializePeerRecord,
} from "../../../core/peers/store.ts";
import { MemoryFs } from "../../../core/testing/memory_fs.ts";

const BOB = "bob@example.org";

async function pinned(state: PeerRecord["state"]): Promise<PeerRecord> {
  const pub = await publicKeys(await generateIdentityKeys());
  return {
    ...emptyRecord(BOB, state),
    fingerprint: await fingerprint(pub),
    sign_key: encodeBase64(pub.signKey),
    agree_key: encodeBase64(pub.agreeKey),
    pinned_at: 1,
  };
}

Deno.test("a record edited behind the store's back is read as it now is", async () => {
  const fs = new MemoryFs();
  const store = new PeerStore("/home/peers", fs);
  const record = await pinned("pending");
  await store.put(record);
  assertEquals((await store.get(BOB))?.state, "pending");
  // Same size, written in place: only the text tells the change.
  const text = serializePeerRecord(record).replace("pending", "removed");
  fs.writeFileSync("/home/peers/bob@example.org.json", new TextEncoder().encode(text));
  assertEquals((await store.get(BOB))?.state, "removed");
  fs.writeFileSync("/home/peers/bob@example.org.json", new TextEncoder().encode("{"));
  await assertRejects(() => store.get(BOB));
});

Deno.test("a caller changing the record it got changes nothing another caller gets", async () => {
  const store = new PeerStore("/home/peers", new MemoryFs());
  await store.put({ ...await pinned("accepted"), key_change: null, reason: "kept" });
  const first = (await store.get(BOB))!;
  first.state = "removed";
  first.reason = "changed";
  assertEquals((await store.get(BOB))?.state, "accepted");
  assertEquals((await store.list()).records[0]?.reason, "kept");
});

Deno.test("an update of one peers folder never waits for another folder's", async () => {
  const fs = new MemoryFs();
  const a = new PeerStore("/a/peers", fs);
  const b = new PeerStore("/b/peers", fs);
  let bDone!: () => void;
  const bUpdated = new Promise<void>((resolve) => bDone = resolve);
  // A's change waits for B's update: a single queue for the process would never end.
  const first = a.update(BOB, async () => {
    await bUpdated;
    return emptyRecord(BOB, "pending");
  });
  await b.update(BOB, () => emptyRecord(BOB, "requested"));
  bDone();
  assertEquals((await first)?.state, "pending");
  assertEquals((await b.get(BOB))?.state, "requested");
});
