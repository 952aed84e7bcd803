import { SyftError } from "../../../core/errors/mod.ts";
import {
  MAX_BATCH_EVENTS,
  parseBatchJson,
  parseCheckpointJson,
  parseEvent,
  serializeJson,
} from "../../../core/events/parse.ts";
import type { BatchJson, CheckpointJson, FileChangeEvent } from "../../../core/events/types.ts";
import { INLINE_LIMIT } from "../../../core/events/types.ts";
import { assert, assertEquals, assertStringIncludes, assertThrows } from "../../assert.ts";

const ALICE = "alice@example.org";
const BOB = "bob@example.org";
const CTX = { sender: ALICE, recipient: BOB } as const;
const H1 = "a".repeat(64);
const H2 = "0123456789abcdef".repeat(4);

type Json = Record<string, unknown>;

function event(over: Json = {}): Json {
  return {
    id: "6f1c1c1e-0000-4000-8000-000000000001",
    datasite: ALICE,
    path: "public/data.csv",
    old_hash: null,
    new_hash: H1,
    size: 12,
    deleted: false,
    mode: "file",
    submitted_at: 1_700_000_000_000,
    ts: 1_700_000_000_001,
    content: "inline",
    ...over,
  };
}

function batch(over: Json = {}): Json {
  return {
    seq: 1,
    sender: ALICE,
    created_at: 1_700_000_000_000,
    events: [event()],
    acks: { [BOB]: 3 },
    control: [],
    ...over,
  };
}

function checkpoint(over: Json = {}): Json {
  return { seq: 5, sender: ALICE, created_at: 1, base: null, events: [event()], ...over };
}

const bytes = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

/** Asserts `fn` throws E_BAD_MESSAGE with a one-line message containing `fragment`. */
function assertBad(fn: () => unknown, fragment: string): void {
  assertThrows(fn, (err) => {
    assert(err instanceof SyftError, `expected a SyftError, got ${String(err)}`);
    assertEquals(err.code, "E_BAD_MESSAGE");
    assert(!/[\r\n]/.test(err.message), `message is not one line: ${err.message}`);
    assertStringIncludes(err.message, fragment);
  });
}

// ---------------------------------------------------------------------------
// Accepted shapes and round trips

Deno.test("parseBatchJson() accepts a well-formed batch and returns exactly its fields", () => {
  const parsed = parseBatchJson(bytes(batch()), CTX);
  assertEquals(parsed, batch() as unknown as BatchJson);
});

Deno.test("serializeJson() output parses back to the same batch", () => {
  const value: BatchJson = {
    seq: 7,
    sender: ALICE,
    created_at: 99,
    events: [
      event() as unknown as FileChangeEvent,
      event({
        id: "p1",
        datasite: BOB,
        path: "app_data/job/inbox/alice@example.org/run.sh",
        old_hash: H2,
        new_hash: null,
        deleted: true,
        content: null,
        mode: "exec",
      }) as unknown as FileChangeEvent,
    ],
    acks: { [BOB]: 0, "carol@lab.example.com": 12 },
    control: [
      { type: "peer.accept" },
      { type: "peer.reject", reason: "who are you?" },
      { type: "peer.remove" },
      {
        type: "proposal.rejected",
        event_id: "p1",
        path: "private/x",
        reason: "permission",
        current_hash: null,
      },
      { type: "channel.resync", from_seq: 0, reason: "quarantined b-3" },
    ],
  };
  assertEquals(parseBatchJson(serializeJson(value), CTX), value);
});

Deno.test("serializeJson() writes keys in the order of types.ts, acks sorted, extra keys dropped", () => {
  const shuffled = {
    control: [{ reason: "r", from_seq: 2, type: "channel.resync", extra: 1 }],
    acks: { "zed@example.org": 1, "amy@example.org": 2 },
    events: [Object.fromEntries([["unknown", "x"], ...Object.entries(event()).reverse()])],
    created_at: 3,
    sender: ALICE,
    seq: 2,
    junk: true,
  } as unknown as BatchJson;
  const text = new TextDecoder().decode(serializeJson(shuffled));
  assertEquals(
    text,
    `{"seq":2,"sender":"alice@example.org","created_at":3,"events":[{"id":"6f1c1c1e-0000-4000-8000-000000000001","datasite":"alice@example.org","path":"public/data.csv","old_hash":null,"new_hash":"${H1}","size":12,"deleted":false,"mode":"file","submitted_at":1700000000000,"ts":1700000000001,"content":"inline"}],"acks":{"amy@example.org":2,"zed@example.org":1},"control":[{"type":"channel.resync","from_seq":2,"reason":"r"}]}`,
  );
});

