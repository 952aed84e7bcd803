/**
 * A data owner with a private dataset and a scientist whose job the owner has
 * approved, through the real CLI and a local transport in a temp folder: the
 * starting point of the sandbox's security tests. The caller runs the job.
 * @module
 */
import { posix } from "node:path";
import { assertEquals } from "../assert.ts";
import { peerUp, put, type Site, type World, worldTemplate } from "../e2e/_rig.ts";
import { probeBubblewrap } from "../../core/sandbox/probe.ts";

/** The sandbox the runner uses here: bwrap where it works (CI), else none. */
export const SANDBOX = (await probeBubblewrap()).available ? "bwrap" : "none";

/** An owner, a scientist and one approved job. */
export interface ApprovedJob {
  w: World;
  owner: Site;
  scientist: Site;
  id: string;
  /** A line of the private dataset that must never reach anyone but the owner. */
  secret: string;
  /** Remove everything the rig made. */
  cleanup(): Promise<void>;
}

/** Set `sandbox.<key>` values in a site's config.yaml. */
export async function setSandboxSettings(
  site: Site,
  values: Record<string, number>,
): Promise<void> {
  const path = posix.join(site.home, "config.yaml");
  let text = await Deno.readTextFile(path);
  for (const [k, v] of Object.entries(values)) {
    const line = new RegExp(`^  ${k}: \\d+$`, "m");
    if (!line.test(text)) throw new Error(`config.yaml of ${site.email} has no sandbox.${k}`);
    text = text.replace(line, `  ${k}: ${v}`);
  }
  await Deno.writeTextFile(path, text);
}

/**
 * Owner alice shares dataset "ages" (private rows holding a random secret, kept
 * in the world's `secret` file), scientist carol is her accepted peer: made
 * once, copied for each job.
 */
const peeredOwner = worldTemplate(async (w) => {
  const secret = `PRIVATE-ROW-${crypto.randomUUID()}`;
  await Deno.writeTextFile(posix.join(w.base, "secret"), secret);
  const owner = await w.site("alice@example.org");
  const src = posix.join(w.base, "alice-data");
  await put(src, "mock/ages.csv", "age\n1\n");
  await put(src, "private/ages.csv", `age\n30\n# ${secret}\n`);
  await owner.ok([
    "dataset",
    "create",
    "ages",
    "--mock",
    posix.join(src, "mock"),
    "--private",
    posix.join(src, "private"),
  ]);
  // The source folder is not what a run may expose: only the datasite's copy is.
  await Deno.remove(src, { recursive: true });
  const scientist = await w.site("carol@example.org");
  await peerUp(scientist, owner);
  await scientist.ok(["sync"]);
}, { shareAs: "security/_sandbox_rig.ts approvedJob" });

/** Owner alice shares dataset "ages"; scientist carol sends `script` as run.sh; alice approves. */
export async function approvedJob(script: string): Promise<ApprovedJob> {
  const w = await peeredOwner();
  try {
    // Read and removed at once: the tests search the whole world for the secret.
    const secret = await Deno.readTextFile(posix.join(w.base, "secret"));
    await Deno.remove(posix.join(w.base, "secret"));
    const owner = w.open("alice@example.org");
    const scientist = w.open("carol@example.org");
    const dir = posix.join(w.base, "job");
    await put(dir, "run.sh", script);
    const sent = await scientist.ok([
      "job",
      "submit",
      "--to",
      owner.email,
      "--dir",
      dir,
      "--dataset",
      "ages",
      "--json",
    ]);
    const id = (JSON.parse(sent.stdout) as { id: string }).id;
    await owner.ok(["sync"]);
    const approved = await owner.syft(["job", "approve", id]);
    assertEquals(approved.code, 0, approved.stderr);
    return {
      w,
      owner,
      scientist,
      id,
      secret,
      cleanup: () => Deno.remove(w.base, { recursive: true }),
    };
  } catch (err) {
    await Deno.remove(w.base, { recursive: true }).catch(() => {});
    throw err;
  }
}
