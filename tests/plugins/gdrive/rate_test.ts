/**
 * The token bucket that keeps the Drive transport under 10 requests a second
 * with a burst of 100, on a fake clock.
 */
import { assertEquals } from "../_assert.ts";
import { TokenBucket } from "../../../plugins/gdrive/_rate.ts";

/** A clock that moves only when the bucket sleeps. */
function fakeClock(): { now: () => number; sleep: (ms: number) => Promise<void>; slept: number[] } {
  let t = 0;
  const slept: number[] = [];
  return {
    now: () => t,
    sleep: (ms) => {
      slept.push(ms);
      t += ms;
      return Promise.resolve();
    },
    slept,
  };
}

Deno.test("a burst of 100 requests goes out at once, the 101st waits a tenth of a second", async () => {
  const clock = fakeClock();
  const bucket = new TokenBucket({ perSecond: 10, burst: 100, now: clock.now, sleep: clock.sleep });
  for (let i = 0; i < 100; i++) await bucket.take();
  assertEquals(clock.now(), 0);
  await bucket.take();
  assertEquals(clock.now(), 100);
});

Deno.test("sustained use runs at 10 requests a second", async () => {
  const clock = fakeClock();
  const bucket = new TokenBucket({ perSecond: 10, burst: 100, now: clock.now, sleep: clock.sleep });
  await Promise.all(Array.from({ length: 150 }, () => bucket.take()));
  assertEquals(clock.now(), 5000, "50 requests past the burst take 5 s");
});

Deno.test("a quiet spell refills the bucket, but never past its burst", async () => {
  const clock = fakeClock();
  const bucket = new TokenBucket({ perSecond: 10, burst: 100, now: clock.now, sleep: clock.sleep });
  for (let i = 0; i < 100; i++) await bucket.take();
  await clock.sleep(60_000);
  const before = clock.now();
  for (let i = 0; i < 100; i++) await bucket.take();
  assertEquals(clock.now(), before, "a full burst again");
  await bucket.take();
  assertEquals(clock.now(), before + 100);
});
