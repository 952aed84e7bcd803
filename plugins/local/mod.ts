/**
 * The local-folder transport (`local:<dir>`): a folder every peer can reach.
 * The host starts it from {@linkcode localManifest}; the class is exported for
 * in-process use.
 * @module
 */
export { localManifest, preflightLocalFolder } from "./manifest.ts";
export { LocalFolderTransport, type LocalInit, MAX_PAGE, parseLocalInit } from "./transport.ts";
