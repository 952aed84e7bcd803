/**
 * The Drive transport keeps the transport contract while the fake Drive
 * injects a fault (429 with Retry-After, 403 rate limits, 500/503, latency,
 * cut connections and lost answers) into 10 % of the calls. Retries are
 * shortened (5 ms base, 40 ms cap) so the suite stays quick; their schedule
 * is proven on its own in backoff_test.ts.
 */
import { runTransportContractSuite } from "../contract_suite.ts";
import { startPlugin } from "../../../plugins/host.ts";
import { gdriveManifest } from "../../../plugins/gdrive/manifest.ts";
import { startFakeDriveProcess } from "./_fake_rig.ts";

const fake = await startFakeDriveProcess();
await fake.addUsers([
  "abcdefghijklmnopqrstuvwxyz0123456789._%+-@x-y.example.org",
  ...Array.from(
    { length: 40 },
    (_, i) => ["alice", "bob", "carol", "mallory"].map((who) => `${who}.s${i + 1}@example.org`),
  ).flat(),
]);
await fake.control({ faults: { seed: 13, rate: 0.1, latencyMs: 20, retryAfterSeconds: 1 } });

runTransportContractSuite("gdrive with 10 % faults", {
  makeTransport: async (identity) =>
    startPlugin(gdriveManifest({
      identity,
      credentialsDir: await fake.credentials(identity),
      apiBase: fake.api,
      rate: { perSecond: 2000, burst: 2000 },
      backoff: { baseMs: 5, capMs: 40, tries: 8 },
      requestTimeoutMs: 5_000,
    })),
  readAs: (identity, channel, name) => fake.readAs(identity, channel, name),
  readPoolAs: (identity, sender, name) => fake.readPoolAs(identity, sender, name),
  cleanup: () => fake.close(),
  // Constant memory is proven by the fault-free run (contract_test.ts).
  measureLargeObject: false,
});
