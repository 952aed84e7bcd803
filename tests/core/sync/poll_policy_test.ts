import { assertEquals } from "../../assert.ts";
import {
  DEFAULT_POLL_MS,
  IDLE_AFTER_MS,
  IDLE_POLL_MS,
  MAX_WAIT_MS,
  PollPolicy,
  pollWaitMs,
} from "../../../core/sync/poll_policy.ts";

const MIN = 60_000;
const T0 = 1_700_000_000_000; // a wall-clock-like start, so offsets are not all near zero

function fresh(explicit = false, intervalMs = DEFAULT_POLL_MS): PollPolicy {
  return new PollPolicy({ intervalMs, explicit }, T0);
}

Deno.test("pollWaitMs() polls at the default 5 s while something happened in the last 10 minutes", () => {
  for (const idle of [0, 1, 5_000, 9 * MIN, IDLE_AFTER_MS - 1]) {
    assertEquals(
      pollWaitMs({
        intervalMs: DEFAULT_POLL_MS,
        explicit: false,
        lastActivityAt: T0,
        now: T0 + idle,
      }),
      5_000,
      `idle ${idle} ms`,
    );
  }
});

Deno.test("pollWaitMs() slows to 60 s after 10 idle minutes when no --interval was given", () => {
  for (const idle of [IDLE_AFTER_MS, IDLE_AFTER_MS + 1, 60 * MIN, 30 * 24 * 60 * MIN]) {
    assertEquals(
      pollWaitMs({
        intervalMs: DEFAULT_POLL_MS,
        explicit: false,
        lastActivityAt: T0,
        now: T0 + idle,
      }),
      60_000,
      `idle ${idle} ms`,
    );
  }
  assertEquals(IDLE_POLL_MS, 60_000);
  assertEquals(IDLE_AFTER_MS, 10 * MIN);
});

Deno.test("pollWaitMs() keeps an explicit --interval however long the loop was idle", () => {
  for (const intervalMs of [500, 5_000, 30_000, 120_000]) {
    for (const idle of [0, IDLE_AFTER_MS, 24 * 60 * MIN]) {
      assertEquals(
        pollWaitMs({ intervalMs, explicit: true, lastActivityAt: T0, now: T0 + idle }),
        intervalMs,
      );
    }
  }
});

Deno.test("pollWaitMs() never answers a negative wait when the clock is behind the last activity", () => {
  for (const back of [1, 5_000, IDLE_AFTER_MS, 365 * 24 * 60 * MIN]) {
    for (const explicit of [false, true]) {
      assertEquals(
        pollWaitMs({ intervalMs: 5_000, explicit, lastActivityAt: T0, now: T0 - back }),
        5_000,
      );
    }
  }
});

Deno.test("pollWaitMs() keeps the wait within what a timer can hold, whatever the inputs", () => {
  const cases: [number, number, number][] = [
    [5_000, T0, NaN],
    [5_000, NaN, T0],
    [5_000, -Infinity, T0],
    [5_000, T0, Infinity],
    [NaN, T0, T0],
    [-1, T0, T0],
    [0, T0, T0 + IDLE_AFTER_MS],
    [1e15, T0, T0],
    [Infinity, T0, T0],
  ];
  for (const [intervalMs, lastActivityAt, now] of cases) {
    for (const explicit of [false, true]) {
      const wait = pollWaitMs({ intervalMs, explicit, lastActivityAt, now });
      const label = JSON.stringify({ intervalMs, lastActivityAt, now, explicit, wait });
      assertEquals(Number.isFinite(wait) && wait >= 0 && wait <= MAX_WAIT_MS, true, label);
    }
  }
  assertEquals(
    pollWaitMs({ intervalMs: 1e15, explicit: true, lastActivityAt: T0, now: T0 }),
    MAX_WAIT_MS,
  );
});

Deno.test("PollPolicy counts a fresh start as activity: 5 s for the first 10 minutes, then 60 s", () => {
  const p = fresh();
  assertEquals(p.waitMs(T0), 5_000);
  assertEquals(p.waitMs(T0 + 9 * MIN), 5_000);
  assertEquals(p.waitMs(T0 + 10 * MIN), 60_000);
  assertEquals(p.waitMs(T0 + 11 * MIN), 60_000);
});