Deno.test("serializeJson() writes a checkpoint with base in its place", () => {
  const value = {
    events: [],
    base: 4,
    created_at: 1,
    sender: ALICE,
    seq: 9,
  } as CheckpointJson;
  assertEquals(
    new TextDecoder().decode(serializeJson(value)),
    `{"seq":9,"sender":"alice@example.org","created_at":1,"base":4,"events":[]}`,
  );
  assertEquals(parseCheckpointJson(serializeJson(value), CTX), value);
});

Deno.test("serializeJson() refuses NaN rather than writing null a reader would refuse", () => {
  const value = { ...batch(), seq: NaN } as unknown as BatchJson;
  assertThrows(() => serializeJson(value), (err) => {
    assert(err instanceof SyftError);
    assertEquals(err.code, "E_INTERNAL");
  });
});

Deno.test("parseBatchJson() ignores unknown top-level keys and unknown event keys", () => {
  const parsed = parseBatchJson(
    bytes(batch({ future: { x: 1 }, events: [{ ...event(), hint: "new" }] })),
    CTX,
  );
  assertEquals(Object.keys(parsed), ["seq", "sender", "created_at", "events", "acks", "control"]);
  assertEquals(parsed.events[0], event() as unknown as FileChangeEvent);
});

Deno.test("parseBatchJson() skips control records of unknown types but keeps the rest", () => {
  const parsed = parseBatchJson(
    bytes(batch({
      control: [
        { type: "peer.hello.v2", whatever: [1, 2] },
        { type: "peer.accept", note: "extra keys are dropped" },
        { type: "x" },
      ],
    })),
    CTX,
  );
  assertEquals(parsed.control, [{ type: "peer.accept" }]);
});

Deno.test("parseBatchJson() accepts a proposal: an event for the recipient's datasite", () => {
  const parsed = parseBatchJson(bytes(batch({ events: [event({ datasite: BOB })] })), CTX);
  assertEquals(parsed.events[0]?.datasite, BOB);
});

Deno.test("parseBatchJson() accepts an events-free batch that only carries acks", () => {
  const parsed = parseBatchJson(bytes(batch({ events: [], acks: { [BOB]: 41 } })), CTX);
  assertEquals(parsed.events, []);
  assertEquals(parsed.acks, { [BOB]: 41 });
});

Deno.test("parseBatchJson() accepts exactly twice the event limit and refuses one more", () => {
  const many = Array.from({ length: MAX_BATCH_EVENTS }, (_, i) => event({ path: `p/${i}` }));
  assertEquals(parseBatchJson(bytes(batch({ events: many })), CTX).events.length, 20_000);
  assertBad(
    () => parseBatchJson(bytes(batch({ events: [...many, event()] })), CTX),
    "batch.json.events has 20001 events, more than 20000",
  );
});

Deno.test("parseBatchJson() accepts an inline content of exactly the inline limit", () => {
  const parsed = parseBatchJson(bytes(batch({ events: [event({ size: INLINE_LIMIT })] })), CTX);
  assertEquals(parsed.events[0]?.size, INLINE_LIMIT);
});

// ---------------------------------------------------------------------------
// Refusals: the whole object, E_BAD_MESSAGE, naming the part

const enc = new TextEncoder();

const DOCUMENT_CASES: readonly [string, Uint8Array, string][] = [
  ["invalid UTF-8", new Uint8Array([0x7b, 0xff, 0x7d]), "batch.json is not valid UTF-8"],
  ["a byte-order mark", new Uint8Array([0xef, 0xbb, 0xbf, ...bytes(batch())]), "not valid JSON"],
  ["text that is not JSON", enc.encode("{seq: 1}"), "batch.json is not valid JSON"],
  ["an empty document", new Uint8Array(), "batch.json is not valid JSON"],
  ["a JSON array", bytes([batch()]), "batch.json must be an object, got an array"],
  ["JSON null", bytes(null), "batch.json must be an object, got null"],
  ["a JSON string", bytes("batch"), "batch.json must be an object, got the string"],
];

