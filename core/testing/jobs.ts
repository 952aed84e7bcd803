/**
 * Jobs in a {@linkcode MemoryWorld}: what `job submit`, the intake after a
 * sync, `job approve | reject | run | release` and `job results` do, through
 * the real `core/jobs` code on the world's {@linkcode MemoryFs} and clock,
 * with a stub runner in place of the sandbox. For the memory job tests and
 * the simulation.
 *
 * @example
 * ```ts
 * import { MemoryWorld } from "./world.ts";
 * const world = new MemoryWorld();
 * const owner = await world.site("owner@example.org");
 * const ds = await world.site("ds@example.org");
 * await world.connect(ds, owner);
 * const key = await siteJobs(ds).submit(owner, { name: "count" });
 * await world.settle();
 * const jobs = siteJobs(owner);
 * await jobs.intake();
 * await jobs.approve(key);
 * await jobs.run(key, { release: true });
 * await world.settle();
 * siteJobs(ds).results(owner, key); // { "outputs/result.txt": "...", "stdout.txt": ... }
 * ```
 * @module
 */
import { posix } from "node:path";
import { homeLayout } from "../config/home.ts";
import { isSyftTemp, PERMISSION_FILE } from "../datasite/names.ts";
import type { LocalFs } from "../fs/local_fs.ts";
import { approveJob, type OwnerDesk, rejectJob, releaseJob } from "../jobs/desk.ts";
import { intakeJobs, type IntakeResult } from "../jobs/intake.ts";
import { type JobKey, reviewJobFolder } from "../jobs/layout.ts";
import { readJobState, readOwnerState, receivedRoot } from "../jobs/review.ts";
import { runJobs, type RunOutcome } from "../jobs/run_batch.ts";
import type { RunnerOptions } from "../jobs/runner.ts";
import { sendJob } from "../jobs/send.ts";
import type { JobState } from "../jobs/state.ts";
import type { JobRunner } from "../sandbox/job_runner.ts";
import type { JobRunResult, JobRunSpec } from "../sandbox/run.ts";
import type { MemorySite } from "./world.ts";

/** What a stub run leaves: its return code, logs and output files (path under `outputs/` → text). */
export interface StubRun {
  returncode: number;
  stdout?: string;
  stderr?: string;
  outputs?: Record<string, string>;
}

/** What the stub runner does with a job; by default it "counts" and writes one output. */
export type StubScript = (spec: JobRunSpec, fs: LocalFs) => StubRun | Promise<StubRun>;

/** The default {@linkcode StubScript}: exit 0, a line on stdout, `outputs/result.txt`. */
export const countingScript: StubScript = (spec) => ({
  returncode: 0,
  stdout: `ran ${spec.jobId}\n`,
  stderr: "",
  outputs: { "result.txt": `result of ${spec.jobId}\n` },
});

/**
 * A {@linkcode JobRunner} that runs nothing: it writes what `script` returns
 * into `spec.outDir` on `fs`, as the sandbox leaves a run's logs and outputs
 * (no fsync: the runner's own writes after it make them durable).
 */
export function stubRunner(fs: LocalFs, script: StubScript = countingScript): JobRunner {
  return {
    async run(spec: JobRunSpec): Promise<JobRunResult> {
      const run = await script(spec, fs);
      const encode = (s: string) => new TextEncoder().encode(s);
      await fs.mkdir(spec.outDir);
      await fs.mkdir(posix.join(spec.outDir, "outputs"));
      fs.writeFileSync(posix.join(spec.outDir, "stdout.txt"), encode(run.stdout ?? ""));
      fs.writeFileSync(posix.join(spec.outDir, "stderr.txt"), encode(run.stderr ?? ""));
      let bytes = 0;
      for (const [rel, text] of Object.entries(run.outputs ?? {})) {
        const to = posix.join(spec.outDir, "outputs", rel);
        await fs.mkdir(posix.dirname(to), { recursive: true });
        fs.writeFileSync(to, encode(text));
        bytes += encode(text).byteLength;
      }
      return {
        mode: spec.mode,
        returncode: run.returncode,
        timedOut: false,
        stdoutTruncated: false,
        stderrTruncated: false,
        outputs: {
          files: Object.keys(run.outputs ?? {}).length,
          bytes,
          truncated: false,
          skipped: [],
        },
        durationMs: 0,
        uid: 0,
      };
    },
    installPython() {
      return Promise.resolve({ ok: true, log: "" });
    },
  };
}

/** What {@linkcode SiteJobs.submit} sends: run.sh and any other files, by relative path. */
export interface StubJob {
  name: string;
  files?: Record<string, string>;
  datasets?: string[];
}

/** How a {@linkcode SiteJobs} runs and names jobs. */
export interface SiteJobsOptions {
  /** What the stub runner does with each job; {@linkcode countingScript} by default. */
  script?: StubScript;
  /** A seeded PRNG (core/random/prng.ts) for job ids, so a simulation replays them; crypto's otherwise. */
  random?: () => number;
}

