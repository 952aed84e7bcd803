/**
 * End-to-end sites over the fake Drive (in its own process): each identity
 * signs in through `syft auth gdrive --no-browser` and runs `init --transport
 * gdrive`, then is driven through the real CLI like the `local:` sites of
 * `_rig.ts` (same `Site` shape, so `peerUp` and the other helpers apply).
 * `settle` syncs everyone until a whole pass moves nothing, for runs with
 * injected faults where one round may leave work for the next.
 * @module
 */
import { posix } from "node:path";
import { assertEquals } from "../assert.ts";
import { type DriveWorld, driveWorld } from "../cli/_gdrive_world.ts";
import type { Site } from "./_rig.ts";

/** The fake Drive and one signed-in, initialised site per email. */
export interface DriveSites {
  world: DriveWorld;
  sites: Site[];
  close(): Promise<void>;
}

/** Sign each of `emails` in to a fresh fake Drive and init it over gdrive. */
export async function driveSites(emails: string[]): Promise<DriveSites> {
  const world = await driveWorld(emails);
  try {
    // Sign-ins are independent (each its own loopback listener): run them side by side.
    const sites = await Promise.all(emails.map(async (email): Promise<Site> => {
      const site = await world.site(email);
      const signIn = await world.signIn(site, ["--email", email]);
      assertEquals(signIn.code, 0, `auth gdrive (${email}):\n${signIn.stdout}\n${signIn.stderr}`);
      await site.ok(["init", "--email", email, "--root", site.root, "--transport", "gdrive"]);
      return {
        email,
        home: site.home,
        root: site.root,
        datasite: posix.join(site.root, email),
        mirror: (peer) => posix.join(site.root, peer.email),
        syft: (args) => site.syft(args),
        ok: (args) => site.ok(args),
      };
    }));
    return { world, sites, close: () => world.close() };
  } catch (err) {
    await world.close();
    throw err;
  }
}

/** What `settle` saw. */
export interface Settled {
  /** Passes over every site, the last one quiet. */
  passes: number;
  /** Syncs that exited 4 (a round that still failed after the plugin's retries). */
  failedRounds: number;
}

/**
 * `syft sync` on every site in turn until one whole pass sends, receives,
 * applies and proposes nothing and every sync exited 0; at most `maxPasses`.
 * A sync that exits 4 lost nothing (docs/cli.md), so it is simply run again.
 */
export async function settle(sites: Site[], maxPasses = 8): Promise<Settled> {
  let failedRounds = 0;
  for (let pass = 1; pass <= maxPasses; pass++) {
    let quiet = true;
    for (const site of sites) {
      const r = await site.syft(["sync", "--json"]);
      if (r.code === 4) {
        failedRounds++;
        quiet = false;
        continue;
      }
      assertEquals(r.code, 0, `sync (${site.email}):\n${r.stdout}\n${r.stderr}`);
      const s = JSON.parse(r.stdout) as Record<string, number>;
      const moved = (s.sent ?? 0) + (s.received ?? 0) + (s.applied ?? 0) + (s.proposed ?? 0) +
        (s.rejected ?? 0);
      if (moved > 0) quiet = false;
    }
    if (quiet) return { passes: pass, failedRounds };
  }
  throw new Error(`no convergence after ${maxPasses} passes (${failedRounds} failed rounds)`);
}
