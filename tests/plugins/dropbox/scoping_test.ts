/**
 * The Dropbox plugin's Worker runs with its manifest's grants only: its
 * credentials folder and the API host. Started with those grants, a probe
 * cannot list or read $HOME, read the environment, or write outside, while
 * it can use what is granted, and lists $HOME once that is granted too, so
 * the checks can fail. The manifest grants Dropbox's four hosts, or the one
 * `SYFT_DROPBOX_API` host.
 */
import { assert, assertEquals } from "../_assert.ts";
import { dropboxManifest } from "../../../plugins/dropbox/manifest.ts";
import { workerScopingTests } from "../_worker_scoping.ts";

workerScopingTests(
  "dropbox",
  (credentials, api) =>
    dropboxManifest({ identity: "a@x.org", credentialsDir: credentials, apiBase: api }),
);

Deno.test("the manifest grants Dropbox's four hosts, or only the SYFT_DROPBOX_API host", () => {
  const real = dropboxManifest({ identity: "a@x.org", credentialsDir: "/c", apiBase: "" });
  assertEquals(real.permissions.net.sort(), [
    "api.dropboxapi.com",
    "content.dropboxapi.com",
    "notify.dropboxapi.com",
    "www.dropbox.com",
  ]);
  assertEquals(real.permissions.read, ["/c"]);
  assertEquals(real.permissions.write, ["/c"]);
  const fake = dropboxManifest({
    identity: "a@x.org",
    credentialsDir: "/c",
    apiBase: "http://127.0.0.1:8765",
  });
  assertEquals(fake.permissions.net, ["127.0.0.1:8765"]);
  let refused = false;
  try {
    dropboxManifest({ identity: "a@x.org", credentialsDir: "/c", apiBase: "http://evil.org" });
  } catch {
    refused = true; // tokens must not travel in the clear to anything but loopback
  }
  assert(refused, "plain http to a remote host is refused");
});
