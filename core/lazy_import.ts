/**
 * Load a module Deno must not see up front. `deno run` builds the graph of
 * every module main.ts reaches, string-literal `import()`s included, before
 * the first line runs: with the commands behind literal imports, `syft
 * --version` paid for all 966 modules (Dropbox's and Drive's SDKs among them).
 * A specifier computed at run time is loaded only when the line needs it.
 *
 * The price: `deno compile` cannot see these modules either. Every call
 * passes `new URL("<literal>", import.meta.url)`, so
 * tests/cli/compile_includes_test.ts can find each target and check that the
 * compile task in deno.json `--include`s it.
 * @module
 */

/** The module at `url`, loaded now (typed by the caller: `lazyImport<typeof import("./x.ts")>`). */
export function lazyImport<T>(url: URL): Promise<T> {
  return import(url.href);
}
