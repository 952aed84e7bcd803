/**
 * Engine bugs the simulation found, each as the seed and shrunk operations
 * that show it, replayed with every other known bug let pass. An open bug's
 * test is marked `ignore` and its name listed in KNOWN_BUGS
 * (tests/sim/run.ts); once fixed, both go and the name moves to FixedBug.
 * (The operations are those tests/sim/ops.ts draws today: changing its mix
 * changes them, and these seeds must then be found again.)
 */
import { assertEquals } from "../assert.ts";
import { type Failure, type FixedBug, KNOWN_BUGS, type KnownBug, runSeed } from "./run.ts";

/**
 * The failure of seed `seed` (of `ops` operations) replaying only `only`,
 * with every known bug but `bug` let pass; null when it holds.
 */
/** What a checker false positive is replayed as: no bug's name, every known one let pass. */
type Replayed = KnownBug | FixedBug | "checker";

async function replay(
  bug: Replayed,
  seed: number,
  ops: number,
  only: number[],
  options: { sharedSetup?: boolean } = {},
): Promise<Failure | null> {
  const allow = KNOWN_BUGS.filter((b) => b !== bug);
  return (await runSeed({ seed, ops, only: new Set(only), allow, ...options })).failure;
}

Deno.test({
  name:
    "seed 9: an owner that deleted a file and then lost its state/ tells its peers of the deletion (wiped-owner-deletion)",
  fn: async () => {
    // s0 writes f0.txt into its inbox at s1, which applies it; s1 deletes the
    // file and loses state/ before its next round. s1's rounds after that
    // never publish the deletion: s0's mirror keeps the file for good.
    assertEquals(await replay("wiped-owner-deletion", 9, 300, [42, 43, 54, 106, 222]), null);
  },
});

Deno.test({
  name:
    "seed 9: a peer re-approved while the other's peer.remove is unread ends with the owner's projection (crossed-reapproval)",
  fn: async () => {
    // s2 publishes public/sub/f1.txt, removes s3, deletes the file (not
    // published to s3, removed), and peers with s3 again before s3 read the
    // remove. s3 then applies the old batch with the file, reads the remove,
    // and once both accept each other again nobody sends the deletion: s3's
    // mirror of s2 keeps a file s2 no longer has.
    assertEquals(
      await replay("crossed-reapproval", 9, 300, [157, 183, 185, 205, 207, 209, 242, 253, 254]),
      null,
    );
  },
});

Deno.test({
  name:
    "seed 5: a refused proposal still pending when the owner lost its state/ is refused, and the mirror put back (wiped-owner-drops-proposal)",
  fn: async () => {
    // s0 writes public/sub/f1.txt in its mirror of s1 (not writable by s0),
    // then s1 loses state/. s1 re-reads s0's channel from the start and
    // neither applies nor refuses the proposal: no .rejected copy, no reason,
    // and s0's mirror keeps the file.
    assertEquals(
      await replay(
        "wiped-owner-drops-proposal",
        5,
        300,
        [35, 71, 153, 158, 164, 172, 174, 175, 176, 178],
      ),
      null,
    );
  },
});

Deno.test({
  name:
    "seed 10: running an approved job whose config.yaml the owner deleted is an error with a hint, not a bare NotFound (job-file-removed)",
  fn: async () => {
    // s4 submits a job to s1; s1 approves it, then deletes the job's
    // config.yaml from its inbox by hand; `job run --release` throws
    // Deno.errors.NotFound from readFile (core/jobs), which a terminal shows
    // as a stack trace rather than `error: ...` / `hint: ...`.
    assertEquals(
      await replay("job-file-removed", 10, 300, [0, 29, 86, 133, 135, 192, 194, 196, 225, 250]),
      null,
    );
  },
});

Deno.test({
  name:
    "seed 5: a permitted edit proposed to an owner that lost its state/ is applied, not turned into a .conflict copy by the owner's republish (wiped-owner-republish)",
  fn: async () => {
    // s0 edits f2.txt of its inbox at s1 (permitted); s1 loses state/ and s0
    // proposes the edit. s1 neither applies nor refuses it, and republishes
    // every file: the unchanged f2.txt is taken for an owner change at s0,
    // whose edit becomes a .conflict copy; s1 never gets it.
    assertEquals(
      await replay(
        "wiped-owner-republish",
        5,
        300,
        [35, 71, 153, 158, 164, 172, 173, 174, 175, 178, 180],
      ),
      null,
    );
  },
});

