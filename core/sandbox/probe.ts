/**
 * Is a working bubblewrap sandbox available? Asked by `syft doctor` now and by the
 * job runner later, which refuses to run without one.
 * @module
 */

/** The answer of {@linkcode probeBubblewrap}. */
export type SandboxProbe =
  | { available: true; version: string }
  | { available: false; reason: string; hint: string };

async function run(cmd: string, args: string[]): Promise<{ code: number; out: string }> {
  const output = await new Deno.Command(cmd, {
    args,
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  })
    .output();
  const text = new TextDecoder().decode(output.stdout) + new TextDecoder().decode(output.stderr);
  return { code: output.code, out: text.trim() };
}

/** Check that `bwrap` exists and can actually build a namespace here (containers often forbid it). */
export async function probeBubblewrap(): Promise<SandboxProbe> {
  let version: string;
  try {
    const v = await run("bwrap", ["--version"]);
    if (v.code !== 0) throw new Error(v.out);
    version = v.out;
  } catch {
    return {
      available: false,
      reason: "bubblewrap (bwrap) is not installed",
      hint: "install it (Debian/Ubuntu: apt-get install bubblewrap)",
    };
  }
  const trial = await run("bwrap", [
    "--unshare-all",
    "--die-with-parent",
    "--ro-bind",
    "/",
    "/",
    "--proc",
    "/proc",
    "--dev",
    "/dev",
    "true",
  ]).catch((err) => ({ code: -1, out: String(err) }));
  if (trial.code !== 0) {
    return {
      available: false,
      reason: `bubblewrap cannot create a sandbox here: ${trial.out.split("\n")[0]}`,
      hint: "enable unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1) " +
        "or run where namespaces are allowed",
    };
  }
  return { available: true, version };
}
