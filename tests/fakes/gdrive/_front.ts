/**
 * A TCP front for the fake's HTTP server, so a fault can cut a connection the
 * way a network does: no status line, no body, just a closed socket.
 * `Deno.serve` itself always answers, so every client connection is piped to
 * its own backend connection, and the handler names the connection to cut by
 * the backend connection's port (its `info.remoteAddr.port`).
 * @module
 */

interface Pair {
  client: Deno.TcpConn;
  backend: Deno.TcpConn;
  /** Bytes passed from the backend to the client so far. */
  toClient: number;
  closed: boolean;
}

/** The running front. */
export interface Front {
  readonly port: number;
  /** Cut the client connection that carries requests from backend port `key`. */
  drop(key: number): void;
  /** Bytes forwarded so far to the client behind backend port `key`. */
  forwarded(key: number): number;
  close(): Promise<void>;
}

const CHUNK = 256 * 1024;

function shut(pair: Pair): void {
  if (pair.closed) return;
  pair.closed = true;
  for (const conn of [pair.client, pair.backend]) {
    try {
      conn.close();
    } catch { /* already closed by the peer */ }
  }
}

async function pump(
  from: Deno.TcpConn,
  to: Deno.TcpConn,
  pair: Pair,
  count: boolean,
): Promise<void> {
  const buf = new Uint8Array(CHUNK);
  try {
    for (;;) {
      const n = await from.read(buf);
      if (n === null) {
        if (count) shut(pair); // the backend is done with this connection
        else await to.closeWrite();
        return;
      }
      let off = 0;
      while (off < n) off += await to.write(buf.subarray(off, n));
      if (count) pair.toClient += n;
    }
  } catch {
    shut(pair);
  }
}

/** Listen on `hostname:port` and pipe each connection to `backendPort`. */
export function startFront(hostname: string, port: number, backendPort: number): Front {
  const listener = Deno.listen({ hostname, port, transport: "tcp" });
  const pairs = new Map<number, Pair>();
  const tasks = new Set<Promise<void>>();
  const track = (p: Promise<void>) => {
    tasks.add(p);
    p.finally(() => tasks.delete(p));
  };

  const serve = async (client: Deno.TcpConn) => {
    let backend: Deno.TcpConn;
    try {
      backend = await Deno.connect({ hostname: "127.0.0.1", port: backendPort });
    } catch {
      client.close();
      return;
    }
    const pair: Pair = { client, backend, toClient: 0, closed: false };
    const key = backend.localAddr.port;
    pairs.set(key, pair);
    await Promise.all([pump(client, backend, pair, false), pump(backend, client, pair, true)]);
    shut(pair);
    pairs.delete(key);
  };

  track((async () => {
    try {
      for await (const conn of listener) track(serve(conn));
    } catch { /* listener closed */ }
  })());

  return {
    port: (listener.addr as Deno.NetAddr).port,
    drop(key) {
      const pair = pairs.get(key);
      if (pair) shut(pair);
    },
    forwarded: (key) => pairs.get(key)?.toClient ?? 0,
    async close() {
      listener.close();
      for (const pair of pairs.values()) shut(pair);
      while (tasks.size > 0) await Promise.allSettled([...tasks]);
    },
  };
}
