/**
 * `uploadType=multipart` bodies (RFC 2387 `multipart/related`): a JSON
 * metadata part, then the media part. Binary-safe: the media is sliced out of
 * the bytes, never decoded as text.
 * @module
 */
import { badRequest } from "./_errors.ts";

/** The two parts Drive expects. */
export interface RelatedUpload {
  metadata: unknown;
  mediaType: string;
  media: Uint8Array;
}

function indexOf(hay: Uint8Array, needle: Uint8Array, from: number): number {
  const first = needle[0];
  outer: for (let i = hay.indexOf(first!, from); i !== -1; i = hay.indexOf(first!, i + 1)) {
    if (i + needle.length > hay.length) return -1;
    for (let j = 1; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

function parseHeaders(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon > 0) out.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return out;
}

/** Parse a `multipart/related` body; anything but metadata + media is a 400. */
export function parseRelated(contentType: string, body: Uint8Array): RelatedUpload {
  const m = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  if (!/^multipart\/related/i.test(contentType) || !m) {
    throw badRequest("Multipart upload requires a multipart/related body with a boundary");
  }
  const enc = new TextEncoder();
  const dec = new TextDecoder();
  const delimiter = enc.encode(`--${m[1] ?? m[2]}`);
  const parts: { headers: Map<string, string>; data: Uint8Array }[] = [];
  let at = indexOf(body, delimiter, 0);
  if (at === -1) throw badRequest("Multipart body has no boundary");
  for (;;) {
    let start = at + delimiter.length;
    if (body[start] === 0x2d && body[start + 1] === 0x2d) break; // closing "--"
    if (body[start] === 0x0d && body[start + 1] === 0x0a) start += 2;
    const next = indexOf(body, delimiter, start);
    if (next === -1) throw badRequest("Multipart body is not terminated");
    // The part ends with CRLF before the next delimiter.
    const end = body[next - 2] === 0x0d && body[next - 1] === 0x0a ? next - 2 : next;
    const part = body.subarray(start, end);
    const blank = indexOf(part, enc.encode("\r\n\r\n"), 0);
    const headerText = blank === -1 ? "" : dec.decode(part.subarray(0, blank));
    const data = blank === -1 ? part : part.subarray(blank + 4);
    parts.push({ headers: parseHeaders(headerText), data });
    at = next;
  }
  if (parts.length !== 2) throw badRequest(`Multipart upload needs 2 parts, got ${parts.length}`);
  const [meta, media] = parts as [(typeof parts)[0], (typeof parts)[0]];
  let metadata: unknown;
  try {
    metadata = JSON.parse(dec.decode(meta.data));
  } catch {
    throw badRequest("Metadata part is not JSON");
  }
  let bytes = media.data;
  if (media.headers.get("content-transfer-encoding")?.toLowerCase() === "base64") {
    const bin = atob(dec.decode(bytes).replace(/\s+/g, ""));
    bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0));
  }
  return {
    metadata,
    mediaType: media.headers.get("content-type") ?? "application/octet-stream",
    media: bytes.slice(),
  };
}
