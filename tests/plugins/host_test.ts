/**
 * The plugin host never hangs and never lets a broken plugin take syft down:
 * hangs, crashes and exits become E_TRANSPORT naming the operation, and the
 * next call runs on a fresh Worker.
 */
import { createHash } from "node:crypto";
import { assert, assertEquals, assertRejects, assertTransportError } from "./_assert.ts";
import { startPlugin, type StartPluginOptions } from "../../plugins/host.ts";
import type { Transport } from "../../core/transport/contract.ts";
import type { PluginManifest } from "../../plugins/manifest.ts";
import { SyftError } from "../../core/errors/mod.ts";
import { givesAwayChunks } from "../../core/transport/given_chunks.ts";
import { sealEnvelope } from "../../core/events/envelope.ts";

const FAST: StartPluginOptions = {
  callTimeoutMs: 400,
  startTimeoutMs: 10_000,
  heartbeatMs: 50,
  livenessTimeoutMs: 600,
};
const ch = { sender: "t@example.org", recipient: "u@example.org" };

function manifest(file: string, init: Record<string, unknown> = {}): PluginManifest {
  return {
    name: "faulty",
    entry: new URL(`./testdata/${file}`, import.meta.url),
    permissions: { read: [], write: [], net: [] },
    init,
  };
}

async function withPlugin(
  fn: (t: Transport) => Promise<void>,
  options: StartPluginOptions = FAST,
): Promise<void> {
  const transport = await startPlugin(manifest("faulty_plugin.ts"), options);
  try {
    await fn(transport);
  } finally {
    await transport.close();
  }
}

/** Run `call`, expect E_TRANSPORT naming `op`, and return how long it took. */
async function failsFast(call: () => Promise<unknown>, op: string, why: RegExp): Promise<number> {
  const start = performance.now();
  const err = await assertTransportError(call, op);
  assert(why.test(err.message), `message ${JSON.stringify(err.message)} should match ${why}`);
  return performance.now() - start;
}

Deno.test("a call that hangs fails with E_TRANSPORT after the call timeout, then the plugin restarts", async () => {
  await withPlugin(async (t) => {
    const before = (await t.whoami()).email;
    const ms = await failsFast(
      () => t.openChannel("hang"),
      "openChannel",
      /no answer within 400 ms/,
    );
    assert(ms >= 380 && ms < 2000, `failed after ${ms} ms`);
    const after = (await t.whoami()).email;
    assert(after !== before, "a fresh Worker answers after the hang");
  });
});

for (
  const [command, why] of [
    ["throw", /crashed \(uncaught Error: boom/],
    ["reject", /crashed \(unhandled rejection: Error: unhandled/],
    ["close", /closed its worker/],
    ["exit", /Deno\.exit\(7\)/],
  ] as const
) {
  Deno.test(`a plugin that ${command}s mid-call fails the call with E_TRANSPORT at once, and the next call works`, async () => {
    await withPlugin(async (t) => {
      const before = (await t.whoami()).email;
      const ms = await failsFast(() => t.openChannel(command), "openChannel", why);
      assert(ms < 350, `took ${ms} ms, longer than a crash should`);
      assertEquals((await t.openChannel("ok@example.org")).recipient, "ok@example.org");
      assert((await t.whoami()).email !== before);
    });
  });
}

Deno.test("a plugin that vanishes without a word is caught by the heartbeat", async () => {
  await withPlugin(async (t) => {
    const ms = await failsFast(
      () => t.openChannel("silent-exit"),
      "openChannel",
      /stopped responding/,
    );
    assert(ms < 1500, `took ${ms} ms`);
    assertEquals((await t.openChannel("ok@example.org")).recipient, "ok@example.org");
  }, { ...FAST, callTimeoutMs: 10_000, livenessTimeoutMs: 300 });
});

Deno.test("a plugin stuck in a synchronous loop is terminated and replaced", async () => {
  await withPlugin(async (t) => {
    await failsFast(() => t.openChannel("spin"), "openChannel", /stopped responding|no answer/);
    assertEquals((await t.openChannel("ok@example.org")).recipient, "ok@example.org");
  });
});

Deno.test("a failure rejects every pending call, each naming its own operation", async () => {
  await withPlugin(async (t) => {
    const slow = t.changes(null, { waitMs: 5000 });
    const listing = t.listIncoming();
    const crash = t.openChannel("throw");
    await assertTransportError(() => crash, "openChannel");
    await assertTransportError(() => slow, "changes");
    // listIncoming may have answered before the crash; either way it must settle.
    await listing.catch(() => {});
  });
});

Deno.test("a plain error inside the plugin is E_TRANSPORT naming the operation, and the Worker stays", async () => {
  await withPlugin(async (t) => {
    const before = (await t.whoami()).email;
    const err = await assertTransportError(() => t.openChannel("error"), "openChannel");
    assert(err.message.includes("plain failure inside the plugin"));
    assertEquals((await t.whoami()).email, before);
  });
});

Deno.test("a SyftError thrown in the plugin arrives as the same SyftError", async () => {
  await withPlugin(async (t) => {
    const err = await assertRejects(() => t.openChannel("syft-error"), SyftError);
    assertEquals(err.code, "E_EXISTS");
    assertEquals(err.message, "a custom refusal");
    assertEquals(err.hint, "a custom hint");
  });
});

Deno.test("a malformed result is E_TRANSPORT", async () => {
  await withPlugin(async (t) => {
    await assertTransportError(() => t.openChannel("bad-result"), "openChannel");
  });
});

Deno.test("changes() gets its waitMs on top of the call timeout", async () => {
  await withPlugin(async (t) => {
    const result = await t.changes(null, { waitMs: 700 });
    assertEquals(result.channels, []);
  });
});

Deno.test("a slow but answering call within the timeout succeeds", async () => {
  await withPlugin(async (t) => {
    assertEquals((await t.openChannel("slow:200")).recipient, "slow@example.org");
  });
});

Deno.test("put streams a body to the plugin and leaves a Uint8Array body intact", async () => {
  await withPlugin(async (t) => {
    const bytes = new Uint8Array(100_000).map((_, i) => i % 256);
    await t.put(ch, "bytes", bytes);
    assertEquals(bytes.byteLength, 100_000, "the caller's buffer is not detached");
    const expected = createHash("sha256").update(bytes).digest("hex");
    assertEquals((await t.list(ch)).objects[0], { name: expected, size: 100_000 });

    const hash = createHash("sha256");
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= 8 * 65536) return controller.close();
        const chunk = new Uint8Array(65536).fill(sent % 7);
        hash.update(chunk);
        sent += chunk.byteLength;
        controller.enqueue(chunk);
      },
    });
    await t.put(ch, "stream", stream);
    assertEquals((await t.list(ch)).objects[0], { name: hash.digest("hex"), size: sent });
  });
});

