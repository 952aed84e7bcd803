/**
 * The whole flow over Dropbox (issue 18 "Done when"): identities that signed
 * in to the fake Dropbox through `syft auth dropbox` and ran `init --transport
 * dropbox`, driven through the real CLI and the real plugin: a data owner and
 * a scientist peer by fingerprint, the owner publishes a dataset, the
 * scientist sends a job, the owner runs it with --release and the scientist
 * reads the results. (Faults: dropbox_faults_test.ts; a Drive peer beside a
 * Dropbox peer: dropbox_and_drive_round_test.ts.)
 */
import { posix } from "node:path";
import { assert, assertEquals } from "../assert.ts";
import { probeBubblewrap } from "../../core/sandbox/probe.ts";
import { filesUnder, peerUp, type Site } from "./_rig.ts";
import { dropboxSites, publishAges, submitCount } from "./_dropbox_rig.ts";

const OWNER = "data@hospital.org";
const SCIENTIST = "ds@lab.org";
const SANDBOX = (await probeBubblewrap()).available ? "bwrap" : "none";

function json<T>(r: { code: number; stdout: string; stderr: string }): T {
  assertEquals(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as T;
}

/** What run.sh counted at each owner, from `job results`. */
async function counts(scientist: Site, id: string, owners: Site[]): Promise<string[]> {
  const out = posix.join(posix.dirname(scientist.root), `results-${id}`);
  await scientist.ok(["job", "results", id, "--out", out]);
  return await Promise.all(
    owners.map(async (o) =>
      (await Deno.readTextFile(posix.join(out, o.email, "outputs/count.txt"))).trim()
    ),
  );
}

Deno.test("a data owner and a scientist on Dropbox: peering by fingerprint, a dataset, a job run with --release and its results; private rows never travel", async () => {
  const dbx = await dropboxSites([OWNER, SCIENTIST]);
  try {
    const [owner, ds] = dbx.sites as Site[] as [Site, Site];
    await publishAges(owner, [30, 40, 50, 60, 70]);
    await peerUp(ds, owner);
    assertEquals(
      json<{ email: string; state: string }[]>(await ds.syft(["peer", "list", "--json"]))
        .map((p) => [p.email, p.state]),
      [[OWNER, "accepted"]],
    );
    await owner.ok(["sync"]);
    await ds.ok(["sync"]);
    const datasets = json<{ name: string; owner: string }[]>(
      await ds.syft(["dataset", "list", "--json"]),
    );
    assertEquals(datasets.map((d) => [d.owner, d.name]), [[OWNER, "ages"]]);
    assertEquals(await filesUnder(posix.join(ds.mirror(owner), "private")), []);

    const id = await submitCount(ds, [owner]);
    await ds.ok(["sync"]);
    await owner.ok(["sync"]);
    await owner.ok(["job", "approve", id]);
    await owner.ok(["job", "run", id, "--sandbox", SANDBOX, "--release"]);
    await owner.ok(["sync"]);
    await ds.ok(["job", "wait", id, "--timeout", "60"]);
    assertEquals(await counts(ds, id, [owner]), ["5"]);
    // The channel folders are Dropbox shared folders the recipient mounted, not copies.
    const shared = await (await fetch(`${dbx.world.fake.url}/api/2/sharing/list_folder_members`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${dbx.world.fake.token(SCIENTIST)}`,
        "content-type": "application/json",
      },
      body: JSON.stringify({
        shared_folder_id: await channelFolderId(dbx.world.fake, OWNER, SCIENTIST),
      }),
    })).json() as { users: { access_type: { ".tag": string }; user: { email: string } }[] };
    assertEquals(
      shared.users.map((u) => [u.user.email, u.access_type[".tag"]]).sort(),
      [[OWNER, "owner"], [SCIENTIST, "viewer"]],
    );
  } finally {
    await dbx.close();
  }
});

/** The shared-folder id of the channel `sender` -> `recipient`, as the sender lists it. */
async function channelFolderId(
  fake: { url: string; token(email: string): string },
  sender: string,
  recipient: string,
): Promise<string> {
  const r = await fetch(`${fake.url}/api/2/files/get_metadata`, {
    method: "POST",
    headers: { authorization: `Bearer ${fake.token(sender)}`, "content-type": "application/json" },
    body: JSON.stringify({ path: `/syft/syft1#${sender}#${recipient}` }),
  });
  const meta = await r.json() as { sharing_info?: { shared_folder_id?: string } };
  assert(meta.sharing_info?.shared_folder_id, JSON.stringify(meta));
  return meta.sharing_info.shared_folder_id;
}
