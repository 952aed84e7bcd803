/**
 * Fixed keys and small stream helpers shared by the crypto and envelope tests.
 * The keys are published test vectors, so the known answers built on them can
 * be recomputed by any other implementation: Ed25519 from RFC 8032 §7.1 (tests
 * 1 and 2), X25519 from RFC 7748 §6.1.
 * @module
 */
import type { OpenKeys, SealKeys } from "../../../core/events/envelope.ts";

export function hex(text: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(text.match(/../g) ?? [], (h) => parseInt(h, 16));
}

export function toHex(bytes: Uint8Array | ArrayBuffer): string {
  return Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** PKCS#8 prefixes wrapping a raw 32-byte private key (RFC 8410). */
const PKCS8_ED25519 = "302e020100300506032b657004220420";
const PKCS8_X25519 = "302e020100300506032b656e04220420";

/** RFC 8032 §7.1 test 1 (Alice signs) and test 2 (Bob signs). */
export const ED25519 = {
  alice: {
    secret: "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
    public: "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
  },
  bob: {
    secret: "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
    public: "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
  },
} as const;

/** RFC 7748 §6.1. */
export const X25519 = {
  alice: {
    secret: "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",
    public: "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a",
  },
  bob: {
    secret: "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb",
    public: "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f",
  },
  shared: "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742",
} as const;

export const PKCS8 = { ed25519: PKCS8_ED25519, x25519: PKCS8_X25519 } as const;

/** A fixed identity: both private keys and both raw public keys. */
export interface FixedIdentity {
  email: string;
  signPrivate: CryptoKey;
  signPublic: CryptoKey;
  agreePrivate: CryptoKey;
  agreePublic: CryptoKey;
}

async function fixedIdentity(who: "alice" | "bob"): Promise<FixedIdentity> {
  const s = crypto.subtle;
  return {
    email: `${who}@example.org`,
    signPrivate: await s.importKey(
      "pkcs8",
      hex(PKCS8_ED25519 + ED25519[who].secret),
      "Ed25519",
      false,
      [
        "sign",
      ],
    ),
    signPublic: await s.importKey("raw", hex(ED25519[who].public), "Ed25519", true, ["verify"]),
    agreePrivate: await s.importKey(
      "pkcs8",
      hex(PKCS8_X25519 + X25519[who].secret),
      "X25519",
      false,
      [
        "deriveBits",
      ],
    ),
    agreePublic: await s.importKey("raw", hex(X25519[who].public), "X25519", true, []),
  };
}

export const alice = await fixedIdentity("alice");
export const bob = await fixedIdentity("bob");

/** Keys for `from` sealing an object to `to`. */
export function sealKeys(from: FixedIdentity, to: FixedIdentity): SealKeys {
  return {
    signPrivate: from.signPrivate,
    agreePrivate: from.agreePrivate,
    peerAgreePublic: to.agreePublic,
  };
}

/** Keys for `to` opening an object sealed by `from`. */
export function openKeys(from: FixedIdentity, to: FixedIdentity): OpenKeys {
  return {
    senderSignPublic: from.signPublic,
    agreePrivate: to.agreePrivate,
    senderAgreePublic: from.agreePublic,
  };
}

/** Every byte of a stream. */
export async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let n = 0;
  for await (const part of stream) {
    parts.push(part);
    n += part.length;
  }
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A stream of `bytes` in pieces of the given sizes (cycled), to exercise re-chunking. */
export function streamOf(bytes: Uint8Array, pieceSizes: number[] = [bytes.length || 1]) {
  let at = 0;
  let i = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (at >= bytes.length) {
        controller.close();
        return;
      }
      const n = Math.max(1, pieceSizes[i++ % pieceSizes.length] ?? 1);
      controller.enqueue(bytes.slice(at, at + n));
      at += n;
    },
  });
}

/** Deterministic pseudo-random bytes (xorshift32), so failures replay. */
export function patternBytes(n: number, seed = 1): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(n);
  let x = seed | 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** Reject when `promise` takes longer than `ms`: a hang is a failure, not a stuck test run. */
export async function withinMs<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} hung for ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
