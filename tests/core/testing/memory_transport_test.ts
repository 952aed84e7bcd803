/**
 * The in-memory transport keeps the same contract as the real ones, so engine
 * tests that run on it prove something about the engine, not about a fake.
 */
import { runTransportContractSuite } from "../../plugins/contract_suite.ts";
import { MemoryStorage } from "../../../core/testing/memory_transport.ts";
import { assertEquals } from "../../plugins/_assert.ts";
import { SyftError } from "../../../core/errors/mod.ts";

let storage = new MemoryStorage();
runTransportContractSuite("memory", {
  makeTransport: (identity) => Promise.resolve(storage.transport(identity)),
  cleanup: () => {
    storage = new MemoryStorage();
    return Promise.resolve();
  },
  // Objects are held whole in memory by design: there is no streaming to measure.
  measureLargeObject: false,
});

Deno.test("a squatted name is listed only with all, and cannot be put", async () => {
  const storage = new MemoryStorage();
  const alice = storage.transport("alice@example.org");
  const ch = await alice.openChannel("bob@example.org");
  storage.squat(ch, "b-0000000000000001.syft", "folder");
  assertEquals((await alice.list(ch)).objects, []);
  assertEquals((await alice.list(ch, { all: true })).objects, [
    { name: "b-0000000000000001.syft", size: 0, special: "folder" },
  ]);
  const err = await alice.put(ch, "b-0000000000000001.syft", new Uint8Array(1)).catch((e) => e);
  assertEquals((err as SyftError).code, "E_EXISTS");
});
