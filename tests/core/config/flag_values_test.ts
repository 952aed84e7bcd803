import { assertEquals, assertThrows } from "../../assert.ts";
import {
  MAX_OUTPUT_MIB,
  parseSince,
  positiveSeconds,
  wholeMiB,
  wholeSeconds,
} from "../../../core/config/flag_values.ts";
import { SyftError } from "../../../core/errors/mod.ts";

function usage(fn: () => unknown, message: string, hint: string): void {
  assertThrows(fn, (err) => {
    if (!(err instanceof SyftError)) throw err;
    assertEquals([err.code, err.message, err.hint], ["E_USAGE", message, hint]);
  });
}

Deno.test("positive seconds take fractions and refuse zero, blanks and words alike", () => {
  assertEquals(positiveSeconds("0.5", "--interval", 5), 0.5);
  assertEquals(positiveSeconds("600", "--timeout", 600), 600);
  for (const raw of ["0", "-1", "", " ", "soon", "Infinity", "NaN"]) {
    usage(
      () => positiveSeconds(raw, "--interval", 5),
      `--interval ${JSON.stringify(raw)} is not a positive number of seconds`,
      "e.g. --interval 5",
    );
  }
});

Deno.test("whole seconds stay within 1 and the maximum the flag allows", () => {
  assertEquals(wholeSeconds("1", "--timeout", 86_400), 1);
  assertEquals(wholeSeconds("86400", "--timeout", 86_400), 86_400);
  for (const raw of ["0", "86401", "1.5", "", "1e400", "ten"]) {
    usage(
      () => wholeSeconds(raw, "--timeout", 86_400),
      `--timeout ${JSON.stringify(raw)} is not a whole number of seconds from 1 to 86400`,
      "e.g. --timeout 600",
    );
  }
});

Deno.test("a size in MiB is a whole number up to a TiB", () => {
  assertEquals(wholeMiB("100", "--max-output"), 100);
  assertEquals(wholeMiB(String(MAX_OUTPUT_MIB), "--max-output"), MAX_OUTPUT_MIB);
  for (const raw of ["0", "", "0.5", String(MAX_OUTPUT_MIB + 1), "big"]) {
    usage(
      () => wholeMiB(raw, "--max-output"),
      `--max-output ${JSON.stringify(raw)} is not a whole number of MiB`,
      "e.g. --max-output 100",
    );
  }
});

Deno.test("since reads an age before now, or a date or time taken as UTC without a zone", () => {
  const now = Date.parse("2026-12-05T12:00:00Z");
  assertEquals(parseSince("90m", now), now - 90 * 60_000);
  assertEquals(parseSince("7d", now), now - 7 * 86_400_000);
  assertEquals(parseSince("2026-12-01", now), Date.parse("2026-12-01T00:00:00Z"));
  assertEquals(parseSince("2026-12-01T09:00", now), Date.parse("2026-12-01T09:00:00Z"));
  assertEquals(parseSince("2026-12-01T09:00+01:00", now), Date.parse("2026-12-01T08:00:00Z"));
  for (const raw of ["yesterday", "7w", "2026-13-01", ""]) {
    usage(
      () => parseSince(raw, now),
      `--since ${JSON.stringify(raw)} is not a time or an age`,
      "give an ISO 8601 date or time (2026-12-01, 2026-12-01T09:00Z) or an age (90m, 24h, 7d)",
    );
  }
});