Deno.test("PollPolicy: any activity while backed off returns to 5 s, and idling starts over from it", () => {
  const p = fresh();
  assertEquals(p.waitMs(T0 + 20 * MIN), 60_000);
  p.activity(T0 + 20 * MIN);
  assertEquals(p.waitMs(T0 + 20 * MIN), 5_000);
  assertEquals(p.waitMs(T0 + 29 * MIN), 5_000);
  assertEquals(p.waitMs(T0 + 30 * MIN), 60_000);
});

Deno.test("PollPolicy: activity every few minutes keeps the pace at 5 s indefinitely", () => {
  const p = fresh();
  for (let t = T0; t < T0 + 24 * 60 * MIN; t += 9 * MIN) {
    assertEquals(p.waitMs(t), 5_000);
    assertEquals(p.waitMs(t + 9 * MIN - 1), 5_000);
    p.activity(t + 9 * MIN - 1);
  }
});

Deno.test("PollPolicy simulated: an idle hour of 5 s polls slows to 60 s after exactly 10 minutes", () => {
  const p = fresh();
  let t = T0;
  const waits: number[] = [];
  while (t < T0 + 60 * MIN) {
    const wait = p.waitMs(t);
    waits.push(wait);
    t += wait;
  }
  assertEquals(waits.filter((w) => w === 5_000).length, IDLE_AFTER_MS / 5_000);
  assertEquals(waits.slice(IDLE_AFTER_MS / 5_000).every((w) => w === 60_000), true);
});

Deno.test("PollPolicy never slows an explicit --interval, active or not", () => {
  const p = fresh(true, 2_000);
  for (const t of [T0, T0 + 10 * MIN, T0 + 24 * 60 * MIN]) assertEquals(p.waitMs(t), 2_000);
  p.activity(T0 + 24 * 60 * MIN);
  assertEquals(p.waitMs(T0 + 48 * 60 * MIN), 2_000);
});

Deno.test("PollPolicy: a clock jumping back restarts the idle count from the new time", () => {
  const p = fresh();
  // Back an hour: idle is counted from the jump, not frozen until the clock catches up.
  assertEquals(p.waitMs(T0 - 60 * MIN), 5_000);
  assertEquals(p.waitMs(T0 - 51 * MIN), 5_000);
  assertEquals(p.waitMs(T0 - 50 * MIN), 60_000);
});

Deno.test("PollPolicy: a clock jumping back while backed off measures idle from the same last activity", () => {
  const p = fresh();
  assertEquals(p.waitMs(T0 + 15 * MIN), 60_000);
  // Back to 5 minutes after the last activity: 5 minutes idle, as the clock now says.
  assertEquals(p.waitMs(T0 + 5 * MIN), 5_000);
  assertEquals(p.waitMs(T0 + 10 * MIN - 1), 5_000);
  assertEquals(p.waitMs(T0 + 10 * MIN), 60_000);
});

Deno.test("PollPolicy: activity stamped in the future (then the clock corrected) never yields a negative wait", () => {
  const p = fresh();
  p.activity(T0 + 365 * 24 * 60 * MIN);
  for (const t of [T0, T0 + 1, T0 + 9 * MIN]) {
    const wait = p.waitMs(t);
    assertEquals(wait, 5_000);
  }
  assertEquals(p.waitMs(T0 + 10 * MIN), 60_000);
});

Deno.test("PollPolicy: a forward jump of the clock only means idle, 60 s at most", () => {
  const p = fresh();
  assertEquals(p.waitMs(T0 + 100 * 365 * 24 * 60 * MIN), 60_000);
  p.activity(T0 + 100 * 365 * 24 * 60 * MIN);
  assertEquals(p.waitMs(T0 + 100 * 365 * 24 * 60 * MIN + 1), 5_000);
});

Deno.test("PollPolicy recovers from a NaN time instead of sticking", () => {
  const p = fresh();
  p.activity(NaN);
  assertEquals(p.waitMs(T0), 5_000);
  assertEquals(p.waitMs(T0 + 10 * MIN), 60_000);
});
