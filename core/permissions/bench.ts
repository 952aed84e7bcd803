/**
 * A ready-made workload for `deno task bench`'s permissions scenario (issue 3):
 * 1,000 permission files across a 6-level folder tree, random users and
 * paths, from a seed, so every run measures the same thing. Not part of the
 * public API in mod.ts: only the bench script imports it.
 *
 * @example
 * ```ts
 * const fixture = buildBenchFixture();
 * const { checksPerSecond } = runBenchChecks(fixture, 1_000_000);
 * ```
 * @module
 */
import { PermissionEngine } from "./engine.ts";
import type { AccessLevel } from "./engine.ts";
import { prng } from "../random/prng.ts";

/** Knobs for {@linkcode buildBenchFixture}. */
export interface BenchOptions {
  /** Permission files to create (default 1,000). */
  readonly files?: number;
  /** Deepest folder level holding a file (default 6). */
  readonly depth?: number;
  /** Distinct paths to check, cycled through (default 10,000). */
  readonly paths?: number;
  /** PRNG seed (default 1). */
  readonly seed?: number;
}

/** A built workload. */
export interface BenchFixture {
  /** The engine holding every file. */
  readonly engine: PermissionEngine;
  /** The datasite owner. */
  readonly owner: string;
  /** Users checked (the owner is not among them, so every check walks the tree). */
  readonly users: readonly string[];
  /** Datasite-relative paths checked. */
  readonly paths: readonly string[];
  /** Levels checked, cycled. */
  readonly levels: readonly AccessLevel[];
  /** The permission files' contents by folder, e.g. to write the tree to disk. */
  readonly files: ReadonlyMap<string, string>;
}

const RULES = [
  "  - pattern: '**'\n    access:\n      read: ['*']\n",
  "  - pattern: '**/*.csv'\n    access:\n      read: ['*@hospital.org']\n",
  "  - pattern: '*.json'\n    access:\n      write: ['user3@lab.org', 'user7@lab.org']\n",
  "  - pattern: 'reports/**'\n    access:\n      admin: ['user1@lab.org']\n      read: ['user?@lab.org']\n",
  "  - pattern: '{{.UserEmail}}/**'\n    access:\n      write: ['USER']\n",
  "  - pattern: 'd2/data.csv'\n    access:\n      read: ['user5@lab.org']\n",
  "  - pattern: '**/.*'\n    access:\n      read: []\n",
  "  - pattern: 'd[0-4]/*'\n    access:\n      read: ['user2@lab.org']\n",
];

/** Build the workload: deterministic for a given seed. */
export function buildBenchFixture(options: BenchOptions = {}): BenchFixture {
  const nFiles = options.files ?? 1000;
  const depth = options.depth ?? 6;
  const nPaths = options.paths ?? 10_000;
  const rand = prng(options.seed ?? 1);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
  const names = ["d0", "d1", "d2", "d3", "d4", "d5", "d6", "d7", "reports", "user1@lab.org"];

  const files = new Map<string, string>();
  files.set("", "rules:\n" + RULES[0]);
  // Random folders up to `depth` levels; every ancestor of a file's folder
  // exists as a folder, so walks really go deep.
  while (files.size < nFiles) {
    const d = 1 + Math.floor(rand() * depth);
    const segs: string[] = [];
    for (let i = 0; i < d; i++) segs.push(pick(names));
    const folder = segs.join("/");
    if (files.has(folder)) continue;
    let text = rand() < 0.05 ? "terminal: true\nrules:\n" : "rules:\n";
    const n = 2 + Math.floor(rand() * 5);
    for (let i = 0; i < n; i++) text += pick(RULES);
    files.set(folder, text);
  }
  const engine = new PermissionEngine();
  for (const [folder, text] of files) {
    const r = engine.setFile(folder, text);
    if (!r.ok) throw new Error(`bench fixture file ${folder} is invalid: ${r.error.reason}`);
  }

  const leaves = ["data.csv", "notes.txt", "a.json", ".env", "syft.pub.yaml", "report.pdf"];
  const paths: string[] = [];
  for (let i = 0; i < nPaths; i++) {
    const d = Math.floor(rand() * (depth + 2));
    const segs: string[] = [];
    for (let j = 0; j < d; j++) segs.push(pick(names));
    segs.push(pick(leaves));
    paths.push(segs.join("/"));
  }
  const users = Array.from({ length: 20 }, (_, i) => `user${i}@lab.org`)
    .concat(["a@hospital.org", "b@hospital.org", "eve@evil.org"]);
  return {
    engine,
    owner: "owner@lab.org",
    users,
    paths,
    levels: ["read", "write", "admin"],
    files,
  };
}

/** Run `n` checks (paths, users and levels cycled) and time them. */
export function runBenchChecks(
  fixture: BenchFixture,
  n: number,
  mode: "allows" | "check" = "allows",
): { checks: number; allowed: number; seconds: number; checksPerSecond: number } {
  const { engine, owner, users, paths, levels } = fixture;
  let allowed = 0;
  const start = performance.now();
  for (let i = 0; i < n; i++) {
    const path = paths[i % paths.length] as string;
    const user = users[i % users.length] as string;
    const level = levels[i % levels.length] as AccessLevel;
    const ok = mode === "allows"
      ? engine.allows(owner, path, user, level)
      : engine.check(owner, path, user, level).allowed;
    if (ok) allowed++;
  }
  const seconds = (performance.now() - start) / 1000;
  return { checks: n, allowed, seconds, checksPerSecond: n / seconds };
}