for (const [what, input, fragment] of DOCUMENT_CASES) {
  Deno.test(`parseBatchJson() refuses ${what}`, () => {
    assertBad(() => parseBatchJson(input, CTX), fragment);
  });
}

const BATCH_CASES: readonly [string, Json, string][] = [
  ["a missing seq", { seq: undefined }, "batch.json has no seq"],
  ["seq 0", { seq: 0 }, "batch.json.seq must be a positive integer, got the number 0"],
  ["a negative seq", { seq: -1 }, "batch.json.seq must be a positive integer"],
  ["a fractional seq", { seq: 1.5 }, "batch.json.seq must be a positive integer"],
  ["a seq past 2^53", { seq: 2 ** 53 }, "batch.json.seq must be a positive integer"],
  [
    "a seq as a string",
    { seq: "1" },
    'batch.json.seq must be a positive integer, got the string "1"',
  ],
  ["a null seq", { seq: null }, "got null"],
  ["another sender", { sender: "eve@example.org" }, 'batch.json.sender "eve@example.org" is not'],
  ["the recipient as sender", { sender: BOB }, "is not the channel's sender"],
  [
    "a sender that is not a string",
    { sender: ["alice@example.org"] },
    "batch.json.sender must be a string",
  ],
  [
    "a negative created_at",
    { created_at: -1 },
    "batch.json.created_at must be a non-negative integer",
  ],
  ["a created_at as a string", { created_at: "2024-01-01" }, "batch.json.created_at"],
  [
    "events as an object",
    { events: { 0: event() } },
    "batch.json.events must be an array, got an object",
  ],
  ["a missing events", { events: undefined }, "batch.json has no events"],
  ["acks as an array", { acks: [] }, "batch.json.acks must be an object, got an array"],
  ["acks null", { acks: null }, "batch.json.acks must be an object, got null"],
  [
    "an acks key that is not an email",
    { acks: { bob: 1 } },
    'batch.json.acks key "bob" is not a valid identity',
  ],
  ["an acks key in upper case", { acks: { "Bob@Example.org": 1 } }, "is not a valid identity"],
  ["an acks key with a space", { acks: { "bob @example.org": 1 } }, "is not a valid identity"],
  [
    "an acks key with a domain without a dot",
    { acks: { "bob@localhost": 1 } },
    "is not a valid identity",
  ],
  ["an acks key that is empty", { acks: { "": 1 } }, 'acks key "" is not a valid identity'],
  [
    "a negative ack",
    { acks: { [BOB]: -1 } },
    'batch.json.acks["bob@example.org"] must be a non-negative integer',
  ],
  ["an ack as a string", { acks: { [BOB]: "3" } }, "must be a non-negative integer"],
  ["a fractional ack", { acks: { [BOB]: 0.5 } }, "must be a non-negative integer"],
  ["control as an object", { control: {} }, "batch.json.control must be an array"],
  [
    "a control record that is a string",
    { control: ["peer.accept"] },
    "batch.json.control[0] must be an object",
  ],
  [
    "a control record without type",
    { control: [{ reason: "x" }] },
    "batch.json.control[0] has no type",
  ],
  [
    "a control type that is not a string",
    { control: [{ type: 7 }] },
    "batch.json.control[0].type must be a string",
  ],
  [
    "peer.reject without reason",
    { control: [{ type: "peer.reject" }] },
    "batch.json.control[0] has no reason",
  ],
  [
    "peer.reject with a numeric reason",
    { control: [{ type: "peer.reject", reason: 1 }] },
    ".reason must be a string",
  ],
  [
    "channel.resync with a negative from_seq",
    { control: [{ type: "channel.resync", from_seq: -1, reason: "gap" }] },
    "batch.json.control[0].from_seq must be a non-negative integer",
  ],
  [
    "channel.resync without reason",
    { control: [{ type: "channel.resync", from_seq: 3 }] },
    "batch.json.control[0] has no reason",
  ],
];

