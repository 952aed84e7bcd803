import { assertEquals, assertStringIncludes, assertThrows } from "../../assert.ts";
import {
  canMove,
  canonicalPolicyJson,
  type JobConfig,
  type JobEntry,
  moveTo,
  parseJobConfig,
  parseJobState,
  pendingState,
  policyHash,
  publicStateText,
  resolveJobRef,
  serializeJobConfig,
  serializeJobState,
} from "../../../core/jobs/mod.ts";

const H = "a".repeat(64);
const T0 = "2026-11-26T12:00:00.000Z";
const T1 = "2026-11-26T12:01:00.000Z";
const T2 = "2026-11-26T12:02:00.000Z";
const T3 = "2026-11-26T12:03:00.000Z";

function throwsWith(fn: () => unknown, text: string): void {
  const err = assertThrows(fn) as Error & { hint?: string };
  assertStringIncludes(`${err}\n${err.hint ?? ""}`, text);
}
const config: JobConfig = {
  id: "count-ages-0a1b2c3d",
  name: "count ages",
  submitted_by: "carol@example.org",
  submitted_at: "2026-11-26T12:00:00.000Z",
  type: "bash",
  entrypoint: "run.sh",
  dependencies: [],
  datasets: ["ages"],
  grants: { network: false, timeout: 600 },
  files: [{ path: "run.sh", sha256: H }, { path: "lib/x.sh", sha256: "b".repeat(64) }],
};

Deno.test("parseJobConfig() reads back what serializeJobConfig() wrote", () => {
  assertEquals(parseJobConfig(serializeJobConfig(config), "config.yaml"), config);
});

Deno.test("parseJobConfig() refuses hostile or broken configs, naming the field", () => {
  const bad: [Partial<Record<keyof JobConfig, unknown>>, RegExp][] = [
    [{ id: "../x" }, /"id"/],
    [{ entrypoint: "main.sh" }, /"entrypoint" must be run\.sh/],
    [{ files: [{ path: "main.sh", sha256: H }] }, /"files" has no run\.sh/],
    [{ files: [{ path: "/etc/passwd", sha256: H }] }, /"path"/],
    [{ files: [{ path: "a/../b", sha256: H }, { path: "run.sh", sha256: H }] }, /"path"/],
    [{ files: [{ path: ".hidden", sha256: H }, { path: "run.sh", sha256: H }] }, /cannot travel/],
    [{ files: [{ path: "run.sh", sha256: "xyz" }] }, /"sha256"/],
    [{ files: [{ path: "run.sh", sha256: H }, { path: "run.sh", sha256: H }] }, /twice/],
    [{ type: "docker" }, /"type"/],
    [{ submitted_by: "Not An Email" }, /"submitted_by"/],
    [{ grants: { network: "yes", timeout: 10 } }, /"network"/],
    [{ grants: { network: false, timeout: 10 ** 9 } }, /"timeout"/],
    [{ dependencies: ["--index-url=http://evil"] }, /"dependencies"/],
    [{ datasets: ["../private"] }, /"datasets"/],
  ];
  for (const [change, message] of bad) {
    const text = serializeJobConfig({ ...config, ...change } as JobConfig);
    const err = assertThrows(() => parseJobConfig(text, "config.yaml"));
    assertEquals(message.test(String(err)), true, `${JSON.stringify(change)}: ${err}`);
  }
  throwsWith(() => parseJobConfig("- a list", "config.yaml"), "must be a mapping");
  throwsWith(() => parseJobConfig("a: [", "config.yaml"), "not valid YAML");
});

Deno.test("job times from a file in another zone are kept in UTC; anything but ISO 8601 is refused", () => {
  const zoned = { ...config, submitted_at: "2026-11-26T13:00:00+01:00" };
  assertEquals(
    parseJobConfig(serializeJobConfig(zoned), "config.yaml").submitted_at,
    "2026-11-26T12:00:00.000Z",
  );
  for (const at of ["Nov 26 2026", "2026-11-26", "1764158400000"]) {
    throwsWith(
      () => parseJobConfig(serializeJobConfig({ ...config, submitted_at: at }), "config.yaml"),
      `"submitted_at" must be an ISO-8601 time`,
    );
  }
  const state = pendingState({ id: "j-1", owner: "a@x.org", submitter: "c@x.org" }, T0, false);
  const text = serializeJobState(state).replace(T0, "2026-11-26T07:00:00-05:00");
  assertEquals(parseJobState(text, "state.yaml").history[0]!.at, T0);
  throwsWith(() => parseJobState(text.replace("07:00:00-05:00", "noon"), "state.yaml"), '"at"');
});

