/**
 * Shared-folder and Drive peers in one round (issue 13 item 8): the owner
 * routes peer1 over a `local:` folder and peer2 over the Drive plugin against
 * the fake Drive (in its own process). The Drive side runs in process through
 * the plugin host and `gdriveManifest`, not through the registry.
 */
import { posix } from "node:path";
import { assertEquals } from "../assert.ts";
import { peerUp, put, type Site, world } from "./_rig.ts";
import { openSync } from "../../cli/sync.ts";
import { Output } from "../../cli/output.ts";
import type { Context } from "../../cli/context.ts";
import { loadConfig } from "../../core/config/load.ts";
import { homeLayout } from "../../core/config/home.ts";
import { readKeys } from "../../core/config/keystore.ts";
import { PeerService } from "../../core/peers/service.ts";
import { runRound } from "../../core/sync/round.ts";
import { RoutedTransport } from "../../core/sync/routed_transport.ts";
import type { Transport } from "../../core/transport/contract.ts";
import { startPlugin } from "../../plugins/host.ts";
import { gdriveManifest } from "../../plugins/gdrive/manifest.ts";
import { manifestFor } from "../../plugins/registry.ts";
import { CountingTransport } from "../../scripts/counting_transport.ts";
import { startFakeDriveProcess } from "../plugins/gdrive/_fake_rig.ts";

const OWNER = "owner@hospital.org";
const P1 = "peer1@lab.org";
const P2 = "peer2@uni.org";

/** A site's engine and peer service in process over `transport`. */
async function inProcess(site: Site, transport: Transport) {
  const ctx: Context = {
    home: site.home,
    out: new Output({ json: false, quiet: true }, { out: () => {}, err: () => {} }),
    env: { HOME: posix.dirname(site.home) },
    cwd: Deno.cwd(),
    debug: false,
    interactive: false,
  };
  const config = await loadConfig(site.home);
  const opened = await openSync(ctx, config, { transport });
  const routed = transport instanceof RoutedTransport ? transport : undefined;
  const service = new PeerService({
    transport,
    store: opened.peers,
    me: site.email,
    keys: await readKeys(homeLayout(site.home).keys),
    now: () => Date.now(),
    foundOn: routed && ((s) => routed.foundOn(s)),
  });
  return {
    service,
    peers: opened.peers,
    round: () => runRound(opened.sync, opened.peers),
    close: () => opened.close(),
  };
}

Deno.test("one round carries a shared-folder peer and a Drive peer: request on Drive answered on Drive, files both ways, an idle round costs one call per transport", async () => {
  const fake = await startFakeDriveProcess();
  const closers: (() => Promise<void>)[] = [() => fake.close()];
  try {
    await fake.addUsers([OWNER, P2]);
    const w = await world();
    const unused = posix.join(w.base, "unused");
    await Deno.mkdir(unused);
    const owner = await w.site(OWNER);
    const peer1 = await w.site(P1);
    const peer2 = await w.site(P2, { transport: `local:${unused}` });
    await peerUp(peer1, owner);

    const drive = (identity: string) => async () =>
      startPlugin(gdriveManifest({
        identity,
        credentialsDir: await fake.credentials(identity),
        apiBase: fake.api,
        rate: { perSecond: 1000, burst: 1000 },
      }));
    const ownerLocal = new CountingTransport(
      await startPlugin(manifestFor(`local:${w.shared}`, { identity: OWNER, home: owner.home })),
    );
    const ownerDrive = new CountingTransport(await drive(OWNER)());
    const o = await inProcess(
      owner,
      new RoutedTransport({
        me: OWNER,
        members: [
          { name: "default", spec: `local:${w.shared}`, open: () => Promise.resolve(ownerLocal) },
          { name: "drive", spec: "gdrive", open: () => Promise.resolve(ownerDrive) },
        ],
        routeOf: async (peer) => {
          const r = await o.peers.get(peer);
          return r ? r.via ?? "default" : null;
        },
      }),
    );
    closers.push(() => o.close());
    const p2 = await inProcess(peer2, await drive(P2)());
    closers.push(() => p2.close());

    // peer2 asks over Drive; the owner finds it there and answers there.
    await p2.service.requestPeer(OWNER);
    const found = await o.service.discover();
    assertEquals(found.newPending, [P2]);
    assertEquals((await o.peers.get(P2))?.via, "drive");
    await o.service.approvePeer(P2, {
      datasite: owner.datasite,
      fingerprint: (await p2.service.ownKeys()).fingerprint,
    });
    await put(owner.datasite, "public/readme.txt", "for both");
    const first = await o.round();
    assertEquals(first.failures, []);
    await p2.round();
    assertEquals((await p2.peers.get(OWNER))?.state, "accepted");
    await peer1.ok(["sync"]);
    assertEquals(
      await Deno.readTextFile(posix.join(peer2.mirror(owner), "public/readme.txt")),
      "for both",
    );
    assertEquals(
      await Deno.readTextFile(posix.join(peer1.mirror(owner), "public/readme.txt")),
      "for both",
    );

    // The other way: peer2's proposal (over Drive) and peer1's (over the folder) in one owner round.
    await put(peer2.mirror(owner), `app_data/job/inbox/${P2}/job/run.sh`, "echo drive\n");
    await put(peer1.mirror(owner), `app_data/job/inbox/${P1}/job/run.sh`, "echo folder\n");
    await p2.round();
    await peer1.ok(["sync"]);
    const both = await o.round();
    assertEquals(both.failures, []);
    for (const [peer, text] of [[P2, "echo drive\n"], [P1, "echo folder\n"]]) {
      assertEquals(
        await Deno.readTextFile(
          posix.join(owner.datasite, `app_data/job/inbox/${peer}/job/run.sh`),
        ),
        text,
      );
    }

    // Quiet, then an idle round: one changes() call on each transport.
    for (let i = 0; i < 4; i++) {
      const r = await o.round();
      await p2.round();
      if (r.sent + r.received === 0) break;
    }
    ownerLocal.reset();
    ownerDrive.reset();
    const idle = await o.round();
    assertEquals(idle.sent + idle.received, 0);
    const calls = [ownerLocal.reset(), ownerDrive.reset()].map((c) => c.map((x) => x.method));
    assertEquals(calls, [["changes"], ["changes"]], JSON.stringify(calls));
  } finally {
    for (const close of closers.reverse()) await close().catch(() => {});
  }
});
