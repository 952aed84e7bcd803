/**
 * The crash-point sweep (issue 16, item 4): record one round of one site on
 * {@linkcode MemoryFs}, with every upload and delete on the shared storage
 * noted at its place among the disk operations; then, for every prefix of the
 * recording and each crash model (`in-order` and `barrier` by default,
 * `file-sync` where a test asks: see CrashModel in memory_fs.ts), restore the
 * disk and the storage to that instant in a fresh world, restart every site
 * from what is on disk (same keys, new engine objects), settle, and judge the
 * result.
 *
 * A prefix is tried once per distinct (disk, storage) pair: under the barrier
 * model most prefixes leave the same disk (nothing new is durable until the
 * next fsync), and restarting from the same bytes twice proves nothing more.
 * A crash of the process itself (no power cut) is the `in-order` model.
 * @module
 */
import { posix } from "node:path";
import { ManualClock } from "../../core/testing/manual_clock.ts";
import type { CrashModel, FsRecording } from "../../core/testing/memory_fs.ts";
import { MemoryStorage, type MemoryTransport } from "../../core/testing/memory_transport.ts";
import { MemorySite, MemoryWorld } from "../../core/testing/world.ts";
import { isSyftTemp, STAGING_FOLDER } from "../../core/datasite/names.ts";
import { recordCount } from "../_counts.ts";

/** path → content of every file under a site's root (its datasite and its mirrors). */
export type Tree = Record<string, string>;

/** A recorded round, ready to be crashed at any prefix. */
export interface Recording {
  rec: FsRecording;
  /** The storage as it stood after each noted change: journal length → storage. */
  storage: Map<number, MemoryStorage>;
  /** The sites, in settle order, to rebuild: identity, keys and config. */
  sites: MemorySite[];
  /** Which of them was recorded (and crashes). */
  crashed: string;
  /** The clock when the round ended: restarts begin after it. */
  end: number;
  /** The crashed site's tree before and after the recorded round. */
  before: Tree;
  after: Tree;
}

/** A copy of every channel and pool of `from` (bytes are shared: storage never changes them in place). */
export function copyStorage(from: MemoryStorage, into = new MemoryStorage()): MemoryStorage {
  into.channels.clear();
  for (const [key, c] of from.channels) {
    into.channels.set(key, {
      ref: { ...c.ref },
      objects: new Map(c.objects),
      special: new Map(c.special),
      changedAt: c.changedAt,
      lagging: new Map(c.lagging),
    });
  }
  into.pools.clear();
  for (const [sender, pool] of from.pools) {
    into.pools.set(
      sender,
      new Map([...pool].map(([n, o]) => [n, { bytes: o.bytes, readers: new Set(o.readers) }])),
    );
  }
  into.pool = from.pool;
  into.version = from.version;
  return into;
}

/** Whether `path` (under a root) is syft's own scratch: a temp file or the staging folder. */
function scratch(path: string): boolean {
  return isSyftTemp(posix.basename(path)) || path.startsWith(`${STAGING_FOLDER}/`);
}

/**
 * The files of `site`'s root: path → text. syft's scratch files are left
 * out: never content, and {@linkcode stateProblems} finds any left once settled.
 */
export function treeOf(site: MemorySite): Tree {
  const out: Tree = {};
  for (const path of site.files()) {
    if (scratch(path)) continue;
    out[path] = site.read(path)!;
  }
  return out;
}

/** `site`'s transport, noting every change it makes to the storage in the disk's recording. */
function noting(site: MemorySite, onChange: (what: string) => void): MemoryTransport {
  const inner = site.world.storage.transport(site.me);
  const changes = new Set([
    "put",
    "delete",
    "openChannel",
    "poolPut",
    "poolAddReaders",
    "poolDelete",
  ]);
  return new Proxy(inner, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (typeof value !== "function") return value;
      if (!changes.has(String(prop))) return value.bind(target);
      return async (...args: unknown[]) => {
        const result = await value.apply(target, args);
        const name = typeof args[1] === "string" ? args[1] : String(args[0]);
        onChange(`${String(prop)} ${name}`);
        return result;
      };
    },
  });
}

/** A site like `site` (same identity, keys and thresholds) in `world`, with a fresh engine. */
function rebuilt(world: MemoryWorld, site: MemorySite, transport?: MemoryTransport): MemorySite {
  const fresh = new MemorySite(
    world,
    site.me,
    site.keys,
    transport ?? world.storage.transport(site.me),
  );
  if (site.ctx.thresholds) fresh.ctx.thresholds = site.ctx.thresholds;
  return fresh;
}

/**
 * Record `round` run by `crashed` in `world`. The disk is flushed first: the
 * user's edits reached it before the round, and only the round's own writes
 * are at stake.
 */
