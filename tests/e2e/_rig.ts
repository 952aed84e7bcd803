/**
 * Datasites for end-to-end tests: each an initialised home and root in a temp
 * folder, all sharing one `local:` transport folder, driven through the real CLI.
 * @module
 */
import { posix } from "node:path";
import { assertEquals } from "../assert.ts";
import { runSyft, type SyftRun } from "../../scripts/syft_process.ts";

/** One identity's folders and a way to run syft as it. */
export interface Site {
  email: string;
  home: string;
  root: string;
  /** Its own datasite folder. */
  datasite: string;
  /** Its mirror of `peer`'s datasite. */
  mirror(peer: Site): string;
  syft(args: string[]): Promise<SyftRun>;
  /** Run syft and require exit 0. */
  ok(args: string[]): Promise<SyftRun>;
}

/** A shared transport folder and sites on it. */
export interface World {
  base: string;
  shared: string;
  /** A site; `transport` replaces the shared folder as its `init --transport`. */
  site(email: string, options?: { transport?: string }): Promise<Site>;
  /** The site `site(email)` made earlier in this world (or in the template it was copied from). */
  open(email: string): Site;
}

/** Worlds made by this test module; removed when it unloads, even after a failed test. */
const made = new Set<string>();
globalThis.addEventListener("unload", () => {
  for (const base of made) {
    try {
      Deno.removeSync(base, { recursive: true });
    } catch {
      // Removed already by its test.
    }
  }
});

/** A fresh world in a temp folder (removed at the latest when the test module unloads). */
export async function world(): Promise<World> {
  const base = await Deno.makeTempDir({ prefix: "syft-e2e-" });
  made.add(base);
  const shared = posix.join(base, "shared");
  await Deno.mkdir(shared);
  return worldAt(base, shared);
}

function worldAt(base: string, shared: string): World {
  const open = (email: string): Site => {
    const dir = posix.join(base, email.split("@")[0]!);
    const home = posix.join(dir, ".syft");
    const root = posix.join(dir, "SyftBox");
    const syft = (args: string[]) => runSyft(["--home", home, ...args], { env: { HOME: dir } });
    const ok = async (args: string[]) => {
      const r = await syft(args);
      assertEquals(
        r.code,
        0,
        `syft ${args.join(" ")} (${email}) failed:\n${r.stdout}\n${r.stderr}`,
      );
      return r;
    };
    return {
      email,
      home,
      root,
      datasite: posix.join(root, email),
      mirror: (peer) => posix.join(root, peer.email),
      syft,
      ok,
    };
  };
  return {
    base,
    shared,
    open,
    async site(email: string, options: { transport?: string } = {}): Promise<Site> {
      const site = open(email);
      const transport = options.transport ?? `local:${shared}`;
      await site.ok(["init", "--email", email, "--root", site.root, "--transport", transport]);
      return site;
    },
  };
}

/**
 * Where the test files of one `deno task test` share the worlds they make from
 * a named template (scripts/test_suite.ts sets it and removes it at the end);
 * unset, each file makes its own.
 */
export const TEMPLATES_ENV = "SYFT_TEST_TEMPLATES";

/**
 * A world `build` makes once (on first use), handed out as a fresh copy to
 * each caller: cases that start from the same sites pay for their `init`,
 * peering and first syncs once, yet none sees what another did. Sites are
 * reached with `w.open(email)`. With `shareAs`, a name unique to this `build`,
 * the test files of one suite run share the world made first (in `sharedIn`,
 * by default the suite's {@linkcode TEMPLATES_ENV} folder). Only for worlds
 * on the shared `local:` folder: the copy's homes are pointed at its own folders.
 */
export function worldTemplate(
  build: (w: World) => Promise<void>,
  options: { shareAs?: string; sharedIn?: string } = {},
): () => Promise<World> {
  let template: Promise<string> | undefined;
  return async () => {
    const shared = options.sharedIn ?? Deno.env.get(TEMPLATES_ENV);
    template ??= templateBase(
      build,
      shared && options.shareAs ? { shared, name: options.shareAs } : undefined,
    );
    const from = await template;
    const w = await world();
    await copyWorld(from, w.base);
    return w;
  };
}

