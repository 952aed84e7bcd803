/**
 * The status report's channel sections, gathered in-process from a real home:
 * each peer's channel state is read once and feeds both the problems (a
 * rollback, a wait) and the refused writes whose `.rejected` copy is there.
 */
import { posix } from "node:path";
import { assertEquals } from "../../assert.ts";
import { initialise } from "../../../core/config/init.ts";
import { datasiteDir } from "../../../core/datasite/layout.ts";
import { inboxJobFolder } from "../../../core/jobs/layout.ts";
import { writeJobState } from "../../../core/jobs/review.ts";
import { pendingState } from "../../../core/jobs/state.ts";
import { gatherStatus } from "../../../core/status/report.ts";
import { emptyChannelState, saveChannelState, stateLayout } from "../../../core/sync/state.ts";
import { tempDir } from "../../_temp.ts";

/** A home initialised under `base`, and its config. */
async function home(base: string) {
  const shared = posix.join(base, "shared");
  await Deno.mkdir(shared);
  const { config } = await initialise(
    {
      home: posix.join(base, "home"),
      email: "alice@example.org",
      root: posix.join(base, "root"),
      transport: { kind: "local", dir: shared },
      force: false,
    },
    { checkTransport: () => Promise.resolve(), now: () => 0 },
  );
  return config;
}

Deno.test("status counts the jobs waiting in the inbox for a decision, and none in an empty one", async () => {
  const base = await tempDir("syft-report-");
  const config = await home(base);
  const report = () => gatherStatus(posix.join(base, "home"), config);
  assertEquals((await report()).pending_jobs, 0);
  const datasite = datasiteDir(config.root, config.email);
  const inbox = posix.join(datasite, "app_data", "job", "inbox");
  await Deno.mkdir(inbox, { recursive: true });
  assertEquals((await report()).pending_jobs, 0, "an empty inbox");
  const where = { datasite, records: posix.join(base, "home", "jobs", "received") };
  for (const [id, status] of [["j1", "pending"], ["j2", "pending"], ["j3", "rejected"]] as const) {
    const ids = { id, owner: config.email, submitter: "bob@example.org" };
    await Deno.mkdir(posix.join(datasite, inboxJobFolder(ids.submitter, id)), { recursive: true });
    await writeJobState(where, { ...pendingState(ids, "2026-01-02T00:00:00Z", false), status });
  }
  assertEquals((await report()).pending_jobs, 2);
  await Deno.remove(base, { recursive: true });
});

Deno.test("status reports a rolled-back and a waiting channel, and refusals whose copy remains", async () => {
  const base = await tempDir("syft-report-");
  const config = await home(base);
  const layout = stateLayout(posix.join(base, "home", "state"));
  const at = Date.UTC(2026, 0, 2);
  await saveChannelState(layout, {
    ...emptyChannelState("bob@example.org"),
    rolled_back: { highest: 3, cursor: 7, at },
    refused: [
      { path: "gone.txt", reason: "permission", detail: "no", copy: "gone.txt.rejected", at },
      { path: "kept.txt", reason: "permission", detail: null, copy: "kept.txt.rejected", at },
    ],
  });
  await saveChannelState(layout, {
    ...emptyChannelState("carol@example.org"),
    waiting: { missing: 5, since: at, asked: true },
  });
  await Deno.mkdir(posix.join(config.root, "bob@example.org"), { recursive: true });
  await Deno.writeTextFile(posix.join(config.root, "bob@example.org", "kept.txt.rejected"), "x");

  const report = await gatherStatus(posix.join(base, "home"), config);
  assertEquals(report.problems, [
    "bob@example.org's channel was rolled back: its newest batch is 3, we had applied up to 7; nothing was restored from it",
    "waiting since 2026-01-02T00:00:00.000Z for object 5 from carol@example.org (asked it for a resync)",
  ]);
  assertEquals(report.refused, [{
    peer: "bob@example.org",
    path: "kept.txt",
    reason: "permission",
    detail: null,
    copy: "bob@example.org/kept.txt.rejected",
    at: "2026-01-02T00:00:00.000Z",
  }]);
  await Deno.remove(base, { recursive: true });
});
