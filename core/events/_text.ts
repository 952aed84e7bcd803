/**
 * Private helpers that put outside values into one-line error messages.
 * @module
 */
import { quote } from "../encoding/quote.ts";

/** A short description of a JSON value for "got …" in a message. */
export function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "string") return `the string ${quote(value, 40)}`;
  if (typeof value === "number") return `the number ${String(value)}`;
  if (typeof value === "boolean") return String(value);
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return "an object";
  return typeof value;
}
