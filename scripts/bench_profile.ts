/**
 * Where a syft run's time goes, for a figure that misses its goal (issue 17's "Done when"):
 * the run is repeated once under V8's sampling profiler (`--v8-flags=--prof`, one log per
 * isolate, the plugin workers included) and its ticks are summed two ways: by V8's own
 * state at the tick (JS, compiling, GC, other: native code, I/O), and by the module of the
 * innermost frame on the stack that is ours or a package's (the runtime's own JS, `ext:`
 * and `node:`, only when no such frame is there), so a tick spent in the runtime on our
 * code's behalf counts for our module. A coarse profile, not a flame graph: enough to say whether
 * a round spends its time loading modules, in our code, or waiting on the runtime.
 * @module
 */
import { posix } from "node:path";
import { fileURLToPath as fromFileUrl } from "node:url";
import { childEnv } from "./syft_process.ts";

/** The repository, so our modules show as `core/sync/round.ts`. */
const ROOT = fromFileUrl(new URL("..", import.meta.url)).replace(/\/$/, "");

/** One piece of code V8 logged, by its address range. */
interface Code {
  start: number;
  end: number;
  /** The source module for JS code (`core/sync/round.ts`), else undefined. */
  module: string | undefined;
}

/** V8's StateTag numbering, grouped. */
const STATES: Record<string, string> = {
  "0": "JS",
  "1": "GC",
  "2": "compile",
  "3": "compile",
  "4": "compile",
  "5": "other",
  "6": "native",
  "7": "other",
  "8": "idle",
  "9": "other",
};

/** The module a logged function name points at, relative to the repository when it is ours. */
function moduleOf(name: string, root: string): string | undefined {
  const m = /((?:file|ext|node|npm):[^\s]*?)(?::\d+:\d+)?$/.exec(name);
  if (!m) return undefined;
  const url = m[1]!;
  const prefix = `file://${root}/`;
  if (url.startsWith(prefix)) return url.slice(prefix.length);
  if (url.startsWith("file://")) {
    const npm = /\/node_modules\/(?:\.deno\/)?([^/]+)/.exec(url) ??
      /\/npm\/[^/]+\/([^/]+)/.exec(url);
    return npm ? `npm:${npm[1]}` : url.slice("file://".length);
  }
  return url.startsWith("ext:") ? "ext: (deno runtime)" : url;
}

function parseHex(s: string | undefined): number {
  return s && s.startsWith("0x") ? parseInt(s, 16) : NaN;
}

/** Add one V8 `--prof` log's ticks to `byState` and `byModule`; returns how many. */
export function tally(
  text: string,
  root: string,
  byState: Map<string, number>,
  byModule: Map<string, number>,
): number {
  const codes: Code[] = [];
  const ticks: { addrs: number[]; state: string }[] = [];
  for (const line of text.split("\n")) {
    const f = line.split(",");
    if (f[0] === "code-creation") {
      const start = parseHex(f[4]);
      const size = Number(f[5]);
      if (Number.isFinite(start) && Number.isFinite(size)) {
        codes.push({ start, end: start + size, module: moduleOf(f[6] ?? "", root) });
      }
    } else if (f[0] === "code-move") {
      const from = parseHex(f[1]);
      const to = parseHex(f[2]);
      const moved = codes.find((c) => c.start === from);
      if (moved && Number.isFinite(to)) {
        codes.push({ ...moved, start: to, end: to + moved.end - from });
      }
    } else if (f[0] === "tick") {
      const addrs: number[] = [parseHex(f[1])];
      let prev = addrs[0]!;
      for (const s of f.slice(6)) {
        const a = s.startsWith("+") || s.startsWith("-") ? prev + parseInt(s, 16) : parseHex(s);
        if (Number.isFinite(a)) addrs.push(prev = a);
      }
      ticks.push({ addrs, state: STATES[f[5] ?? ""] ?? "other" });
    }
  }
  codes.sort((a, b) => a.start - b.start);
  const find = (pc: number): Code | undefined => {
    let [lo, hi] = [0, codes.length - 1];
    let best: Code | undefined;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (codes[mid]!.start <= pc) [best, lo] = [codes[mid], mid + 1];
      else hi = mid - 1;
    }
    return best && pc < best.end ? best : undefined;
  };
  for (const t of ticks) {
    byState.set(t.state, (byState.get(t.state) ?? 0) + 1);
    // The innermost frame of our code or a package's; else of the runtime's own JS.
    const frames = t.addrs.map((a) => find(a)?.module).filter((m) => m !== undefined);
    const module = frames.find((m) => !m.startsWith("ext:") && !m.startsWith("node:")) ??
      frames[0] ?? "(no JS frame: runtime start, native)";
    byModule.set(module, (byModule.get(module) ?? 0) + 1);
  }
  return ticks.length;
}

function shares(m: Map<string, number>, total: number, top: number): string {
  return [...m].sort((a, b) => b[1] - a[1]).slice(0, top)
    .map(([k, n]) => `${k} ${Math.round((100 * n) / total)}%`).join(", ");
}

/**
 * Run `deno <args>` (args beginning with `run`) once more under V8's profiler, in `dir`;
 * one line saying where its ticks went, or undefined when no profile came out.
 */
export async function profileLine(
  what: string,
  args: string[],
  dir: string,
): Promise<string | undefined> {
  await Deno.mkdir(dir, { recursive: true });
  const [run, ...rest] = args;
  if (run !== "run") return undefined;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", `--v8-flags=--prof,--logfile=${posix.join(dir, "v8.log")}`, ...rest],
    env: childEnv(),
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).output().catch(() => undefined);
  if (!out?.success) return undefined;
  const byState = new Map<string, number>();
  const byModule = new Map<string, number>();
  let total = 0;
  for await (const e of Deno.readDir(dir)) {
    if (!e.name.endsWith("v8.log")) continue;
    total += tally(await Deno.readTextFile(posix.join(dir, e.name)), ROOT, byState, byModule);
  }
  if (total === 0) return undefined;
  return `${what} profile (${total} ticks of ~1 ms over all threads' isolates): by V8 state ` +
    `${shares(byState, total, 5)}; by innermost module of ours or a package's ${
      shares(byModule, total, 8)
    }`;
}
