/**
 * The one kind of time `--json` prints: ISO 8601 in UTC with milliseconds
 * (`2026-12-05T01:07:04.000Z`), whatever a record keeps on disk (epoch
 * milliseconds for peers and sync state, ISO strings for jobs and datasets).
 * @module
 */

/** Epoch milliseconds as an ISO 8601 UTC string; null (never happened) stays null. */
export function isoTime(ms: number | null | undefined): string | null {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return null;
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

/** An ISO 8601 UTC string for now (the audit log, records written now). */
export function isoNow(now: () => number = Date.now): string {
  return new Date(now()).toISOString();
}

/** ISO 8601 date-time with a zone, as peers' files must carry it. */
const ISO_ZONED = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * `text` (an ISO 8601 date-time with a zone, e.g. from a peer's file) in UTC,
 * so times from anywhere print and sort alike; null when it is not one.
 */
export function isoUtc(text: string): string | null {
  if (text.length > 40 || !ISO_ZONED.test(text)) return null;
  return isoTime(Date.parse(text));
}
