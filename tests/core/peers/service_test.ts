/**
 * The peer lifecycle over the real local transport (one plugin Worker per
 * identity on a shared folder), with two and three identities.
 */
import { posix } from "node:path";
import { assert, assertEquals, assertMatch, assertRejects } from "../../assert.ts";
import { encodeBase64 } from "../../../core/encoding/base64.ts";
import { SyftError, type SyftErrorCode } from "../../../core/errors/mod.ts";
import {
  fingerprint,
  generateIdentityKeys,
  type IdentityKeys,
  publicKeys,
} from "../../../core/identity/keys.ts";
import { createHello, HELLO_NAME, parseHello } from "../../../core/peers/hello.ts";
import { PeerService } from "../../../core/peers/service.ts";
import { PeerStore } from "../../../core/peers/store.ts";
import { loadDatasitePermissions } from "../../../core/permissions/mod.ts";
import { channelName, type Transport } from "../../../core/transport/contract.ts";
import { startPlugin } from "../../../plugins/host.ts";
import { manifestFor } from "../../../plugins/registry.ts";

const ALICE = "alice@example.org";
const BOB = "bob@example.org";
const CAROL = "carol@example.org";

interface Party {
  email: string;
  home: string;
  /** The shared transport folder. */
  shared: string;
  datasite: string;
  keys: IdentityKeys;
  fingerprint: string;
  transport: Transport;
  store: PeerStore;
  peers: PeerService;
}

/** A shared folder and identities on it; every transport is closed afterwards. */
async function withWorld(fn: (join: Join) => Promise<void>): Promise<void> {
  const base = await Deno.makeTempDir({ prefix: "syft-peers-" });
  const shared = posix.join(base, "shared");
  await Deno.mkdir(shared);
  const opened: Transport[] = [];
  let clock = 1_000;
  const join: Join = async (email, options = {}) => {
    const home = posix.join(base, `${email}-${opened.length}`, ".syft");
    const keys = options.keys ?? await generateIdentityKeys();
    const transport = await startPlugin(manifestFor(`local:${shared}`, { identity: email, home }));
    opened.push(transport);
    const store = new PeerStore(posix.join(home, "peers"));
    const datasite = posix.join(base, `${email}-${opened.length}`, "root", email);
    await Deno.mkdir(datasite, { recursive: true });
    return {
      email,
      home,
      shared,
      datasite,
      keys,
      fingerprint: await fingerprint(await publicKeys(keys)),
      transport,
      store,
      peers: new PeerService({ transport, store, me: email, keys, now: () => ++clock }),
    };
  };
  try {
    await fn(join);
  } finally {
    await Promise.all(opened.map((t) => t.close()));
    await Deno.remove(base, { recursive: true });
  }
}

type Join = (email: string, options?: { keys?: IdentityKeys }) => Promise<Party>;

async function refused(
  fn: () => Promise<unknown>,
  code: SyftErrorCode,
  why: RegExp,
): Promise<SyftError> {
  const err = await assertRejects(fn, (e) => {
    assert(e instanceof SyftError, String(e));
    assertEquals(e.code, code, e.message);
    assertMatch(e.message, why);
  });
  return err as SyftError;
}

async function readHello(t: Transport, sender: string, recipient: string) {
  const bytes = new Uint8Array(
    await new Response(await t.get({ sender, recipient }, HELLO_NAME)).arrayBuffer(),
  );
  return await parseHello(bytes, { sender, recipient });
}

