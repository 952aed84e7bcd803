/**
 * Auto-approval policies, kept in `$SYFT_HOME/job_policies.yaml`: a name, the
 * policy hash of an approved job and the peers it applies to. A pending job
 * from a listed peer with the same hash is approved, run and released.
 * @module
 */
import { stringify } from "yaml";
import { SyftError } from "../errors/mod.ts";
import { writeFileAtomic } from "../fs/atomic.ts";
import { denoFs } from "../fs/deno_fs.ts";
import type { LocalFs } from "../fs/local_fs.ts";
import { isIdentity } from "../paths/identity.ts";
import { Fields } from "./_fields.ts";

/** Policy names: one word, like dataset names. */
export const POLICY_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/** One policy. */
export interface JobPolicy {
  name: string;
  policy_hash: string;
  peers: string[];
  /** The job it was made from, `<submitter>/<id>`. */
  from: string;
  created_at: string;
}

export { POLICY_FILE } from "./layout.ts";

/** Parse the policy file. */
export function parsePolicies(text: string, file: string): JobPolicy[] {
  if (text.trim() === "") return [];
  const f = Fields.parse(text, file, "E_INPUT");
  const out = f.list("policies").map((p) => ({
    name: p.string("name", POLICY_NAME_RE),
    policy_hash: p.string("policy_hash", /^[0-9a-f]{64}$/),
    peers: p.strings("peers"),
    from: p.string("from"),
    created_at: p.string("created_at"),
  }));
  for (const p of out) {
    const bad = p.peers.find((e) => !isIdentity(e));
    if (bad !== undefined) {
      f.fail("policies", `${p.name} lists an invalid peer ${JSON.stringify(bad)}`);
    }
  }
  return out;
}

/** Read the policy file (none yet: no policies). */
export async function readPolicies(path: string, fs: LocalFs = denoFs): Promise<JobPolicy[]> {
  try {
    return parsePolicies(await fs.readTextFile(path), path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return [];
    throw err;
  }
}

/** Write the policy file atomically. */
export async function writePolicies(
  path: string,
  policies: readonly JobPolicy[],
  fs: LocalFs = denoFs,
): Promise<void> {
  const text = "# Auto-approval policies (syft job policy add/remove).\n" +
    stringify({ policies }, { lineWidth: 0 });
  await writeFileAtomic(path, text, { mode: 0o600, fs });
}

/** The policy that approves a job with this hash from this submitter, if any. */
export function matchPolicy(
  policies: readonly JobPolicy[],
  hash: string,
  submitter: string,
): JobPolicy | null {
  return policies.find((p) => p.policy_hash === hash && p.peers.includes(submitter)) ?? null;
}

/** A new list with `policy` added; a taken name refuses. */
export function addPolicy(policies: readonly JobPolicy[], policy: JobPolicy): JobPolicy[] {
  if (policies.some((p) => p.name === policy.name)) {
    throw new SyftError("E_EXISTS", `a policy named ${JSON.stringify(policy.name)} exists`, {
      hint: `choose another name, or \`syft job policy remove ${policy.name}\` first`,
    });
  }
  return [...policies, policy];
}
