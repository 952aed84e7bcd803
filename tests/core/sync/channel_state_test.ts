/**
 * The channel state is the writer's and the reader's state composed
 * (core/sync/state.ts), saved as the same flat document as before the split:
 * files written by older versions load, and new ones read the same.
 * @module
 */
import { assertEquals } from "../../assert.ts";
import { MemoryFs } from "../../../core/testing/memory_fs.ts";
import {
  emptyChannelState,
  emptyReaderState,
  emptyWriterState,
  loadChannelState,
  saveChannelState,
  stateLayout,
} from "../../../core/sync/state.ts";

const PEER = "ds@lab.org";

Deno.test("writer and reader own disjoint fields, and together they are the whole state", () => {
  const writer = Object.keys(emptyWriterState());
  const reader = Object.keys(emptyReaderState());
  assertEquals(writer.filter((k) => reader.includes(k)), []);
  assertEquals(Object.keys(emptyChannelState(PEER)), ["peer", ...writer, ...reader]);
});

Deno.test("a channel state is saved flat, and a flat file of an older version loads", async () => {
  const fs = new MemoryFs();
  const layout = stateLayout("/home/state", fs);
  const state = { ...emptyChannelState(PEER), next_seq: 7, cursor: 3 };
  await saveChannelState(layout, state);
  // Its head is flat; the maps that grow with the datasite are stored beside it (state_store_test.ts).
  const { published: _p, mirror: _m, rolling: { events: _e, ...rolling }, ...small } = state;
  const { store: _s, ...saved } = JSON.parse(
    await fs.readTextFile(`/home/state/channels/${PEER}.json`),
  );
  assertEquals(saved, { ...small, rolling });
  assertEquals(await loadChannelState(layout, PEER), state);
  // An older file lacks the fields added since: they take their fresh values.
  const { judged: _j, refused: _r, cf_due: _c, ...older } = state;
  fs.writeFileSync(
    `/home/state/channels/${PEER}.json`,
    new TextEncoder().encode(JSON.stringify(older)),
  );
  assertEquals(await loadChannelState(layout, PEER), state);
});
