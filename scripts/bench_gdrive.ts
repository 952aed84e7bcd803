/**
 * The Drive scenarios of `deno task bench` (issue 13), G1-G4: run
 * `bench_gdrive_measure.ts` in a child process and turn its figures into the
 * bench's rows, goals and `--json` figures. A child because the bench task has
 * no network grant while the Drive plugin's Worker needs 127.0.0.1 (a Worker
 * gets no more than its process), and so the fake's and the plugins' memory
 * stays out of the bench process.
 * @module
 */
import { fileURLToPath as fromFileUrl } from "node:url";
import { callsLine, callsRowFor, runMeasureChild } from "./bench_cloud.ts";
import {
  count,
  type Outcome,
  ratioJson,
  ratioRow,
  round3,
  type Row,
  seconds,
} from "./bench_rows.ts";
import { GDRIVE_SIZES, type GdriveFigures } from "./bench_gdrive_measure.ts";

const callsRow = callsRowFor("Drive");
const MEASURE = fromFileUrl(new URL("./bench_gdrive_measure.ts", import.meta.url));

/** The goals of issue 13's "Done when". */
export const GDRIVE_GOALS = { idleCalls: 1, roundCalls: 3, firstSyncCalls: 30, uploadRatio: 1.5 };

/** The full run's first-sync size, which `--quick` does not reach (said in the output). */
const FULL_FILES = GDRIVE_SIZES.full.files;

/** Run the measurement child and report G1-G4. */
export async function benchGdrive(size: keyof typeof GDRIVE_SIZES): Promise<Outcome> {
  const quick = size !== "full";
  const figures = await runMeasureChild("Drive", MEASURE, size);
  return gdriveOutcome(figures as GdriveFigures, quick);
}

/** The rows, notes and `--json` figures of G1-G4. */
export function gdriveOutcome(f: GdriveFigures, quick: boolean): Outcome {
  const rows: Row[] = [];
  const notes: string[] = [];

  rows.push(
    callsRow(
      "G1",
      `idle round with ${f.idle.peers} peers`,
      f.idle.calls.total,
      GDRIVE_GOALS.idleCalls,
      "all peers accepted and quiet",
    ),
  );
  notes.push(`G1 idle round: ${callsLine(`hub with ${f.idle.peers} peers`, f.idle.calls)}`);

  const perK: Record<string, number> = {};
  const publishK: Record<string, number> = {};
  const receiveK: Record<string, number> = {};
  for (const [k, r] of Object.entries(f.rounds)) {
    const calls = Math.max(r.publish.total, r.receive.total);
    perK[k] = calls;
    publishK[k] = r.publish.total;
    receiveK[k] = r.receive.total;
    const files = `${k} small file${k === "1" ? "" : "s"}`;
    const note =
      `owner publishing ${r.publish.total}, peer receiving ${r.receive.total}; the larger`;
    rows.push(
      callsRow("G2", `round of ${files} to one peer`, calls, GDRIVE_GOALS.roundCalls, note),
    );
    notes.push(
      `G2 k=${k}: ${callsLine("owner publishing", r.publish)}; ${
        callsLine("peer receiving", r.receive)
      }`,
    );
  }

  const first = f.firstSync;
  const firstCalls = first.owner.total + first.peer.total;
  const shrunk = first.files < FULL_FILES ? ` (--quick: ${count(FULL_FILES)} in a full run)` : "";
  rows.push(
    callsRow(
      "G3",
      `first sync of ${count(first.files)} x 4 KiB owner -> peer${shrunk}`,
      firstCalls,
      GDRIVE_GOALS.firstSyncCalls,
      `owner ${first.owner.total} + peer ${first.peer.total}; ${first.rounds} round(s) each; ` +
        `${seconds(first.seconds)}`,
    ),
  );
  notes.push(
    `G3 first sync: ${callsLine("owner", first.owner)}; ${callsLine("peer", first.peer)}`,
  );

  const up = f.upload;
  rows.push(
    ratioRow(
      "G4",
      `${up.mib} MiB put to Drive`,
      up.syftS,
      up.baselineS,
      GDRIVE_GOALS.uploadRatio,
      `baseline: one uploadType=media fetch of the same bytes to the same fake; median of ${up.runs}`,
    ),
  );

  notes.push(...f.warnings.map((w) => `G warning: ${w}`));
  notes.push(
    "G1-G4 run the sync engine over the Drive plugin against the fake Drive; calls are the " +
      "HTTP requests the fake received from the side measured" +
      (quick ? "; --quick leaves out k=10 and shrinks G3's files and G4's repeats." : "."),
  );
  return {
    json: {
      G1: { idle_round_calls: f.idle.calls.total, peers: f.idle.peers },
      G2: { calls_per_round: perK, publish_calls: publishK, receive_calls: receiveK },
      G3: {
        files: first.files,
        calls: firstCalls,
        owner_calls: first.owner.total,
        peer_calls: first.peer.total,
        seconds: round3(first.seconds),
      },
      G4: { ...ratioJson(up.syftS, up.baselineS), mib: up.mib },
    },
    rows,
    notes,
  };
}