Deno.test("a put body marked as giving its chunks away moves them to the plugin uncopied; an unmarked one keeps its chunks", async () => {
  await withPlugin(async (t) => {
    const body = (marked: boolean) => {
      const hash = createHash("sha256");
      const kept: Uint8Array[] = [];
      const stream = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (kept.length === 6) return controller.close();
          const chunk = new Uint8Array(65536).fill(kept.length + 1);
          hash.update(chunk);
          kept.push(chunk);
          controller.enqueue(chunk);
        },
      });
      return { stream: marked ? givesAwayChunks(stream) : stream, hash, kept };
    };
    const moved = body(true);
    await t.put(ch, "moved", moved.stream);
    assertEquals((await t.list(ch)).objects[0], {
      name: moved.hash.digest("hex"),
      size: 6 * 65536,
    });
    // Detached: the buffers went to the Worker, no copy was made of them.
    assertEquals(moved.kept.map((c) => c.byteLength), [0, 0, 0, 0, 0, 0]);

    const copied = body(false);
    await t.put(ch, "copied", copied.stream);
    assertEquals((await t.list(ch)).objects[0], {
      name: copied.hash.digest("hex"),
      size: 6 * 65536,
    });
    assertEquals(
      copied.kept.map((c) => c[0]),
      [1, 2, 3, 4, 5, 6],
      "the producer's chunks are intact",
    );
  });
});

Deno.test("a sealed envelope put through a plugin arrives byte for byte: the envelope never reuses a chunk it gave away", async () => {
  const sign = await crypto.subtle.generateKey("Ed25519", false, [
    "sign",
    "verify",
  ]) as CryptoKeyPair;
  const contentKey = crypto.getRandomValues(new Uint8Array(32));
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const content = crypto.getRandomValues(new Uint8Array(40_000));
  // Small chunks: many buffers in flight at once, which reuse after a move would corrupt.
  const seal = () =>
    sealEnvelope(
      {
        kind: "blob",
        name: "x-00",
        sender: ch.sender,
        recipient: ch.recipient,
        seq: 1,
        created_at: 1,
        size: content.byteLength,
        chunk: 1024,
        salt,
      },
      content,
      { signPrivate: sign.privateKey, contentKey },
    );
  const expected = createHash("sha256");
  let size = 0;
  for await (const chunk of seal()) {
    expected.update(chunk);
    size += chunk.byteLength;
  }
  await withPlugin(async (t) => {
    await t.put(ch, "sealed", seal());
    assertEquals((await t.list(ch)).objects[0], { name: expected.digest("hex"), size });
  });
});

Deno.test("a slow producer does not time out a streamed put: the clock runs only while the plugin is slow", async () => {
  await withPlugin(async (t) => {
    let chunks = 0;
    const stream = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (chunks === 6) return controller.close();
        await new Promise((resolve) => setTimeout(resolve, 150)); // 900 ms in all > 400 ms timeout
        chunks++;
        controller.enqueue(new Uint8Array(10));
      },
    });
    await t.put(ch, "slow", stream);
    assertEquals((await t.list(ch)).objects[0]?.size, 60);
  });
});

