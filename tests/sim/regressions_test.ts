/**
 * Engine bugs the simulation found, each as the seed and shrunk operations
 * that show it, run with no known bug let pass. They are ignored while the
 * bug is open (core/sync is not the simulation's to change);
 * `SIM_REGRESSIONS=1` runs them. Once a bug is fixed: drop `ignore`, and its
 * entry in KNOWN_BUGS (tests/sim/run.ts).
 */
import { assertEquals } from "../assert.ts";
import { type Failure, KNOWN_BUGS, type KnownBug, runSeed } from "./run.ts";

const open = !Deno.env.get("SIM_REGRESSIONS");

/**
 * The failure of seed `seed` (of `ops` operations) replaying only `only`,
 * with every known bug but `bug` let pass; null when it holds.
 */
async function replay(
  bug: KnownBug | null,
  seed: number,
  ops: number,
  only: number[],
): Promise<Failure | null> {
  const allow = KNOWN_BUGS.filter((b) => b !== bug);
  return (await runSeed({ seed, ops, only: new Set(only), allow })).failure;
}

Deno.test({
  name:
    "seed 15: an owner that deleted a file and lost its state/ before its next round tells its peers of the deletion (wiped-owner-deletion)",
  ignore: open,
  fn: async () => {
    // s0 writes public/sub/f3.txt and publishes it; deletes it; loses state/.
    // Its next rounds publish nothing: every peer's mirror keeps the file.
    assertEquals(await replay("wiped-owner-deletion", 15, 200, [59, 88, 188, 199]), null);
  },
});

Deno.test({
  name:
    "seed 7: a file an owner applied from a proposal, then deleted before losing its state/, leaves the proposer's mirror (wiped-owner-deletion)",
  ignore: open,
  fn: async () => {
    assertEquals(await replay("wiped-owner-deletion", 7, 200, [79, 83, 95, 157, 161]), null);
  },
});

Deno.test({
  name:
    "seed 4: a second write on top of the proposer's own unanswered proposal is applied, not refused as a conflict (stacked-proposal)",
  ignore: open,
  fn: async () => {
    // s1 writes its inbox file at s2 and proposes it; writes it again and
    // proposes again. s2 applies the first and refuses the second as a
    // conflict ("the file changed here since your copy"): the proposer sent
    // the owner's last hash (none), not the hash of its own first proposal.
    assertEquals(await replay("stacked-proposal", 4, 200, [63, 68, 73, 98]), null);
  },
});

Deno.test({
  name:
    "seed 34: a deletion on top of the proposer's own unanswered proposal is not lost (stacked-proposal)",
  ignore: open,
  fn: async () => {
    // s0 writes its inbox file at s1 and proposes it, then deletes it: the
    // owner applies the write, and its echo brings the file back at s0.
    assertEquals(await replay("stacked-proposal", 34, 200, [147, 163, 164, 169]), null);
  },
});

Deno.test({
  name:
    "seed 29: a peer re-approved while the other's peer.remove is unread still gets the projection (crossed-reapproval)",
  ignore: open,
  fn: async () => {
    // s3 removes s0; s3 writes public/f4.txt; they peer again before s0 read
    // the remove. s0 then reads the remove and, with s3 removed, skips the
    // batch that carried s3's projection; after its own re-approval nothing
    // sends it again: s0's mirror of s3 lacks public/f4.txt for good.
    assertEquals(
      await replay("crossed-reapproval", 29, 200, [8, 116, 118, 170, 187, 195, 196]),
      null,
    );
  },
});

Deno.test({
  name:
    "seed 62: an owner's republish after losing its state/ is no conflict for a peer's unproposed edit (wiped-owner-republish)",
  ignore: open,
  fn: async () => {
    // s3 grants s0 write on shared1/ and publishes shared1/deep/f0.txt; s3
    // loses state/ and publishes everything again; s0 edits f0.txt in its
    // mirror: the unchanged republished file is taken for an owner change and
    // s0's permitted edit becomes a .conflict copy instead of a proposal.
    assertEquals(
      await replay("wiped-owner-republish", 62, 200, [108, 146, 159, 172, 177, 178, 180, 197]),
      null,
    );
  },
});

Deno.test({
  name:
    "seed 66: a proposal to an owner that lost its state/ is judged: refused with a .rejected copy, or applied (wiped-owner-drops-proposal)",
  ignore: open,
  fn: async () => {
    // s0 writes shared1/f4.txt in its mirror of s1 (a folder s0 may not
    // read or write) after s1 deleted its own f4.txt and lost state/: the
    // proposal is neither applied nor refused, and no .rejected copy is left.
    assertEquals(
      await replay("wiped-owner-drops-proposal", 66, 200, [
        28,
        40,
        45,
        46,
        72,
        80,
        82,
        89,
        116,
        117,
        118,
        119,
        172,
        173,
        177,
        182,
        185,
      ]),
      null,
    );
  },
});

Deno.test({
  name:
    "seed 101: a file renamed in a mirror onto one of the same size and mtime is proposed (rename-same-stamp)",
  ignore: open,
  fn: async () => {
    // s0 publishes public/sub/f4.txt and f0.txt (same length) in one batch, so
    // s2's mirror stamps both alike; s2 renames f0.txt onto f4.txt. The scan
    // keys on size and mtime, which the rename keeps: only the deletion of
    // f0.txt is proposed (and refused), the new f4.txt never is, and s2's
    // mirror holds content s0 never had, for good.
    assertEquals(await replay("rename-same-stamp", 101, 200, [93, 99, 100, 150, 195]), null);
  },
});

Deno.test({
  name:
    "seed 5: a refused proposal still pending when the owner lost its state/ is refused, and the mirror put back (wiped-owner-drops-proposal)",
  ignore: open,
  fn: async () => {
    // s0 writes public/sub/f1.txt in its mirror of s1 (not writable by s0),
    // then s1 loses state/. s1 re-reads s0's channel from the start and
    // neither applies nor refuses the proposal: s0's mirror keeps the file.
    assertEquals(
      await replay("wiped-owner-drops-proposal", 5, 300, [
        35,
        71,
        153,
        158,
        164,
        172,
        174,
        175,
        176,
        178,
      ]),
      null,
    );
  },
});

Deno.test({
  name:
    "seed 10: running an approved job whose config.yaml the owner deleted is an error with a hint, not a bare NotFound (job-file-removed)",
  ignore: open,
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
