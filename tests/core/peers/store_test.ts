import { posix } from "node:path";
import { assert, assertEquals, assertMatch, assertRejects, assertThrows } from "../../assert.ts";
import { encodeBase64 } from "../../../core/encoding/base64.ts";
import { SyftError } from "../../../core/errors/mod.ts";
import { fingerprint, generateIdentityKeys, publicKeys } from "../../../core/identity/keys.ts";
import {
  emptyRecord,
  parseFingerprint,
  PEER_STATES,
  type PeerRecord,
  PeerStore,
} from "../../../core/peers/store.ts";
import { PEER_STATES as STATUS_PEER_STATES } from "../../../core/status/report.ts";
import { tempDir } from "../../_temp.ts";

const BOB = "bob@example.org";

async function pinnedRecord(state: PeerRecord["state"] = "pending"): Promise<PeerRecord> {
  const pub = await publicKeys(await generateIdentityKeys());
  return {
    ...emptyRecord(BOB, state),
    fingerprint: await fingerprint(pub),
    sign_key: encodeBase64(pub.signKey),
    agree_key: encodeBase64(pub.agreeKey),
    pinned_at: 1,
    requested_at: 1,
    last_seen: 2,
    protocol: 1,
  };
}

async function tempStore(): Promise<PeerStore> {
  const home = await tempDir("syft-peer-store-");
  return new PeerStore(posix.join(home, "peers"));
}

Deno.test("the peer states are the ones syft status counts", () => {
  assertEquals([...PEER_STATES], [...STATUS_PEER_STATES]);
});

Deno.test("PeerStore.put() writes <email>.json 0600 in a 0700 folder; get() reads it back", async () => {
  const store = await tempStore();
  const record = await pinnedRecord();
  await store.put(record);
  assertEquals(await store.get(BOB), record);
  assertEquals((await Deno.stat(store.dir)).mode! & 0o777, 0o700);
  assertEquals((await Deno.stat(posix.join(store.dir, `${BOB}.json`))).mode! & 0o777, 0o600);
  assertEquals(await store.get("nobody@example.org"), null);
  const keys = await store.pinnedKeys(BOB);
  assertEquals(keys?.signKey.length, 32);
  assertEquals(await store.pinnedKeys("nobody@example.org"), null);
});

Deno.test("PeerStore.list() reports corrupt records (naming the file) and keeps the good ones", async () => {
  const store = await tempStore();
  await store.put(await pinnedRecord());
  const good = JSON.parse(await Deno.readTextFile(store.fileOf(BOB)));
  const write = (name: string, value: unknown) =>
    Deno.writeTextFile(
      posix.join(store.dir, name),
      typeof value === "string" ? value : JSON.stringify(value),
    );
  await write("a@example.org.json", "{ not json");
  await write("c@example.org.json", { ...good, email: "c@example.org", state: "friend" });
  await write("d@example.org.json", { ...good }); // bob's record under d's name
  await write("e@example.org.json", { ...good, email: "e@example.org", extra: 1 });
  await write("f@example.org.json", { ...good, email: "f@example.org", last_seen: "yesterday" });
  await write("Upper@Example.org.json", { ...good });
  // A hand-edited key under the old fingerprint would defeat the fingerprint check.
  const other = await publicKeys(await generateIdentityKeys());
  await write("g@example.org.json", {
    ...good,
    email: "g@example.org",
    sign_key: encodeBase64(other.signKey),
  });
  await write("h@example.org.json", {
    ...good,
    email: "h@example.org",
    sign_key: null,
    agree_key: null,
    fingerprint: null,
  });
  await write("i@example.org.json", { ...good, email: "i@example.org", controls_read: -1 });
  await write("j@example.org.json", { ...good, email: "j@example.org", controls_read: "7" });
  await write("k@example.org.json", { ...good, email: "k@example.org", proposals_read: 1.5 });
  await write("l@example.org.json", { ...good, email: "l@example.org", removed_by_peer: "yes" });
  await write(".lock", "");
  await write("notes.txt", "ignored");

  const { records, problems } = await store.list();
  assertEquals(records.map((r) => r.email), [BOB]);
  const byFile = (name: string) => problems.find((p) => p.includes(`/${name}`)) ?? "";
  assertMatch(byFile("a@example.org.json"), /unusable: not JSON/);
  assertMatch(byFile("c@example.org.json"), /"state" must be one of/);
  assertMatch(byFile("d@example.org.json"), /"email" is "bob@example.org", not the file's/);
  assertMatch(byFile("e@example.org.json"), /unknown field "extra"/);
  assertMatch(byFile("f@example.org.json"), /"last_seen"/);
  assertMatch(byFile("Upper@Example.org.json"), /not named <email>\.json/);
  assertMatch(byFile("g@example.org.json"), /"fingerprint" does not match the keys/);
  assertMatch(byFile("h@example.org.json"), /a pending peer must have pinned keys/);
  assertMatch(byFile("i@example.org.json"), /"controls_read" must be a whole number/);
  assertMatch(byFile("j@example.org.json"), /"controls_read" must be a whole number/);
  assertMatch(byFile("k@example.org.json"), /"proposals_read" must be a whole number/);
  assertMatch(byFile("l@example.org.json"), /"removed_by_peer" must be true or false/);
  assertEquals(problems.length, 12);

  await assertRejects(() => store.get("a@example.org"), (err) => {
    assert(err instanceof SyftError);
    assertEquals(err.code, "E_INPUT");
    assertMatch(err.hint ?? "", /fix or delete/);
  });
});

Deno.test("PeerStore.list() of a home without a peers folder is empty", async () => {
  const store = await tempStore();
  assertEquals(await store.list(), { records: [], problems: [] });
});

Deno.test("PeerStore.update() serialises concurrent read-modify-writes (no lost update)", async () => {
  const store = await tempStore();
  await store.put({ ...emptyRecord(BOB, "requested"), last_seen: 0 });
  await Promise.all(
    Array.from(
      { length: 20 },
      () => store.update(BOB, (r) => ({ ...r!, last_seen: (r!.last_seen ?? 0) + 1 })),
    ),
  );
  assertEquals((await store.get(BOB))?.last_seen, 20);
  // Returning null writes nothing; a throw leaves the record as it was.
  assertEquals((await store.update(BOB, () => null))?.last_seen, 20);
  await assertRejects(() =>
    store.update(BOB, () => {
      throw new Error("no");
    })
  );
  assertEquals((await store.get(BOB))?.last_seen, 20);
});

Deno.test("parseFingerprint() accepts any case and separators, and refuses anything else", () => {
  const canonical = "3f2a 9c01 0000 1111 2222 3333 4444 77de";
  assertEquals(parseFingerprint("3F2A9C01000011112222333344447 7DE"), canonical);
  assertEquals(parseFingerprint(" 3f2a:9c01:0000:1111:2222:3333:4444:77de "), canonical);
  assertEquals(parseFingerprint(canonical), canonical);
  for (const bad of ["", "3f2a", canonical + " 0000", canonical.replace("3", "g")]) {
    assertThrows(() => parseFingerprint(bad), (err) => {
      assert(err instanceof SyftError);
      assertEquals(err.code, "E_INPUT");
    });
  }
});
