/**
 * Transport specs: `local:<absolute folder>` becomes the local plugin's
 * manifest, `gdrive` the Drive plugin's with the stored sign-in, `dropbox` the
 * Dropbox plugin's, anything else is a usage error;
 * a local folder that is missing, not a folder or not writable fails at start
 * with one clear E_TRANSPORT line.
 */
import { assert, assertEquals, assertRejects } from "./_assert.ts";
import { manifestFor, resolveLocalFolder } from "../../plugins/registry.ts";
import { startPlugin } from "../../plugins/host.ts";
import { SyftError } from "../../core/errors/mod.ts";
import { tempDir } from "../_temp.ts";

const ctx = { identity: "alice@example.org", home: "/home/alice/.syft" };

function refusal(fn: () => unknown): SyftError {
  try {
    fn();
  } catch (err) {
    if (err instanceof SyftError) return err;
    throw err;
  }
  throw new Error("expected a SyftError");
}

Deno.test("manifestFor(local:<dir>) grants the folder and nothing else", () => {
  const m = manifestFor("local:/srv/shared", ctx);
  assertEquals(m.name, "local");
  assertEquals(m.permissions, { read: ["/srv/shared"], write: ["/srv/shared"], net: [] });
  assertEquals(m.init, { dir: "/srv/shared", identity: "alice@example.org" });
  assert(m.entry.href.endsWith("/plugins/local/worker.ts"));
  assertEquals(typeof m.preflight, "function");
});

Deno.test("resolveLocalFolder normalises the path and expands a leading ~", () => {
  assertEquals(resolveLocalFolder("/a//b/./c/../d/"), "/a/b/d");
  assertEquals(resolveLocalFolder(" /x "), "/x");
  assertEquals(resolveLocalFolder("/"), "/");
  const home = Deno.env.get("HOME");
  if (home?.startsWith("/")) assertEquals(resolveLocalFolder("~/shared"), `${home}/shared`);
});

Deno.test("manifestFor refuses a local folder that is missing or not absolute with E_INPUT", () => {
  for (const spec of ["local:", "local", "local:relative/dir", "local:./x", "local:~bob/x"]) {
    const err = refusal(() => manifestFor(spec, ctx));
    assertEquals(err.code, "E_INPUT", spec);
    assert(err.hint?.includes("local:<absolute folder>"), `hint for ${spec}`);
  }
});

Deno.test("manifestFor(dropbox) starts the Dropbox plugin with its credentials and hosts only", () => {
  const m = manifestFor("dropbox", ctx);
  assertEquals(m.name, "dropbox");
  assertEquals(m.permissions.read, [`${ctx.home}/credentials`]);
  assertEquals(m.permissions.write, [`${ctx.home}/credentials`]);
  for (const host of m.permissions.net) {
    assert(
      host.endsWith(".dropboxapi.com") || host === "www.dropbox.com" ||
        host.startsWith("127.0.0.1:"),
      host,
    );
  }
});

Deno.test("manifestFor(gdrive) before any sign-in is exit 4 with the sign-in hint", () => {
  const err = refusal(() => manifestFor("gdrive", { ...ctx, home: "/nonexistent/.syft" }));
  assertEquals(err.code, "E_TRANSPORT");
  assert(err.hint?.includes("syft auth gdrive --client-file"));
});

Deno.test("manifestFor(gdrive) uses the sign-in in $SYFT_HOME/credentials", async () => {
  const home = await tempDir("syft-registry-");
  try {
    await Deno.mkdir(`${home}/credentials`);
    await Deno.writeTextFile(
      `${home}/credentials/gdrive-client.json`,
      JSON.stringify({
        installed: {
          client_id: "id",
          client_secret: "s",
          auth_uri: "https://accounts.google.com/o/oauth2/auth",
          token_uri: "https://oauth2.googleapis.com/token",
        },
      }),
    );
    const m = manifestFor("gdrive", { ...ctx, home });
    assertEquals(m.name, "gdrive");
    assertEquals(m.permissions.read, [`${home}/credentials`]);
    assertEquals(m.permissions.write, [`${home}/credentials`]);
    assert(m.permissions.net.includes("oauth2.googleapis.com"));
    assertEquals(m.init.fullListEvery, 60, "the default of gdrive.full_list_every");
    const every = manifestFor("gdrive", { ...ctx, home, gdrive: { full_list_every: 7 } });
    assertEquals(every.init.fullListEvery, 7, "config.yaml's gdrive.full_list_every");
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("manifestFor calls anything else a usage error and lists the valid specs", () => {
  for (const spec of ["ftp://x", "LOCAL:/x", "", "s3:bucket", "gdrive:x"]) {
    const err = refusal(() => manifestFor(spec, ctx));
    assertEquals(err.code, "E_USAGE", spec);
    assertEquals(err.exitCode, 2);
    assertEquals(err.hint, "valid transports: local:<folder>, gdrive, dropbox");
  }
});

Deno.test("manifestFor refuses an invalid identity", () => {
  assertEquals(
    refusal(() => manifestFor("local:/x", { ...ctx, identity: "Alice" })).code,
    "E_INPUT",
  );
});

Deno.test("starting local on a missing folder is one E_TRANSPORT line with a hint (exit 4)", async () => {
  const dir = `/tmp/syft-does-not-exist-${crypto.randomUUID()}`;
  const err = await assertRejects(() => startPlugin(manifestFor(`local:${dir}`, ctx)), SyftError);
  assertEquals(err.code, "E_TRANSPORT");
  assertEquals(err.exitCode, 4);
  assertEquals(err.message, `local transport folder "${dir}" does not exist`);
  assertEquals(err.hint, "create it, or pass --transport local:<an existing folder>");
});

Deno.test("starting local on a file is E_TRANSPORT: not a folder", async () => {
  const file = await Deno.makeTempFile();
  try {
    const err = await assertRejects(
      () => startPlugin(manifestFor(`local:${file}`, ctx)),
      SyftError,
    );
    assertEquals(err.code, "E_TRANSPORT");
    assertEquals(err.message, `local transport folder "${file}" is not a folder`);
  } finally {
    await Deno.remove(file);
  }
});

Deno.test({
  name: "starting local on a read-only folder is E_TRANSPORT: not writable",
  // root writes anywhere, so the mode bits prove nothing there
  ignore: Deno.uid() === 0,
  fn: async () => {
    const dir = await tempDir();
    try {
      await Deno.chmod(dir, 0o555);
      const err = await assertRejects(
        () => startPlugin(manifestFor(`local:${dir}`, ctx)),
        SyftError,
      );
      assertEquals(err.code, "E_TRANSPORT");
      assert(err.message.startsWith(`local transport folder "${dir}" is not writable`));
    } finally {
      await Deno.chmod(dir, 0o755);
      await Deno.remove(dir);
    }
  },
});

Deno.test("starting local on a good folder leaves no trace of the preflight", async () => {
  const dir = await tempDir();
  try {
    const transport = await startPlugin(manifestFor(`local:${dir}`, ctx));
    assertEquals((await transport.whoami()).email, "alice@example.org");
    await transport.close();
    assertEquals(await Array.fromAsync(Deno.readDir(dir)), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
