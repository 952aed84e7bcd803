/**
 * Worker entry of the Google Drive transport. The host starts it with network
 * access to the Drive API host and the OAuth token host only, and file access
 * to the credentials folder only (see `manifest.ts`).
 * @module
 */
import "./_env.ts";
import { serve } from "../serve.ts";
import { GdriveTransport, parseGdriveInit } from "./transport.ts";

serve((init) => GdriveTransport.create(parseGdriveInit(init)));
