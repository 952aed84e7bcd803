/**
 * What the fuzzer feeds: for each parser or opener the engine uses on bytes
 * from a peer, the valid inputs the real code writes, how to mutate them, and
 * the check of one mutated input. A check throws a `Finding` when a property
 * breaks; any other throw is the parser's own and is judged by the runner.
 * @module
 */
import { createHash } from "node:crypto";
import { openEnvelope, sealEnvelope } from "../../core/events/envelope.ts";
import { packBody, unpackBody } from "../../core/events/body.ts";
import { changeEvent, deletionEvent } from "../../core/events/make.ts";
import { parseBatchJson, parseCheckpointJson, serializeJson } from "../../core/events/parse.ts";
import type { BatchJson, CheckpointJson, FileChangeEvent } from "../../core/events/types.ts";
import { generateIdentityKeys } from "../../core/identity/keys.ts";
import { createHello, parseHello } from "../../core/peers/hello.ts";
import { parseJobConfig, serializeJobConfig } from "../../core/jobs/config.ts";
import { parsePermissionFile } from "../../core/permissions/parse.ts";
import { mutateBytes, mutateJson, mutateYaml, Rand } from "./mutate.ts";

const SENDER = "alice@example.org";
const RECIPIENT = "bob@example.org";
const enc = new TextEncoder();

/** A broken property (never a parser's own refusal). */
export class Finding extends Error {
  override name = "Finding";
}

/** A refusal by a parser that reports errors as a result rather than a throw. */
export class Refused extends Error {
  override name = "Refused";
}

/** One fuzz target: valid inputs, a mutator and the check of a mutated input. */
export interface Target {
  readonly name: string;
  readonly valid: readonly Uint8Array[];
  mutate(input: Uint8Array, r: Rand): Uint8Array | Promise<Uint8Array>;
  /** Feed `input` to the parser; throws what the parser throws, or a Finding. */
  check(input: Uint8Array, original: Uint8Array): Promise<void>;
}

/** A path a parser hands on must stay inside the datasite. */
export function assertInsideDatasite(path: string, where: string): void {
  const segments = path.split("/");
  const escapes = path.startsWith("/") || path.includes("\\") || path.includes("\0") ||
    segments.some((s) => s === "" || s === "." || s === "..");
  if (escapes) {
    throw new Finding(`${where} returned a path outside the datasite: ${JSON.stringify(path)}`);
  }
}

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function streamOf(bytes: Uint8Array, chunk = 4096): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream({
    pull(c) {
      if (offset >= bytes.length) return c.close();
      c.enqueue(bytes.slice(offset, offset + chunk));
      offset += chunk;
    },
  });
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

function checkEvents(events: readonly FileChangeEvent[], where: string): void {
  for (const e of events) {
    assertInsideDatasite(e.path, where);
    if (e.datasite !== SENDER && e.datasite !== RECIPIENT) {
      throw new Finding(`${where} accepted an event of a third datasite ${e.datasite}`);
    }
  }
}

const FILES: readonly [string, Uint8Array][] = [
  ["public/readme.md", enc.encode("# hello\n")],
  ["public/data/mock.csv", enc.encode("a,b\n1,2\n3,4\n")],
  ["app_data/jobs/run.sh", enc.encode("#!/bin/sh\necho hi\n")],
];

function validEvents(): FileChangeEvent[] {
  const events = FILES.map(([path, bytes]) =>
    changeEvent(SENDER, path, { hash: sha256(bytes), size: bytes.length, mode: "file" }, null, 1)
  );
  events.push(deletionEvent(SENDER, "public/old.txt", sha256(enc.encode("old")), 2));
  events.push(
    changeEvent(
      RECIPIENT,
      "proposals/x.txt",
      {
        hash: sha256(enc.encode("x")),
        size: 1,
        mode: "exec",
      },
      null,
      3,
    ),
  );
  return events;
}

function validBatch(): BatchJson {
  return {
    seq: 7,
    sender: SENDER,
    created_at: 1_700_000_000_000,
    events: validEvents(),
    acks: { [RECIPIENT]: 3 },
    control: [
      { type: "peer.accept" },
      {
        type: "proposal.rejected",
        event_id: "e1",
        path: "public/x.txt",
        reason: "permission",
        current_hash: null,
        detail: "you may not write public/",
      },
      { type: "channel.resync", from_seq: 2, reason: "lost" },
    ],
  };
}

function validCheckpoint(): CheckpointJson {
  return {
    seq: 9,
    sender: SENDER,
    created_at: 1_700_000_000_000,
    base: 4,
    events: validEvents().filter((e) => e.datasite === SENDER && !e.deleted),
  };
}

const enforceKinds = ["cf", "ci"] as const;

