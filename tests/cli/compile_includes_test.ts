/**
 * Modules main.ts loads through a computed specifier (core/lazy_import.ts) are
 * invisible to `deno compile` as much as to `deno run`'s up-front graph: the
 * compile task must `--include` each one, or the built binary fails on the
 * first command that needs it. `deno compile` cannot run here (its runtime
 * is downloaded), so this reads the sources and the task instead.
 */
import { fileURLToPath } from "node:url";
import { assert, assertEquals } from "../assert.ts";

const ROOT = new URL("../../", import.meta.url);

/** Every `.ts` file under `dir` (relative to the repository), tests excluded. */
function sources(dir: string): string[] {
  const out: string[] = [];
  for (const e of Deno.readDirSync(new URL(dir, ROOT))) {
    const rel = `${dir}${e.name}`;
    if (e.isDirectory) out.push(...sources(`${rel}/`));
    else if (e.name.endsWith(".ts") && !e.name.endsWith("_test.ts")) out.push(rel);
  }
  return out;
}

const FILES = ["main.ts", ...sources("cli/"), ...sources("core/"), ...sources("plugins/")];
const CALL = /lazyImport(?:<[^>]*>)?\(\s*new URL\(\s*"([^"]+)",\s*import\.meta\.url\s*\)/g;

/** The repository-relative path of every module loaded through `lazyImport`. */
function lazyTargets(): { targets: string[]; unreadable: string[] } {
  const targets: string[] = [];
  const unreadable: string[] = [];
  for (const file of FILES) {
    if (file === "core/lazy_import.ts") continue;
    const text = Deno.readTextFileSync(new URL(file, ROOT));
    const calls = [...text.matchAll(/\blazyImport\s*[<(]/g)].length;
    const found = [...text.matchAll(CALL)].map((m) => new URL(m[1]!, new URL(file, ROOT)));
    if (found.length !== calls) unreadable.push(file);
    targets.push(...found.map((u) => fileURLToPath(u).slice(fileURLToPath(ROOT).length)));
  }
  return { targets: [...new Set(targets)].sort(), unreadable };
}

/** The `--include` values of deno.json's compile task. */
function compileIncludes(): string[] {
  const config = JSON.parse(Deno.readTextFileSync(new URL("deno.json", ROOT))) as {
    tasks: Record<string, string>;
  };
  return [...config.tasks.compile!.matchAll(/--include[ =](\S+)/g)].map((m) => m[1]!);
}

Deno.test("every module loaded by a computed specifier is --included by the compile task", () => {
  const { targets, unreadable } = lazyTargets();
  assertEquals(unreadable, [], "lazyImport called without a literal new URL(…, import.meta.url)");
  assert(targets.includes("cli/run.ts") && targets.includes("cli/status.ts"), targets.join(" "));
  const included = new Set(compileIncludes());
  assertEquals(targets.filter((t) => !included.has(t)), [], "missing from the compile task");
  for (const t of targets) Deno.statSync(new URL(t, ROOT));
});

Deno.test("no source imports a computed specifier except through lazyImport", () => {
  // A bare `import(x)` would load a module the compile check above cannot see.
  const computed = FILES.filter((f) => f !== "core/lazy_import.ts").filter((f) =>
    /(?<!typeof )\bimport\(\s*[^"'\s)]/.test(Deno.readTextFileSync(new URL(f, ROOT)))
  );
  assertEquals(computed, []);
});