Deno.test({
  name:
    "seed 507: an owner that lost its state/ still collects the objects its channel held before (wiped-owner-leaks-objects)",
  fn: async () => {
    // s2 loses state/ three times in 1,000 operations. Its channel to s1
    // ends holding b-1 … b-57 although its record starts at b-33 and s1
    // acked b-56: the objects from before a wipe are in no record, so
    // nothing ever deletes them. (Not shrunk: the bound needs many batches.)
    const all = Array.from({ length: 1000 }, (_, i) => i);
    assertEquals(await replay("wiped-owner-leaks-objects", 507, 1000, all), null);
  },
});

Deno.test({
  name:
    "seed 505: a file the user moves after a power cut mid-apply does not stop every later round (journal-after-user-edit)",
  fn: async () => {
    // s0 gives s2 write on shared0/ and publishes shared0/f4.txt; s2's round
    // dies by a power cut while applying it, leaving its journal entry; s2's
    // user then renames shared0/f4.txt to f1.txt in the mirror. Every round
    // of s2 after that throws "staged content for shared0/f4.txt is
    // missing" (core/sync/journal.ts): s2 never syncs again.
    assertEquals(
      await replay("journal-after-user-edit", 505, 1000, [262, 768, 777, 778, 790, 792, 794]),
      null,
    );
  },
});

Deno.test({
  name:
    "seed 3002: a file renamed in a mirror onto one of the same size and mtime is proposed (rename-same-stamp)",
  fn: async () => {
    // s2 publishes public/f1.txt and public/f4.txt (same length) in one
    // batch, so s3's mirror stamps both with one mtime; s3 renames f4.txt
    // onto f1.txt. The scan keys on size and mtime, which the rename keeps:
    // only the deletion of f4.txt is proposed (and refused), the new f1.txt
    // never is, and s3's mirror holds content s2 never had there, for good.
    assertEquals(
      await replay("rename-same-stamp", 3002, 1000, [369, 370, 386, 696, 883, 884, 886]),
      null,
    );
  },
});

Deno.test({
  name:
    "seed 20068: an edit in a peer's mirror is proposed again after a round that failed before its batch went out (proposal-lost-before-put)",
  fn: async () => {
    // s1 lost state/, then wrote shared2/f1.txt into its mirror of s0. Its
    // next round recorded the proposal as pending when settling its seq
    // (before any put), then died on a 429: no later round proposed it, and
    // the edit was neither applied nor refused.
    assertEquals(
      await replay(
        "proposal-lost-before-put",
        20068,
        300,
        [2, 3, 5, 36, 46, 51, 52, 55, 57, 59, 93, 97, 107, 108],
      ),
      null,
    );
  },
});

Deno.test({
  name:
    "seed 20068: an owner that lost its state/ checkpoints the files of its batches from before (wiped-owner-rolling)",
  fn: async () => {
    // s1 published public/f3.txt in b-1, then lost state/. Its rebuilt record
    // had no rolling window, so its next incremental checkpoint left b-1's
    // files out; s2, wiped too, restored from cf-0 + that ci and never got
    // public/f3.txt.
    assertEquals(
      await replay("wiped-owner-rolling", 20068, 300, [
        36,
        52,
        53,
        59,
        97,
        107,
        149,
        150,
        151,
        154,
      ]),
      null,
    );
  },
});

Deno.test({
  name:
    "seed 777: an owner whose record rebuild failed after a lost state/ tries again and collects its old objects (wiped-owner-rebuild-retry)",
  fn: async () => {
    // s2 loses state/; its first round settles the seq (saving the state) and
    // then dies reading its own objects for the rebuild (a transport error).
    // No later round rebuilt the record: b-1 ... b-27 and the checkpoints of
    // before stayed in its channel to s0 for good. (Not shrunk: the bound
    // needs many batches.)
    const all = Array.from({ length: 1000 }, (_, i) => i);
    assertEquals(await replay("wiped-owner-rebuild-retry", 777, 1000, all), null);
  },
});

