/**
 * The Dropbox transport (spec `dropbox`). The host starts it from
 * {@linkcode dropboxManifest}; `syft auth dropbox` uses the token file helpers
 * and the host names exported here.
 * @module
 */
export { dropboxManifest, type DropboxManifestOptions } from "./manifest.ts";
export { DROPBOX_API_ENV, type DropboxHosts, dropboxHosts } from "./_env.ts";
export { type DropboxInit, DropboxTransport, parseDropboxInit } from "./transport.ts";
