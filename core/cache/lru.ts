/**
 * A map that keeps only its most recently used entries: the bound of the
 * caches that spare repeated pure work (key imports, agreements, parsed
 * files), so a datasite with many peers or files never grows one without end.
 * @module
 */

/** At most `max` entries; reading or writing an entry makes it the newest. */
export class Lru<K, V> {
  readonly #map = new Map<K, V>();

  constructor(readonly max: number) {
    if (!Number.isSafeInteger(max) || max < 1) throw new RangeError(`an LRU of ${max} entries`);
  }

  get size(): number {
    return this.#map.size;
  }

  get(key: K): V | undefined {
    const value = this.#map.get(key);
    if (value !== undefined) {
      // A Map iterates in insertion order: re-inserting makes the entry the newest.
      this.#map.delete(key);
      this.#map.set(key, value);
    }
    return value;
  }

  set(key: K, value: V): void {
    this.#map.delete(key);
    this.#map.set(key, value);
    if (this.#map.size > this.max) this.#map.delete(this.#map.keys().next().value!);
  }

  delete(key: K): void {
    this.#map.delete(key);
  }

  clear(): void {
    this.#map.clear();
  }

  /**
   * The value cached under `key`, or `make()`'s, kept. A rejected promise is
   * dropped (only when it is still the entry), so a failure is tried afresh.
   */
  remember<T extends V & Promise<unknown>>(key: K, make: () => T): T {
    const known = this.get(key);
    if (known !== undefined) return known as T;
    const made = make();
    this.set(key, made);
    made.catch(() => {
      if (this.#map.get(key) === made) this.#map.delete(key);
    });
    return made;
  }
}
