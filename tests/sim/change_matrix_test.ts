/**
 * The change matrix (issue 16, item 2): new, changed and deleted on the
 * owner's side, the proposer's side and both, as golden tables over the
 * in-memory world. Each row names its starting state, the edits, the sync
 * rounds in the order they run, and what both sides must hold afterwards:
 * the owner's datasite and the peer's mirror of it, markers by pattern
 * (`x.rejected.*`, `x.conflict.*`).
 *
 * The golden outcomes are what docs/protocol.md §7–8 and docs/sync.md say,
 * not what the engine happens to do:
 * - the owner judges a proposal by permission first, then by `old_hash`
 *   against the file on its disk (§7 steps 2, 3); a refusal publishes the
 *   owner's version (or its absence) back, and the proposer keeps its
 *   attempted content as `<name>.rejected.<time>` (§8);
 * - a proposal that changes nothing is no refusal where the proposer may
 *   read the path (§7, last paragraph);
 * - the owner's news reaching an unproposed local edit keeps the edit as
 *   `<name>.conflict.<time>` and applies the owner's version; a conflict
 *   copy identical to the owner's content is removed again (§8).
 * Where the docs are silent (a refused or conflicting *deletion* has no
 * content to keep), the row says what it decides: the owner's file comes
 * back and no marker is left, as `rclone bisync` restores a file whose
 * deletion lost. A mirror deleted whole is refilled: issue 16 asks every
 * mirror to converge to its owner's projection.
 *
 * Where both sides edit, the order decides the marker, so each such case runs
 * owner first (the owner's news meets an unproposed edit: `.conflict`) and
 * peer first (the proposal meets the owner's edit: refused, `.rejected`), and
 * each proposal both where the peer may write (`shared/`, its inbox) and where
 * it may not (`public/`, an owner-only folder).
 *
 * After its rounds each row also runs the world to quiescence and checks
 * the same outcome again: nothing moves once the matrix has settled.
 *
 * A row the engine fails today is marked `ignore` with the bug it shows (or
 * `untold`, when only telling the peer of its refusal fails);
 * `MATRIX_IGNORED=1` runs those too.
 */
import { assertEquals } from "../assert.ts";
import { type MemorySite, MemoryWorld } from "../../core/testing/world.ts";
import type { RejectReason } from "../../core/events/types.ts";
import { goldenTree, shown } from "./_golden.ts";

/** Run the rows (and checks) marked as known bugs too. */
const RUN_IGNORED = Deno.env.get("MATRIX_IGNORED") !== undefined;

const OWNER = "owner@hospital.org";
const PEER = "ds@lab.org";

/** Owner-only: read by nobody but the owner, so never in the peer's projection. */
const HIDDEN = "notes/x.txt";
/** Readable by every peer, writable by none: a proposal here is refused. */
const PUB = "public/x.txt";
/** Readable and writable by the peer (a grant the start state makes): a proposal is permitted. */
const SHARED = "shared/x.txt";
/** The peer's job inbox, writable by it since approval (§5). */
const INBOX = `app_data/job/inbox/${PEER}/job1/run.sh`;
const IN_PRIVATE = "private/x.txt";
/** Contents over the 256 KiB inline limit travel as blobs (protocol.md §4.3). */
const BIG1 = "1".repeat(300 * 1024);
const BIG2 = "2".repeat(300 * 1024);

/** In a peer's edits: its whole mirror of the owner's datasite, folder and all. */
const WHOLE_MIRROR = "";

/** The grant that makes `shared/` the peer's to write. */
const SHARED_GRANT = [
  "rules:",
  "  - pattern: '**'",
  "    access:",
  `      write: ['${PEER}']`,
  "",
].join("\n");

/** A permission file that grants nothing: the owner revokes what it granted. */
const NO_GRANT = "rules: []\n";
/** The grant that lets every peer read `notes/`. */
const READ_GRANT = "rules:\n  - pattern: '**'\n    access:\n      read: ['*']\n";

