/**
 * The one test for "a JSON object" that every parser of outside JSON uses
 * before reading fields: arrays and null are objects to `typeof`, never records.
 * @module
 */

/**
 * Whether `value` is a plain JSON object (not null, not an array).
 *
 * @example
 * ```ts
 * isRecord({ a: 1 }); // true
 * isRecord([1]); // false
 * isRecord(null); // false
 * ```
 */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