export async function record(
  world: MemoryWorld,
  crashed: MemorySite,
  round: (site: MemorySite) => Promise<unknown>,
): Promise<Recording> {
  const before = treeOf(crashed);
  world.fs.flush();
  const storage = new Map<number, MemoryStorage>([[0, copyStorage(world.storage)]]);
  const rec = world.fs.record();
  const live = rebuilt(
    world,
    crashed,
    noting(crashed, (what) => {
      world.fs.note(what);
      storage.set(rec.length, copyStorage(world.storage));
    }),
  );
  try {
    await round(live);
  } finally {
    world.fs.stopRecording();
  }
  return {
    rec,
    storage,
    sites: [...world.sites],
    crashed: crashed.me,
    end: world.clock.now(),
    before,
    after: treeOf(live),
  };
}

/** The storage as it stood after the first `i` operations. */
function storageAt(r: Recording, i: number): { at: number; storage: MemoryStorage } {
  let at = 0;
  for (const k of r.storage.keys()) if (k <= i && k > at) at = k;
  return { at, storage: r.storage.get(at)! };
}

/** A world restarted from prefix `i` under `model`: the crashed site first in `sites`. */
export interface Restarted {
  world: MemoryWorld;
  crashed: MemorySite;
  /** Every site by identity. */
  site: Map<string, MemorySite>;
}

/** A fresh world whose disk and storage are as a crash after the first `i` operations left them. */
export function restartAt(r: Recording, i: number, model: CrashModel): Restarted {
  const world = new MemoryWorld(new ManualClock(r.end + 60_000));
  world.fs.restore(r.rec.at(i, model));
  copyStorage(storageAt(r, i).storage, world.storage);
  const site = new Map<string, MemorySite>();
  for (const s of r.sites) {
    const fresh = rebuilt(world, s);
    world.sites.push(fresh);
    site.set(s.me, fresh);
  }
  return { world, crashed: site.get(r.crashed)!, site };
}

/** The prefixes worth a restart under `model`: each distinct (disk, storage) once. */
export function crashPoints(r: Recording, model: CrashModel): number[] {
  const out = [0];
  for (let i = 1; i <= r.rec.length; i++) {
    const sameDisk = r.rec.same(i - 1, i, model);
    const sameStorage = storageAt(r, i - 1).at === storageAt(r, i).at;
    if (!sameDisk || !sameStorage) out.push(i);
  }
  return out;
}

/** Paths of `now` whose content is neither the one before the round nor the one after. */
export function torn(before: Tree, after: Tree, now: Tree): string[] {
  const paths = new Set([...Object.keys(before), ...Object.keys(after), ...Object.keys(now)]);
  return [...paths].filter((p) => now[p] !== before[p] && now[p] !== after[p]).sort();
}

/**
 * A marker's time becomes `*`, so trees settled at different times compare;
 * a second marker of one file becomes `*#2` (a proposal applied or refused
 * twice must not hide behind the first).
 */
export function unstamped(tree: Tree): Tree {
  const out: Tree = {};
  for (const path of Object.keys(tree).sort()) {
    const base = path.replace(/\.(conflict|rejected)\.\d{8}T\d{6}Z(-\d+)?$/, ".$1.*");
    let key = base;
    for (let n = 2; key in out; n++) key = `${base}#${n}`;
    out[key] = tree[path]!;
  }
  return out;
}

/** What is wrong with a site's state folder after settling: unparsable JSON, journals, temps. */
export function stateProblems(site: MemorySite): string[] {
  const dir = posix.dirname(site.ctx.layout.index);
  const fs = site.world.fs;
  if (!fs.existsSync(dir)) return [`${site.me}: no state folder`];
  const out: string[] = [];
  for (const path of fs.listTree(dir)) {
    const rel = path.slice(dir.length + 1);
    if (isSyftTemp(posix.basename(path))) out.push(`${site.me}: temp file left: ${rel}`);
    else if (rel.startsWith("journal/")) out.push(`${site.me}: journal left: ${rel}`);
    else if (rel.startsWith("quarantine/")) out.push(`${site.me}: quarantined: ${rel}`);
    else if (path.endsWith(".json")) {
      try {
        JSON.parse(new TextDecoder().decode(fs.readFileSync(path)));
      } catch (err) {
        out.push(`${site.me}: ${rel} does not parse: ${err}`);
      }
    }
  }
  for (const path of site.files()) {
    if (scratch(path)) out.push(`${site.me}: scratch file left: ${path}`);
  }
  return out;
}

/** Add `n` to the suite's count of crash points (see tests/_counts.ts). */
export function countCrashPoints(n: number): Promise<void> {
  return recordCount("crash points", n);
}

