/**
 * The policy hash of a job: SHA-256 of the canonical JSON of what it would do
 * (type, entrypoint, dependencies, datasets, grants, every file's path and
 * hash), so two jobs with the same code and asks hash alike whoever sent them,
 * whatever their id, name or time. Approval pins it; `job run` checks the
 * staged copy against it; an auto-approval policy matches on it.
 * @module
 */
import { sha256Hex } from "../crypto/hash.ts";
import type { JobConfig } from "./config.ts";

/** The canonical JSON the hash is taken over (keys sorted, no spaces, files sorted by path). */
export function canonicalPolicyJson(config: JobConfig): string {
  const files = [...config.files]
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
    .map((f) => [f.path, f.sha256]);
  return canonicalJson({
    type: config.type,
    entrypoint: config.entrypoint,
    dependencies: config.dependencies,
    datasets: config.datasets,
    grants: { network: config.grants.network, timeout: config.grants.timeout },
    files,
  });
}

/** SHA-256 (hex) of {@linkcode canonicalPolicyJson}. */
export function policyHash(config: JobConfig): string {
  return sha256Hex(new TextEncoder().encode(canonicalPolicyJson(config)));
}

/** JSON with object keys sorted at every depth and no whitespace. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}