Deno.test({
  name:
    "seed 30036: a file made again where our deletion was pending is proposed, not kept aside when the owner's echo of the deletion arrives (deletion-echo-conflict)",
  fn: async () => {
    // s2 renames inbox/f3.txt to f1.txt in its mirror of s0 (a deletion and a
    // new file, proposed), then writes a new f3.txt. s0 applies both and
    // publishes f3.txt deleted: s2 took that echo of its own deletion for the
    // owner's, kept its new f3.txt as a .conflict copy and never proposed it.
    assertEquals(
      await replay("deletion-echo-conflict", 30036, 300, [57, 97, 106, 107, 125, 156, 183, 184]),
      null,
    );
  },
});

Deno.test({
  name:
    "seed 30140: a peer's proposal applied in a round that did not publish to it is settled by the next publication (applied-never-echoed)",
  fn: async () => {
    // s2 submits a job to s1 and removes s1 before s1 reads it; s1 applies
    // the job's files, then reads the remove and publishes nothing to s2.
    // Both peer again and s1's intake moves the files out of the inbox: s1
    // had never published them to s2, so it never published their deletion,
    // and s2's mirror kept them.
    assertEquals(
      await replay("applied-never-echoed", 30140, 300, [150, 170, 173, 175, 187, 191, 192]),
      null,
    );
  },
});

Deno.test({
  name:
    "seed 30198: an owner that lost its state/ before acking anything judges the proposals its restore from checkpoints passes over (restore-skips-proposals)",
  fn: async () => {
    // s2 writes public/sub/f3.txt in its mirror of s4 (not writable by s2).
    // s4 loses state/; its own batches to s2 ack nothing, so it read s2's
    // channel as new: a restore from cf-0 and ci-2, never judging b-2 with
    // the proposal. No .rejected copy, no reason, and s2's mirror keeps it.
    assertEquals(
      await replay("restore-skips-proposals", 30198, 300, [50, 59, 72, 153, 154, 161, 163, 172]),
      null,
    );
  },
});

Deno.test({
  name:
    "seed 30311: a reader that got a reordered listing reads the batches it showed, that round or the next (reordered-listing-stalls)",
  fn: async () => {
    // s0 proposes shared2/f4.txt to s2. s2's listing of s0's channel comes
    // back reversed (b-3, b-2, b-1, as a lagging index may): the reader
    // stopped at the first seq that was not its next, and the change feed
    // moved on, so no later round read the proposal.
    assertEquals(
      await replay(
        "reordered-listing-stalls",
        30311,
        300,
        [136, 140, 144, 145, 247, 250, 265, 267, 284],
      ),
      null,
    );
  },
});

/** Operation ids written as ranges ("0-6,21-27"): a shrunk list too long to list. */
function ranges(text: string): number[] {
  return text.split(",").flatMap((part) => {
    const [from, to = from] = part.split("-").map(Number) as [number, number?];
    return Array.from({ length: to - from + 1 }, (_, i) => from + i);
  });
}

Deno.test({
  name:
    "seed 6003: an owner that restores the resync checkpoint it asked for judges the proposals in the batches it covers (resync-skips-proposals)",
  fn: async () => {
    // s2 loses state/, reads s3's channel again and waits on a batch s3
    // already collected, so it asks for a resync. Meanwhile s3 writes
    // shared0/f1.txt in its mirror of s2 (not writable by s3) and proposes it
    // in b-30; its resync answer is cf-31. s2 restored cf-31 past b-30 and
    // b-31 without judging them (only a reader with no cursor judged before
    // restoring): no .rejected copy, no reason, and s3's mirror kept the file.
    // (Shrinking stopped at its try limit: 385 of 1,000 operations.)
    assertEquals(
      await replay(
        "resync-skips-proposals",
        6003,
        1000,
        ranges(
          "0-6,21-27,35-59,75-77,85-105,113-140,148-154,186-192,200-216,248-251,259-265,396-402,410-423,446-459,467-480,488-494,627-661,669-689,697-703,711-724,739-759,775-781,789-795,803-823,831-849,865-873,888-894,902-929",
        ),
      ),
      null,
    );
  },
});

Deno.test({
  name:
    "seed 90190: a file renamed away and back in a mirror is no edit, so nothing is refused (the checker's own mistake)",
  fn: async () => {
    // s2 renames public/f1.txt in its mirror of s1 (not writable by s2) to
    // f3.txt and back before a round. The engine rightly sees no change; the
    // checker counted the rename back as a refused write and wanted its
    // .rejected copy. Not an engine bug: the checker now lets an edit back to
    // the owner's own text pass.
    const failure = (await runSeed({
      seed: 90190,
      ops: 300,
      only: new Set([257, 259, 270, 276, 288, 289]),
      allow: [],
    })).failure;
    assertEquals(failure, null);
  },
});

