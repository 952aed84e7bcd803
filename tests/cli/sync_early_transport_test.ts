/**
 * `syft sync` starts the transport's Worker before it loads the engine, so the
 * two overlap (cli/transport.ts `startTransportsEarly`). The start is handed
 * to the round once; one nobody took is closed; a start that fails fails the
 * command where it did before, with the same line and exit code.
 */
import { posix } from "node:path";
import { assert, assertEquals, assertMatch } from "../assert.ts";
import { runCli } from "../../main.ts";
import {
  type OpenedTransports,
  openTransports,
  startTransportsEarly,
} from "../../cli/transport.ts";
import type { Transport } from "../../core/transport/contract.ts";
import { PeerStore } from "../../core/peers/store.ts";
import { DEFAULT_GDRIVE } from "../../core/config/config.ts";
import { tempDir } from "../_temp.ts";

const ME = "alice@example.org";

/** The config fields a transport start reads, for one `local:` folder. */
function configFor(dir: string) {
  return { email: ME, transport: `local:${dir}`, transports: {}, gdrive: { ...DEFAULT_GDRIVE } };
}

/** A real local transport's start, as `syft sync` begins it. */
function openLocal(dir: string, home: string) {
  return () => openTransports(configFor(dir), home, new PeerStore(posix.join(home, "peers")));
}

/** A transport that only counts its closes (dispose's bookkeeping is what is tested). */
function counted(): { closes: number; open: () => Promise<OpenedTransports> } {
  const c = {
    closes: 0,
    open: () =>
      Promise.resolve({
        transport: { close: () => Promise.resolve(void c.closes++) } as Transport,
      }),
  };
  return c;
}

Deno.test("an early start is handed over once and works; dispose() after that leaves it to its taker", async () => {
  const base = await tempDir();
  const early = startTransportsEarly(openLocal(base, base));
  const taken = early.take();
  assert(taken !== null);
  assertEquals(early.take(), null, "handed over twice");
  await early.dispose();
  const { transport } = await taken;
  try {
    assertEquals((await transport.whoami()).email, ME);
  } finally {
    await transport.close();
  }
  const c = counted();
  const other = startTransportsEarly(c.open);
  await other.take();
  await other.dispose();
  assertEquals(c.closes, 0, "closed under its taker");
  await Deno.remove(base, { recursive: true });
});

Deno.test("an early start nobody took is closed by dispose(), once; one that failed is passed over", async () => {
  const c = counted();
  const early = startTransportsEarly(c.open);
  await early.dispose();
  await early.dispose();
  assertEquals(c.closes, 1);
  assertEquals(early.take(), null, "handed over after dispose()");
  const base = await tempDir();
  // The failed start's rejection is neither thrown by dispose() nor left unhandled.
  await startTransportsEarly(openLocal(posix.join(base, "missing"), base)).dispose();
  await Deno.remove(base, { recursive: true });
});

Deno.test("syft sync over a shared folder that is gone fails in one line with exit 4, as before the early start", async () => {
  const base = await tempDir();
  const home = posix.join(base, ".syft");
  const shared = posix.join(base, "shared");
  await Deno.mkdir(shared);
  let err = "";
  const sink = { out: () => {}, err: (t: string) => void (err += t) };
  const init = ["init", "--email", ME, "--root", posix.join(base, "SyftBox")];
  assertEquals(await runCli(["--home", home, ...init, "--transport", `local:${shared}`], sink), 0);
  await Deno.remove(shared);
  err = "";
  assertEquals(await runCli(["--home", home, "sync"], sink), 4);
  assertMatch(err, /^error: local transport folder ".*shared" does not exist\nhint: /);
  await Deno.remove(base, { recursive: true });
});
