/**
 * One file-system watcher per transport, started on the first `changes()` that
 * is allowed to wait. Waiters compare a generation counter instead of catching
 * an event in flight, so an event that lands between a reader's check and its
 * wait still wakes it.
 * @module
 */

/** Event kinds that can mean a change (`access` is reads, including our own marker reads). */
const CHANGE_KINDS: ReadonlySet<string> = new Set(["any", "create", "modify", "remove", "rename"]);

const RETRY_MS = 5_000;

/** Watches a folder tree and lets callers wait for the next change. */
export class FolderWatcher {
  readonly #root: string;
  #watcher: Deno.FsWatcher | null = null;
  #generation = 0;
  #waiters = new Set<() => void>();
  #closed = false;
  /** After a watcher dies, wait before starting another, so a broken one cannot spin. */
  #retryAt = 0;

  constructor(root: string) {
    this.#root = root;
  }

  /**
   * The current generation (it grows at every change event). Starts the
   * watcher on first use; if watching is impossible (inotify limits, a file
   * system without events) callers simply fall back to their poll interval.
   */
  generation(): number {
    if (!this.#watcher && !this.#closed && Date.now() >= this.#retryAt) this.#start();
    return this.#generation;
  }

  /** Resolve once the generation differs from `since`, or after `ms`. */
  wait(since: number, ms: number): Promise<void> {
    if (this.#generation !== since || this.#closed) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      this.#waiters.add(done);
    });
  }

  /** Stop watching and release every waiter. */
  close(): void {
    this.#closed = true;
    this.#watcher?.close();
    this.#watcher = null;
    this.#wake();
  }

  #start(): void {
    let watcher: Deno.FsWatcher;
    try {
      watcher = Deno.watchFs(this.#root, { recursive: true });
    } catch {
      this.#retryAt = Date.now() + RETRY_MS;
      return; // polling only, see generation()
    }
    this.#watcher = watcher;
    void this.#pump(watcher);
  }

  async #pump(watcher: Deno.FsWatcher): Promise<void> {
    try {
      for await (const event of watcher) {
        if (CHANGE_KINDS.has(event.kind)) {
          this.#generation++;
          this.#wake();
        }
      }
    } catch {
      // The watcher died (root removed, limits): fall back to polling; the next
      // generation() call tries to start a new one.
    } finally {
      if (this.#watcher === watcher) this.#watcher = null;
      this.#retryAt = Date.now() + RETRY_MS;
    }
  }

  #wake(): void {
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const wake of waiters) wake();
  }
}