const REJECTED = {
  type: "proposal.rejected",
  event_id: "p1",
  path: "public/x",
  reason: "conflict",
  current_hash: H1,
};

const REJECTED_CASES: readonly [string, Json, string][] = [
  ["an empty event_id", { event_id: "" }, ".event_id must be 1 to 64 printable ASCII characters"],
  ["an event_id that is a number", { event_id: 1 }, ".event_id must be a string"],
  ["a path with ..", { path: "public/../../etc" }, 'it climbs out with ".."'],
  ["an absolute path", { path: "/etc/passwd" }, "it is absolute"],
  [
    "an unknown reason",
    { reason: "nope" },
    '.reason must be one of "permission", "conflict", "invalid", "quota"',
  ],
  [
    "a current_hash in upper case",
    { current_hash: H1.toUpperCase() },
    ".current_hash must be 64 lowercase hex digits or null",
  ],
  ["a missing current_hash", { current_hash: undefined }, "has no current_hash"],
];

for (const [what, over, fragment] of BATCH_CASES) {
  Deno.test(`parseBatchJson() refuses ${what}`, () => {
    assertBad(() => parseBatchJson(bytes(batch(over)), CTX), fragment);
  });
}

for (const [what, over, fragment] of REJECTED_CASES) {
  Deno.test(`parseBatchJson() refuses proposal.rejected with ${what}`, () => {
    const control = [{ type: "peer.accept" }, { ...REJECTED, ...over }];
    assertBad(() => parseBatchJson(bytes(batch({ control })), CTX), fragment);
  });
}

Deno.test("parseBatchJson() accepts proposal.rejected with each reason and a null current_hash", () => {
  for (const reason of ["permission", "conflict", "invalid", "quota"]) {
    const control = [{ ...REJECTED, reason, current_hash: null }];
    assertEquals(parseBatchJson(bytes(batch({ control })), CTX).control, control);
  }
});

Deno.test("proposal.rejected carries the owner's detail: optional (older owners send none), one line, cut to 200 characters, kept through serialization", () => {
  const plain = parseBatchJson(bytes(batch({ control: [REJECTED] })), CTX).control[0];
  assertEquals(plain, REJECTED, "no detail: as before");
  const said = { ...REJECTED, detail: "you may not write public/" };
  assertEquals(parseBatchJson(bytes(batch({ control: [said] })), CTX).control[0], said);
  const long = { ...REJECTED, detail: `line one\nline two ${"é".repeat(500)}` };
  const got = parseBatchJson(bytes(batch({ control: [long] })), CTX).control[0] as {
    detail: string;
  };
  assertEquals([...got.detail].length, 200);
  assert(got.detail.startsWith("line one line two "), got.detail);
  assertBad(
    () => parseBatchJson(bytes(batch({ control: [{ ...REJECTED, detail: 7 }] })), CTX),
    ".detail must be a string",
  );
  // Written back, the detail travels (and only when there is one).
  const round = parseBatchJson(
    serializeJson(
      { seq: 1, sender: CTX.sender, created_at: 0, events: [], acks: {}, control: [said] } as never,
    ),
    CTX,
  );
  assertEquals(round.control[0], said);
});