/** The folder of a built template: this file's own, or the suite's shared one by `name`. */
async function templateBase(
  build: (w: World) => Promise<void>,
  share: { shared: string; name: string } | undefined,
): Promise<string> {
  const target = share && posix.join(share.shared, encodeURIComponent(share.name));
  if (target && await Deno.stat(target).then(() => true, () => false)) return target;
  const w = await world();
  await build(w);
  if (target === undefined) return w.base;
  // Another file may be building the same one: the first rename wins, the rest use it.
  const staged = `${target}.${crypto.randomUUID()}`;
  await Deno.mkdir(staged);
  await copyWorld(w.base, staged, target);
  await Deno.rename(staged, target).catch(() => Deno.remove(staged, { recursive: true }));
  await Deno.remove(w.base, { recursive: true });
  return target;
}

/**
 * Copy the world at `from` into the empty folder `to`, keeping modes and
 * mtimes (the engine compares sizes and mtimes), and point every home's files
 * at `base` (config.yaml names the root and the transport folder), which is
 * `to` unless the copy is to be moved there. A path of `from` anywhere outside
 * a home would tie the copy to the template: refused.
 */
async function copyWorld(from: string, to: string, base = to): Promise<void> {
  const cp = await new Deno.Command("cp", { args: ["-a", `${from}/.`, to], stderr: "piped" })
    .output();
  if (!cp.success) throw new Error(`cp -a ${from}: ${new TextDecoder().decode(cp.stderr)}`);
  const grep = await new Deno.Command("grep", { args: ["-rlF", "--", from, to], stdout: "piped" })
    .output();
  const named = new TextDecoder().decode(grep.stdout).split("\n").filter((l) => l !== "");
  for (const file of named) {
    if (!file.split("/").includes(".syft")) {
      throw new Error(`the template world names its own folder in ${file}: it cannot be copied`);
    }
    const info = await Deno.stat(file);
    await Deno.writeTextFile(file, (await Deno.readTextFile(file)).replaceAll(from, base));
    await Deno.utime(file, info.atime ?? new Date(), info.mtime ?? new Date());
  }
}

/**
 * A world where `requester` and `owner` are initialised and peered
 * ({@linkcode peerUp}), copied from a template made once for each pair of
 * e-mails (per test file, or per suite run).
 */
export async function peered(
  requester: string,
  owner: string,
): Promise<{ w: World; requester: Site; owner: Site }> {
  const key = `${requester} ${owner}`;
  let make = pairs.get(key);
  if (!make) {
    make = worldTemplate(async (w) => {
      const o = await w.site(owner);
      await peerUp(await w.site(requester), o);
    }, { shareAs: `peered ${key}` });
    pairs.set(key, make);
  }
  const w = await make();
  return { w, requester: w.open(requester), owner: w.open(owner) };
}
const pairs = new Map<string, () => Promise<World>>();

/** `requester` asks, `owner` approves with the right fingerprint, both sync until accepted. */
export async function peerUp(requester: Site, owner: Site): Promise<void> {
  await requester.ok(["peer", "add", owner.email]);
  const fp = JSON.parse((await requester.ok(["status", "--json"])).stdout).fingerprint;
  await owner.ok(["peer", "list"]);
  await owner.ok(["peer", "approve", requester.email, "--fingerprint", fp]);
  await owner.ok(["sync"]);
  await requester.ok(["sync"]);
}

/** Every regular file under `dir`, relative, sorted (missing dir: none). */
export async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string, rel: string) => {
    let entries: Deno.DirEntry[];
    try {
      entries = await Array.fromAsync(Deno.readDir(d));
    } catch {
      return;
    }
    for (const e of entries) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory) await walk(posix.join(d, e.name), r);
      else out.push(r);
    }
  };
  await walk(dir, "");
  return out.sort();
}

/** Write `text` at `rel` under `dir`, creating folders. */
export async function put(dir: string, rel: string, text: string): Promise<void> {
  const abs = posix.join(dir, rel);
  await Deno.mkdir(posix.dirname(abs), { recursive: true });
  await Deno.writeTextFile(abs, text);
}

/** Set `sync.<key>` values in a site's config.yaml (thresholds, timeouts). */
export async function setSyncSettings(site: Site, values: Record<string, number>): Promise<void> {
  const path = posix.join(site.home, "config.yaml");
  let text = await Deno.readTextFile(path);
  for (const [k, v] of Object.entries(values)) {
    const line = new RegExp(`^  ${k}: \\d+$`, "m");
    if (!line.test(text)) throw new Error(`config.yaml of ${site.email} has no sync.${k}`);
    text = text.replace(line, `  ${k}: ${v}`);
  }
  await Deno.writeTextFile(path, text);
}
