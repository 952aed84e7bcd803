/**
 * A POSIX ustar writer for our own bodies only (docs/protocol.md §4.1):
 * regular files with fixed metadata (mode 0644, owner 0, mtime 0), so the
 * same entries always give the same bytes. Entries are gathered into chunks
 * of at least {@linkcode TAR_CHUNK_BYTES}, where the general-purpose packer
 * handed gzip one 512-byte piece at a time (a third of a first sync's time
 * went to gzip being fed that way). Reading stays with modern-tar's decoder:
 * every output of this writer round-trips through it in tests.
 * @module
 */
import { SyftError } from "../errors/mod.ts";

const BLOCK = 512;

/** The size of the chunks {@linkcode TarChunks} hands on (the last one may be smaller). */
export const TAR_CHUNK_BYTES = 256 * 1024;

/** Padding and the end-of-archive blocks: never written to (only copied from). */
const ZEROS = new Uint8Array(2 * BLOCK);

/** ustar's size field: 11 octal digits. */
const MAX_ENTRY_BYTES = 8 ** 11 - 1;

const ascii = new TextEncoder();

function putString(header: Uint8Array, offset: number, text: string): void {
  header.set(ascii.encode(text), offset);
}

/** An octal field of `width` bytes: zero-padded digits, then a NUL. */
function putOctal(header: Uint8Array, offset: number, width: number, value: number): void {
  putString(header, offset, value.toString(8).padStart(width - 1, "0"));
}

/**
 * Every header's fixed fields (mode, owner, mtime, type, magic), the
 * checksum field as spaces; name and size are written over a copy of it.
 * A first sync packs 10,000 headers: field by field through TextEncoder, they
 * were a tenth of the owner's packing.
 */
const TEMPLATE = (() => {
  const h = new Uint8Array(BLOCK);
  putOctal(h, 100, 8, 0o644); // mode
  putOctal(h, 108, 8, 0); // uid
  putOctal(h, 116, 8, 0); // gid
  putOctal(h, 136, 12, 0); // mtime
  h.fill(0x20, 148, 156); // the checksum counts its own field as spaces
  h[156] = 0x30; // typeflag '0': a regular file
  putString(h, 257, "ustar\u000000");
  return h;
})();

/** The sum of {@linkcode TEMPLATE}'s bytes: each header's checksum starts from it. */
const TEMPLATE_SUM = TEMPLATE.reduce((sum, b) => sum + b, 0);

/** A name of ours: printable ASCII without spaces, 1 to 100 bytes (ustar's name field). */
const NAME = /^[\x21-\x7e]{1,100}$/;

/**
 * The 512-byte header of a regular file `name` of `size` bytes. Names are
 * ours (`batch.json`, `c/<sha-256 hex>`): printable ASCII of at most 100
 * bytes, which ustar's name field holds without a prefix.
 */
export function ustarHeader(name: string, size: number): Uint8Array {
  if (!NAME.test(name)) {
    throw new SyftError("E_INTERNAL", `tar entry name ${JSON.stringify(name)} is not ours`);
  }
  if (!Number.isSafeInteger(size) || size < 0 || size > MAX_ENTRY_BYTES) {
    throw new SyftError("E_INTERNAL", `tar entry ${name} has an impossible size ${size}`);
  }
  const h = TEMPLATE.slice();
  let sum = TEMPLATE_SUM;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i); // ASCII, as checked
    h[i] = c;
    sum += c;
  }
  // Size: 11 octal digits, zero-padded, then the NUL the template has.
  let rest = size;
  for (let i = 124 + 10; i >= 124; i--) {
    const c = 0x30 + (rest % 8);
    h[i] = c;
    sum += c;
    rest = Math.floor(rest / 8);
  }
  // Checksum: 6 octal digits, a NUL, a space.
  for (let i = 148 + 5; i >= 148; i--) {
    h[i] = 0x30 + (sum & 7);
    sum >>>= 3;
  }
  h[154] = 0;
  h[155] = 0x20;
  return h;
}

/**
 * Tar entries gathered into chunks: `add` appends a file, and each time
 * {@linkcode TAR_CHUNK_BYTES} are ready they go to `onChunk` (awaited, so a
 * slow consumer holds the writer back). `finish` adds the end-of-archive
 * blocks and hands on the rest.
 */
export class TarChunks {
  #buf = new Uint8Array(TAR_CHUNK_BYTES);
  #used = 0;

  constructor(readonly onChunk: (chunk: Uint8Array) => Promise<void>) {}

  async add(name: string, bytes: Uint8Array): Promise<void> {
    // Awaited only when a chunk filled: 10,000 small entries were 30,000 awaits.
    const header = this.#put(ustarHeader(name, bytes.byteLength));
    if (header) await header;
    const body = this.#put(bytes);
    if (body) await body;
    const pad = (BLOCK - (bytes.byteLength % BLOCK)) % BLOCK;
    if (pad > 0) {
      const zeros = this.#put(ZEROS.subarray(0, pad));
      if (zeros) await zeros;
    }
  }

  async finish(): Promise<void> {
    const end = this.#put(ZEROS);
    if (end) await end;
    if (this.#used > 0) await this.onChunk(this.#buf.subarray(0, this.#used));
    this.#used = 0;
  }

  /** Copy `bytes` in; a promise only when full chunks were handed on. */
  #put(bytes: Uint8Array): Promise<void> | undefined {
    const room = this.#buf.byteLength - this.#used;
    if (bytes.byteLength < room) {
      this.#buf.set(bytes, this.#used);
      this.#used += bytes.byteLength;
      return undefined;
    }
    return this.#putFilling(bytes);
  }

  async #putFilling(bytes: Uint8Array): Promise<void> {
    let at = 0;
    while (at < bytes.byteLength) {
      const n = Math.min(bytes.byteLength - at, this.#buf.byteLength - this.#used);
      this.#buf.set(bytes.subarray(at, at + n), this.#used);
      this.#used += n;
      at += n;
      if (this.#used === this.#buf.byteLength) {
        const full = this.#buf;
        this.#buf = new Uint8Array(TAR_CHUNK_BYTES);
        this.#used = 0;
        await this.onChunk(full);
      }
    }
  }
}