/** One site's job commands, on the world's file system and clock. */
export class SiteJobs {
  /** Lines the runner had for people (waits, jobs skipped). */
  readonly notes: string[] = [];

  readonly script: StubScript;
  readonly #random: (() => number) | undefined;

  constructor(readonly site: MemorySite, options: SiteJobsOptions = {}) {
    this.script = options.script ?? countingScript;
    this.#random = options.random;
  }

  /** The site's `$SYFT_HOME`. */
  get home(): string {
    return posix.join(posix.dirname(this.site.ctx.root), "home");
  }

  /** The owner's desk of this site. */
  desk(): OwnerDesk {
    const world = this.site.world;
    return {
      datasite: this.site.datasite,
      me: this.site.me,
      auditLog: homeLayout(this.home).auditLog,
      records: receivedRoot(this.home),
      now: () => world.clock.now(),
      fs: world.fs,
    };
  }

  /** How this site runs jobs: the stub runner, scratch under the home. */
  runnerOptions(): RunnerOptions {
    return {
      mode: "bwrap",
      maxOutputBytes: 100 * 1024 * 1024,
      scratchDir: posix.join(this.home, "cache", "runs"),
      runner: stubRunner(this.site.world.fs, this.script),
    };
  }

  /**
   * `job submit --dir` to `owner`: the files (run.sh by default) are written
   * into a work folder first, as the scientist's own folder. Returns the key.
   */
  async submit(owner: MemorySite | string, job: StubJob): Promise<JobKey> {
    const fs = this.site.world.fs;
    const to = typeof owner === "string" ? owner : owner.me;
    const dir = posix.join(posix.dirname(this.site.ctx.root), "work", job.name);
    const files = job.files ?? { "run.sh": `echo ${job.name}\n` };
    for (const [rel, text] of Object.entries(files)) {
      fs.mkdirSync(posix.dirname(posix.join(dir, rel)), { recursive: true });
      fs.writeFileSync(posix.join(dir, rel), new TextEncoder().encode(text));
    }
    const sent = await sendJob({
      home: this.home,
      root: this.site.ctx.root,
      me: this.site.me,
      to: [to],
      source: { kind: "dir", path: dir },
      name: job.name,
      datasets: job.datasets ?? [],
      network: false,
      fs,
      clock: this.site.world.clock,
      ...(this.#random === undefined ? {} : {
        idBytes: Uint8Array.from({ length: 4 }, () => Math.floor(this.#random!() * 256)),
      }),
    });
    return { submitter: this.site.me, id: sent.id };
  }

  /** The intake a sync runs after its round: record what arrived from accepted peers. */
  async intake(): Promise<IntakeResult> {
    const listing = await this.site.store.list();
    const peers = new Set(
      listing.records.filter((r) => r.state === "accepted").map((r) => r.email),
    );
    return await intakeJobs(this.desk(), this.site.ctx.root, peers, []);
  }

  approve(key: JobKey): Promise<JobState> {
    return approveJob(this.desk(), key);
  }

  reject(key: JobKey, reason: string | null = null): Promise<JobState> {
    return rejectJob(this.desk(), key, reason);
  }

  /** `job run <key> [--release]`, under the runner lock. */
  async run(key: JobKey, options: { release?: boolean } = {}): Promise<RunOutcome[]> {
    return await runJobs({
      home: this.home,
      desk: this.desk(),
      keys: [key],
      options: this.runnerOptions(),
      release: () => (options.release ? "manual" : null),
      note: (m) => this.notes.push(m),
    });
  }

  release(key: JobKey): Promise<JobState> {
    return releaseJob(this.desk(), key);
  }

  /** The owner's state of a job it received (null when none). */
  ownState(key: JobKey): Promise<JobState | null> {
    return readOwnerState(this.desk(), key);
  }

  /** The state `owner` shares back for a job we sent, as our mirror has it. */
  sharedState(owner: MemorySite | string, key: JobKey): Promise<JobState | null> {
    const who = typeof owner === "string" ? owner : owner.me;
    return readJobState(posix.join(this.site.ctx.root, who), key, this.site.world.fs);
  }

  /**
   * The files of a job's review folder at `owner` as this site has them (its
   * own datasite, or its mirror of the owner): relative path → text, `status/`,
   * the permission file and syft's temp files (which never travel) left out.
   * Empty when nothing is there.
   */
  results(owner: MemorySite | string, key: JobKey): Record<string, string> {
    const who = typeof owner === "string" ? owner : owner.me;
    const rel = posix.join(who, reviewJobFolder(key.submitter, key.id));
    const out: Record<string, string> = {};
    for (const path of this.site.files(rel)) {
      const name = path.slice(rel.length + 1);
      if (name.startsWith("status/") || name === PERMISSION_FILE) continue;
      if (isSyftTemp(posix.basename(name))) continue;
      out[name] = this.site.read(path) ?? "";
    }
    return out;
  }
}

/** The job commands of `site` (the default stub script and random ids unless options say). */
export function siteJobs(site: MemorySite, options: SiteJobsOptions = {}): SiteJobs {
  return new SiteJobs(site, options);
}