const EVENT_CASES: readonly [string, Json, string][] = [
  ["an empty id", { id: "" }, ".id must be 1 to 64 printable ASCII characters"],
  ["an id of 65 characters", { id: "x".repeat(65) }, ".id must be 1 to 64"],
  ["an id with a control character", { id: "a\u001bb" }, '"a\\u001bb"'],
  ["an id that is a number", { id: 7 }, ".id must be a string, got the number 7"],
  ["a missing id", { id: undefined }, "batch.json.events[0] has no id"],
  [
    "a foreign datasite",
    { datasite: "eve@example.org" },
    'batch.json.events[0].datasite "eve@example.org" is neither the sender "alice@example.org" nor the recipient "bob@example.org"',
  ],
  ["a datasite in another case", { datasite: "Alice@example.org" }, "is neither the sender"],
  ["a datasite that is not a string", { datasite: null }, ".datasite must be a string, got null"],
  [
    "a path with ..",
    { path: "public/../private/key" },
    'is not a valid datasite path: it climbs out with ".."',
  ],
  ["a path that is ..", { path: ".." }, 'it climbs out with ".."'],
  ["an absolute path", { path: "/etc/passwd" }, 'it is absolute (starts with "/")'],
  ["a path with a backslash", { path: "public\\..\\x" }, "it contains a backslash"],
  ["a path with a newline", { path: "public/a\nb" }, "it contains the control character U+000A"],
  ["a path with a NUL", { path: "public/a\u0000" }, "NUL"],
  ["a path with an escape sequence", { path: "public/\u001b[2J" }, '"public/\\u001b[2J"'],
  ["a path with a . segment", { path: "public/./x" }, 'it has a "." segment'],
  ["a path with an empty segment", { path: "public//x" }, "empty segment"],
  ["a path ending in /", { path: "public/" }, 'it ends with "/"'],
  ["an empty path", { path: "" }, "it is empty"],
  ["a drive-letter path", { path: "C:/x" }, "drive letter"],
  [
    "a path that is not a string",
    { path: ["public", "x"] },
    ".path must be a string, got an array",
  ],
  [
    "a new_hash in upper case",
    { new_hash: H1.toUpperCase() },
    ".new_hash must be 64 lowercase hex digits or null",
  ],
  ["a short new_hash", { new_hash: "abc" }, ".new_hash must be 64 lowercase hex digits"],
  [
    "an old_hash that is a number",
    { old_hash: 0 },
    ".old_hash must be 64 lowercase hex digits or null",
  ],
  ["a missing old_hash", { old_hash: undefined }, "has no old_hash"],
  ["a negative size", { size: -1 }, ".size must be a non-negative integer"],
  ["a fractional size", { size: 1.25 }, ".size must be a non-negative integer"],
  ["a size past 2^53", { size: 2 ** 53 + 2 }, ".size must be a non-negative integer"],
  ["deleted as a string", { deleted: "false" }, ".deleted must be true or false"],
  ["deleted as 0", { deleted: 0 }, ".deleted must be true or false"],
  ["an unknown mode", { mode: "symlink" }, '.mode must be one of "file", "exec"'],
  ["a negative submitted_at", { submitted_at: -5 }, ".submitted_at must be a non-negative integer"],
  ["a ts as a string", { ts: "1" }, ".ts must be a non-negative integer"],
  [
    "an unknown content",
    { content: "external" },
    '.content must be one of "inline", "blob", "pool", null',
  ],
  [
    "a deletion with a new_hash",
    { deleted: true, content: null },
    "is a deletion but has a new_hash",
  ],
  [
    "a deletion with content",
    { deleted: true, new_hash: null },
    'is a deletion but has content "inline"',
  ],
  [
    "a live file without new_hash",
    { new_hash: null },
    "is not a deletion but its new_hash is null",
  ],
  ["a live file without content", { content: null }, "is not a deletion but its content is null"],
  [
    "an inline content over the inline limit",
    { size: INLINE_LIMIT + 1 },
    `.size ${INLINE_LIMIT + 1} is over the inline limit`,
  ],
];

for (const [what, over, fragment] of EVENT_CASES) {
  Deno.test(`parseBatchJson() refuses an event with ${what}`, () => {
    const events = [event({ path: "public/ok" }), event(over)];
    const fixed = fragment.replace("events[0]", "events[1]");
    assertBad(() => parseBatchJson(bytes(batch({ events })), CTX), fixed);
  });
}

Deno.test("parseBatchJson() refuses an event that is not an object", () => {
  assertBad(
    () => parseBatchJson(bytes(batch({ events: [event(), "x"] })), CTX),
    "batch.json.events[1] must be an object",
  );
});

Deno.test('parseBatchJson() refuses "__proto__" as an acks key', () => {
  // JSON.parse makes it an own key; it must be refused, never assigned.
  const proto = JSON.stringify(batch({ acks: JSON.parse('{"__proto__": 1}') }));
  assertBad(() => parseBatchJson(enc.encode(proto), CTX), 'acks key "__proto__"');
});

