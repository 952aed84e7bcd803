/**
 * Small assertions for the plugin tests (JSR, and so @std/assert, is out of
 * reach here). Built on node:util's deep equality.
 * @module
 */
import { inspect, isDeepStrictEqual } from "node:util";
import { SyftError } from "../../core/errors/mod.ts";

/** Throw unless `condition` holds. */
export function assert(condition: unknown, message = "assertion failed"): asserts condition {
  if (!condition) throw new Error(message);
}

/** Throw unless `actual` deeply equals `expected`. */
export function assertEquals<T>(actual: T, expected: T, message?: string): void {
  if (!isDeepStrictEqual(actual, expected)) {
    throw new Error(
      `${message ? message + ": " : ""}values differ\n  actual:   ${
        inspect(actual, { depth: 5 })
      }\n  expected: ${inspect(expected, { depth: 5 })}`,
    );
  }
}

/** Await `fn()`, expect it to reject with an instance of `type`, and return the error. */
export async function assertRejects<E extends Error>(
  fn: () => Promise<unknown>,
  type: abstract new (...args: never[]) => E,
): Promise<E> {
  try {
    await fn();
  } catch (err) {
    if (err instanceof type) return err;
    throw new Error(`expected a ${type.name}, got ${inspect(err)}`);
  }
  throw new Error(`expected a ${type.name}, but it resolved`);
}

/** Expect an `E_TRANSPORT` SyftError whose message names the operation `op`. */
export async function assertTransportError(
  fn: () => Promise<unknown>,
  op: string,
): Promise<SyftError> {
  const err = await assertRejects(fn, SyftError);
  assertEquals(err.code, "E_TRANSPORT", `code of ${JSON.stringify(err.message)}`);
  assert(
    new RegExp(`\\b${op}\\b`).test(err.message),
    `message ${JSON.stringify(err.message)} should name the operation ${op}`,
  );
  return err;
}
