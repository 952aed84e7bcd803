/**
 * The few assertions the tests use (jsr:@std/assert is out of reach from our
 * machines), on top of node:assert so failures print real diffs.
 * @module
 */
import assert from "node:assert/strict";

/** Deep equality. */
export function assertEquals<T>(
  actual: unknown,
  expected: T,
  message?: string,
): asserts actual is T {
  assert.deepStrictEqual(actual, expected, message);
}

/** Deep inequality. */
export function assertNotEquals(actual: unknown, expected: unknown, message?: string): void {
  assert.notDeepStrictEqual(actual, expected, message);
}

/** Truthiness. */
export function assert_(condition: unknown, message?: string): asserts condition {
  assert.ok(condition, message);
}
export { assert_ as assert };

/** A string matches a pattern. */
export function assertMatch(actual: string, pattern: RegExp, message?: string): void {
  assert.match(actual, pattern, message);
}

/** A string contains a substring. */
export function assertStringIncludes(actual: string, expected: string, message?: string): void {
  assert.ok(
    actual.includes(expected),
    message ?? `expected ${JSON.stringify(actual)} to include ${JSON.stringify(expected)}`,
  );
}

/** `fn` rejects; the error is returned for further checks. */
export async function assertRejects(
  fn: () => Promise<unknown>,
  check?: (err: unknown) => void,
): Promise<unknown> {
  try {
    await fn();
  } catch (err) {
    check?.(err);
    return err;
  }
  throw new assert.AssertionError({ message: "expected the call to reject, it resolved" });
}

/** `fn` throws; the error is returned for further checks. */
export function assertThrows(fn: () => unknown, check?: (err: unknown) => void): unknown {
  try {
    fn();
  } catch (err) {
    check?.(err);
    return err;
  }
  throw new assert.AssertionError({ message: "expected the call to throw, it returned" });
}
