/**
 * The Drive transport keeps the transport contract, run through the real
 * host (one Worker per transport, under the manifest's grants) against the
 * fake Drive in its own process. The rate limit is raised for the test (the
 * suite makes thousands of calls); everything else is as in real use.
 */
import { runTransportContractSuite } from "../contract_suite.ts";
import { startPlugin } from "../../../plugins/host.ts";
import { gdriveManifest } from "../../../plugins/gdrive/manifest.ts";
import { startFakeDriveProcess } from "./_fake_rig.ts";

const fake = await startFakeDriveProcess();
// The suite names its identities `<who>.s<step>@example.org`; Drive shares only
// with addresses that have a Google account, so they all get one up front.
await fake.addUsers([
  "abcdefghijklmnopqrstuvwxyz0123456789._%+-@x-y.example.org",
  ...Array.from(
    { length: 40 },
    (_, i) => ["alice", "bob", "carol", "mallory"].map((who) => `${who}.s${i + 1}@example.org`),
  ).flat(),
]);

runTransportContractSuite("gdrive", {
  makeTransport: async (identity) =>
    startPlugin(gdriveManifest({
      identity,
      credentialsDir: await fake.credentials(identity),
      apiBase: fake.api,
      rate: { perSecond: 2000, burst: 2000 },
    })),
  readAs: (identity, channel, name) => fake.readAs(identity, channel, name),
  readPoolAs: (identity, sender, name) => fake.readPoolAs(identity, sender, name),
  cleanup: () => fake.close(),
});
