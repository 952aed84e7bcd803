/**
 * The Google Drive transport (spec `gdrive`). The host starts it from
 * {@linkcode gdriveManifest}; `syft auth gdrive` will use the credential
 * helpers (client file parsing, token file format) exported here.
 * @module
 */
export { DEFAULT_API_BASE, gdriveManifest, type GdriveManifestOptions } from "./manifest.ts";
export {
  CLIENT_FILE,
  DRIVE_SCOPE,
  isAllowedEndpoint,
  type OAuthClient,
  parseClientFile,
  parseTokenFile,
  storeClientFile,
  type StoredTokens,
  TOKEN_FILE,
  writeTokenFile,
} from "./_tokens.ts";
export {
  DEFAULT_FULL_LIST_EVERY,
  type GdriveInit,
  GdriveTransport,
  parseGdriveInit,
} from "./transport.ts";
