// Per-source connection caps for our TLS servers, applied at accept, before any TLS work: one address (a
// stranger with no cert) can hold at most `perSource` sockets, so it cannot take every slot of the server's
// max_connections and starve everyone else (minions fetching the CRL, the overlord calling).

import type { Server, Socket } from "node:net";

export interface SourceCapOptions {
  /** sockets one source address may hold open at once; more are closed as they arrive */
  perSource: number;
  /** called for each refused socket, with its source address (the caller rate-limits its log line) */
  onRefused?: (source: string) => void;
}

export interface SourceCaps {
  /** sockets open now from `source` */
  count(source: string): number;
}

/** The source address without the IPv4-mapped IPv6 prefix (::ffff:10.0.0.1 is 10.0.0.1). */
export function sourceAddress(socket: Socket): string {
  return (socket.remoteAddress ?? "?").replace(/^::ffff:/, "");
}

/** Caps open sockets per source address on `server` (a net, tls or https server: its raw "connection" event). */
export function capConnectionsPerSource(server: Server, opts: SourceCapOptions): SourceCaps {
  const open = new Map<string, number>();
  server.on("connection", (socket: Socket) => {
    const source = sourceAddress(socket);
    const n = open.get(source) ?? 0;
    if (n >= opts.perSource) {
      socket.destroy();
      opts.onRefused?.(source);
      return;
    }
    open.set(source, n + 1);
    socket.once("close", () => {
      const left = (open.get(source) ?? 1) - 1;
      if (left <= 0) open.delete(source);
      else open.set(source, left);
    });
  });
  return { count: (source) => open.get(source) ?? 0 };
}
