/**
 * A test plugin whose module throws while loading: startPlugin must fail with
 * E_TRANSPORT, not hang.
 * @module
 */
import { serve } from "../../../plugins/serve.ts";

throw new Error("this plugin cannot load");

// Unreachable, but keeps the module shaped like a real plugin entry.
// deno-lint-ignore no-unreachable
serve(() => {
  throw new Error("unreachable");
});
