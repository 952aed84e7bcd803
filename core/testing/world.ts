/**
 * Several datasites in one process, on one {@linkcode MemoryStorage}, one
 * {@linkcode MemoryFs} and one {@linkcode ManualClock}: the real sync engine
 * (`runRound`) and peer service, with no disk, no Worker and no waiting. For
 * engine tests and benchmarks; what `syft init`, `peer add`/`approve` and
 * `sync` do, reduced to the calls the engine needs.
 *
 * @example
 * ```ts
 * const world = new MemoryWorld();
 * const alice = await world.site("alice@example.org");
 * const bob = await world.site("bob@example.org");
 * await world.connect(alice, bob);
 * alice.write("public/hello.txt", "hi");
 * await world.settle();
 * bob.read("alice@example.org/public/hello.txt"); // "hi"
 * ```
 * @module
 */
import { posix } from "node:path";
import { DATASITE_FOLDERS, DEFAULT_PERMISSION_FILES } from "../datasite/layout.ts";
import { generateIdentityKeys, type IdentityKeys } from "../identity/keys.ts";
import { PeerService } from "../peers/service.ts";
import { PeerStore } from "../peers/store.ts";
import type { CheckpointThresholds } from "../checkpoints/rolling.ts";
import type { SyncContext } from "../sync/context.ts";
import type { Clock } from "../time/clock.ts";
import { type RoundSummary, runRound } from "../sync/round.ts";
import { stateLayout } from "../sync/state.ts";
import { ManualClock } from "./manual_clock.ts";
import { MemoryFs } from "./memory_fs.ts";
import { MemoryStorage, type MemoryTransport } from "./memory_transport.ts";

const GIB = 1024 * 1024 * 1024;

/** Rounds {@linkcode MemoryWorld.settle} runs at most before it gives up. */
const MAX_SETTLE_ROUNDS = 20;

/** How {@linkcode MemoryWorld} builds its sites. */
export interface WorldOptions {
  /** The one clock every site reads (default: a new {@linkcode ManualClock}). */
  clock?: ManualClock;
  /**
   * Give each site its own {@linkcode MemoryFs}, so one site can crash alone
   * (default: one file system for all, under per-site roots).
   */
  fsPerSite?: boolean;
  /** The storage the sites share (default: a new, empty one). */
  storage?: MemoryStorage;
}

/** How {@linkcode MemoryWorld.site} builds one site. */
export interface SiteOptions {
  /** The site's identity keys (default: new ones; generating them is slow). */
  keys?: IdentityKeys;
  /** How far the site's clock is off the world's, in ms (clock skew; default 0). */
  clockOffsetMs?: number;
  /** When the site writes checkpoints (default: the engine's). */
  thresholds?: CheckpointThresholds;
}

/** One datasite of a {@linkcode MemoryWorld}: its engine context, store and service. */
export class MemorySite {
  /** Warnings the engine gave (skipped files, quarantined objects...). */
  readonly warnings: string[] = [];
  /** The summary of every round, oldest first. */
  readonly rounds: RoundSummary[] = [];
  readonly ctx: SyncContext;
  readonly store: PeerStore;
  readonly service: PeerService;

  /** This site's file system (the world's, unless it has one per site). */
  readonly fs: MemoryFs;
  /** This site's clock: the world's, maybe skewed. */
  readonly clock: Clock;

  constructor(
    readonly world: MemoryWorld,
    readonly me: string,
    readonly keys: IdentityKeys,
    readonly transport: MemoryTransport,
    options: { fs?: MemoryFs; clock?: Clock; thresholds?: CheckpointThresholds } = {},
  ) {
    const base = `/sites/${me}`;
    this.fs = options.fs ?? world.fs;
    this.clock = options.clock ?? world.clock;
    this.store = new PeerStore(`${base}/home/peers`, this.fs);
    this.service = new PeerService({
      transport,
      store: this.store,
      me,
      keys,
      now: () => this.clock.now(),
    });
    this.ctx = {
      me,
      root: `${base}/SyftBox`,
      layout: stateLayout(`${base}/home/state`, this.fs),
      keys,
      transport,
      fs: this.fs,
      clock: this.clock,
      warn: (message) => this.warnings.push(message),
      discover: async () => {
        await this.service.discover();
      },
      allowMassDelete: false,
      quotaBytes: GIB,
    };
    if (options.thresholds) this.ctx.thresholds = options.thresholds;
  }

  /** `<home>/state`: what `syft` keeps between rounds. */
  get stateDir(): string {
    return `/sites/${this.me}/home/state`;
  }

  /** `<root>/<me>`: the own datasite. */
  get datasite(): string {
    return posix.join(this.ctx.root, this.me);
  }

  /** One sync round, as `syft sync` runs it. */
  async sync(): Promise<RoundSummary> {
    const summary = await runRound(this.ctx, this.store);
    this.rounds.push(summary);
    return summary;
  }

  /**
   * Write a file under the root (`<me>/public/a.txt` is the own datasite,
   * `<peer>/...` a mirror), as a user would. The clock moves a second first,
   * so an edit is seen by its mtime as on a disk.
   */
  write(rel: string, content: string | Uint8Array): void {
    this.world.clock.advance(1000);
    const path = this.#abs(rel);
    this.fs.mkdirSync(posix.dirname(path), { recursive: true });
    const bytes = typeof content === "string" ? new TextEncoder().encode(content) : content;
    this.fs.writeFileSync(path, bytes);
  }

