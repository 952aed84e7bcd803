import { assertEquals, assertMatch, assertThrows } from "../../assert.ts";
import { type Config, readWrittenConfig, serializeConfig } from "../../../core/config/config.ts";
import { parseConfig } from "../../../core/config/config_yaml.ts";
import { parseTransportSpec } from "../../../core/config/transport_spec.ts";
import { SyftError } from "../../../core/errors/mod.ts";
import { prng } from "../../../core/random/prng.ts";

const FILE = "/h/.syft/config.yaml";
const good: Config = {
  version: 1,
  email: "alice@example.org",
  root: "/home/alice/SyftBox",
  transport: "local:/srv/shared",
  transports: {},
  created_at: 1764140000000,
  sync: {
    checkpoint_threshold: 50,
    compact_threshold: 10,
    gap_timeout_seconds: 60,
    quarantine_mib: 64,
    max_proposals: 10_000,
  },
  jobs: { python_index: null },
  sandbox: { scratch_mib: 256, memory_mib: 4096 },
  gdrive: { full_list_every: 60 },
};

function inputError(text: string, pattern: RegExp): void {
  assertThrows(() => parseConfig(text, FILE), (err) => {
    if (!(err instanceof SyftError)) throw err;
    assertEquals(err.code, "E_INPUT");
    assertMatch(err.message, pattern);
    assertMatch(err.message, /config\.yaml/);
    assertEquals(err.message.includes("\n"), false, "one line");
  });
}

Deno.test("parseConfig() reads back what serializeConfig() wrote", () => {
  assertEquals(parseConfig(serializeConfig(good), FILE), good);
});

Deno.test("parseConfig() reads back named transports serializeConfig() wrote", () => {
  const many: Config = { ...good, transports: { lab: "local:/srv/lab", drive: "gdrive" } };
  assertEquals(parseConfig(serializeConfig(many), FILE), many);
});