Deno.test({
  name:
    "seed 90003: an owner that lost its state/ does not act again on a peer's old peer.remove after both re-accepted (wiped-owner-replays-remove)",
  fn: async () => {
    // s3 removes s0, s0 reads the remove, and the two peer again. s0 loses
    // state/ and reads s3's channel from b-1, the old remove included: s0
    // holds s3 removed, refuses s3's edit of its dataset.yaml and never
    // publishes the refusal, so s3's mirror keeps the edit with no
    // .rejected copy.
    assertEquals(
      await replay(
        "wiped-owner-replays-remove",
        90003,
        300,
        [89, 151, 158, 174, 272, 274, 279, 286, 287, 288],
      ),
      null,
    );
  },
});

Deno.test({
  name:
    "seed 100433: an owner that lost its state/ never acks less than its earlier batches did, so a proposal it applied is not applied again over its own later deletion (wiped-owner-regresses-acks)",
  fn: async () => {
    // s0 applies s3's job (b-2 of s3's channel, acked 2 in s0's b-1), removes
    // s3, loses state/, and deletes the job's config.yaml. Its peer.remove
    // batch, written with no reader state, acked 0; once the two peer again,
    // s0 took that newest ack for how far it had judged, applied b-2 again
    // and brought config.yaml back; s3's later deletion of it was lost.
    assertEquals(
      await replay(
        "wiped-owner-regresses-acks",
        100433,
        300,
        [53, 68, 102, 129, 141, 248, 258, 259, 266, 267, 276, 289],
      ),
      null,
    );
  },
});

Deno.test({
  name:
    "seed 2001226: a batch of controls alone keeps the paths due for republishing, so a peer approved again learns of a file deleted meanwhile (controls-drop-republish)",
  fn: async () => {
    // s2 applies s1's job files in a round that dies before its batch goes
    // out (the files are due for republishing), removes s1 (its peer.remove
    // goes out in a batch of controls alone, which cleared that list), and
    // deletes run.sh. Approved again, s2 published its projection with no
    // word of run.sh: s1's mirror kept it.
    assertEquals(
      await replay(
        "controls-drop-republish",
        2001226,
        100,
        [36, 61, 62, 66, 67, 68, 70, 78, 87, 88, 91],
      ),
      null,
    );
  },
});

Deno.test({
  name:
    "seed 104351: an owner that lost its state/ takes the peer's controls it acted on for judged, and republishes what those unacked batches proposed (wiped-owner-unacked-proposals)",
  fn: async () => {
    // s1 submits a job to s2 and removes s2 right after; s2 applies the job,
    // reads the remove (so never acks the job's batch nor echoes its files),
    // then moves or deletes the config and loses state/. Approved again, s2
    // judged the job's batch again (its newest ack was older) and brought the
    // config back over its own edit; with that fixed, the peer's mirror kept
    // the config, which s2 no longer knew the peer held. The second list
    // restores from checkpoints instead of replaying the batches.
    assertEquals(
      await replay("wiped-owner-unacked-proposals", 104351, 300, [48, 51, 52, 73, 187, 207, 222]),
      null,
    );
    assertEquals(
      await replay(
        "wiped-owner-unacked-proposals",
        104351,
        300,
        [1, 7, 12, 18, 24, 30, 48, 50, 51, 52, 73, 190, 195, 207, 208, 219],
      ),
      null,
    );
  },
});

Deno.test({
  name:
    "seed 2010260: a file moved back by its user after a power cut is not moved again by the journal's replay (rename-refused-no-copy)",
  // s2 renames public/f1.txt to f0.txt; s0's round applying it dies after
  // the rename reached its disk but before its state did. s0's user (no
  // write access to s2's public/) moves the file back to f1.txt. The replay
  // found f1.txt holding the planned bytes and renamed it to f0.txt again:
  // the user's move was undone, so it was neither proposed nor refused, and
  // left no .rejected copy.
  fn: async () => {
    assertEquals(
      await replay("rename-refused-no-copy", 2010260, 100, [32, 34, 35, 41, 54, 58, 63, 66]),
      null,
    );
  },
});

