/**
 * The Dropbox transport keeps the transport contract, run through the real
 * host (one Worker per transport, under the manifest's grants) against the
 * fake Dropbox in its own process, all hosts sent there by the API base.
 */
import { runTransportContractSuite } from "../contract_suite.ts";
import { startPlugin } from "../../../plugins/host.ts";
import { dropboxManifest } from "../../../plugins/dropbox/manifest.ts";
import { startFakeDropboxProcess } from "./_fake_rig.ts";

const fake = await startFakeDropboxProcess();

runTransportContractSuite("dropbox", {
  makeTransport: async (identity) =>
    startPlugin(dropboxManifest({
      identity,
      credentialsDir: await fake.credentials(identity),
      apiBase: fake.url,
      // The contract reports a new channel in the very next round; users get it within minutes.
      invitesEveryMs: 0,
    })),
  readAs: (identity, channel, name) => fake.readAs(identity, channel, name),
  cleanup: () => fake.close(),
});
