/**
 * The Dropbox scenarios of `deno task bench` (issue 18), DB1-DB5: run
 * `bench_dropbox_measure.ts` in a child process and turn its figures into the
 * bench's rows, goals and `--json` figures, as bench_gdrive.ts does for Drive
 * (a child because the bench task has no network grant, and so the fake's and
 * the plugins' memory stays out of the bench process).
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
import { DROPBOX_SIZES, type DropboxFigures } from "./bench_dropbox_measure.ts";

const callsRow = callsRowFor("Dropbox");
const MEASURE = fromFileUrl(new URL("./bench_dropbox_measure.ts", import.meta.url));

/** The goals of issue 18's "Done when". */
export const DROPBOX_GOALS = {
  idleCalls: 1,
  roundCalls: 3,
  firstSyncCalls: 30,
  watchP50S: 1,
  uploadRatio: 1.5,
};

/** Run the measurement child and report DB1-DB5. */
export async function benchDropbox(size: keyof typeof DROPBOX_SIZES): Promise<Outcome> {
  const figures = await runMeasureChild("Dropbox", MEASURE, size);
  return dropboxOutcome(figures as DropboxFigures, size);
}

/** The rows, notes and `--json` figures of DB1-DB5. */
export function dropboxOutcome(
  f: DropboxFigures,
  size: keyof typeof DROPBOX_SIZES,
): Outcome {
  const rows: Row[] = [];
  const notes: string[] = [];
  rows.push(
    callsRow(
      "DB1",
      `idle round with ${f.idle.peers} peers`,
      f.idle.calls.total,
      DROPBOX_GOALS.idleCalls,
      "all peers accepted and quiet",
    ),
  );
  notes.push(`DB1 idle round: ${callsLine(`hub with ${f.idle.peers} peers`, f.idle.calls)}`);

  const perK: Record<string, number> = {};
  const publishK: Record<string, number> = {};
  const receiveK: Record<string, number> = {};
  for (const [k, r] of Object.entries(f.rounds)) {
    const calls = Math.max(r.publish.total, r.receive.total);
    perK[k] = calls;
    publishK[k] = r.publish.total;
    receiveK[k] = r.receive.total;
    rows.push(
      callsRow(
        "DB2",
        `round of ${k} small file${k === "1" ? "" : "s"} to one peer`,
        calls,
        DROPBOX_GOALS.roundCalls,
        `owner publishing ${r.publish.total}, peer receiving ${r.receive.total}; the larger` +
          // Measured on one pair, as a user's rounds run: a checkpoint falls due on its own cadence.
          (r.publish.ops.includes("put(ci-") ? "; includes a ci- checkpoint that fell due" : ""),
      ),
    );
    notes.push(
      `DB2 k=${k}: ${callsLine("owner publishing", r.publish)}; ${
        callsLine("peer receiving", r.receive)
      }`,
    );
  }

  const first = f.firstSync;
  const firstCalls = first.owner.total + first.peer.total;
  const full = DROPBOX_SIZES.full.files;
  const shrunk = first.files < full ? ` (--${size}: ${count(full)} in a full run)` : "";
  rows.push(
    callsRow(
      "DB3",
      `first sync of ${count(first.files)} x 4 KiB owner -> peer${shrunk}`,
      firstCalls,
      DROPBOX_GOALS.firstSyncCalls,
      `owner ${first.owner.total} + peer ${first.peer.total}; ${first.rounds} round(s) each; ` +
        `${seconds(first.seconds)}`,
    ),
  );
  notes.push(
    `DB3 first sync: ${callsLine("owner", first.owner)}; ${callsLine("peer", first.peer)}`,
  );

  const w = f.watch;
  const lost = w.lost > 0
    ? `; ${w.lost} edit(s) never showed within ${DROPBOX_SIZES[size].editTimeoutS} s`
    : "";
  rows.push({
    id: "DB4",
    scenario: "Dropbox edit -> visible in peer's mirror, both in sync --watch, p50",
    figure: w.samples > 0 ? seconds(w.p50S) : "none arrived",
    baseline: "",
    goal: `<= ${DROPBOX_GOALS.watchP50S} s`,
    met: w.samples > 0 && w.lost === 0 && w.p50S <= DROPBOX_GOALS.watchP50S,
    note: `${w.samples} sample(s), p95 ${Number.isFinite(w.p95S) ? seconds(w.p95S) : "-"}${lost}`,
  });

  const up = f.upload;
  rows.push(
    ratioRow(
      "DB5",
      `${up.mib} MiB put to Dropbox`,
      up.syftS,
      up.baselineS,
      DROPBOX_GOALS.uploadRatio,
      `baseline: one files/upload fetch of the same bytes to the same fake; median of ${up.runs}`,
    ),
  );

  notes.push(...f.warnings.map((w) => `DB warning: ${w}`));
  notes.push(
    "DB1-DB5 run the sync engine over the Dropbox plugin against the fake Dropbox; calls are " +
      "the HTTP requests the fake received from the side measured" +
      (size === "full" ? "." : `; --${size} shrinks DB3's files and the repeats.`),
  );
  return {
    json: {
      DB1: { idle_round_calls: f.idle.calls.total, peers: f.idle.peers },
      DB2: { calls_per_round: perK, publish_calls: publishK, receive_calls: receiveK },
      DB3: {
        files: first.files,
        calls: firstCalls,
        owner_calls: first.owner.total,
        peer_calls: first.peer.total,
        seconds: round3(first.seconds),
      },
      // No latency when nothing arrived (a 0 would read as instant).
      DB4: {
        ...(w.samples > 0 ? { p50_s: round3(w.p50S), p95_s: round3(w.p95S) } : {}),
        samples: w.samples,
        lost: w.lost,
      },
      DB5: { ...ratioJson(up.syftS, up.baselineS), mib: up.mib },
    },
    rows,
    notes,
  };
}
