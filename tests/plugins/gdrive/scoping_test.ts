/**
 * The Drive plugin's Worker runs with its manifest's grants only: its
 * credentials folder and its API host. Started with those grants, a probe
 * cannot list or read $HOME, read the environment, or write outside — while
 * it can use what is granted, and reads $HOME once that is granted too, so
 * the checks can fail.
 */
import { gdriveManifest } from "../../../plugins/gdrive/manifest.ts";
import { workerScopingTests } from "../_worker_scoping.ts";

workerScopingTests("gdrive", (credentials, api) =>
  gdriveManifest({
    identity: "a@x.org",
    credentialsDir: credentials,
    apiBase: `${api}/`,
    client: {
      clientId: "id",
      clientSecret: "secret",
      authUri: `${api}/o/oauth2/auth`,
      tokenUri: `${api}/token`,
    },
  }));