Deno.test({
  name:
    "seed 4003469: a peer's proposal our datasite already agrees with is still answered by our next publication (noop-proposal-unanswered)",
  // s2 deletes its job's status/approved and loses state/ before publishing
  // that; s0, which may read but not write there, deletes its copy too. s2
  // took the proposal for a replay (nothing to do), then a job command wrote
  // the same bytes there again; its record, rebuilt from its own batches,
  // still said s0 held them, so it never sent them: s0's mirror kept the
  // deletion for good.
  fn: async () => {
    assertEquals(
      await replay("noop-proposal-unanswered", 4003469, 100, [
        6,
        18,
        21,
        59,
        62,
        72,
        83,
        85,
        86,
        87,
        91,
        93,
        96,
      ], { sharedSetup: true }),
      null,
    );
  },
});

Deno.test({
  name:
    "seed 5014495: a write proposed right after the proposer re-approved us, before we read its old peer.remove, is answered (refusal-to-removed-peer)",
  // s4 removes s2, then re-approves it and writes into s2's public/ (no
  // write access). s2 read the remove and then the proposal: it refused the
  // write but held s4 removed, so the refusal was never sent and s4 kept its
  // edit without a .rejected copy. s4's peer.accept now restores the pair.
  fn: async () => {
    assertEquals(
      await replay("refusal-to-removed-peer", 5014495, 100, [33, 57, 68, 85, 86], {
        sharedSetup: true,
      }),
      null,
    );
  },
});

Deno.test({
  name:
    "seed 5012077: a job submitted to an owner that lost state/, in a batch its listing showed late, is judged before the owner restores past it (wiped-owner-inbox-echo)",
  // s2 loses state/ and its mirrors; s1 submits a job to it, then writes
  // an incremental checkpoint. The batch with the job showed late in s2's
  // listing, and s2 restored past it (cf-0, ci-3) without judging it: the
  // job never reached s2, and s1's mirror kept it. The restore now waits
  // for an unlisted batch it must judge first.
  fn: async () => {
    assertEquals(
      await replay("wiped-owner-inbox-echo", 5012077, 100, [
        3,
        10,
        25,
        41,
        50,
        52,
        60,
        65,
        66,
        68,
        69,
        77,
        82,
      ], { sharedSetup: true }),
      null,
    );
  },
});

Deno.test({
  name:
    "seed 7004022: a local refusal in a round that dies right after it keeps its reason (refusal-reason-lost)",
  fn: async () => {
    // s3 lost state/, then wrote into private/ of its mirror of s0: refused
    // here, its .rejected copy made; the round died on a listing before it
    // saved the reason, which no later round could tell.
    assertEquals(
      await replay("refusal-reason-lost", 7004022, 100, [30, 60, 64, 88], { sharedSetup: true }),
      null,
    );
  },
});

Deno.test({
  name:
    "seed 10007229: a proposal applied in a round that died before its ack is not applied again after a lost state/ (wiped-owner-unacked-apply)",
  fn: async () => {
    // s0 submits a job to s2; s2 applies it, its round dies on a put; s2
    // deletes the job's config.yaml and loses state/: reading s0's channel
    // again, it applied the proposal again over its own deletion.
    assertEquals(
      await replay("wiped-owner-unacked-apply", 10007229, 100, [28, 68, 70, 78, 80], {
        sharedSetup: true,
      }),
      null,
    );
  },
});

Deno.test("seeds 2033436 and 2034716: the checker's own false positives stay fixed", async () => {
  // 2033436 (invariant d): s0 applied s4's proposal, published it to s1 and
  // then lost the file to a power cut in the same round; the model noted
  // what s1 may read only after rounds that survived, so the object looked
  // like a leak. The model now also notes the tree as the power cut strikes.
  assertEquals(await replay("checker", 2033436, 100, [23, 89, 90, 95]), null);
  // 2034716 (invariant b): s1 wrote f1.txt, published it and renamed it away;
  // s0, not having read it, wrote its own f1.txt, then read s1's and kept
  // its edit aside as a conflict copy, rightly. The model now counts an
  // owner's edit the peer had not read when it edited as a possible conflict.
  assertEquals(await replay("checker", 2034716, 100, [6, 9, 34, 47, 74, 77]), null);
});
