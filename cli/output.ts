/**
 * How commands talk to people and to scripts: short lines and tables for people,
 * exactly one JSON document on stdout with `--json`, nothing but errors with `--quiet`.
 * @module
 */

import { escapeTerminal, terminalSafeJson } from "../core/encoding/terminal.ts";

/** The global output flags. */
export interface OutputOptions {
  json: boolean;
  quiet: boolean;
}

/** Where output goes; replaceable so tests can capture it. */
export interface OutputSink {
  out(text: string): void;
  err(text: string): void;
}

const encoder = new TextEncoder();

/**
 * `sink` with every control and bidi character made visible: the one gate all
 * human output passes, so no printer can forget it. Idempotent, so wrapping twice
 * is harmless.
 */
export function terminalSafe(sink: OutputSink): OutputSink {
  return {
    out: (text) => sink.out(escapeTerminal(text)),
    err: (text) => sink.err(escapeTerminal(text)),
  };
}

/** The process's stdout and stderr. */
export const processSink: OutputSink = {
  out: (text) => writeAll(Deno.stdout, text),
  err: (text) => writeAll(Deno.stderr, text),
};

function writeAll(stream: { writeSync(p: Uint8Array): number }, text: string): void {
  const bytes = encoder.encode(text);
  let written = 0;
  while (written < bytes.length) written += stream.writeSync(bytes.subarray(written));
}

/** A column of {@linkcode Output.table}. */
export interface Column<T> {
  header: string;
  value: (row: T) => string;
}

/** Output of one command run. */
export class Output {
  readonly json: boolean;
  readonly quiet: boolean;
  #sink: OutputSink;

  constructor(options: OutputOptions, sink: OutputSink = processSink) {
    this.json = options.json;
    this.quiet = options.quiet;
    this.#sink = terminalSafe(sink);
  }

  /** A line for people (suppressed by --json and --quiet). */
  line(text = ""): void {
    if (!this.json && !this.quiet) this.#sink.out(text + "\n");
  }

  /**
   * A line the user must see to go on (e.g. an address to open): on stdout,
   * even with --quiet; on stderr with --json, which keeps stdout one document.
   */
  essential(text: string): void {
    if (this.json) this.#sink.err(text + "\n");
    else this.#sink.out(text + "\n");
  }

  /** A line for people on stderr (suppressed by --quiet only), e.g. beside --json. */
  note(text: string): void {
    if (!this.quiet) this.#sink.err(text + "\n");
  }

  /** A warning on stderr (suppressed by --quiet only). */
  warn(text: string): void {
    if (!this.quiet) this.#sink.err(`warning: ${text}\n`);
  }

  /**
   * The command's result: with --json the value as one JSON document, otherwise
   * `human()` is called to print it for people.
   */
  result<T>(value: T, human: (value: T) => void): void {
    if (this.json) this.#sink.out(terminalSafeJson(value) + "\n");
    else if (!this.quiet) human(value);
  }

  /**
   * One of many results of a long-running command (`sync --watch`): with
   * --json one compact JSON object on its own line (JSON Lines), otherwise
   * `human()` prints it for people.
   */
  record<T>(value: T, human: (value: T) => void): void {
    if (this.json) this.#sink.out(terminalSafeJson(value, 0) + "\n");
    else if (!this.quiet) human(value);
  }

  /** An aligned table for people. */
  table<T>(rows: readonly T[], columns: readonly Column<T>[]): void {
    const cells = rows.map((row) => columns.map((c) => c.value(row)));
    const widths = columns.map((c, i) =>
      Math.max(c.header.length, ...cells.map((r) => (r[i] ?? "").length))
    );
    const format = (values: string[]) =>
      values.map((v, i) => v.padEnd(widths[i] ?? 0)).join("  ").trimEnd();
    this.line(format(columns.map((c) => c.header.toUpperCase())));
    for (const row of cells) this.line(format(row));
  }

  /** `key  value` lines with aligned keys. */
  fields(pairs: readonly (readonly [string, string])[]): void {
    const width = Math.max(...pairs.map(([k]) => k.length));
    for (const [k, v] of pairs) this.line(`${(k + ":").padEnd(width + 2)}${v}`);
  }
}