/** Twelve files in public/: deleting eleven of them is a mass delete (§6). */
const TWELVE: Files = Object.fromEntries(
  Array.from({ length: 12 }, (_, i) => [`public/f${String(i).padStart(2, "0")}.txt`, `f${i}`]),
);
const ELEVEN_GONE: Edits = Object.fromEntries(
  Object.keys(TWELVE).slice(1).map((path) => [path, null]),
);

type Side = "owner" | "peer";
/** Datasite-relative path → content; in edits, null deletes. */
type Files = Record<string, string>;
type Edits = Record<string, string | null>;

/** Edits made between two rounds: the owner's, then the peer's. */
interface Between {
  owner?: Edits;
  peer?: Edits;
}

interface Row {
  /** The variant, as the step is named. */
  name: string;
  /** Files the owner wrote and files the peer proposed (permitted), all settled before the edits. */
  start?: { owner?: Files; peer?: Files };
  /** The owner's edits in its datasite, then the peer's in its mirror of it. */
  edits: Between;
  /** The sync rounds, in order; an edit between them where a row needs one. */
  rounds: (Side | Between)[];
  /** The owner's datasite after the rounds (permission files aside). */
  owner: Files;
  /** The peer's mirror of the owner's datasite after the rounds. */
  peer: Files;
  /** The proposals the owner refused during the rounds, and the peer was told of: path, reason. */
  rejections?: [string, RejectReason][];
  /** The owner's inbox quota per peer, when the row needs a small one (§7 step 5). */
  quotaBytes?: number;
  /**
   * A known bug in telling the peer of its refusals only: the rest of the row
   * still runs, this check only with `MATRIX_IGNORED=1`.
   */
  untold?: string;
  /** Why the row is not run: the engine disagrees with the docs (reported). */
  ignore?: string;
}

interface Case {
  name: string;
  rows: Row[];
}

const OWNER_FIRST: Side[] = ["owner", "peer"];
/** The peer proposes, the owner judges and answers, the peer reads the answer. */
const PEER_FIRST: Side[] = ["peer", "owner", "peer"];

