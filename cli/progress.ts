/**
 * A progress bar for long operations, drawn on stderr only when it is a terminal,
 * so pipes, logs and `--json` consumers never see it.
 * @module
 */

import { escapeTerminal } from "../core/encoding/terminal.ts";

/** Something that can show progress; the no-op one is used off a TTY. */
export interface Progress {
  /** Set the amount done so far. */
  update(done: number): void;
  /** Clear the bar. */
  finish(): void;
}

const NOOP: Progress = { update() {}, finish() {} };
const encoder = new TextEncoder();

/** Format one frame of the bar (pure, so it can be tested). */
export function renderBar(label: string, done: number, total: number, width = 30): string {
  const ratio = total > 0 ? Math.min(1, Math.max(0, done / total)) : 0;
  const filled = Math.round(ratio * width);
  const pct = String(Math.floor(ratio * 100)).padStart(3);
  return `${escapeTerminal(label)} [${"#".repeat(filled)}${
    " ".repeat(width - filled)
  }] ${pct}% ${done}/${total}`;
}

/**
 * Start a bar for `total` units; a no-op when stderr is not a TTY or output is quiet/JSON.
 * Redraws at most every 100 ms so a tight loop does not flood the terminal.
 */
export function startProgress(
  label: string,
  total: number,
  options: { enabled?: boolean } = {},
): Progress {
  const enabled = options.enabled ?? Deno.stderr.isTerminal();
  if (!enabled) return NOOP;
  let last = 0;
  const draw = (done: number) =>
    Deno.stderr.writeSync(encoder.encode(`\r${renderBar(label, done, total)}`));
  return {
    update(done) {
      const now = Date.now();
      if (now - last < 100 && done < total) return;
      last = now;
      draw(done);
    },
    finish() {
      Deno.stderr.writeSync(encoder.encode("\r\x1b[2K"));
    },
  };
}
