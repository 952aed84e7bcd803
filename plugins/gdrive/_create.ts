/**
 * A create-only upload of one object into one of our folders (a channel or the
 * pool), with Drive's two sharp edges handled the same way for both: a create
 * whose answer was lost is looked up by its mark before a retry (never made
 * twice), and two copies of one name resolve to the earliest, so every writer
 * agrees on who won.
 * @module
 */
import type { DriveApi } from "./_api.ts";
import { type DriveFile, resolveCreate } from "./_files.ts";

/** What a create came to: the copy that counts, and whether it is ours. */
export interface CreateOutcome {
  won: boolean;
  /** Our copy when we won (kept), else the one just made (already deleted). */
  file: DriveFile;
}

/**
 * Upload `body` as `name` into folder `folder`. `copies` lists the name's
 * copies in that folder owned by us (our recent creates included, as listings
 * lag); it runs before a retry and once after the upload. Our copies that lost
 * are deleted before this returns. `properties` are public ones to set.
 */
export async function createObject(
  api: DriveApi,
  op: string,
  folder: string,
  name: string,
  body: Uint8Array | ReadableStream<Uint8Array>,
  copies: () => Promise<DriveFile[]>,
  properties: Record<string, string> = {},
): Promise<CreateOutcome> {
  const token = crypto.randomUUID();
  const metadata = {
    name,
    parents: [folder],
    mimeType: "application/octet-stream",
    // Marks our create, so a retry can tell its own lost create from a racer's.
    appProperties: { syftPut: token },
    ...(Object.keys(properties).length > 0 ? { properties } : {}),
  };
  const lookup = async () => (await copies()).find((f) => f.appProperties.syftPut === token);
  const created = body instanceof Uint8Array
    ? await api.uploadBytes(op, metadata, body, lookup)
    : await api.uploadStream(op, metadata, body, lookup);
  // Drive allows two files of one name: the earliest wins, later copies of ours go.
  const found = await copies();
  if (!found.some((f) => f.id === created.id)) found.push(created); // listings lag
  const outcome = resolveCreate(
    found,
    (f) => f.id === created.id || f.appProperties.syftPut === token,
  );
  for (const id of outcome.losers) await api.deleteFile(op, id);
  return { won: outcome.won, file: outcome.kept ?? created };
}