Deno.test("parseConfig() refuses a bad transport name, a reserved one, or a spec that is not text", () => {
  const base = "version: 1\nemail: a@b.org\nroot: /r\ntransport: local:/t\n";
  inputError(base + "transports:\n  Lab: local:/x\n", /"transports" \."Lab" must be/);
  inputError(base + "transports:\n  default: local:/x\n", /init's transport/);
  inputError(base + "transports:\n  lab: 3\n", /\.lab must be a transport spec/);
  inputError(base + "transports: [a]\n", /must be a mapping/);
  const tooMany = Array.from({ length: 17 }, (_, i) => `  t${i}: local:/x${i}\n`).join("");
  inputError(base + "transports:\n" + tooMany, /more than 16/);
});

Deno.test("parseConfig() fills sync defaults and ignores unknown keys", () => {
  const text = "version: 1\nemail: a@b.org\nroot: /r\ntransport: local:/t\nfuture_key: 3\n";
  const c = parseConfig(text, FILE);
  assertEquals(c.sync, {
    checkpoint_threshold: 50,
    compact_threshold: 10,
    gap_timeout_seconds: 60,
    quarantine_mib: 64,
    max_proposals: 10_000,
  });
  assertEquals(c.sandbox, { scratch_mib: 256, memory_mib: 4096 });
  assertEquals(c.gdrive, { full_list_every: 60 });
});

Deno.test("parseConfig() names the line of YAML that does not parse", () => {
  inputError("version: 1\nemail: [unclosed\n", /not valid YAML \(line \d+\)/);
});

Deno.test("parseConfig() names a field that is not an email, with its line", () => {
  inputError("version: 1\nemail: bob\nroot: /r\ntransport: local:/t\n", /"email" .*line 2/);
});

Deno.test("parseConfig() refuses a missing field, a relative root and a wrong version", () => {
  inputError("version: 1\nroot: /r\ntransport: local:/t\n", /"email" is missing/);
  inputError("version: 1\nemail: a@b.org\nroot: r\ntransport: local:/t\n", /"root" .*absolute/);
  inputError("version: 2\nemail: a@b.org\nroot: /r\ntransport: local:/t\n", /"version" must be 1/);
  inputError("- a\n- b\n", /mapping/);
});

Deno.test("parseConfig() refuses a sandbox limit that is not a whole number", () => {
  inputError(
    "version: 1\nemail: a@b.org\nroot: /r\ntransport: local:/t\nsandbox:\n  memory_mib: 1.5\n",
    /sandbox.*memory_mib/,
  );
});

Deno.test("parseConfig() refuses bad sync thresholds", () => {
  inputError(
    "version: 1\nemail: a@b.org\nroot: /r\ntransport: local:/t\nsync:\n  compact_threshold: 0\n",
    /compact_threshold/,
  );
});

Deno.test("parseConfig() does not expand an alias bomb", () => {
  const bomb = ["a: &a [x, x, x, x, x, x, x, x, x]"];
  for (let i = 1; i < 12; i++) {
    const prev = String.fromCharCode(96 + i);
    const next = String.fromCharCode(97 + i);
    bomb.push(`${next}: &${next} [${Array(9).fill(`*${prev}`).join(", ")}]`);
  }
  bomb.push("version: 1", "email: *l", "root: /r", "transport: local:/t");
  const started = performance.now();
  inputError(bomb.join("\n"), /"email"/);
  assertEquals(performance.now() - started < 2000, true, "no exponential expansion");
});

Deno.test("parseConfig() refuses a file over 1 MiB before parsing it", () => {
  inputError("#".repeat(1024 * 1024 + 1), /larger than 1 MiB/);
});

Deno.test("a config syft wrote is read without the YAML parser, to the value the parser reads", () => {
  const configs: Config[] = [
    good,
    { ...good, transports: { lab: "local:/srv/lab", drive: "gdrive" } },
    { ...good, jobs: { python_index: "https://pypi.example.org/simple" }, created_at: 0 },
    // Quotes, backslashes, a `#`, non-ASCII and an astral character stay as written.
    { ...good, root: '/home/zoë/Syft "Box" \\ #1 \u{1F600}', transport: "local:/x: y" },
    {
      ...good,
      sync: { ...good.sync, max_proposals: Number.MAX_SAFE_INTEGER },
      sandbox: { scratch_mib: 1, memory_mib: 1 },
    },
  ];
  for (const c of configs) {
    const text = serializeConfig(c);
    assertEquals(readWrittenConfig(text), c, text);
    assertEquals(parseConfig(text, FILE), c, text);
  }
});

Deno.test("any other config text is left to the YAML parser", () => {
  const text = serializeConfig(good);
  const others = [
    text.replace("# syft configuration", "# my syft configuration"), // an edited comment
    text + "future_key: 3\n", // a key syft does not write
    text.replace('email: "alice@example.org"', "email: alice@example.org"), // unquoted
    text.replace('email: "alice@example.org"', "email: 'alice@example.org'"),
    text.replace("version: 1", "version: 1 # the format"),
    text.replaceAll("\n", "\r\n"),
    text.replace("  compact_threshold: 10", "\tcompact_threshold: 10"),
    text.replace("sync:\n", "sync:\n\n"),
    text.slice(0, -1), // no final newline
    serializeConfig({ ...good, root: "/a\nb" }), // an escape YAML reads its own way
    serializeConfig({ ...good, root: "/a\u2028b" }),
    serializeConfig({ ...good, root: "relative" }), // written, but invalid: the parser says why
    serializeConfig({ ...good, email: "Alice@example.org" }),
    serializeConfig({ ...good, created_at: 1e21 }),
  ];
  for (const other of others) assertEquals(readWrittenConfig(other), undefined, other);
});

Deno.test("whenever the quick reader takes a mutated config, the YAML parser reads the same value", () => {
  const next = prng(0x5f7);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!;
  const pieces = ['"', "\\", " ", "\n", ":", "#", "-", "0", "9", "a", "_", "'", "\t", "é", "["];
  const bases = [
    serializeConfig(good),
    serializeConfig({ ...good, transports: { lab: "local:/srv/lab" } }),
  ];
  let taken = 0;
  for (let i = 0; i < 3000; i++) {
    let text = pick(bases);
    for (let edits = 1 + Math.floor(next() * 2); edits > 0; edits--) {
      const at = Math.floor(next() * text.length);
      text = next() < 0.5
        ? text.slice(0, at) + pick(pieces) + text.slice(at)
        : text.slice(0, at) + text.slice(at + 1);
    }
    const quick = readWrittenConfig(text);
    if (quick === undefined) continue;
    taken++;
    assertEquals(parseConfig(text, FILE), quick, JSON.stringify(text));
  }
  // Some edits keep the text valid and as syft writes it (a digit for a digit).
  assertEquals(taken > 0, true, "no mutated text was taken");
});

Deno.test("parseTransportSpec() makes local folders absolute and refuses unknown kinds", () => {
  const env = { HOME: "/home/u" };
  assertEquals(parseTransportSpec("local:shared", env, "/work"), {
    kind: "local",
    dir: "/work/shared",
  });
  assertEquals(parseTransportSpec("local:~/x", env, "/w"), { kind: "local", dir: "/home/u/x" });
  assertEquals(parseTransportSpec("gdrive", env, "/w"), { kind: "gdrive" });
  for (const bad of ["ftp://x", "local:", "s3"]) {
    assertThrows(() => parseTransportSpec(bad, env, "/w"), (err) => {
      assertEquals((err as SyftError).code, "E_USAGE");
    });
  }
});
