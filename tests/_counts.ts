/**
 * How much the hardening suites ran (simulation seeds, fuzz cases, crash
 * points): each appends `<label> <n>` to the file `deno task test` names in
 * `SYFT_TEST_COUNTS`, and the suite prints the sums at the end. Outside the
 * suite it does nothing.
 * @module
 */

/** Add `n` to the suite's count of `label` (e.g. "fuzz cases"). */
export async function recordCount(label: string, n: number): Promise<void> {
  const file = Deno.env.get("SYFT_TEST_COUNTS");
  if (!file) return;
  await Deno.writeTextFile(file, `${label} ${n}\n`, { append: true });
}

/** The sums of a counts file's lines, by label, in first-seen order. */
export function sumCounts(text: string): Map<string, number> {
  const sums = new Map<string, number>();
  for (const line of text.split("\n")) {
    const m = /^(.+) (\d+)$/.exec(line.trim());
    if (!m) continue;
    sums.set(m[1]!, (sums.get(m[1]!) ?? 0) + Number(m[2]));
  }
  return sums;
}
