/**
 * The bench's results as scenarios hand them back: table rows for people, the
 * `--json` figures, and the formatting both use.
 * @module
 */

/** One line of the table for people. */
export interface Row {
  id: string;
  scenario: string;
  figure: string;
  baseline: string;
  goal: string;
  /** Whether the goal was met; undefined when the row has no goal. */
  met?: boolean;
  note: string;
}

/** Figures keyed by scenario id (`P1`...), as the `--json` line carries them. */
export type Json = Record<string, Record<string, number | Record<string, number>>>;

/** What one scenario hands back: its JSON figures, table rows and longer notes. */
export interface Outcome {
  json: Json;
  rows: Row[];
  notes?: string[];
}

export function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

export function seconds(s: number): string {
  return `${s.toFixed(3)} s`;
}

export function count(n: number): string {
  return Math.round(n).toLocaleString("en");
}

/** A row for a timing set against its baseline, with the goal on the ratio. */
export function ratioRow(
  id: string,
  scenario: string,
  syftS: number,
  baselineS: number,
  goalRatio: number | undefined,
  note: string,
): Row {
  const ratio = syftS / baselineS;
  return {
    id,
    scenario,
    figure: `${seconds(syftS)} (${ratio.toFixed(1)}x)`,
    baseline: seconds(baselineS),
    goal: goalRatio === undefined ? "" : `<= ${goalRatio}x baseline`,
    ...(goalRatio === undefined ? {} : { met: ratio <= goalRatio }),
    note,
  };
}

export function ratioJson(syftS: number, baselineS: number): Record<string, number> {
  return { syft_s: round3(syftS), baseline_s: round3(baselineS), ratio: round3(syftS / baselineS) };
}
