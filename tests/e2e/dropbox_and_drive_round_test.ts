/**
 * A Drive peer and a Dropbox peer in one round (issue 18 "Done when"): the
 * owner routes peer1 over the Google Drive plugin (fake Drive, its own
 * process) and peer2 over the Dropbox plugin (fake Dropbox), both in process
 * through the plugin host and the router. Each peer's request is found and
 * answered on its own transport, the owner's file reaches both, both peers'
 * proposals land in one owner round, and an idle round costs one `changes()`
 * per transport.
 */
import { posix } from "node:path";
import { assertEquals } from "../assert.ts";
import { put, type Site, world } from "./_rig.ts";
import { RoutedTransport } from "../../core/sync/routed_transport.ts";
import { startPlugin } from "../../plugins/host.ts";
import { gdriveManifest } from "../../plugins/gdrive/manifest.ts";
import { CountingTransport } from "../../scripts/counting_transport.ts";
import { startFakeDriveProcess } from "../plugins/gdrive/_fake_rig.ts";
import { startFakeDropbox } from "../fakes/dropbox_server.ts";
import { dropboxPlugin, inProcess, type InProcessSite, storeFakeSignIn } from "./_dropbox_rig.ts";

const OWNER = "owner@hospital.org";
const P1 = "peer1@drive-lab.org";
const P2 = "peer2@dropbox-uni.org";

Deno.test("one round carries a Drive peer and a Dropbox peer: each request found and answered on its own transport, files both ways, an idle round costs one changes() per transport", async () => {
  const drive = await startFakeDriveProcess();
  const dbx = await startFakeDropbox({ users: [OWNER, P2] });
  const closers: (() => Promise<void>)[] = [() => drive.close(), () => dbx.close()];
  try {
    await drive.addUsers([OWNER, P1]);
    const w = await world();
    const unused = posix.join(w.base, "unused");
    await Deno.mkdir(unused);
    const site = (email: string) => w.site(email, { transport: `local:${unused}` });
    const [owner, peer1, peer2] = [await site(OWNER), await site(P1), await site(P2)];

    const onDrive = async (identity: string) =>
      await startPlugin(gdriveManifest({
        identity,
        credentialsDir: await drive.credentials(identity),
        apiBase: drive.api,
        rate: { perSecond: 1000, burst: 1000 },
      }));
    const onDropbox = async (s: Site) => {
      const dir = posix.join(posix.dirname(s.home), "dropbox-credentials");
      await storeFakeSignIn(dbx, s.email, dir);
      return await dropboxPlugin(dbx.url, s.email, dir);
    };
    const ownerDrive = new CountingTransport(await onDrive(OWNER));
    const ownerDropbox = new CountingTransport(await onDropbox(owner));
    const o: InProcessSite = await inProcess(
      owner,
      new RoutedTransport({
        me: OWNER,
        members: [
          { name: "drive", spec: "gdrive", open: () => Promise.resolve(ownerDrive) },
          { name: "dropbox", spec: "dropbox", open: () => Promise.resolve(ownerDropbox) },
        ],
        routeOf: async (peer) => {
          const r = await o.peers.get(peer);
          return r ? r.via ?? "drive" : null;
        },
      }),
    );
    closers.push(() => o.close());
    const p1 = await inProcess(peer1, await onDrive(P1));
    closers.push(() => p1.close());
    const p2 = await inProcess(peer2, await onDropbox(peer2));
    closers.push(() => p2.close());

    // Each peer asks on its own cloud; the owner finds each there and answers there.
    await p1.service.requestPeer(OWNER);
    await p2.service.requestPeer(OWNER);
    const found = await o.service.discover();
    assertEquals(found.newPending.sort(), [P1, P2]);
    assertEquals((await o.peers.get(P1))?.via, "drive");
    assertEquals((await o.peers.get(P2))?.via, "dropbox");
    for (const [peer, engine] of [[P1, p1], [P2, p2]] as const) {
      await o.service.approvePeer(peer, {
        datasite: owner.datasite,
        fingerprint: (await engine.service.ownKeys()).fingerprint,
      });
    }
    await put(owner.datasite, "public/readme.txt", "for both clouds");
    assertEquals((await o.round()).failures, []);
    await p1.round();
    await p2.round();
    for (const [peer, engine] of [[peer1, p1], [peer2, p2]] as const) {
      assertEquals((await engine.peers.get(OWNER))?.state, "accepted");
      assertEquals(
        await Deno.readTextFile(posix.join(peer.mirror(owner), "public/readme.txt")),
        "for both clouds",
      );
    }

    // The other way: both peers' proposals in one owner round.
    await put(peer1.mirror(owner), `app_data/job/inbox/${P1}/job/run.sh`, "echo drive\n");
    await put(peer2.mirror(owner), `app_data/job/inbox/${P2}/job/run.sh`, "echo dropbox\n");
    await p1.round();
    await p2.round();
    assertEquals((await o.round()).failures, []);
    for (const [peer, text] of [[P1, "echo drive\n"], [P2, "echo dropbox\n"]]) {
      assertEquals(
        await Deno.readTextFile(
          posix.join(owner.datasite, `app_data/job/inbox/${peer}/job/run.sh`),
        ),
        text,
      );
    }

    // Quiet, then an idle round: one changes() call on each transport.
    for (let i = 0; i < 6; i++) {
      const moved = [await o.round(), await p1.round(), await p2.round()]
        .reduce((n, r) => n + r.sent + r.received, 0);
      if (moved === 0) break;
    }
    await o.round(); // takes in what the peers' last rounds wrote (their acks)
    ownerDrive.reset();
    ownerDropbox.reset();
    const idle = await o.round();
    assertEquals(idle.sent + idle.received, 0);
    const calls = [ownerDrive.reset(), ownerDropbox.reset()].map((c) => c.map((x) => x.method));
    assertEquals(calls, [["changes"], ["changes"]], JSON.stringify(calls));
  } finally {
    for (const close of closers.reverse()) await close().catch(() => {});
  }
});