Deno.test("a plugin that hangs or crashes while reading a put body fails the put and cancels the body", async () => {
  await withPlugin(async (t) => {
    for (const mode of ["hang-after", "crash-after"]) {
      let cancelled = false;
      const stream = new ReadableStream<Uint8Array>({
        pull(controller) {
          controller.enqueue(new Uint8Array(65536));
        },
        cancel() {
          cancelled = true;
        },
      });
      await assertTransportError(() => t.put(ch, `${mode}:200000`, stream), "put");
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert(cancelled, `${mode}: the caller's stream is cancelled`);
    }
    await t.put(ch, "after", new Uint8Array(3));
  });
});

Deno.test("a put refused before reading cancels the caller's stream", async () => {
  await withPlugin(async (t) => {
    let cancelled = false;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        controller.enqueue(new Uint8Array(16));
      },
      cancel() {
        cancelled = true;
      },
    });
    const err = await assertRejects(() => t.put(ch, "refuse", stream), SyftError);
    assertEquals(err.code, "E_EXISTS");
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert(cancelled);
  });
});

Deno.test("get returns the plugin's stream, and a plugin that dies mid-stream errors the reader instead of hanging", async () => {
  await withPlugin(async (t) => {
    let n = 0;
    for await (const chunk of await t.get(ch, "bytes:300000")) n += chunk.byteLength;
    assertEquals(n, 300000);

    for (const mode of ["crash-mid", "hang-mid"]) {
      const reader = (await t.get(ch, mode)).getReader();
      assertEquals((await reader.read()).value, new Uint8Array([1, 2, 3]));
      await assertTransportError(() => reader.read(), "get");
    }
    assertEquals((await t.openChannel("ok@example.org")).recipient, "ok@example.org");
  });
});

Deno.test("startPlugin reports the plugin's init error as is", async () => {
  const err = await assertRejects(
    () => startPlugin(manifest("faulty_plugin.ts", { failInit: true }), FAST),
    SyftError,
  );
  assertEquals(err.code, "E_INPUT");
  assertEquals(err.hint, "fix init");
});

// Deno prints a Worker's load error on stderr even when the host handles it,
// so this case runs in a child process: a passing suite prints no "Uncaught".
Deno.test("startPlugin fails with E_TRANSPORT when the plugin module cannot load, and the host lives on", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      `--allow-read=${new URL("../../", import.meta.url).pathname}`,
      "--config",
      new URL("../../deno.json", import.meta.url).pathname,
      new URL("./testdata/start_broken_plugin.ts", import.meta.url).pathname,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assertEquals(out.code, 0, `the host process died:\n${stderr}`);
  const report = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    failure: { code: string; message: string } | null;
    after: string;
  };
  const failure = report.failure;
  assert(failure !== null, "starting the broken plugin failed");
  assertEquals(failure.code, "E_TRANSPORT", `start failed as ${failure.message}`);
  assert(/\bstart\b/.test(failure.message), `names the operation: ${failure.message}`);
  assert(failure.message.includes("this plugin cannot load"), `says why: ${failure.message}`);
  assertEquals(report.after, "u@example.org", "a plugin started afterwards answers");
});

Deno.test("startPlugin runs the manifest's preflight first", async () => {
  const m = manifest("faulty_plugin.ts");
  m.preflight = () => Promise.reject(new SyftError("E_TRANSPORT", "preflight says no"));
  const err = await assertRejects(() => startPlugin(m, FAST), SyftError);
  assertEquals(err.message, "preflight says no");
});

Deno.test("startPlugin refuses a manifest granting a relative path", async () => {
  const m = manifest("faulty_plugin.ts");
  m.permissions.read.push("relative/dir");
  const err = await assertRejects(() => startPlugin(m, FAST), SyftError);
  assertEquals(err.code, "E_INTERNAL");
});

Deno.test("close() fails pending calls, is idempotent, and later calls fail with E_TRANSPORT", async () => {
  const t = await startPlugin(manifest("faulty_plugin.ts"), FAST);
  const pending = t.openChannel("hang");
  await t.close();
  await assertTransportError(() => pending, "openChannel");
  await t.close();
  const err = await assertTransportError(() => t.whoami(), "whoami");
  assert(err.message.includes("closed"));
});

Deno.test("a crash while idle is invisible to the next call", async () => {
  await withPlugin(async (t) => {
    const before = (await t.whoami()).email;
    assertEquals((await t.openChannel("crash-later")).recipient, "later@example.org");
    await new Promise((resolve) => setTimeout(resolve, 150)); // the Worker dies meanwhile
    const after = (await t.whoami()).email;
    assert(after !== before, "a fresh Worker answers");
  });
});
