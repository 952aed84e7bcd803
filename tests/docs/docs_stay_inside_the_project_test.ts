/**
 * The docs point only at things in the project: every relative link of a page
 * in docs/ resolves to a file of this clone, every page is in the index, and
 * no page, source comment or test names a folder outside the clone.
 * @module
 */
import { fileURLToPath } from "node:url";
import { posix } from "node:path";
import { assert, assertEquals } from "../assert.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url)).replace(/\/$/, "");
const DOCS = posix.join(ROOT, "docs");

async function pages(): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(DOCS)) {
    if (e.isFile && e.name.endsWith(".md")) names.push(e.name);
  }
  return names.sort();
}

/** Markdown link targets, without the #anchor; absolute URLs left out. */
function relativeLinks(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
    const target = m[1]!;
    if (/^[a-z]+:/.test(target) || target.startsWith("#")) continue;
    out.push(target.split("#")[0]!);
  }
  return out;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

Deno.test("every relative link in docs/ names a file of the project", async () => {
  const broken: string[] = [];
  for (const name of await pages()) {
    const text = await Deno.readTextFile(posix.join(DOCS, name));
    for (const link of relativeLinks(text)) {
      const target = posix.normalize(posix.join(DOCS, link));
      if (!target.startsWith(ROOT + "/") || !(await exists(target))) {
        broken.push(`${name}: ${link}`);
      }
    }
  }
  assertEquals(broken, []);
});

Deno.test("pages in docs/ have lower-case names and all are in docs/README.md", async () => {
  const index = await Deno.readTextFile(posix.join(DOCS, "README.md"));
  for (const name of await pages()) {
    if (name === "README.md") continue;
    assertEquals(name, name.toLowerCase(), "lower-case page names, as jobs.md");
    assert(index.includes(`](${name})`), `docs/README.md links ${name}`);
  }
});

Deno.test("no page, source or test points at a folder outside the project", async () => {
  const outside = [/\.\.\/shared\//, /shared\/design/];
  const found: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for await (const e of Deno.readDir(dir)) {
      if (e.name.startsWith(".") || e.name === "node_modules") continue;
      const path = posix.join(dir, e.name);
      if (e.isDirectory) await walk(path);
      else if (/\.(ts|md)$/.test(e.name)) {
        const text = await Deno.readTextFile(path);
        if (path.endsWith("docs_stay_inside_the_project_test.ts")) continue;
        if (outside.some((re) => re.test(text))) found.push(path.slice(ROOT.length + 1));
      }
    }
  };
  await walk(ROOT);
  assertEquals(found, []);
});