Deno.test("request → pending with pinned keys on the other side → approve with the right fingerprint → accepted", async () => {
  await withWorld(async (join) => {
    const alice = await join(ALICE);
    const bob = await join(BOB);

    const req = await alice.peers.requestPeer(BOB);
    assertEquals(req, {
      email: BOB,
      state: "requested",
      outcome: "requested",
      channel: `syft1#${ALICE}#${BOB}`,
    });
    const aliceHello = await readHello(bob.transport, ALICE, BOB);
    assertEquals(aliceHello.fingerprint, alice.fingerprint);
    const asked = await alice.store.get(BOB);
    assertEquals(asked?.state, "requested");
    assertEquals(asked?.fingerprint, null);
    assertEquals(asked?.channel_open, true);

    const found = await bob.peers.discover();
    assertEquals(found, { newPending: [ALICE], problems: [] });
    const pending = await bob.store.get(ALICE);
    assertEquals(pending?.state, "pending");
    assertEquals(pending?.fingerprint, alice.fingerprint);
    assertEquals(pending?.sign_key, encodeBase64((await publicKeys(alice.keys)).signKey));
    assertEquals(pending?.protocol, 2);
    // A second discovery finds nothing new and only refreshes last_seen.
    assertEquals(await bob.peers.discover(), { newPending: [], problems: [] });
    assert((await bob.store.get(ALICE))!.last_seen! > pending!.last_seen!);

    const approved = await bob.peers.approvePeer(ALICE, {
      datasite: bob.datasite,
      fingerprint: alice.fingerprint.toUpperCase().replaceAll(" ", ""),
    });
    assertEquals(approved.fingerprint, alice.fingerprint);
    assertEquals(approved.outcome, "accepted");
    assertEquals(approved.warnings, []);
    const accepted = await bob.store.get(ALICE);
    assertEquals(accepted?.state, "accepted");
    assertEquals(accepted?.accept_sent, false);
    assert(accepted?.accepted_at !== null);
    assertEquals((await readHello(alice.transport, BOB, ALICE)).fingerprint, bob.fingerprint);

    // The inbox permission file makes alice (and only alice) a writer of her inbox.
    assertEquals(approved.permissionFile, `app_data/job/inbox/${ALICE}/syft.pub.yaml`);
    const text = await Deno.readTextFile(posix.join(bob.datasite, approved.permissionFile));
    assertMatch(text, /^# /);
    const engine = await loadDatasitePermissions(bob.datasite);
    assert(engine.allows(BOB, `app_data/job/inbox/${ALICE}/j1/run.sh`, ALICE, "write"));
    assert(!engine.allows(BOB, `app_data/job/inbox/${CAROL}/j1/run.sh`, ALICE, "write"));
    assert(!engine.allows(BOB, `app_data/job/inbox/${ALICE}/j1/run.sh`, CAROL, "write"));

    // Approving again changes nothing and keeps a hand-edited permission file.
    await Deno.writeTextFile(posix.join(bob.datasite, approved.permissionFile), text + "# mine\n");
    const again = await bob.peers.approvePeer(ALICE, { datasite: bob.datasite });
    assertEquals(again.outcome, "unchanged");
    assertMatch(
      await Deno.readTextFile(posix.join(bob.datasite, approved.permissionFile)),
      /# mine/,
    );

    // Alice discovers bob's channel: his keys get pinned, she stays requested
    // until the sync engine reads peer.accept.
    assertEquals(await alice.peers.discover(), { newPending: [], problems: [] });
    const requested = await alice.store.get(BOB);
    assertEquals(requested?.state, "requested");
    assertEquals(requested?.fingerprint, bob.fingerprint);
    assertEquals(
      (await alice.store.pinnedKeys(BOB))?.agreeKey,
      (await publicKeys(bob.keys)).agreeKey,
    );
  });
});

Deno.test("requestPeer() is idempotent, refuses ourselves, and says to approve a peer that asked first", async () => {
  await withWorld(async (join) => {
    const alice = await join(ALICE);
    const bob = await join(BOB);
    await refused(() => alice.peers.requestPeer(ALICE), "E_INPUT", /is you/);

    await alice.peers.requestPeer(BOB);
    const again = await alice.peers.requestPeer(BOB);
    assertEquals(again.outcome, "unchanged");
    assertEquals(again.state, "requested");

    await bob.peers.discover();
    const err = await refused(
      () => bob.peers.requestPeer(ALICE),
      "E_INPUT",
      /already asked to peer with you \(pending\)/,
    );
    assertMatch(
      err.hint ?? "",
      new RegExp(`syft peer approve ${ALICE} --fingerprint '${alice.fingerprint}'`),
    );
    assertEquals((await bob.store.get(ALICE))?.state, "pending");
  });
});

Deno.test("racing requests for one channel all succeed (E_EXISTS on hello.json is re-checked, not fatal)", async () => {
  await withWorld(async (join) => {
    const alice = await join(ALICE);
    // Hold the first three listings until all three arrived, so every racer
    // sees no hello and tries to put one: two of the puts must meet E_EXISTS.
    let waiting = 0;
    let release: () => void = () => {};
    const barrier = new Promise<void>((r) => release = r);
    let exists = 0;
    const t = alice.transport;
    const racy: Transport = {
      capabilities: () => t.capabilities(),
      whoami: () => t.whoami(),
      openChannel: (to) => t.openChannel(to),
      listIncoming: () => t.listIncoming(),
      get: (ch, name) => t.get(ch, name),
      delete: (ch, name) => t.delete(ch, name),
      changes: (cursor, options) => t.changes(cursor, options),
      close: () => t.close(),
      list: async (ch, options) => {
        if (waiting < 3 && ++waiting === 3) release();
        await barrier;
        return await t.list(ch, options);
      },
      put: async (ch, name, body) => {
        try {
          await t.put(ch, name, body);
        } catch (err) {
          if (err instanceof SyftError && err.code === "E_EXISTS") exists++;
          throw err;
        }
      },
    };
    const peers = new PeerService({
      transport: racy,
      store: alice.store,
      me: ALICE,
      keys: alice.keys,
      now: () => 1,
    });
    const results = await Promise.all([1, 2, 3].map(() => peers.ensureOwnChannel(BOB)));
    assertEquals(results.map(channelName), Array(3).fill(`syft1#${ALICE}#${BOB}`));
    assertEquals(exists, 2);
    assertEquals((await readHello(alice.transport, ALICE, BOB)).fingerprint, alice.fingerprint);
  });
});

Deno.test("mutual requests: both stay requested with keys pinned until one side approves", async () => {
  await withWorld(async (join) => {
    const alice = await join(ALICE);
    const bob = await join(BOB);
    await alice.peers.requestPeer(BOB);
    await bob.peers.requestPeer(ALICE);
    assertEquals((await alice.peers.discover()).newPending, []);
    assertEquals((await bob.peers.discover()).newPending, []);
    assertEquals((await alice.store.get(BOB))?.fingerprint, bob.fingerprint);
    assertEquals((await bob.store.get(ALICE))?.state, "requested");
    const r = await bob.peers.approvePeer(ALICE, {
      datasite: bob.datasite,
      fingerprint: alice.fingerprint,
    });
    assertEquals(r.outcome, "accepted");
  });
});

Deno.test("approvePeer() refuses an unknown peer, a wrong fingerprint and a peer with no channel yet", async () => {
  await withWorld(async (join) => {
    const alice = await join(ALICE);
    const bob = await join(BOB);
    await refused(
      () => bob.peers.approvePeer(CAROL, { datasite: bob.datasite }),
      "E_INPUT",
      /not a known peer/,
    );

    await alice.peers.requestPeer(BOB);
    await bob.peers.discover();
    const wrong = await fingerprint(await publicKeys(await generateIdentityKeys()));
    await refused(
      () => bob.peers.approvePeer(ALICE, { datasite: bob.datasite, fingerprint: wrong }),
      "E_PERMISSION",
      /has fingerprint .* not /,
    );
    await refused(
      () => bob.peers.approvePeer(ALICE, { datasite: bob.datasite, fingerprint: "12" }),
      "E_INPUT",
      /not 32 hex digits/,
    );
    assertEquals((await bob.store.get(ALICE))?.state, "pending");
    // Nothing was created on bob's side by the refused approvals.
    assertEquals((await alice.transport.listIncoming()).length, 0);

    // Alice asked carol, who never answered: no keys, nothing to approve.
    await alice.peers.requestPeer(CAROL);
    await refused(
      () => alice.peers.approvePeer(CAROL, { datasite: alice.datasite }),
      "E_INPUT",
      /has not opened a channel/,
    );
  });
});

Deno.test("impostor: a channel pre-created under bob's name with other keys is refused by bob and caught by alice's fingerprint check", async () => {
  await withWorld(async (join) => {
    const alice = await join(ALICE);
    // Mallory can write the shared folder and claims to be bob (a shared folder authenticates nobody).
    const mallory = await join(BOB);
    await mallory.peers.requestPeer(ALICE);
    const bob = await join(BOB);

    // The real bob cannot take over the channel: its hello.json is not his.
    const err = await refused(
      () => bob.peers.requestPeer(ALICE),
      "E_PERMISSION",
      /hello\.json that is not yours/,
    );
    assertMatch(err.message, new RegExp(mallory.fingerprint));
    assertEquals(await bob.store.get(ALICE), null);

    // Alice sees a pending "bob" with mallory's keys...
    await alice.peers.discover();
    assertEquals((await alice.store.get(BOB))?.fingerprint, mallory.fingerprint);
    // ...and approving with bob's real fingerprint (told out of band) is refused and says why.
    const refusal = await refused(
      () =>
        alice.peers.approvePeer(BOB, { datasite: alice.datasite, fingerprint: bob.fingerprint }),
      "E_PERMISSION",
      /someone else may have created it under bob@example\.org's name/,
    );
    assertMatch(refusal.message, new RegExp(mallory.fingerprint));
    assertMatch(refusal.hint ?? "", /do not approve/);
    assertEquals((await alice.store.get(BOB))?.state, "pending");
    // No channel to the impostor, no inbox permission for it.
    assertEquals((await mallory.transport.listIncoming()).length, 0);
    assertEquals(await Deno.stat(posix.join(alice.datasite, "app_data")).catch(() => null), null);
  });
});

Deno.test("a later hello with other keys is refused until trusted with the new fingerprint", async () => {
  await withWorld(async (join) => {
    const alice = await join(ALICE);
    const bob = await join(BOB);
    await alice.peers.requestPeer(BOB);
    await bob.peers.discover();
    await bob.peers.approvePeer(ALICE, { datasite: bob.datasite, fingerprint: alice.fingerprint });

    // Alice's channel reappears with new keys (e.g. a new install, or an attacker).
    const channelDir = posix.join(alice.shared, `syft1#${ALICE}#${BOB}`);
    await Deno.remove(channelDir, { recursive: true });
    const alice2 = await join(ALICE);
    await alice2.peers.requestPeer(BOB);

    const found = await bob.peers.discover();
    assertEquals(found.newPending, []);
    assertEquals(found.problems.length, 1);
    assertMatch(
      found.problems[0]!,
      new RegExp(
        `${ALICE}'s channel carries other keys \\(fingerprint ${alice2.fingerprint}, pinned ${alice.fingerprint}\\)`,
      ),
    );
    assertMatch(found.problems[0]!, /syft peer trust/);
    const r = await bob.store.get(ALICE);
    assertEquals(r?.fingerprint, alice.fingerprint, "the pinned keys stay");
    assertEquals(r?.key_change?.fingerprint, alice2.fingerprint);
    assertEquals(r?.state, "accepted");
    // Reported again at every discovery, not recorded twice.
    const seenAt = r?.key_change?.seen_at;
    assertEquals((await bob.peers.discover()).problems.length, 1);
    assertEquals((await bob.store.get(ALICE))?.key_change?.seen_at, seenAt);

    await refused(
      () => bob.peers.trustPeer(ALICE, alice.fingerprint),
      "E_PERMISSION",
      /new keys have fingerprint/,
    );
    await refused(
      () => bob.peers.trustPeer(CAROL, alice.fingerprint),
      "E_INPUT",
      /not a known peer/,
    );
    await refused(
      () => bob.peers.approvePeer(ALICE, { datasite: bob.datasite }),
      "E_PERMISSION",
      /other keys/,
    );

    // The old installation's channel marked how far its controls were acted on.
    await bob.store.update(ALICE, (r) => r && { ...r, controls_read: 12, proposals_read: 11 });
    assertEquals((await bob.store.get(ALICE))?.controls_read, 12, "the mark is kept");
    assertEquals((await bob.store.get(ALICE))?.proposals_read, 11, "the mark is kept");
    const trusted = await bob.peers.trustPeer(ALICE, alice2.fingerprint);
    assertEquals(trusted.controls_read, undefined, "the new installation's channel starts over");
    assertEquals(trusted.proposals_read, undefined);
    assertEquals(trusted.fingerprint, alice2.fingerprint);
    assertEquals(trusted.key_change, null);
    assertEquals(trusted.state, "accepted");
    assertEquals(await bob.peers.discover(), { newPending: [], problems: [] });
    await refused(
      () => bob.peers.trustPeer(ALICE, alice2.fingerprint),
      "E_INPUT",
      /already the pinned fingerprint/,
    );
  });
});

Deno.test("discover() reports an invalid hello and skips a channel without one", async () => {
  await withWorld(async (join) => {
    const alice = await join(ALICE);
    const carol = await join(CAROL);
    const mallory = await join("mallory@example.org");
    // Carol opened a channel but has not written her hello yet: not ready, not a problem.
    await carol.transport.openChannel(ALICE);
    // Mallory's hello names another recipient.
    const ch = await mallory.transport.openChannel(ALICE);
    await mallory.transport.put(
      ch,
      HELLO_NAME,
      await createHello({
        sender: "mallory@example.org",
        recipient: BOB,
        keys: mallory.keys,
        clientVersion: "0.1.0",
        now: 1,
      }),
    );
    const found = await alice.peers.discover();
    assertEquals(found.newPending, []);
    assertEquals(found.problems.length, 1);
    assertMatch(
      found.problems[0]!,
      /syft1#mallory@example\.org#alice@example\.org is invalid: it names recipient bob@example\.org.*; ignored/,
    );
    assertEquals((await alice.store.list()).records, []);
  });
});

Deno.test("a hello with a higher protocol becomes pending, is reported, and cannot be approved", async () => {
  await withWorld(async (join) => {
    const alice = await join(ALICE);
    const future = await join("future@example.org");
    const pub = await publicKeys(future.keys);
    const body = new TextEncoder().encode(JSON.stringify({
      protocol: 3,
      sender: "future@example.org",
      recipient: ALICE,
      sign_key: encodeBase64(pub.signKey),
      agree_key: encodeBase64(pub.agreeKey),
      client_version: "9.0.0",
      created_at: 5,
      new_thing: true,
    }));
    const sig = new Uint8Array(
      await crypto.subtle.sign({ name: "Ed25519" }, future.keys.sign.privateKey, body),
    );
    const ch = await future.transport.openChannel(ALICE);
    await future.transport.put(
      ch,
      HELLO_NAME,
      new TextEncoder().encode(
        JSON.stringify({ body: encodeBase64(body), sig: encodeBase64(sig) }),
      ),
    );
    const found = await alice.peers.discover();
    assertEquals(found.newPending, ["future@example.org"]);
    assertMatch(
      found.problems.join("\n"),
      /speaks syft protocol 3 \(this syft speaks 2\); its channel is left untouched/,
    );
    await refused(
      () => alice.peers.approvePeer("future@example.org", { datasite: alice.datasite }),
      "E_INPUT",
      /protocol 3/,
    );
  });
});

Deno.test("reject and remove record the state and leave the control record to the sync engine", async () => {
  await withWorld(async (join) => {
    const alice = await join(ALICE);
    const bob = await join(BOB);
    const carol = await join(CAROL);
    await alice.peers.requestPeer(BOB);
    await carol.peers.requestPeer(BOB);
    await bob.peers.discover();

    // Rejecting a pending request: no channel of ours, so nothing to send.
    const rejected = await bob.peers.rejectPeer(CAROL, "who are you?");
    assertEquals(rejected.state, "rejected");
    assertEquals(rejected.reason, "who are you?");
    assertEquals(rejected.reject_sent, undefined);
    assertEquals(rejected.fingerprint, carol.fingerprint, "keys stay pinned");
    // The same request does not come back as new.
    assertEquals((await bob.peers.discover()).newPending, []);
    assertEquals((await bob.store.get(CAROL))?.state, "rejected");

    // An accepted peer we have a channel to: the engine must send peer.reject / peer.remove.
    await bob.peers.approvePeer(ALICE, { datasite: bob.datasite });
    const r2 = await bob.peers.rejectPeer(ALICE);
    assertEquals(r2.reject_sent, false);
    assertEquals(r2.reason, null);
    assertEquals(r2.accept_sent, undefined);
    // A rejected peer with pinned keys can still be approved later.
    const back = await bob.peers.approvePeer(ALICE, {
      datasite: bob.datasite,
      fingerprint: alice.fingerprint,
    });
    assertEquals(back.outcome, "accepted");
    assertEquals((await bob.store.get(ALICE))?.reject_sent, undefined);

    const removed = await bob.peers.removePeer(ALICE);
    assertEquals(removed.state, "removed");
    assertEquals(removed.remove_sent, false);
    await refused(
      () => bob.peers.approvePeer(ALICE, { datasite: bob.datasite }),
      "E_INPUT",
      /was removed/,
    );
    await refused(() => bob.peers.removePeer("nobody@example.org"), "E_INPUT", /not a known peer/);
    await refused(() => bob.peers.rejectPeer("nobody@example.org"), "E_INPUT", /not a known peer/);
    await refused(
      () => bob.peers.rejectPeer(CAROL, "x".repeat(1001)),
      "E_INPUT",
      /longer than 1000/,
    );

    // Adding a removed peer again makes a new request; the pinned keys are kept.
    const re = await bob.peers.requestPeer(ALICE);
    assertEquals(re.outcome, "requested");
    const r3 = await bob.store.get(ALICE);
    assertEquals(r3?.state, "requested");
    assertEquals(r3?.fingerprint, alice.fingerprint);
    assertEquals(r3?.remove_sent, undefined);
  });
});

Deno.test("discover() reports a corrupt peer record and still handles the other channels", async () => {
  await withWorld(async (join) => {
    const alice = await join(ALICE);
    const bob = await join(BOB);
    const carol = await join(CAROL);
    await bob.peers.requestPeer(ALICE);
    await carol.peers.requestPeer(ALICE);
    await Deno.mkdir(alice.store.dir, { recursive: true });
    await Deno.writeTextFile(alice.store.fileOf(BOB), "{ broken");
    const found = await alice.peers.discover();
    assertEquals(found.newPending, [CAROL]);
    assertEquals(found.problems.length, 1);
    assertMatch(found.problems[0]!, /peers\/bob@example\.org\.json is unusable: not JSON/);
    assertEquals(await Deno.readTextFile(alice.store.fileOf(BOB)), "{ broken", "left as it was");
  });
});
