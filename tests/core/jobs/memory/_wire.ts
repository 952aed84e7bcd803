/**
 * What one site put on the transport to one peer, opened with the peer's keys:
 * the memory job tests check an unreleased job's outputs never left the owner
 * by reading every object the owner wrote to the submitter, not by trusting
 * the engine's own bookkeeping.
 * @module
 */
import { unpackBody } from "../../../../core/events/body.ts";
import { openEnvelope } from "../../../../core/events/envelope.ts";
import type { MemorySite } from "../../../../core/testing/world.ts";
import type { ChannelRef, ObjectBody, Transport } from "../../../../core/transport/contract.ts";

/** One object put, bytes whole. */
interface Put {
  channel: ChannelRef;
  name: string;
  bytes: Uint8Array;
}

/** Records every object `site` puts from now on (its engine's transport is wrapped). */
export class WireTap {
  readonly puts: Put[] = [];

  constructor(readonly site: MemorySite) {
    const inner = site.ctx.transport;
    const puts = this.puts;
    site.ctx.transport = new Proxy(inner, {
      get(target, prop) {
        if (prop === "put") {
          return async (channel: ChannelRef, name: string, body: ObjectBody) => {
            const bytes = body instanceof Uint8Array
              ? body
              : new Uint8Array(await new Response(body).arrayBuffer());
            puts.push({ channel, name, bytes });
            return await target.put(channel, name, bytes);
          };
        }
        const value = Reflect.get(target, prop, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    }) as Transport;
  }

  /**
   * The plaintext of every object put to `to`, as `to` opens it: a batch's or
   * checkpoint's JSON and each inline content, a blob's bytes, as text.
   */
  async plaintexts(to: MemorySite): Promise<string[]> {
    const out: string[] = [];
    const text = (b: Uint8Array) => new TextDecoder().decode(b);
    for (const put of this.puts.filter((p) => p.channel.recipient === to.me)) {
      const opened = await openEnvelope(
        new Blob([put.bytes as Uint8Array<ArrayBuffer>]).stream(),
        { name: put.name, sender: this.site.me, recipient: to.me },
        {
          senderSignPublic: this.site.keys.sign.publicKey,
          agreePrivate: to.keys.agree.privateKey,
          senderAgreePublic: this.site.keys.agree.publicKey,
        },
      );
      if (put.name.startsWith("x-")) {
        out.push(text(new Uint8Array(await new Response(opened.body).arrayBuffer())));
        continue;
      }
      const first = put.name.startsWith("b-") ? "batch.json" : "checkpoint.json";
      const json = await unpackBody(opened.body, {
        first,
        onContent: (_hash, bytes) => {
          out.push(text(bytes));
          return Promise.resolve();
        },
      });
      out.push(text(json));
    }
    return out;
  }
}
