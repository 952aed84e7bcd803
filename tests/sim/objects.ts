/**
 * What the storage of a simulation holds, opened with the keys of both ends
 * (the simulation has every key): each object must verify for its recipient
 * (invariant e), and every path a batch or checkpoint publishes must have
 * been readable by the recipient (invariant d). Each stored object is opened
 * once, however often it is looked at.
 * @module
 */
import { openEnvelope } from "../../core/events/envelope.ts";
import { unpackBody } from "../../core/events/body.ts";
import type { IdentityKeys } from "../../core/identity/keys.ts";
import type { MemoryStorage } from "../../core/testing/memory_transport.ts";

/** One object's problem: which invariant, and what. */
export interface ObjectProblem {
  invariant: "d" | "e";
  detail: string;
}

interface Published {
  datasite?: unknown;
  path?: unknown;
  deleted?: unknown;
  new_hash?: unknown;
}

/** Checks a storage's new objects against who may read what. */
export class ObjectChecker {
  readonly #seen = new WeakSet<Uint8Array>();
  /** Objects opened so far. */
  opened = 0;

  constructor(
    readonly storage: MemoryStorage,
    readonly keys: ReadonlyMap<string, IdentityKeys>,
    /**
     * Whether `peer` may be told of `path` of `owner`'s datasite: its content
     * (`deleted` false, `hash` its SHA-256) when the path was ever readable
     * by the peer or the peer itself held that content there; its deletion
     * also when the peer itself proposed the path (a refused proposal's
     * mirror is put back).
     */
    readonly mayBeTold: (
      owner: string,
      peer: string,
      path: string,
      deleted: boolean,
      hash: string,
    ) => boolean,
  ) {}

  /**
   * Take every object the storage holds now as looked at: a copy of a
   * storage another checker checked (`opened` of them were opened then).
   */
  checkedBefore(opened: number): void {
    for (const stored of this.storage.channels.values()) {
      for (const bytes of stored.objects.values()) this.#seen.add(bytes);
    }
    this.opened = opened;
  }

  /** The first problem among the objects not looked at before, or null. */
  async check(): Promise<ObjectProblem | null> {
    for (const stored of this.storage.channels.values()) {
      const { sender, recipient } = stored.ref;
      for (const [name, bytes] of stored.objects) {
        if (this.#seen.has(bytes)) continue;
        this.#seen.add(bytes);
        if (!name.endsWith(".syft")) continue; // hello.json: signed, not sealed
        this.opened++;
        const problem = await this.#open(sender, recipient, name, bytes);
        if (problem) return problem;
      }
    }
    return null;
  }

  async #open(
    sender: string,
    recipient: string,
    name: string,
    bytes: Uint8Array,
  ): Promise<ObjectProblem | null> {
    const from = this.keys.get(sender)!;
    const to = this.keys.get(recipient)!;
    const where = `${name} from ${sender} to ${recipient}`;
    let events: Published[];
    try {
      const { body } = await openEnvelope(streamOf(bytes), { name, sender, recipient }, {
        senderSignPublic: from.sign.publicKey,
        agreePrivate: to.agree.privateKey,
        senderAgreePublic: from.agree.publicKey,
      });
      if (name.startsWith("x-")) {
        await new Response(body).arrayBuffer();
        return null;
      }
      const first = name.startsWith("b-") ? "batch.json" : "checkpoint.json";
      const json = await unpackBody(body, { first, onContent: () => Promise.resolve() });
      events = (JSON.parse(new TextDecoder().decode(json)) as { events: Published[] }).events;
    } catch (err) {
      return { invariant: "e", detail: `${where} does not open: ${String(err)}` };
    }
    for (const ev of events) {
      if (ev.datasite === recipient) continue; // a proposal to the recipient's own datasite
      if (ev.datasite !== sender) {
        return { invariant: "d", detail: `${where} names datasite ${String(ev.datasite)}` };
      }
      const told = this.mayBeTold(
        sender,
        recipient,
        String(ev.path),
        ev.deleted === true,
        String(ev.new_hash),
      );
      if (!told) {
        const what = ev.deleted === true ? "the deletion of" : "";
        return {
          invariant: "d",
          detail: `${where} carries ${what} ${String(ev.path)}, never readable by ${recipient}`,
        };
      }
    }
    return null;
  }
}

function streamOf(bytes: Uint8Array): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      controller.enqueue(bytes.slice());
      controller.close();
    },
  });
}
