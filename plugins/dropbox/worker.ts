/**
 * Worker entry of the Dropbox transport. The host starts it with network
 * access to Dropbox's hosts (or the `SYFT_DROPBOX_API` host) only, and file
 * access to the credentials folder only (see `manifest.ts`).
 * @module
 */
import { serve } from "../serve.ts";
import { DropboxTransport, parseDropboxInit } from "./transport.ts";

serve((init) => DropboxTransport.create(parseDropboxInit(init)));
