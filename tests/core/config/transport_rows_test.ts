import { assertEquals } from "../../assert.ts";
import { transportRows, unboundPeers } from "../../../core/config/transport_rows.ts";

Deno.test("each transport lists its peers, and a peer on a transport the config dropped is unbound", () => {
  const config = { transport: "local:/srv/a", transports: { drive: "gdrive" } };
  const peers = [
    { email: "a@x.org", via: "default" },
    { email: "b@x.org", via: "drive" },
    { email: "c@x.org", via: "gone" },
  ];
  const rows = transportRows(config, peers);
  assertEquals(rows, [
    { name: "default", spec: "local:/srv/a", default: true, peers: ["a@x.org"] },
    { name: "drive", spec: "gdrive", default: false, peers: ["b@x.org"] },
  ]);
  assertEquals(unboundPeers(rows, peers), [{ email: "c@x.org", via: "gone" }]);
});
