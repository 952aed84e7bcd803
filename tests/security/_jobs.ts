/**
 * A data owner and a data scientist on one `local:` transport, for the job
 * security properties: the owner has a dataset `ages` (mock shared with
 * everyone) with a secret in its private rows.
 * @module
 */
import { posix } from "node:path";
import { assertEquals } from "../assert.ts";
import type { SyftRun } from "../../scripts/syft_process.ts";
import { peerUp, put, type Site, type World, worldTemplate } from "../e2e/_rig.ts";
import { probeBubblewrap } from "../../core/sandbox/probe.ts";
import { type JobConfig, serializeJobConfig } from "../../core/jobs/mod.ts";
import { sha256Hex } from "../../core/crypto/hash.ts";

export const ALICE = "alice@example.org";
export const CAROL = "carol@example.org";
export const SECRET = "REAL-AGE-ROW-7c41e-never-leaves";

/** The sandbox this machine can run jobs in. */
export const SANDBOX = (await probeBubblewrap()).available ? "bwrap" : "none";

/** Require an exit code, showing the output when it differs. */
export function code(r: SyftRun, expected: number): void {
  assertEquals(r.code, expected, `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
}

/** The `--json` output of a successful run. */
export function json<T = unknown>(r: SyftRun): T {
  code(r, 0);
  return JSON.parse(r.stdout) as T;
}

/** Create a dataset at `site` with a mock and private rows holding {@linkcode SECRET}. */
export async function dataset(
  w: World,
  site: Site,
  name: string,
  extra: string[] = [],
): Promise<void> {
  const src = posix.join(w.base, `${site.email}-${name}`);
  await put(src, "mock/ages.csv", "age\n1\n2\n");
  await put(src, "private/ages.csv", `age\n30\n40\n# ${SECRET}\n`);
  await site.ok([
    "dataset",
    "create",
    name,
    "--mock",
    posix.join(src, "mock"),
    "--private",
    posix.join(src, "private"),
    ...extra,
  ]);
}

/** Alice (owner of `ages`) and Carol (scientist), peered and synced; `done` removes everything. */
export async function pair(): Promise<
  { w: World; alice: Site; carol: Site; done: () => Promise<void> }
> {
  const w = await paired();
  const [alice, carol] = [w.open(ALICE), w.open(CAROL)];
  return { w, alice, carol, done: () => Deno.remove(w.base, { recursive: true }) };
}

/** {@linkcode pair}'s world, made once and copied for each caller. */
const paired = worldTemplate(async (w) => {
  const alice = await w.site(ALICE);
  await dataset(w, alice, "ages");
  const carol = await w.site(CAROL);
  await peerUp(carol, alice);
  await carol.ok(["sync"]);
}, { shareAs: "security/_jobs.ts pair" });

/** Carol submits a folder with this run.sh to Alice; returns the job id. */
export async function submit(
  carol: Site,
  dir: string,
  body: string,
  extra: string[] = ["--dataset", "ages"],
): Promise<string> {
  await put(dir, "run.sh", body);
  const r = json<{ id: string }>(
    await carol.syft(["job", "submit", "--to", ALICE, "--dir", dir, "--json", ...extra]),
  );
  return r.id;
}

/** Write a job folder by hand into the owner's mirror, as a client that is not syft would. */
export async function forge(
  carol: Site,
  alice: Site,
  id: string,
  change: Partial<JobConfig>,
): Promise<void> {
  const folder = posix.join(carol.mirror(alice), `app_data/job/inbox/${CAROL}/${id}`);
  await put(folder, "run.sh", "echo forged\n");
  const run = await Deno.readFile(posix.join(folder, "run.sh"));
  await put(
    folder,
    "config.yaml",
    serializeJobConfig({
      id,
      name: "forged",
      submitted_by: CAROL,
      submitted_at: new Date().toISOString(),
      type: "bash",
      entrypoint: "run.sh",
      dependencies: [],
      datasets: [],
      grants: { network: false, timeout: 60 },
      files: [{ path: "run.sh", sha256: sha256Hex(run) }],
      ...change,
    }),
  );
}

/** The owner's view of a job (`job show --json`, first owner). */
export async function ownerView(
  alice: Site,
  id: string,
): Promise<{ status: string; history: { status: string; reason: string | null }[] }> {
  const shown = json<
    { owners: { status: string; history: { status: string; reason: string | null }[] }[] }
  >(await alice.syft(["job", "show", id, "--json"]));
  return shown.owners[0]!;
}
