/**
 * The Dropbox transport keeps the transport contract while the fake Dropbox
 * injects a fault (429 too_many_requests and too_many_write_operations with
 * Retry-After, 500/503, latency, cut connections and uploads, lost answers)
 * into 10 % of the calls. Retries are shortened (5 ms base, 40 ms cap) so
 * the suite stays quick; their schedule is proven in backoff_test.ts.
 */
import { runTransportContractSuite } from "../contract_suite.ts";
import { startPlugin } from "../../../plugins/host.ts";
import { dropboxManifest } from "../../../plugins/dropbox/manifest.ts";
import { startFakeDropboxProcess } from "./_fake_rig.ts";

const fake = await startFakeDropboxProcess();
await fake.control({ faults: { seed: 18, rate: 0.1, latencyMs: 20, retryAfterSeconds: 1 } });

runTransportContractSuite("dropbox with 10 % faults", {
  makeTransport: async (identity) =>
    startPlugin(dropboxManifest({
      identity,
      credentialsDir: await fake.credentials(identity),
      apiBase: fake.url,
      // The contract reports a new channel in the very next round; users get it within minutes.
      invitesEveryMs: 0,
      backoff: { baseMs: 5, capMs: 40, tries: 8 },
      requestTimeoutMs: 5_000,
    })),
  readAs: (identity, channel, name) => fake.readAs(identity, channel, name),
  cleanup: async () => {
    const injected = await fake.control({ injected: true });
    await fake.close();
    // A run that injected nothing would prove nothing.
    if (Object.keys(injected).length < 4) {
      throw new Error(`too few kinds of faults injected: ${JSON.stringify(injected)}`);
    }
  },
  // Constant memory is proven by the fault-free run (contract_test.ts).
  measureLargeObject: false,
});