Deno.test("policyHash() ignores who sent it, its id, name and time, and file order", () => {
  const other = {
    ...config,
    id: "other-00000000",
    name: "renamed",
    submitted_by: "dave@example.org",
    submitted_at: "2030-01-01T00:00:00.000Z",
    files: [...config.files].reverse(),
  };
  assertEquals(policyHash(other), policyHash(config));
  assertEquals(
    canonicalPolicyJson(config),
    `{"datasets":["ages"],"dependencies":[],"entrypoint":"run.sh","files":[["lib/x.sh","${
      "b".repeat(64)
    }"],["run.sh","${H}"]],"grants":{"network":false,"timeout":600},"type":"bash"}`,
  );
});

Deno.test("policyHash() changes with any file, grant, dataset or dependency", () => {
  const base = policyHash(config);
  const variants: JobConfig[] = [
    { ...config, files: [{ path: "run.sh", sha256: "c".repeat(64) }, config.files[1]!] },
    { ...config, grants: { network: true, timeout: 600 } },
    { ...config, grants: { network: false, timeout: 601 } },
    { ...config, datasets: ["ages", "heights"] },
    { ...config, type: "python", dependencies: ["numpy"] },
  ];
  for (const v of variants) assertEquals(policyHash(v) === base, false, JSON.stringify(v));
});

Deno.test("the lifecycle allows only the moves of the issue (plus restart and releasing a failure)", () => {
  const allowed = [
    ["pending", "approved"],
    ["pending", "rejected"],
    ["approved", "running"],
    ["running", "done"],
    ["running", "failed"],
    ["done", "released"],
  ] as const;
  for (const [a, b] of allowed) assertEquals(canMove(a, b), true, `${a} → ${b}`);
  for (
    const [a, b] of [["pending", "running"], ["pending", "released"], ["rejected", "approved"], [
      "released",
      "running",
    ], ["done", "running"]] as const
  ) {
    assertEquals(canMove(a, b), false, `${a} → ${b}`);
  }
  const s = pendingState(
    { id: "j-1", owner: "alice@example.org", submitter: "carol@example.org" },
    T0,
    false,
  );
  throwsWith(
    () =>
      moveTo(s, { status: "done", at: "t1", by: "alice@example.org", how: "manual", reason: null }),
    "is pending, so it cannot be marked done",
  );
  const approved = moveTo(
    s,
    { status: "approved", at: T1, by: "alice@example.org", how: "policy:nightly", reason: null },
    { policy_hash: H },
  );
  assertEquals(approved.history.map((h) => [h.status, h.how]), [["pending", "auto"], [
    "approved",
    "policy:nightly",
  ]]);
  assertEquals(parseJobState(serializeJobState(approved), "state.yaml"), approved);
});

Deno.test("publicStateText() gives the submitter the status and times only: no run, hash, failure reason or policy", () => {
  const owner = "alice@example.org";
  let s = pendingState({ id: "j-1", owner, submitter: "carol@example.org" }, T0, false, H);
  const by = { by: owner, how: "policy:nightly", reason: null };
  s = moveTo(s, { status: "approved", at: T1, ...by }, { policy_hash: H });
  s = moveTo(s, { status: "running", at: T2, ...by });
  s = moveTo(s, { status: "failed", at: T3, ...by, reason: "exited with code 3" }, {
    run: {
      sandbox: "bwrap",
      returncode: 3,
      timed_out: false,
      stdout_truncated: false,
      stderr_truncated: false,
      outputs_truncated: false,
      output_files: 7,
      output_bytes: 777,
      skipped: ["cm93IDE=: a symbolic link"],
      skipped_count: 1,
      started_at: T2,
      finished_at: T3,
      error: null,
    },
  });
  const text = publicStateText(s);
  for (const leak of ["returncode", "777", "cm93IDE", "exited", "policy", H]) {
    assertEquals(text.includes(leak), false, `${leak} in\n${text}`);
  }
  const seen = parseJobState(text, "state.yaml");
  assertEquals([seen.status, seen.run, seen.policy_hash], ["failed", null, null]);
  assertEquals(seen.history.map((h) => [h.status, h.at, h.reason]), [
    ["pending", T0, null],
    ["approved", T1, null],
    ["running", T2, null],
    ["failed", T3, null],
  ]);
  // A rejection's reason is the owner's word (or a check of the job itself): it travels.
  const rejected = moveTo(
    pendingState({ id: "j-2", owner, submitter: "carol@example.org" }, T0, false),
    { status: "rejected", at: T1, by: owner, how: "manual", reason: "too broad" },
  );
  assertEquals(parseJobState(publicStateText(rejected), "x").history[1]!.reason, "too broad");
});