const CASES: Case[] = [
  {
    name: "case 1: owner new",
    rows: [
      {
        name: "in a path the peer may read: mirrored",
        edits: { owner: { [PUB]: "o1" } },
        rounds: OWNER_FIRST,
        owner: { [PUB]: "o1" },
        peer: { [PUB]: "o1" },
      },
      {
        name: "in a path the peer may not read: never mirrored",
        edits: { owner: { [HIDDEN]: "o1" } },
        rounds: OWNER_FIRST,
        owner: { [HIDDEN]: "o1" },
        peer: {},
      },
      {
        name: "in the peer's inbox (a path the peer may write): mirrored",
        edits: { owner: { [INBOX]: "o1" } },
        rounds: OWNER_FIRST,
        owner: { [INBOX]: "o1" },
        peer: { [INBOX]: "o1" },
      },
      {
        // permissions.md: a grant publishes the files the projection gained.
        name: "new to the peer by a grant: mirrored",
        start: { owner: { [HIDDEN]: "v1" } },
        edits: { owner: { "notes/syft.pub.yaml": READ_GRANT } },
        rounds: OWNER_FIRST,
        owner: { [HIDDEN]: "v1" },
        peer: { [HIDDEN]: "v1" },
      },
    ],
  },
  {
    name: "case 2: owner changed",
    rows: [
      {
        name: "a file the owner wrote: the mirror follows",
        start: { owner: { [PUB]: "v1" } },
        edits: { owner: { [PUB]: "o2" } },
        rounds: OWNER_FIRST,
        owner: { [PUB]: "o2" },
        peer: { [PUB]: "o2" },
      },
      {
        name: "a file the peer proposed: the mirror follows",
        start: { peer: { [SHARED]: "v1" } },
        edits: { owner: { [SHARED]: "o2" } },
        rounds: OWNER_FIRST,
        owner: { [SHARED]: "o2" },
        peer: { [SHARED]: "o2" },
      },
    ],
  },
  {
    name: "case 3: owner deleted",
    rows: [
      {
        name: "a file the owner wrote: gone from the mirror",
        start: { owner: { [PUB]: "v1" } },
        edits: { owner: { [PUB]: null } },
        rounds: OWNER_FIRST,
        owner: {},
        peer: {},
      },
      {
        name: "a file over the inline limit (a blob): gone from the mirror",
        start: { owner: { [PUB]: BIG1 } },
        edits: { owner: { [PUB]: null } },
        rounds: OWNER_FIRST,
        owner: {},
        peer: {},
      },
      {
        name: "a job the peer submitted: gone from the mirror",
        start: { peer: { [INBOX]: "v1" } },
        edits: { owner: { [INBOX]: null } },
        rounds: OWNER_FIRST,
        owner: {},
        peer: {},
      },
      {
        // permissions.md: a revocation publishes deletions for the files the projection lost.
        name: "gone from the peer by a revocation: gone from the mirror, kept at the owner",
        start: { owner: { [SHARED]: "v1" } },
        edits: { owner: { "shared/syft.pub.yaml": NO_GRANT } },
        rounds: OWNER_FIRST,
        owner: { [SHARED]: "v1" },
        peer: {},
      },
      {
        // §6: more than half of a peer's projection (and more than 10 files) stops publishing.
        name: "most of what the peer sees: the mass-delete stop, the mirror untouched",
        start: { owner: TWELVE },
        edits: { owner: ELEVEN_GONE },
        rounds: OWNER_FIRST,
        owner: { "public/f00.txt": "f0" },
        peer: TWELVE,
      },
    ],
  },
  {
    name: "case 4: peer-side new",
    rows: [
      {
        name: "permitted (the inbox): applied at the owner, kept in the mirror",
        edits: { peer: { [INBOX]: "p1" } },
        rounds: PEER_FIRST,
        owner: { [INBOX]: "p1" },
        peer: { [INBOX]: "p1" },
        rejections: [],
      },
      {
        name: "permitted (a grant): applied at the owner, kept in the mirror",
        edits: { peer: { [SHARED]: "p1" } },
        rounds: PEER_FIRST,
        owner: { [SHARED]: "p1" },
        peer: { [SHARED]: "p1" },
        rejections: [],
      },
      {
        name: "permitted, a file over the inline limit (a blob): applied at the owner",
        edits: { peer: { [SHARED]: BIG1 } },
        rounds: PEER_FIRST,
        owner: { [SHARED]: shown(BIG1) },
        peer: { [SHARED]: shown(BIG1) },
        rejections: [],
      },
      {
        name: "permitted but over the peer's quota: refused for quota, a .rejected copy",
        edits: { peer: { [INBOX]: "more than ten bytes" } },
        quotaBytes: 10,
        rounds: PEER_FIRST,
        owner: {},
        peer: { [`${INBOX}.rejected.*`]: "more than ten bytes" },
        rejections: [[INBOX, "quota"]],
      },
      {
        name: "refused (public/): a .rejected copy, the path gone again from the mirror",
        edits: { peer: { [PUB]: "p1" } },
        rounds: PEER_FIRST,
        owner: {},
        peer: { [`${PUB}.rejected.*`]: "p1" },
        rejections: [[PUB, "permission"]],
      },
      {
        name: "refused locally (private/): never sent, a .rejected copy",
        edits: { peer: { [IN_PRIVATE]: "p1" } },
        rounds: ["peer"],
        owner: {},
        peer: { [`${IN_PRIVATE}.rejected.*`]: "p1" },
      },
      {
        name: "refused where the peer may not even read: a .rejected copy, nothing mirrored",
        edits: { peer: { [HIDDEN]: "p1" } },
        rounds: PEER_FIRST,
        owner: {},
        peer: { [`${HIDDEN}.rejected.*`]: "p1" },
        rejections: [[HIDDEN, "permission"]],
      },
      {
        // permissions.md: a syft.pub.yaml needs admin, which the inbox grant does not give.
        name: "refused, a permission file where the peer may write: needs admin",
        edits: { peer: { [`app_data/job/inbox/${PEER}/job1/syft.pub.yaml`]: "rules: []\n" } },
        rounds: PEER_FIRST,
        owner: {},
        peer: { [`app_data/job/inbox/${PEER}/job1/syft.pub.yaml.rejected.*`]: "rules: []\n" },
        rejections: [[`app_data/job/inbox/${PEER}/job1/syft.pub.yaml`, "permission"]],
      },
      {
        // §8: marker files are never proposed, whoever made them.
        name: "a marker name where the peer may write: never proposed",
        edits: { peer: { "shared/y.txt.rejected.20261205T011502Z": "p1" } },
        rounds: PEER_FIRST,
        owner: {},
        peer: { "shared/y.txt.rejected.*": "p1" },
        rejections: [],
      },
    ],
  },
  {
    name: "case 5: peer-side changed",
    rows: [
      {
        name: "permitted, a file the owner wrote: applied at the owner",
        start: { owner: { [SHARED]: "v1" } },
        edits: { peer: { [SHARED]: "p2" } },
        rounds: PEER_FIRST,
        owner: { [SHARED]: "p2" },
        peer: { [SHARED]: "p2" },
        rejections: [],
      },
      {
        name: "permitted, a job the peer submitted: applied at the owner",
        start: { peer: { [INBOX]: "v1" } },
        edits: { peer: { [INBOX]: "p2" } },
        rounds: PEER_FIRST,
        owner: { [INBOX]: "p2" },
        peer: { [INBOX]: "p2" },
        rejections: [],
      },
      {
        name: "refused: the owner's version back in the mirror, the edit as a .rejected copy",
        start: { owner: { [PUB]: "v1" } },
        edits: { peer: { [PUB]: "p2" } },
        rounds: PEER_FIRST,
        owner: { [PUB]: "v1" },
        peer: { [PUB]: "v1", [`${PUB}.rejected.*`]: "p2" },
        rejections: [[PUB, "permission"]],
      },
      {
        name: "refused, files over the inline limit (blobs): the owner's back, the edit aside",
        start: { owner: { [PUB]: BIG1 } },
        edits: { peer: { [PUB]: BIG2 } },
        rounds: PEER_FIRST,
        owner: { [PUB]: shown(BIG1) },
        peer: { [PUB]: shown(BIG1), [`${PUB}.rejected.*`]: shown(BIG2) },
        rejections: [[PUB, "permission"]],
      },
      {
        // Our own proposal coming back is no change from the owner: the later edit goes on.
        name: "permitted, edited again before the answer: the later edit proposed in turn",
        start: { owner: { [SHARED]: "v1" } },
        edits: { peer: { [SHARED]: "p2" } },
        rounds: ["peer", { peer: { [SHARED]: "p3" } }, "owner", "peer", "owner", "peer"],
        owner: { [SHARED]: "p3" },
        peer: { [SHARED]: "p3" },
        rejections: [],
      },
      {
        // Each proposal expects the one before it, so the owner applies both in order.
        name: "permitted, edited and proposed again before the answer: both applied in turn",
        start: { owner: { [SHARED]: "v1" } },
        edits: { peer: { [SHARED]: "p2" } },
        rounds: ["peer", { peer: { [SHARED]: "p3" } }, "peer", "owner", "peer", "owner", "peer"],
        owner: { [SHARED]: "p3" },
        peer: { [SHARED]: "p3" },
        rejections: [],
      },
      {
        // §8: the later edit was made on top of the refused one and meets the same refusal,
        // so it is the .rejected copy; the refused content it replaced was the user's own
        // earlier draft, replaced by the user.
        name: "refused, edited again before the answer: the later edit kept as .rejected",
        start: { owner: { [PUB]: "v1" } },
        edits: { peer: { [PUB]: "p2" } },
        rounds: ["peer", { peer: { [PUB]: "p3" } }, "owner", "peer"],
        owner: { [PUB]: "v1" },
        peer: { [PUB]: "v1", [`${PUB}.rejected.*`]: "p3" },
        rejections: [[PUB, "permission"]],
      },
    ],
  },
  {
    name: "case 6: peer-side deleted",
    rows: [
      {
        name: "permitted: deleted at the owner",
        start: { owner: { [SHARED]: "v1" } },
        edits: { peer: { [SHARED]: null } },
        rounds: PEER_FIRST,
        owner: {},
        peer: {},
        rejections: [],
      },
      {
        name: "permitted, a job the peer submitted: deleted at the owner",
        start: { peer: { [INBOX]: "v1" } },
        edits: { peer: { [INBOX]: null } },
        rounds: PEER_FIRST,
        owner: {},
        peer: {},
        rejections: [],
      },
      {
        // Silent in the docs: a deletion has no content to keep, so no marker.
        name: "refused: the owner's file comes back to the mirror, no marker",
        start: { owner: { [PUB]: "v1" } },
        edits: { peer: { [PUB]: null } },
        rounds: PEER_FIRST,
        owner: { [PUB]: "v1" },
        peer: { [PUB]: "v1" },
        rejections: [[PUB, "permission"]],
      },
      {
        name: "permitted, and the owner deleted it too: nothing to refuse",
        start: { owner: { [SHARED]: "v1" } },
        edits: { owner: { [SHARED]: null }, peer: { [SHARED]: null } },
        rounds: PEER_FIRST,
        owner: {},
        peer: {},
        rejections: [],
      },
      {
        name: "refused, and the owner deleted it too: changes nothing, no refusal",
        start: { owner: { [PUB]: "v1" } },
        edits: { owner: { [PUB]: null }, peer: { [PUB]: null } },
        rounds: PEER_FIRST,
        owner: {},
        peer: {},
        rejections: [],
      },
      {
        // The mirror is the owner's projection again once settled (issue 16's convergence).
        name: "the whole mirror deleted: no deletion proposed, the mirror refilled",
        start: { owner: { [PUB]: "v1", [INBOX]: "v1" } },
        edits: { peer: { [WHOLE_MIRROR]: null } },
        rounds: PEER_FIRST,
        owner: { [PUB]: "v1", [INBOX]: "v1" },
        peer: { [PUB]: "v1", [INBOX]: "v1" },
        rejections: [],
      },
      {
        name: "the whole mirror deleted, then news from the owner: still nothing deleted there",
        start: { owner: { [PUB]: "v1", [INBOX]: "v1" } },
        edits: { owner: { "public/y.txt": "o1" }, peer: { [WHOLE_MIRROR]: null } },
        rounds: ["peer", "owner", "peer", "owner", "peer"],
        owner: { [PUB]: "v1", [INBOX]: "v1", "public/y.txt": "o1" },
        peer: { [PUB]: "v1", [INBOX]: "v1", "public/y.txt": "o1" },
        rejections: [],
      },
    ],
  },
  {
    name: "case 7: both new at the same path",
    rows: [
      {
        name: "different content, owner first: the owner's in the mirror, the peer's as .conflict",
        edits: { owner: { [SHARED]: "o1" }, peer: { [SHARED]: "p1" } },
        rounds: OWNER_FIRST,
        owner: { [SHARED]: "o1" },
        peer: { [SHARED]: "o1", [`${SHARED}.conflict.*`]: "p1" },
      },
      {
        name: "different content, peer first, permitted: refused as a conflict, .rejected copy",
        edits: { owner: { [SHARED]: "o1" }, peer: { [SHARED]: "p1" } },
        rounds: PEER_FIRST,
        owner: { [SHARED]: "o1" },
        peer: { [SHARED]: "o1", [`${SHARED}.rejected.*`]: "p1" },
        rejections: [[SHARED, "conflict"]],
      },
      {
        name: "different content, peer first, refused: refused for permission, .rejected copy",
        edits: { owner: { [PUB]: "o1" }, peer: { [PUB]: "p1" } },
        rounds: PEER_FIRST,
        owner: { [PUB]: "o1" },
        peer: { [PUB]: "o1", [`${PUB}.rejected.*`]: "p1" },
        rejections: [[PUB, "permission"]],
      },
      {
        name: "same content, owner first: no conflict copy",
        edits: { owner: { [SHARED]: "same" }, peer: { [SHARED]: "same" } },
        rounds: OWNER_FIRST,
        owner: { [SHARED]: "same" },
        peer: { [SHARED]: "same" },
      },
      {
        name: "same content, peer first, permitted: nothing to do, no refusal",
        edits: { owner: { [SHARED]: "same" }, peer: { [SHARED]: "same" } },
        rounds: PEER_FIRST,
        owner: { [SHARED]: "same" },
        peer: { [SHARED]: "same" },
        rejections: [],
      },
      {
        name: "same content, peer first, readable but not writable: changes nothing, no refusal",
        edits: { owner: { [PUB]: "same" }, peer: { [PUB]: "same" } },
        rounds: PEER_FIRST,
        owner: { [PUB]: "same" },
        peer: { [PUB]: "same" },
        rejections: [],
      },
      {
        // The answer must never tell a peer what the owner holds where it may not read (§7).
        name: "same content, peer first, not readable: refused all the same, nothing mirrored",
        edits: { owner: { [HIDDEN]: "same" }, peer: { [HIDDEN]: "same" } },
        rounds: PEER_FIRST,
        owner: { [HIDDEN]: "same" },
        peer: { [`${HIDDEN}.rejected.*`]: "same" },
        rejections: [[HIDDEN, "permission"]],
      },
      {
        name: "different content, peer first, not readable: refused, the owner's never mirrored",
        edits: { owner: { [HIDDEN]: "o1" }, peer: { [HIDDEN]: "p1" } },
        rounds: PEER_FIRST,
        owner: { [HIDDEN]: "o1" },
        peer: { [`${HIDDEN}.rejected.*`]: "p1" },
        rejections: [[HIDDEN, "permission"]],
      },
      {
        name: "different content, owner first, not readable: the owner's never mirrored, " +
          "the peer's refused",
        edits: { owner: { [HIDDEN]: "o1" }, peer: { [HIDDEN]: "p1" } },
        rounds: ["owner", ...PEER_FIRST],
        owner: { [HIDDEN]: "o1" },
        peer: { [`${HIDDEN}.rejected.*`]: "p1" },
        rejections: [[HIDDEN, "permission"]],
      },
    ],
  },
  {
    name: "case 8: both changed",
    rows: [
      {
        name: "owner first: the owner's in the mirror, the peer's as .conflict",
        start: { owner: { [SHARED]: "v1" } },
        edits: { owner: { [SHARED]: "o2" }, peer: { [SHARED]: "p2" } },
        rounds: OWNER_FIRST,
        owner: { [SHARED]: "o2" },
        peer: { [SHARED]: "o2", [`${SHARED}.conflict.*`]: "p2" },
      },
      {
        name: "owner first, files over the inline limit (blobs): the peer's as .conflict",
        start: { owner: { [SHARED]: "v1" } },
        edits: { owner: { [SHARED]: BIG1 }, peer: { [SHARED]: BIG2 } },
        rounds: OWNER_FIRST,
        owner: { [SHARED]: shown(BIG1) },
        peer: { [SHARED]: shown(BIG1), [`${SHARED}.conflict.*`]: shown(BIG2) },
      },
      {
        name: "peer first, permitted: refused as a conflict, the owner's edit kept",
        start: { owner: { [SHARED]: "v1" } },
        edits: { owner: { [SHARED]: "o2" }, peer: { [SHARED]: "p2" } },
        rounds: PEER_FIRST,
        owner: { [SHARED]: "o2" },
        peer: { [SHARED]: "o2", [`${SHARED}.rejected.*`]: "p2" },
        rejections: [[SHARED, "conflict"]],
      },
      {
        name: "peer first, refused: refused for permission, the owner's edit kept",
        start: { owner: { [PUB]: "v1" } },
        edits: { owner: { [PUB]: "o2" }, peer: { [PUB]: "p2" } },
        rounds: PEER_FIRST,
        owner: { [PUB]: "o2" },
        peer: { [PUB]: "o2", [`${PUB}.rejected.*`]: "p2" },
        rejections: [[PUB, "permission"]],
      },
      {
        name: "peer first, a job the peer submitted, permitted: refused as a conflict",
        start: { peer: { [INBOX]: "v1" } },
        edits: { owner: { [INBOX]: "o2" }, peer: { [INBOX]: "p2" } },
        rounds: PEER_FIRST,
        owner: { [INBOX]: "o2" },
        peer: { [INBOX]: "o2", [`${INBOX}.rejected.*`]: "p2" },
        rejections: [[INBOX, "conflict"]],
      },
      {
        name: "to the same content, owner first: no conflict copy",
        start: { owner: { [SHARED]: "v1" } },
        edits: { owner: { [SHARED]: "same" }, peer: { [SHARED]: "same" } },
        rounds: OWNER_FIRST,
        owner: { [SHARED]: "same" },
        peer: { [SHARED]: "same" },
      },
      {
        name: "to the same content, peer first, permitted: nothing to do, no refusal",
        start: { owner: { [SHARED]: "v1" } },
        edits: { owner: { [SHARED]: "same" }, peer: { [SHARED]: "same" } },
        rounds: PEER_FIRST,
        owner: { [SHARED]: "same" },
        peer: { [SHARED]: "same" },
        rejections: [],
      },
      {
        // §8: identical content is never a conflict, even when the owner has moved on since.
        name: "to what the owner published, then the owner moved on: no conflict copy",
        start: { owner: { [SHARED]: "v1" } },
        edits: { owner: { [SHARED]: "o2" }, peer: { [SHARED]: "o2" } },
        rounds: ["owner", { owner: { [SHARED]: "o3" } }, "owner", "peer"],
        owner: { [SHARED]: "o3" },
        peer: { [SHARED]: "o3" },
      },
    ],
  },
  {
    name: "case 9: owner changed, peer deleted",
    rows: [
      {
        // Silent in the docs: the deletion has nothing to keep; the edit wins.
        name: "owner first: the owner's edit back in the mirror, no marker",
        start: { owner: { [SHARED]: "v1" } },
        edits: { owner: { [SHARED]: "o2" }, peer: { [SHARED]: null } },
        rounds: OWNER_FIRST,
        owner: { [SHARED]: "o2" },
        peer: { [SHARED]: "o2" },
      },
      {
        name: "peer first, permitted: the deletion refused as a conflict, the edit kept",
        start: { owner: { [SHARED]: "v1" } },
        edits: { owner: { [SHARED]: "o2" }, peer: { [SHARED]: null } },
        rounds: PEER_FIRST,
        owner: { [SHARED]: "o2" },
        peer: { [SHARED]: "o2" },
        rejections: [[SHARED, "conflict"]],
      },
      {
        name: "peer first, refused: the deletion refused for permission, the edit kept",
        start: { owner: { [PUB]: "v1" } },
        edits: { owner: { [PUB]: "o2" }, peer: { [PUB]: null } },
        rounds: PEER_FIRST,
        owner: { [PUB]: "o2" },
        peer: { [PUB]: "o2" },
        rejections: [[PUB, "permission"]],
      },
    ],
  },
  {
    name: "case 10: owner deleted, peer changed",
    rows: [
      {
        name: "owner first: gone from the mirror, the peer's edit as .conflict",
        start: { owner: { [SHARED]: "v1" } },
        edits: { owner: { [SHARED]: null }, peer: { [SHARED]: "p2" } },
        rounds: OWNER_FIRST,
        owner: {},
        peer: { [`${SHARED}.conflict.*`]: "p2" },
      },
      {
        name: "peer first, permitted: refused as a conflict, the edit as .rejected",
        start: { owner: { [SHARED]: "v1" } },
        edits: { owner: { [SHARED]: null }, peer: { [SHARED]: "p2" } },
        rounds: PEER_FIRST,
        owner: {},
        peer: { [`${SHARED}.rejected.*`]: "p2" },
        rejections: [[SHARED, "conflict"]],
      },
      {
        name: "peer first, refused: refused for permission, the edit as .rejected",
        start: { owner: { [PUB]: "v1" } },
        edits: { owner: { [PUB]: null }, peer: { [PUB]: "p2" } },
        rounds: PEER_FIRST,
        owner: {},
        peer: { [`${PUB}.rejected.*`]: "p2" },
        rejections: [[PUB, "permission"]],
      },
      {
        name: "revoked, owner first: gone from the mirror, the peer's edit as .conflict",
        start: { owner: { [SHARED]: "v1" } },
        edits: { owner: { "shared/syft.pub.yaml": NO_GRANT }, peer: { [SHARED]: "p2" } },
        rounds: OWNER_FIRST,
        owner: { [SHARED]: "v1" },
        peer: { [`${SHARED}.conflict.*`]: "p2" },
      },
      {
        name: "revoked, peer first: refused for permission, the edit as .rejected",
        start: { owner: { [SHARED]: "v1" } },
        edits: { owner: { "shared/syft.pub.yaml": NO_GRANT }, peer: { [SHARED]: "p2" } },
        rounds: PEER_FIRST,
        owner: { [SHARED]: "v1" },
        peer: { [`${SHARED}.rejected.*`]: "p2" },
        rejections: [[SHARED, "permission"]],
      },
    ],
  },
];

