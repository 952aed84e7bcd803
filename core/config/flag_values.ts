/**
 * The numbers and durations a command line gives (`--timeout`, `--interval`,
 * `--max-output`, `--since`), each read one way wherever a command takes it,
 * so the same mistake gets the same `E_USAGE` sentence and hint (exit 2).
 * @module
 */
import { SyftError } from "../errors/mod.ts";

/** The largest `--max-output`: 1 TiB, far above any disk a job gets. */
export const MAX_OUTPUT_MIB = 1024 * 1024;

/**
 * A positive number of seconds, fractions allowed (`--interval 0.5`,
 * `job wait --timeout 600`); `example` is the hint's value.
 * @throws {SyftError} `E_USAGE` for anything else
 */
export function positiveSeconds(raw: string, flag: string, example: number): number {
  const seconds = Number(raw);
  if (raw.trim() === "" || !Number.isFinite(seconds) || seconds <= 0) {
    throw new SyftError(
      "E_USAGE",
      `${flag} ${JSON.stringify(raw)} is not a positive number of seconds`,
      { hint: `e.g. ${flag} ${example}` },
    );
  }
  return seconds;
}

/**
 * Whole seconds from 1 to `max` (a job's time limit: the range its
 * `config.yaml` accepts, so what the flag takes a peer's runner takes too).
 * @throws {SyftError} `E_USAGE` for anything else
 */
export function wholeSeconds(raw: string, flag: string, max: number): number {
  return wholeNumber(raw, max) ??
    usage(
      `${flag} ${JSON.stringify(raw)} is not a whole number of seconds from 1 to ${max}`,
      `e.g. ${flag} 600`,
    );
}

/**
 * A size in whole MiB (`--max-output 100`), at most {@linkcode MAX_OUTPUT_MIB}.
 * @throws {SyftError} `E_USAGE` for anything else
 */
export function wholeMiB(raw: string, flag: string): number {
  return wholeNumber(raw, MAX_OUTPUT_MIB) ??
    usage(`${flag} ${JSON.stringify(raw)} is not a whole number of MiB`, `e.g. ${flag} 100`);
}

const AGE_RE = /^(\d{1,6})([mhd])$/;
const ISO_RE = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})?)?$/;
const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/**
 * `--since`: the epoch milliseconds an ISO 8601 date or time (`2026-12-01`,
 * `2026-12-01T09:00:00Z`) or an age before `now` (`90m`, `24h`, `7d`) names,
 * as `git log --since` users expect. A time without a zone is UTC, like every
 * time syft prints.
 * @throws {SyftError} `E_USAGE` for anything else
 */
export function parseSince(text: string, now: number): number {
  const age = AGE_RE.exec(text);
  if (age) return now - Number(age[1]) * UNIT_MS[age[2] as keyof typeof UNIT_MS];
  if (ISO_RE.test(text)) {
    const zoned = text.length === 10 || /(Z|[+-]\d{2}:\d{2})$/.test(text) ? text : `${text}Z`;
    const ms = Date.parse(zoned);
    if (!Number.isNaN(ms)) return ms;
  }
  return usage(
    `--since ${JSON.stringify(text)} is not a time or an age`,
    "give an ISO 8601 date or time (2026-12-01, 2026-12-01T09:00Z) or an age (90m, 24h, 7d)",
  );
}

/** A whole number from 1 to `max`, or null. */
function wholeNumber(raw: string, max: number): number | null {
  const n = Number(raw);
  return raw.trim() !== "" && Number.isSafeInteger(n) && n >= 1 && n <= max ? n : null;
}

function usage(message: string, hint: string): never {
  throw new SyftError("E_USAGE", message, { hint });
}
