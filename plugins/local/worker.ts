/**
 * Worker entry of the local-folder transport. The host starts it with read and
 * write access to the shared folder only (see `manifest.ts`).
 * @module
 */
import { serve } from "../serve.ts";
import { LocalFolderTransport, parseLocalInit } from "./transport.ts";

serve((init) => new LocalFolderTransport(parseLocalInit(init)));