Deno.test("parseBatchJson() quotes hostile strings escaped and cut short", () => {
  const hostile = "\u202eevil\u001b]0;title\u0007" + "x".repeat(500);
  assertThrows(() => parseBatchJson(bytes(batch({ sender: hostile })), CTX), (err) => {
    assert(err instanceof SyftError);
    assert(/^[\x20-\x7e…]*$/.test(err.message), err.message);
    assert(err.message.length < 300, err.message);
    assertStringIncludes(err.message, "\\u202eevil\\u001b]0;title\\u0007");
  });
});

Deno.test("parseEvent() names a standalone event 'event' in its messages", () => {
  assertEquals(parseEvent(event(), CTX), event() as unknown as FileChangeEvent);
  assertBad(() => parseEvent(event({ mode: 1 }), CTX), "event.mode must be one of");
  assertBad(() => parseEvent(null, CTX), "event must be an object, got null");
});

// ---------------------------------------------------------------------------
// Checkpoints

Deno.test("parseCheckpointJson() accepts a full checkpoint of the sender's live files", () => {
  const value = checkpoint({
    base: 3,
    events: [event({ path: "a" }), event({ path: "b", content: "blob", size: INLINE_LIMIT * 4 })],
  });
  assertEquals(parseCheckpointJson(bytes(value), CTX), value as unknown as CheckpointJson);
});

Deno.test("parseCheckpointJson() accepts a deletion in an incremental checkpoint only", () => {
  const deletion = event({ deleted: true, new_hash: null, content: null, old_hash: H1 });
  const value = bytes(checkpoint({ events: [deletion] }));
  assertEquals(parseCheckpointJson(value, { ...CTX, kind: "ci" }).events[0]?.deleted, true);
  assertBad(
    () => parseCheckpointJson(value, CTX),
    "checkpoint.json.events[0] is a deletion; a full checkpoint lists only existing files",
  );
  assertBad(() => parseCheckpointJson(value, { ...CTX, kind: "cf" }), "is a deletion");
});

const CHECKPOINT_CASES: readonly [string, Json, string][] = [
  ["another sender", { sender: BOB }, "checkpoint.json.sender"],
  // cf-0000000000000000 (a newly accepted peer's projection) has seq 0.
  ["seq -1", { seq: -1 }, "checkpoint.json.seq must be a non-negative integer"],
  ["a missing base", { base: undefined }, "checkpoint.json has no base"],
  ["base -1", { base: -1 }, "checkpoint.json.base must be a non-negative integer"],
  ["a base as a string", { base: "3" }, "checkpoint.json.base must be a non-negative integer"],
  [
    "a base after its seq",
    { seq: 5, base: 6 },
    "checkpoint.json.base 6 is after the checkpoint's own seq 5",
  ],
  ["events as null", { events: null }, "checkpoint.json.events must be an array"],
  [
    "a proposal (recipient's datasite)",
    { events: [event({ datasite: BOB })] },
    'checkpoint.json.events[0].datasite "bob@example.org" is not the sender',
  ],
  [
    "a foreign datasite",
    { events: [event({ datasite: "eve@example.org" })] },
    "is neither the sender",
  ],
  [
    "the same path twice",
    { events: [event({ path: "a" }), event({ path: "a", id: "2" })] },
    'checkpoint.json.events[1].path "a" appears twice',
  ],
  ["a bad path", { events: [event({ path: "../a" })] }, "checkpoint.json.events[0].path"],
];

for (const [what, over, fragment] of CHECKPOINT_CASES) {
  Deno.test(`parseCheckpointJson() refuses ${what}`, () => {
    assertBad(() => parseCheckpointJson(bytes(checkpoint(over)), CTX), fragment);
  });
}

Deno.test("parseCheckpointJson() refuses bytes that are not a JSON object", () => {
  assertBad(() => parseCheckpointJson(enc.encode("[]"), CTX), "checkpoint.json must be an object");
  assertBad(
    () => parseCheckpointJson(new Uint8Array([0xc3]), CTX),
    "checkpoint.json is not valid UTF-8",
  );
});
