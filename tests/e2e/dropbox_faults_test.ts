/**
 * Three identities on the fake Dropbox with 10 % of its calls faulted (every
 * kind: 429s of both sorts with Retry-After, 500/503, cut connections, lost
 * answers, latency; seeded, `SYFT_FAULT_SEED` replays a run): a scientist
 * peers with two owners, they publish, the scientist proposes a file and sends
 * a job to both, both run it with --release, and everything converges with
 * nothing lost and nothing applied twice.
 *
 * Sign-in, init and the job commands run through the real CLI (faults paused:
 * they are local steps); every round runs the real engine over the real
 * plugin Worker in this process, with the faults on and the plugin's retry
 * schedule shortened (5 ms base, 40 ms cap, 8 tries; Retry-After is capped
 * by it too), so a few hundred faulted calls fit the test's time budget.
 */
import { posix } from "node:path";
import { assert, assertEquals } from "../assert.ts";
import { probeBubblewrap } from "../../core/sandbox/probe.ts";
import { receiveJobs } from "../../core/jobs/after_round.ts";
import { loadConfig } from "../../core/config/load.ts";
import { ALL_FAULT_KINDS } from "../fakes/dropbox_server.ts";
import { filesUnder, put, type Site } from "./_rig.ts";
import {
  credentialsOf,
  dropboxPlugin,
  dropboxSites,
  inProcess,
  type InProcessSite,
  publishAges,
  submitCount,
} from "./_dropbox_rig.ts";

const ALICE = "data@hospital.org";
const BOB = "data@clinic.net";
const CAROL = "ds@lab.org";
const SANDBOX = (await probeBubblewrap()).available ? "bwrap" : "none";
const SEED = Number(Deno.env.get("SYFT_FAULT_SEED") ?? Math.floor(Math.random() * 1_000_000));
const BACKOFF = { baseMs: 5, capMs: 40, tries: 8 };