/** Build every target from valid inputs the real writers produce. */
export async function makeTargets(): Promise<Target[]> {
  const alice = await generateIdentityKeys();
  const bob = await generateIdentityKeys();
  const batchBytes = serializeJson(validBatch());
  const checkpointBytes = serializeJson(validCheckpoint());
  const contents = FILES.map(([, bytes]) => ({ hash: sha256(bytes), bytes }));
  const batchBody = await readAll(packBody({ name: "batch.json", bytes: batchBytes }, contents));
  const checkpointBody = await readAll(
    packBody({ name: "checkpoint.json", bytes: checkpointBytes }, contents),
  );

  // Small chunks so a short body still spans several authenticated chunks.
  const sealOne = async (
    name: string,
    kind: "batch" | "ci" | "blob",
    body: Uint8Array,
    chunk: number,
  ) =>
    await readAll(sealEnvelope(
      {
        kind,
        name,
        sender: SENDER,
        recipient: RECIPIENT,
        seq: 2,
        created_at: 1,
        size: body.length,
        chunk,
      },
      body,
      {
        signPrivate: alice.sign.privateKey,
        agreePrivate: alice.agree.privateKey,
        peerAgreePublic: bob.agree.publicKey,
      },
    ));
  const envelopes: { name: string; bytes: Uint8Array }[] = [
    {
      name: "b-0000000000000002.syft",
      bytes: await sealOne("b-0000000000000002.syft", "batch", batchBody, 64),
    },
    {
      name: "ci-0000000000000002.syft",
      bytes: await sealOne("ci-0000000000000002.syft", "ci", checkpointBody, 1024),
    },
    {
      name: "b-0000000000000002.syft",
      bytes: await sealOne("b-0000000000000002.syft", "batch", new Uint8Array(0), 16),
    },
    {
      // A blob is named for a random id; its body is the file's raw bytes.
      name: `x-${"ab".repeat(32)}.syft`,
      bytes: await sealOne(`x-${"ab".repeat(32)}.syft`, "blob", FILES[1]![1], 8),
    },
  ];
  const openKeys = {
    senderSignPublic: alice.sign.publicKey,
    agreePrivate: bob.agree.privateKey,
    senderAgreePublic: alice.agree.publicKey,
  };

  const hello = await createHello({
    sender: SENDER,
    recipient: RECIPIENT,
    keys: alice,
    clientVersion: "0.1.0",
    now: 1_700_000_000_000,
  });
  const helloFields = JSON.stringify(
    await parseHello(hello, { sender: SENDER, recipient: RECIPIENT }),
  );

  const jobConfig = enc.encode(serializeJobConfig({
    id: "count-rows-1",
    name: "count rows",
    submitted_by: RECIPIENT,
    submitted_at: "2026-01-02T03:04:05.000Z",
    type: "python",
    entrypoint: "run.sh",
    dependencies: ["pandas==2.2.0"],
    datasets: ["census"],
    grants: { network: false, timeout: 600 },
    files: [
      { path: "run.sh", sha256: sha256(enc.encode("python main.py\n")) },
      { path: "src/main.py", sha256: sha256(enc.encode("print(1)\n")) },
    ],
  }));

  const permissionFiles = [
    "rules:\n  - pattern: '**'\n    access: {read: ['*']}\n",
    "terminal: true\nrules:\n  - pattern: 'data/{useremail}/**'\n    access:\n      admin: [alice@example.org]\n      write: ['{useremail}']\n      read: ['*@example.org']\n  - pattern: '*.csv'\n    access: {}\n",
  ].map((t) => enc.encode(t));

  const unpackChecked = async (input: Uint8Array, first: "batch.json" | "checkpoint.json") =>
    await unpackBody(streamOf(input), {
      first,
      maxInflatedBytes: 8 * 1024 * 1024,
      onContent: (hash, bytes) => {
        if (sha256(bytes) !== hash) {
          throw new Finding(`body handed over content not hashing to ${hash}`);
        }
        return Promise.resolve();
      },
    });

  return [
    {
      name: "envelope",
      valid: envelopes.map((e) => e.bytes),
      mutate: mutateBytes,
      async check(input, original) {
        const name = envelopes.find((e) => e.bytes === original)?.name ?? "";
        const opened = await openEnvelope(streamOf(input, 100), {
          name,
          sender: SENDER,
          recipient: RECIPIENT,
        }, openKeys);
        await readAll(opened.body);
        if (!sameBytes(input, original)) {
          throw new Finding("a mutated envelope opened and its whole body verified");
        }
      },
    },
    {
      name: "batch-body",
      valid: [batchBody],
      mutate: (input, r) => mutateGzipOrTar(input, r),
      async check(input) {
        checkEvents(
          parseBatchJson(await unpackChecked(input, "batch.json"), ctx).events,
          "batch body",
        );
      },
    },
    {
      name: "checkpoint-body",
      valid: [checkpointBody],
      mutate: (input, r) => mutateGzipOrTar(input, r),
      async check(input) {
        const json = await unpackChecked(input, "checkpoint.json");
        checkEvents(parseCheckpointJson(json, { ...ctx, kind: "ci" }).events, "checkpoint body");
      },
    },
    {
      name: "batch-json",
      valid: [batchBytes],
      mutate: mutateJson,
      check(input) {
        checkEvents(parseBatchJson(input, ctx).events, "parseBatchJson");
        return Promise.resolve();
      },
    },
    {
      name: "checkpoint-json",
      valid: [checkpointBytes],
      mutate: mutateJson,
      check(input) {
        for (const kind of enforceKinds) {
          checkEvents(parseCheckpointJson(input, { ...ctx, kind }).events, "parseCheckpointJson");
        }
        return Promise.resolve();
      },
    },
    {
      name: "hello",
      valid: [hello],
      mutate: mutateHello,
      async check(input) {
        const parsed = await parseHello(input, { sender: SENDER, recipient: RECIPIENT });
        if (JSON.stringify(parsed) !== helloFields) {
          throw new Finding("a mutated hello.json verified with fields its signer never wrote");
        }
      },
    },
    {
      name: "job-config",
      valid: [jobConfig],
      mutate: mutateYaml,
      check(input) {
        // As the engine reads it: Deno.readTextFile decodes with replacement characters.
        const config = parseJobConfig(new TextDecoder().decode(input), "config.yaml");
        assertInsideDatasite(config.entrypoint, "parseJobConfig entrypoint");
        for (const f of config.files) assertInsideDatasite(f.path, "parseJobConfig files");
        return Promise.resolve();
      },
    },
    {
      name: "permission-file",
      valid: permissionFiles,
      mutate: mutateYaml,
      check(input) {
        const result = parsePermissionFile(input, "public");
        if (!result.ok && !result.error.reason.startsWith("it could not be parsed (")) {
          throw new Refused(result.error.reason);
        }
        // The parser's catch-all for anything unexpected: fail-closed, but a crash all the same.
        if (!result.ok && result.error.reason.startsWith("it could not be parsed (")) {
          throw new Finding(`parsePermissionFile hit an unexpected error: ${result.error.reason}`);
        }
        return Promise.resolve();
      },
    },
  ];
}

