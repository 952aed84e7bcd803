/**
 * A Transport wrapper that forwards every call to a real transport and records
 * it, so the call-count test and `deno task bench` (P3) can see what a sync
 * round costs on the wire without a fake that could drift from the plugin.
 * @module
 */
import type {
  ChangesOptions,
  ChangesResult,
  ChannelRef,
  ListOptions,
  ListPage,
  ObjectBody,
  Transport,
  TransportCapabilities,
  WhoAmI,
} from "../core/transport/contract.ts";

/** One call on the transport, as the counter saw it. */
export interface Call {
  method: keyof Transport;
  /** The object name for put/get/delete, the prefix for list. */
  detail?: string;
}

/** A Transport that forwards to the real one and records every call. */
export class CountingTransport implements Transport {
  calls: Call[] = [];
  constructor(readonly inner: Transport) {}
  /** The calls recorded so far; starts a new count. */
  reset(): Call[] {
    const before = this.calls;
    this.calls = [];
    return before;
  }
  capabilities(): Promise<TransportCapabilities> {
    this.calls.push({ method: "capabilities" });
    return this.inner.capabilities();
  }
  whoami(): Promise<WhoAmI> {
    this.calls.push({ method: "whoami" });
    return this.inner.whoami();
  }
  openChannel(to: string): Promise<ChannelRef> {
    this.calls.push({ method: "openChannel", detail: to });
    return this.inner.openChannel(to);
  }
  listIncoming(): Promise<ChannelRef[]> {
    this.calls.push({ method: "listIncoming" });
    return this.inner.listIncoming();
  }
  put(channel: ChannelRef, name: string, body: ObjectBody): Promise<void> {
    this.calls.push({ method: "put", detail: name });
    return this.inner.put(channel, name, body);
  }
  list(channel: ChannelRef, options?: ListOptions): Promise<ListPage> {
    this.calls.push({ method: "list", detail: options?.prefix ?? "" });
    return this.inner.list(channel, options);
  }
  get(channel: ChannelRef, name: string): Promise<ReadableStream<Uint8Array>> {
    this.calls.push({ method: "get", detail: name });
    return this.inner.get(channel, name);
  }
  delete(channel: ChannelRef, name: string): Promise<void> {
    this.calls.push({ method: "delete", detail: name });
    return this.inner.delete(channel, name);
  }
  changes(cursor: string | null, options?: ChangesOptions): Promise<ChangesResult> {
    this.calls.push({ method: "changes" });
    return this.inner.changes(cursor, options);
  }
  close(): Promise<void> {
    // Not counted: closing is the caller's doing, not the round's.
    return this.inner.close();
  }
}

/** Calls as one readable line, e.g. `changes, list(b-), get(b-0001.syft)`. */
export function summarizeCalls(calls: Call[]): string {
  return calls.map((c) => c.detail === undefined ? c.method : `${c.method}(${c.detail})`).join(
    ", ",
  );
}
