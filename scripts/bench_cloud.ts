/**
 * What the cloud scenarios of `deno task bench` share (Drive's G rows,
 * Dropbox's DB rows): their measurement runs in a child process, and their
 * call counts become rows and readable lines the same way.
 * @module
 */
import { childEnv, CONFIG } from "./syft_process.ts";
import type { Row } from "./bench_rows.ts";
import type { CallCount } from "./bench_gdrive_measure.ts";

/**
 * Run measurement script `measure` in a child (the bench task has no network
 * grant while a plugin's Worker needs 127.0.0.1, and the fake's and plugins'
 * memory stays out of the bench process); its figures are its last stdout line.
 */
export async function runMeasureChild(
  cloud: string,
  measure: string,
  size: "full" | "quick" | "smoke",
): Promise<unknown> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "--config",
      CONFIG,
      "--allow-read",
      "--allow-write",
      "--allow-env",
      "--allow-sys",
      "--allow-run", // the fake in a process of its own, or `syft sync --watch` on both sides
      "--allow-net=127.0.0.1",
      measure,
      ...(size === "full" ? [] : [`--${size}`]),
    ],
    env: childEnv(),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout).trimEnd();
  if (!out.success) {
    throw new Error(`${cloud} bench failed: ${text}\n${new TextDecoder().decode(out.stderr)}`);
  }
  return JSON.parse(text.split("\n").at(-1) ?? "");
}

/** A row of HTTP calls against its goal, its scenario named for `cloud`. */
export function callsRowFor(
  cloud: string,
): (id: string, what: string, calls: number, goal: number, note: string) => Row {
  return (id, what, calls, goal, note) => ({
    id,
    scenario: `${cloud} HTTP calls, ${what}`,
    figure: String(calls),
    baseline: "",
    goal: `<= ${goal}`,
    met: calls <= goal,
    note,
  });
}

/** One readable line of a side's calls: HTTP requests by method, then transport operations. */
export function callsLine(who: string, c: CallCount): string {
  const methods = Object.entries(c.methods).map(([m, n]) => `${m} ${n}`).join(", ");
  return `${who}: ${c.total} HTTP [${methods}] from [${c.ops}]`;
}