const ctx = { sender: SENDER, recipient: RECIPIENT };

/** A hello is JSON around a base64 signed body: mutate the outside or the body inside. */
function mutateHello(input: Uint8Array, r: Rand): Uint8Array {
  if (r.chance(0.5)) return mutateJson(input, r);
  const outer = JSON.parse(new TextDecoder().decode(input)) as { body: string; sig: string };
  const body = Uint8Array.from(atob(outer.body), (c) => c.charCodeAt(0));
  const mutated = mutateJson(body, r);
  outer.body = btoa(String.fromCharCode(...mutated.subarray(0, 32_768)));
  return enc.encode(JSON.stringify(outer));
}

/** Mutate the gzip stream itself, or the tar inside it (then gzip again, so it gets past gzip). */
function mutateGzipOrTar(input: Uint8Array, r: Rand): Uint8Array | Promise<Uint8Array> {
  if (r.chance(0.3)) return mutateBytes(input, r);
  return (async () => {
    const tar = await readAll(
      new Blob([new Uint8Array(input)]).stream().pipeThrough(new DecompressionStream("gzip")),
    );
    const mutated = mutateTar(tar, r);
    return await readAll(
      new Blob([new Uint8Array(mutated)]).stream().pipeThrough(new CompressionStream("gzip")),
    );
  })();
}

/** Tar-aware mutations: names (path segments), size and type fields, checksums, or bytes. */
function mutateTar(tar: Uint8Array, r: Rand): Uint8Array {
  const b = new Uint8Array(tar);
  // Entry headers sit on 512-byte boundaries; the first is at 0.
  const headers: number[] = [];
  for (let o = 0; o + 512 <= b.length; o += 512) {
    if (b[o + 257] === 0x75 && b[o + 258] === 0x73) headers.push(o); // "us"tar magic
  }
  const h = headers.length > 0 ? r.pick(headers) : 0;
  const putField = (offset: number, width: number, text: string) => {
    const bytes = enc.encode(text).subarray(0, width);
    b.fill(0, h + offset, h + offset + width);
    b.set(bytes, h + offset);
  };
  switch (r.int(6)) {
    case 0:
      putField(
        0,
        100,
        r.pick([
          "../x",
          "/etc/passwd",
          "c/../batch.json",
          "c/" + "0".repeat(64),
          "batch.json",
          "a\u202eb",
          "c//x",
        ]),
      );
      break;
    case 1:
      putField(
        124,
        12,
        r.pick([
          "77777777777",
          "00000000000",
          "99999999999",
          "-1",
          "\x80\0\0\0\0\0\0\0\xff\xff\xff\xff",
        ]),
      );
      break;
    case 2:
      putField(156, 1, r.pick(["1", "2", "3", "5", "L", "x", "g"])); // links, devices, dirs, long names
      break;
    case 3:
      putField(148, 8, r.pick(["0000000\0", "        "]));
      break;
    case 4:
      putField(345, 155, r.pick(["..", "/", "a".repeat(155)])); // ustar prefix
      break;
    default:
      return mutateBytes(b, r);
  }
  return b;
}