/** What one restart from prefix `i` under `model` did wrong, once settled; empty when nothing. */
export type Judge = (w: Restarted, i: number, model: CrashModel) => Promise<string[]> | string[];

/** What a sweep checks beyond the common rules. */
export interface SweepOptions {
  /** The scenario's own checks, after settling. */
  judge?: Judge;
  /** Done to the restored world before the restart: what a user did while syft was down. */
  downtime?: (w: Restarted, i: number) => void;
  /**
   * Whether every site must settle to the no-crash trees (default true); off
   * when `downtime` changes what the right outcome is, and `judge` says it.
   */
  reference?: boolean;
  /** The crash models to sweep (default all three). */
  models?: readonly CrashModel[];
}

/** The result of a sweep: crash points tried per model, and every failure, named by prefix. */
export interface SweepResult {
  points: Record<CrashModel, number>;
  prefixes: number;
  failures: string[];
}

/** Restart once after the whole round (no crash) and settle: the trees every crash point must reach. */
export async function reference(r: Recording): Promise<Restarted> {
  const w = restartAt(r, r.rec.length, "in-order");
  await w.crashed.sync();
  await w.world.settle();
  return w;
}

/**
 * Restart from every crash point of the models, settle, and judge: the
 * crashed site's files old or new (never torn) on restart, every site's tree
 * the reference's once settled (so no proposal applied twice, no extra
 * `.conflict` or `.rejected` copy, every mirror converged), nothing
 * quarantined, the state folders clean; then `judge` for what the scenario
 * adds. Each failure names its model, prefix and the operation the crash
 * followed.
 */
export function sweep(r: Recording, options: SweepOptions = {}): Promise<SweepResult> {
  return withQuickYields(() => sweepAll(r, options));
}

/**
 * Run `body` with `setTimeout(f, 0)` queued as a microtask. The engine and the
 * memory transport wait a zero timer only to let other work run, and a sweep
 * runs one round at a time; a real zero timer costs 1 to 4 ms (clamped, more
 * on a loaded machine), most of a sweep's time. Timers with a delay are left
 * alone.
 */
async function withQuickYields<T>(body: () => Promise<T>): Promise<T> {
  const real = globalThis.setTimeout;
  const quick = (handler: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) => {
    if ((ms ?? 0) > 0) return real(handler, ms, ...args);
    queueMicrotask(() => handler(...args));
    return 0;
  };
  globalThis.setTimeout = quick as typeof setTimeout;
  try {
    return await body();
  } finally {
    globalThis.setTimeout = real;
  }
}

async function sweepAll(r: Recording, options: SweepOptions): Promise<SweepResult> {
  let expected: Map<string, Tree> | null = null;
  if (options.reference ?? true) {
    const ref = await reference(r);
    expected = new Map([...ref.site].map(([me, s]) => [me, unstamped(treeOf(s))]));
  }
  const result: SweepResult = {
    points: { "in-order": 0, barrier: 0, "file-sync": 0 },
    prefixes: r.rec.length + 1,
    failures: [],
  };
  for (const model of options.models ?? (["in-order", "barrier", "file-sync"] as const)) {
    for (const i of crashPoints(r, model)) {
      result.points[model]++;
      for (const p of await judgeOne(r, i, model, expected, options)) {
        result.failures.push(`${pointName(r, i, model)}: ${p}`);
      }
    }
  }
  return result;
}

/** `in-order prefix 12/40 (after sync /sites/...)`: how failures name a crash point. */
export function pointName(r: Recording, i: number, model: CrashModel): string {
  const op = r.rec.ops[i - 1];
  const after = op ? (op.to ? `${op.kind} ${op.path} -> ${op.to}` : `${op.kind} ${op.path}`) : "";
  return `${model} prefix ${i}/${r.rec.length} (after ${op ? after : "the start"})`;
}

/**
 * What the crashed site's disk shows that is neither before nor after the
 * round. A path missing because its old content was just moved aside as a
 * marker copy (and the new one not yet renamed in) is named apart: nothing is
 * lost, but the name is empty until the next round finishes the journal.
 */
function tornOnDisk(r: Recording, now: Tree): string[] {
  return torn(r.before, r.after, now).map((p) => {
    const old = r.before[p];
    const aside = now[p] === undefined && old !== undefined &&
      Object.keys(now).find((m) =>
        m.startsWith(`${p}.`) && !(m in r.before) && /\.(conflict|rejected)\./.test(m) &&
        now[m] === old
      );
    return aside ? `missing on disk (kept aside as ${aside}): ${p}` : `torn on disk: ${p}`;
  });
}

