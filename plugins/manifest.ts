/**
 * How the host starts a transport plugin: its Worker entry, its Deno
 * permissions and its start-up options. Plugin business only, so it stays in
 * plugins/ while the transport contract itself lives in core.
 * @module
 */

/** The Deno permissions a plugin's Worker runs with: nothing beyond these. */
export interface PluginPermissions {
  /** Host names (optionally with port) it may reach, e.g. `www.googleapis.com`. */
  net: string[];
  /** Absolute paths it may read. */
  read: string[];
  /** Absolute paths it may write. */
  write: string[];
}

/** How to start a plugin: its Worker entry, its grants and its start-up options. */
export interface PluginManifest {
  /** Short name, e.g. `local`. */
  name: string;
  /** The Worker module. */
  entry: URL;
  /** Exactly what the Worker may touch. */
  permissions: PluginPermissions;
  /** Sent to the Worker once, before any call (must be structured-cloneable). */
  init: Record<string, unknown>;
  /**
   * Checks run in the host before the Worker starts (e.g. that a folder exists
   * and is writable), so a misconfiguration is one clear error instead of a
   * failure inside the plugin. Throws a `SyftError`. Never sent to the Worker.
   */
  preflight?: (() => Promise<void>) | undefined;
}
