import { assertEquals } from "../../assert.ts";
import { waitForJob } from "../../../core/jobs/follow.ts";
import type { JobEntry, JobState, JobStatus } from "../../../core/jobs/mod.ts";

const DS = "carol@example.org";

/** An owner's view of job j-1 at `owner`, in `status`. */
function entry(owner: string, status: JobStatus): JobEntry {
  const state: JobState = {
    id: "j-1",
    owner,
    submitter: DS,
    status,
    policy_hash: null,
    network: false,
    run: null,
    history: [],
  };
  return {
    key: { submitter: DS, id: "j-1" },
    owner,
    role: "owner",
    datasite: `/nowhere/${owner}`,
    config: null,
    state,
    configProblem: null,
    stateProblem: null,
  };
}

/** A follow over scripted views: each sync moves to the next one. */
function scripted(views: JobEntry[][], timeoutMs = Infinity) {
  let at = 0;
  let clock = 0;
  const said: string[] = [];
  const calls: string[] = [];
  return {
    said,
    calls,
    follow: {
      timeoutMs,
      now: () => clock,
      sleep: (ms: number) => {
        clock += ms;
        calls.push("sleep");
        return Promise.resolve();
      },
      sync: () => {
        at = Math.min(at + 1, views.length - 1);
        calls.push("sync");
        return Promise.resolve();
      },
      refresh: () => Promise.resolve(views[at]!),
      onChange: (o: { owner: string; text: string }) => said.push(`${o.owner}: ${o.text}`),
    },
  };
}

Deno.test("a job final already is answered without a sync", async () => {
  const s = scripted([[entry("a@x.org", "rejected")]]);
  const r = await waitForJob([entry("a@x.org", "rejected")], s.follow);
  assertEquals([r.timedOut, r.outcomes.map((o) => o.final), s.calls], [false, [true], []]);
});

Deno.test("a wait syncs first, then says each owner's new state once until all are final", async () => {
  const a = "a@x.org";
  const s = scripted([
    [entry(a, "pending")],
    [entry(a, "pending")],
    [entry(a, "approved")],
    [entry(a, "approved")],
    [entry(a, "rejected")],
  ]);
  const r = await waitForJob([entry(a, "pending")], s.follow);
  assertEquals(r.timedOut, false);
  assertEquals(s.calls[0], "sync");
  // Said once per change, never before the first sync.
  assertEquals(s.said.length, 2);
  assertEquals(new Set(s.said).size, 2);
});

Deno.test("a wait gives up after its timeout with every owner's outcome", async () => {
  const s = scripted([[entry("a@x.org", "pending"), entry("b@x.org", "rejected")]], 3000);
  const r = await waitForJob(
    [entry("a@x.org", "pending"), entry("b@x.org", "rejected")],
    s.follow,
  );
  assertEquals(r.timedOut, true);
  assertEquals(r.outcomes.map((o) => [o.owner, o.final]), [["a@x.org", false], [
    "b@x.org",
    true,
  ]]);
});