function json<T>(r: { code: number; stdout: string; stderr: string }): T {
  assertEquals(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as T;
}

Deno.test(`with 10 % of Dropbox calls faulted (seed ${SEED}), three identities peer, publish, propose and send a job to two owners, and converge with nothing lost and nothing applied twice`, async () => {
  const dbx = await dropboxSites([ALICE, BOB, CAROL]);
  const engines: InProcessSite[] = [];
  let plan = 0;
  const faultsOn = () =>
    dbx.world.fake.faults.set({
      seed: SEED + plan++,
      rate: 0.1,
      kinds: ALL_FAULT_KINDS,
      latencyMs: 20,
      retryAfterSeconds: 1,
    });
  const faultsOff = () => dbx.world.fake.faults.set({});
  try {
    const [alice, bob, carol] = dbx.sites as Site[] as [Site, Site, Site];
    for (const site of [alice, bob, carol]) {
      engines.push(
        await inProcess(
          site,
          await dropboxPlugin(dbx.world.fake.url, site.email, credentialsOf(site), BACKOFF),
        ),
      );
    }
    const [a, b, c] = engines as [InProcessSite, InProcessSite, InProcessSite];
    const sites = [alice, bob, carol];

    /** Rounds on every site (and the job intake after each) until a whole pass moves nothing. */
    const settle = async () => {
      faultsOn();
      try {
        for (let pass = 1; pass <= 10; pass++) {
          let quiet = true;
          for (const [i, engine] of engines.entries()) {
            const r = await engine.round();
            const site = sites[i]!;
            const wrote = await receiveJobs({
              home: site.home,
              config: await loadConfig(site.home),
              note: () => {},
              warn: () => {},
            });
            if (r.sent + r.received + r.applied + r.proposed + r.rejected > 0 || wrote) {
              quiet = false;
            }
            if (r.failures.length > 0) quiet = false;
          }
          if (quiet) return pass;
        }
        throw new Error("no convergence after 10 passes");
      } finally {
        faultsOff();
      }
    };

    await Promise.all([
      publishAges(alice, [30, 40, 50, 60]),
      publishAges(bob, [70, 80]),
    ]);
    await alice.ok(["perm", "grant", "shared/", CAROL, "--write"]);
    for (let i = 0; i < 5; i++) await put(alice.datasite, `public/p${i}.txt`, `public ${i}`);

    // Peering through the faulted API: requests, discovery, approval by fingerprint.
    faultsOn();
    const retry = async <T>(step: () => Promise<T>): Promise<T> => {
      for (let i = 0;; i++) {
        try {
          return await step();
        } catch (err) {
          if (i >= 5) throw err; // a failed step lost nothing: the user runs it again
        }
      }
    };
    await retry(() => c.service.requestPeer(ALICE));
    await retry(() => c.service.requestPeer(BOB));
    const fp = (await c.service.ownKeys()).fingerprint;
    for (const [engine, site] of [[a, alice], [b, bob]] as const) {
      await retry(() => engine.service.discover());
      await retry(() =>
        engine.service.approvePeer(CAROL, { datasite: site.datasite, fingerprint: fp })
      );
    }
    faultsOff();
    await settle();
    assertEquals(
      json<{ email: string; state: string }[]>(await carol.syft(["peer", "list", "--json"]))
        .map((p) => [p.email, p.state]).sort(),
      [[BOB, "accepted"], [ALICE, "accepted"]],
    );
    const publicFiles = await filesUnder(posix.join(carol.mirror(alice), "public"));
    for (let i = 0; i < 5; i++) assert(publicFiles.includes(`p${i}.txt`), publicFiles.join());

    // A proposal and a job to both owners, sent once, applied once.
    await put(carol.mirror(alice), "shared/note.txt", "from carol");
    const id = await submitCount(carol, [alice, bob]);
    await settle();
    assertEquals(await filesUnder(posix.join(alice.datasite, "shared")), ["note.txt"]);
    assertEquals(
      await Deno.readTextFile(posix.join(alice.datasite, "shared/note.txt")),
      "from carol",
    );
    for (const owner of [alice, bob]) {
      await owner.ok(["job", "approve", id]);
      await owner.ok(["job", "run", id, "--sandbox", SANDBOX, "--release"]);
    }
    await settle();
    const out = posix.join(posix.dirname(carol.root), "results");
    await carol.ok(["job", "results", id, "--out", out]);
    for (const [owner, n] of [[alice, "4"], [bob, "2"]] as const) {
      assertEquals(
        (await Deno.readTextFile(posix.join(out, owner.email, "outputs/count.txt"))).trim(),
        n,
      );
    }

    // Nothing twice: one job row per owner, no conflict or rejected copies, nothing quarantined.
    const rows = json<{ id: string; owner: string; status: string }[]>(
      await carol.syft(["job", "list", "--json"]),
    );
    assertEquals(rows.map((r) => [r.id, r.owner, r.status]).sort(), [
      [id, BOB, "released"],
      [id, ALICE, "released"],
    ]);
    for (const site of sites) {
      const stray = (await filesUnder(site.root)).filter((f) => /\.(conflict|rejected)/.test(f));
      assertEquals(stray, [], `${site.email}: ${stray.join(", ")}`);
      const q = json<{ quarantined?: unknown[] | number }>(await site.syft(["status", "--json"]))
        .quarantined;
      assertEquals(Array.isArray(q) ? q.length : q ?? 0, 0, `${site.email} quarantined`);
    }
    const injected = dbx.world.fake.faults.injected();
    const total = Object.values(injected).reduce((x, y) => x + y, 0);
    assert(total > 0, `faults were injected: ${JSON.stringify(injected)}`);
  } catch (err) {
    console.error(`fault seed ${SEED} (replay with SYFT_FAULT_SEED=${SEED})`);
    throw err;
  } finally {
    for (const engine of engines) await engine.close().catch(() => {});
    await dbx.close();
  }
});