async function judgeOne(
  r: Recording,
  i: number,
  model: CrashModel,
  expected: Map<string, Tree> | null,
  options: SweepOptions,
): Promise<string[]> {
  const w = restartAt(r, i, model);
  const problems = tornOnDisk(r, treeOf(w.crashed));
  options.downtime?.(w, i);
  try {
    await w.crashed.sync();
    await w.world.settle();
  } catch (err) {
    return [...problems, `restart failed: ${err instanceof Error ? err.message : err}`];
  }
  for (const [me, s] of w.site) {
    const quarantined = s.rounds.reduce((n, x) => n + x.quarantined, 0);
    if (quarantined > 0) problems.push(`${me} quarantined ${quarantined}`);
    problems.push(...stateProblems(s));
    if (!expected) continue;
    const got = unstamped(treeOf(s));
    for (const path of torn(expected.get(me)!, expected.get(me)!, got)) {
      problems.push(
        `${me} settled to ${show(got[path])} at ${path}, not ${show(expected.get(me)![path])}`,
      );
    }
  }
  problems.push(...await (options.judge?.(w, i, model) ?? []));
  return problems;
}

function show(text: string | undefined): string {
  if (text === undefined) return "nothing";
  return text.length > 40 ? `${JSON.stringify(text.slice(0, 40))}…` : JSON.stringify(text);
}

/** Time `sweep`, print what it tried (one line) and count its crash points for the suite. */
export async function timedSweep(r: Recording, options: SweepOptions = {}): Promise<SweepResult> {
  const started = performance.now();
  const result = await sweep(r, options);
  const ms = performance.now() - started;
  const { points: by } = result;
  const points = by["in-order"] + by.barrier + by["file-sync"];
  const own = by["file-sync"] > 0 ? `, ${by["file-sync"]} with file-sync` : "";
  console.log(
    `  ${points} crash points (${
      by["in-order"]
    } in order, ${by.barrier} at a barrier${own}) of ${result.prefixes} prefixes in ${
      ms.toFixed(0)
    } ms`,
  );
  await countCrashPoints(points);
  return result;
}

/**
 * A crash while recovering from a crash: for each crash point of `r` under
 * `outer`, record the restarted site's first round and sweep that one under
 * `inner`. Every failure is named by both points. The restart's own
 * reference must be `r`'s (the second crash may not change the outcome).
 */
export async function doubleSweep(
  r: Recording,
  outer: CrashModel,
  inner: CrashModel,
): Promise<SweepResult> {
  const first = await reference(r);
  const expected = new Map([...first.site].map(([me, s]) => [me, unstamped(treeOf(s))]));
  const result: SweepResult = {
    points: { "in-order": 0, barrier: 0, "file-sync": 0 },
    prefixes: 0,
    failures: [],
  };
  for (const i of crashPoints(r, outer)) {
    const w = restartAt(r, i, outer);
    const again = await record(w.world, w.crashed, (site) => site.sync()).catch((err) => err);
    if (!(again instanceof Object && "rec" in again)) {
      result.failures.push(`${pointName(r, i, outer)}: restart failed: ${again}`);
      continue;
    }
    const inside = await sweep(again, {
      models: [inner],
      judge: (w2) => {
        const problems: string[] = [];
        for (const [me, s] of w2.site) {
          const got = unstamped(treeOf(s));
          const want = expected.get(me)!;
          for (const path of torn(want, want, got)) {
            problems.push(
              `${me} settled to ${show(got[path])} at ${path}, not ${show(want[path])}`,
            );
          }
        }
        return problems;
      },
    });
    result.points[inner] += inside.points[inner];
    result.prefixes += inside.prefixes;
    for (const f of inside.failures) result.failures.push(`${pointName(r, i, outer)}, then ${f}`);
  }
  return result;
}

/**
 * Where `reader`'s mirror of `owner` differs from the owner's own files under
 * `folders` (paths relative to the owner's datasite; markers and permission
 * files aside): the convergence every settled crash point must reach.
 */
export function disagreements(
  w: Restarted,
  owner: string,
  reader: string,
  folders: string[],
): string[] {
  const pick = (site: MemorySite) => {
    const out: Tree = {};
    for (const [path, text] of Object.entries(treeOf(site))) {
      const rel = path.slice(owner.length + 1);
      if (!path.startsWith(`${owner}/`) || !folders.some((f) => rel.startsWith(f))) continue;
      if (/\.(conflict|rejected)\.[^/]*$/.test(rel) || rel.endsWith("syft.pub.yaml")) continue;
      out[rel] = text;
    }
    return out;
  };
  const want = pick(w.site.get(owner)!);
  const got = pick(w.site.get(reader)!);
  return torn(want, want, got).map((p) =>
    `${reader}'s mirror holds ${show(got[p])} at ${p}, the owner ${show(want[p])}`
  );
}
