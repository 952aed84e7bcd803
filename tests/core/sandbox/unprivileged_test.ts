/**
 * The sandbox battery again, as an unprivileged user. As root the runner
 * drops to uid 65534 itself and stages copies; as a normal user (most data
 * owners) it runs under that user with direct read-only binds. This runs the
 * whole battery file as uid 65534 in a child `deno test`, so both paths are
 * proven on a root CI machine. Run as a normal user, the battery itself
 * already takes that path and this test is skipped.
 */
import { dirname, join } from "node:path";
import { fileURLToPath as fromFileUrl } from "node:url";
import { assertEquals, assertMatch } from "../../assert.ts";
import { probeBubblewrap } from "../../../core/sandbox/mod.ts";
import { denoDir } from "../../../scripts/syft_process.ts";

const NOBODY = "65534";
const battery = fromFileUrl(new URL("./battery_test.ts", import.meta.url));
const config = fromFileUrl(new URL("../../../deno.json", import.meta.url));

async function run(cmd: string, args: string[], env?: Record<string, string>) {
  const out = await new Deno.Command(cmd, {
    args,
    stdout: "piped",
    stderr: "piped",
    ...(env ? { env } : {}),
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  return { code: out.code, text };
}

const asNobody = ["--reuid", NOBODY, "--regid", NOBODY, "--clear-groups"];

/** Why this test cannot run here, or null. */
async function obstacle(): Promise<string | null> {
  if (Deno.uid() !== 0) return "not root: the battery itself runs as this normal user";
  const probe = await probeBubblewrap();
  if (!probe.available) return probe.reason;
  const cache = denoDir();
  if (cache === undefined) return "no deno cache folder to copy";
  // The child reads the repository as uid 65534.
  const readable = await run("setpriv", [...asNobody, "test", "-r", battery]);
  if (readable.code !== 0) return `uid ${NOBODY} cannot read ${dirname(battery)}`;
  return null;
}

const why = await obstacle();
if (why !== null) console.warn(`unprivileged sandbox battery skipped: ${why}`);

Deno.test({
  name: "the sandbox battery passes as an unprivileged user too (userns binds, no uid drop)",
  ignore: why !== null,
  async fn() {
    const base = await Deno.makeTempDir({ prefix: "syft-unpriv-" });
    try {
      // The deno binary and its npm cache live under /root; uid 65534 gets copies.
      const deno = join(base, "deno");
      await Deno.copyFile(Deno.execPath(), deno);
      const cache = join(base, "deno-dir");
      await Deno.mkdir(cache);
      await run("cp", ["-r", join(denoDir()!, "npm"), cache]);
      const home = join(base, "home");
      await Deno.mkdir(home);
      await run("chown", [`${NOBODY}:${NOBODY}`, home]);
      await run("chmod", ["-R", "a+rX", base]);
      const r = await run("setpriv", [
        ...asNobody,
        "env",
        `HOME=${home}`,
        `DENO_DIR=${cache}`,
        "NO_COLOR=1",
        `PATH=${Deno.env.get("PATH") ?? "/usr/bin:/bin"}`,
        deno,
        "test",
        // Type-checked already by the run that started this one.
        "--no-check",
        "--allow-read",
        "--allow-write",
        "--allow-env",
        "--allow-sys",
        "--allow-run",
        "--allow-net=127.0.0.1",
        "--config",
        config,
        battery,
      ], {});
      assertEquals(r.code, 0, r.text);
      assertMatch(r.text, /ok \| \d+ passed \| 0 failed/);
      // It really ran as the unprivileged user, not skipped.
      assertMatch(r.text, /a job reads its granted dataset .* ok/);
    } finally {
      await Deno.remove(base, { recursive: true });
    }
  },
});
