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
  return {
    base,
    shared,
    async site(email: string, options: { transport?: string } = {}): Promise<Site> {
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
      const transport = options.transport ?? `local:${shared}`;
      await ok(["init", "--email", email, "--root", root, "--transport", transport]);
      return {
        email,
        home,
        root,
        datasite: posix.join(root, email),
        mirror: (peer) => posix.join(root, peer.email),
        syft,
        ok,
      };
    },
  };
}

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