  /** A file under the own datasite (`public/a.txt`). */
  writeOwn(rel: string, content: string | Uint8Array): void {
    this.write(`${this.me}/${rel}`, content);
  }

  /** Remove a file or folder under the root, as a user would. */
  remove(rel: string): void {
    this.world.clock.advance(1000);
    this.fs.removeSync(this.#abs(rel), { recursive: true });
  }

  /** The text of a file under the root, or null when there is none. */
  read(rel: string): string | null {
    try {
      return new TextDecoder().decode(this.fs.readFileSync(this.#abs(rel)));
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return null;
      throw err;
    }
  }

  /** Every file under `rel` of the root, relative to the root, sorted. */
  files(rel = ""): string[] {
    const dir = this.#abs(rel);
    if (!this.fs.existsSync(dir)) return [];
    return this.fs.listTree(dir).map((p) => p.slice(this.ctx.root.length + 1));
  }

  #abs(rel: string): string {
    return rel === "" ? this.ctx.root : posix.join(this.ctx.root, rel);
  }
}

/** Datasites sharing one storage and clock, and one file system unless `fsPerSite`. */
export class MemoryWorld {
  readonly clock: ManualClock;
  /** The shared file system (with `fsPerSite`, only what no site uses). */
  readonly fs: MemoryFs;
  readonly storage: MemoryStorage;
  readonly sites: MemorySite[] = [];
  readonly #fsPerSite: boolean;

  constructor(options: ManualClock | WorldOptions = {}) {
    const o = options instanceof ManualClock ? { clock: options } : options;
    this.clock = o.clock ?? new ManualClock();
    this.fs = new MemoryFs(this.clock);
    this.#fsPerSite = o.fsPerSite ?? false;
    this.storage = o.storage ?? new MemoryStorage();
  }

  /**
   * A world of its own that starts where this one stands: the same sites
   * (identities, keys, checkpoint thresholds, mass-delete guard), each on a
   * {@linkcode MemoryFs.fork} of its file system, a {@linkcode MemoryStorage.clone}
   * of the storage, and a clock at this one's time. Site `i`'s clock is
   * `clockOffsetsMs[i]` off the new world's (default 0). In-process state
   * (caches, the peer services' memory) starts empty, as after a restart.
   * Needs a file system per site.
   */
  fork(clockOffsetsMs: readonly number[] = []): MemoryWorld {
    if (!this.#fsPerSite) throw new Error("only a world with a file system per site can fork");
    const world = new MemoryWorld({
      clock: new ManualClock(this.clock.now()),
      fsPerSite: true,
      storage: this.storage.clone(),
    });
    for (const [i, from] of this.sites.entries()) {
      const offset = clockOffsetsMs[i] ?? 0;
      const clock = offset ? world.clock.skewed(offset) : world.clock;
      const site = new MemorySite(world, from.me, from.keys, world.storage.transport(from.me), {
        fs: from.fs.fork(clock),
        clock,
        ...(from.ctx.thresholds ? { thresholds: from.ctx.thresholds } : {}),
      });
      site.ctx.allowMassDelete = from.ctx.allowMassDelete;
      site.ctx.quotaBytes = from.ctx.quotaBytes;
      world.sites.push(site);
    }
    return world;
  }

  /** A new datasite with the default folders and permission files of `syft init`. */
  async site(me: string, options: SiteOptions = {}): Promise<MemorySite> {
    const keys = options.keys ?? await generateIdentityKeys();
    const clock = options.clockOffsetMs ? this.clock.skewed(options.clockOffsetMs) : this.clock;
    const site = new MemorySite(this, me, keys, this.storage.transport(me), {
      fs: this.#fsPerSite ? new MemoryFs(clock) : this.fs,
      clock,
      ...(options.thresholds ? { thresholds: options.thresholds } : {}),
    });
    for (const folder of DATASITE_FOLDERS) {
      site.fs.mkdirSync(posix.join(site.datasite, folder), { recursive: true });
    }
    for (const [rel, text] of Object.entries(DEFAULT_PERMISSION_FILES)) {
      site.fs.writeFileSync(posix.join(site.datasite, rel), new TextEncoder().encode(text));
    }
    this.sites.push(site);
    return site;
  }

  /**
   * `a` asks to peer with `b` and `b` approves (trusting the fingerprint, as
   * a user who compared it would); then rounds run until both are accepted.
   */
  async connect(a: MemorySite, b: MemorySite): Promise<void> {
    await a.service.requestPeer(b.me);
    await b.service.discover();
    await b.service.approvePeer(a.me, { datasite: b.datasite });
    await this.settle();
    const state = (await a.store.get(b.me))?.state;
    if (state !== "accepted") throw new Error(`${a.me} sees ${b.me} as ${state}, not accepted`);
  }

  /**
   * Sync every site in turn until a whole pass moves nothing: what several
   * `syft sync` runs on each machine would reach. Returns the passes run.
   */
  async settle(): Promise<number> {
    for (let pass = 1; pass <= MAX_SETTLE_ROUNDS; pass++) {
      let moved = 0;
      for (const site of this.sites) {
        this.clock.advance(1000);
        const r = await site.sync();
        moved += r.sent + r.received;
      }
      if (moved === 0) return pass;
    }
    throw new Error(`the sites did not settle in ${MAX_SETTLE_ROUNDS} passes`);
  }
}
