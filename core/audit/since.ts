/**
 * `syft audit --since`: an ISO 8601 date or time (`2026-12-01`,
 * `2026-12-01T09:00:00Z`) or an age (`90m`, `24h`, `7d`), as `git log --since`
 * users expect to narrow a log.
 * @module
 */
import { SyftError } from "../errors/mod.ts";

const AGE_RE = /^(\d{1,6})([mhd])$/;
const ISO_RE = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})?)?$/;
const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/**
 * The epoch milliseconds `text` names. A date or time without a zone is UTC,
 * like every time syft prints.
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
  throw new SyftError("E_USAGE", `--since ${JSON.stringify(text)} is not a time or an age`, {
    hint: "give an ISO 8601 date or time (2026-12-01, 2026-12-01T09:00Z) or an age (90m, 24h, 7d)",
  });
}