function entry(submitter: string, id: string, owner: string, name?: string): JobEntry {
  return {
    key: { submitter, id },
    owner,
    role: owner === "me@example.org" ? "owner" : "submitter",
    datasite: "/x",
    config: name === undefined ? null : { name } as JobConfig,
    state: null,
    configProblem: null,
    stateProblem: null,
  };
}

Deno.test("resolveJobRef() refuses a bare id two submitters used, and takes <submitter>/<id>", () => {
  const entries = [
    entry("carol@example.org", "j-1", "me@example.org"),
    entry("dave@example.org", "j-1", "me@example.org"),
    entry("me@example.org", "j-2", "alice@example.org"),
    entry("me@example.org", "j-2", "bob@example.org"),
  ];
  throwsWith(() => resolveJobRef(entries, "j-1"), "carol@example.org/j-1 or dave@example.org/j-1");
  assertEquals(resolveJobRef(entries, "dave@example.org/j-1").length, 1);
  assertEquals(resolveJobRef(entries, "j-2").map((e) => e.owner), [
    "alice@example.org",
    "bob@example.org",
  ]);
  throwsWith(() => resolveJobRef(entries, "nope"), "no job");
  throwsWith(() => resolveJobRef(entries, "../j-1"), "is not a job id");
});

Deno.test("resolveJobRef() takes a job's name when exactly one job has it, and lists the ids when several do", () => {
  const entries = [
    entry("me@example.org", "count-ages-0a1b2c3d", "alice@example.org", "count ages"),
    entry("me@example.org", "count-ages-0a1b2c3d", "bob@example.org", "count ages"),
    entry("me@example.org", "mean-11111111", "alice@example.org", "mean"),
    entry("me@example.org", "mean-22222222", "alice@example.org", "mean"),
    entry("carol@example.org", "j-9", "me@example.org", "count ages"),
  ];
  // One job sent to two owners is one job: both entries.
  assertEquals(
    resolveJobRef(entries.slice(0, 4), "count ages").map((e) => e.owner),
    ["alice@example.org", "bob@example.org"],
  );
  assertEquals(resolveJobRef(entries, "carol@example.org/count ages").map((e) => e.key.id), [
    "j-9",
  ]);
  // An id wins over a name.
  assertEquals(resolveJobRef(entries, "mean-11111111").length, 1);
  const err = assertThrows(() => resolveJobRef(entries, "mean")) as Error & { hint?: string };
  assertEquals(err.message, '2 jobs are named "mean": mean-11111111, mean-22222222');
  assertEquals(err.hint, "name one: mean-11111111 or mean-22222222");
  assertEquals((err as unknown as { exitCode: number }).exitCode, 2);
  throwsWith(() => resolveJobRef(entries, "count ages"), "count-ages-0a1b2c3d, j-9");
});

Deno.test("a state file read again parses the same, and a caller's change to one read never reaches the next", () => {
  const owner = "alice@example.org";
  const s = pendingState({ id: "j-3", owner, submitter: "carol@example.org" }, T0, false, H);
  const text = serializeJobState(s);
  const first = parseJobState(text, "state.yaml");
  first.history.push({ status: "approved", at: T1, by: owner, how: "manual", reason: null });
  first.status = "approved";
  assertEquals(parseJobState(text, "state.yaml"), s);
  // Another text, or the same text's error for another file, is its own.
  const moved = moveTo(s, { status: "rejected", at: T1, by: owner, how: "manual", reason: "no" });
  assertEquals(parseJobState(serializeJobState(moved), "state.yaml"), moved);
  throwsWith(() => parseJobState(text.replace(T0, "noon"), "other.yaml"), "other.yaml");
});