/** Two peers, `shared/` granted to the peer, the start state written and settled. */
async function startWorld(
  row: Row,
): Promise<{ world: MemoryWorld; owner: MemorySite; peer: MemorySite }> {
  const world = new MemoryWorld();
  const owner = await world.site(OWNER);
  const peer = await world.site(PEER);
  owner.writeOwn("shared/syft.pub.yaml", SHARED_GRANT);
  await world.connect(peer, owner);
  for (const [path, text] of Object.entries(row.start?.owner ?? {})) owner.writeOwn(path, text);
  for (const [path, text] of Object.entries(row.start?.peer ?? {})) {
    peer.write(`${OWNER}/${path}`, text);
  }
  await world.settle();
  return { world, owner, peer };
}

function edit(site: MemorySite, prefix: string, edits: Edits | undefined): void {
  for (const [path, text] of Object.entries(edits ?? {})) {
    if (text === null) {
      site.remove(path === WHOLE_MIRROR ? prefix.slice(0, -1) : `${prefix}${path}`);
    } else site.write(`${prefix}${path}`, text);
  }
}

async function runRow(row: Row): Promise<void> {
  const { world, owner, peer } = await startWorld(row);
  if (row.quotaBytes !== undefined) owner.ctx.quotaBytes = row.quotaBytes;
  const judgedBefore = owner.rounds.length;
  const toldBefore = peer.rounds.length;
  const between = (edits: Between) => {
    edit(owner, `${OWNER}/`, edits.owner);
    edit(peer, `${OWNER}/`, edits.peer);
  };
  between(row.edits);
  for (const step of row.rounds) {
    if (typeof step === "object") {
      between(step);
      continue;
    }
    world.clock.advance(1000);
    await (step === "owner" ? owner : peer).sync();
  }
  const outcome = () => ({ owner: goldenTree(owner, OWNER), peer: goldenTree(peer, OWNER) });
  assertEquals(outcome(), { owner: row.owner, peer: row.peer }, "after the rounds");
  if (row.rejections) {
    const judged = owner.rounds.slice(judgedBefore).flatMap((r) => r.rejections);
    assertEquals(judged.map((r) => [r.path, r.reason]), row.rejections, "the owner's refusals");
    // sync.md: the proposer is told each refusal, with the owner's reason.
    const told = peer.rounds.slice(toldBefore).flatMap((r) => r.refused);
    if (row.untold === undefined || RUN_IGNORED) {
      assertEquals(told.map((r) => [r.path, r.reason]), row.rejections, "what the peer was told");
    }
  }
  await world.settle();
  assertEquals(outcome(), { owner: row.owner, peer: row.peer }, "after settling");
}

for (const c of CASES) {
  Deno.test(c.name, async (t) => {
    for (const row of c.rows) {
      await t.step({
        name: row.name,
        ignore: row.ignore !== undefined && !RUN_IGNORED,
        fn: () => runRow(row),
      });
    }
  });
}
