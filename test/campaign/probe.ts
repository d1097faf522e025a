// Campaign probes: raw ways to talk to a running funcd over mutual TLS (a whole request with exact bytes,
// a header trickled a byte at a time, idle connections), each reduced to a Reply the cases can judge.

import { connect, type TLSSocket } from "node:tls";
import { setTimeout as sleep } from "node:timers/promises";
import { XmlRpcFault, decodeResponse } from "@func/shared";

export interface Target {
  name: string;
  address: string;
  port: number;
}

/** A TLS client identity (PEM). Without key/cert the handshake is expected to fail. */
export interface Identity {
  key?: string;
  cert?: string;
  ca: string;
}

/** What came back: a value, a fault, a bare HTTP status, or the connection closed without an answer. */
export type Reply =
  | { kind: "ok"; value: unknown }
  | { kind: "fault"; code: number; text: string }
  | { kind: "http"; status: number }
  | { kind: "closed"; detail: string };

/** Whether the attempt got past TLS (only such attempts can be audited by the minion). */
export function pastTls(r: Reply): boolean {
  return !(r.kind === "closed" && r.detail.startsWith("TLS:"));
}

/** Time any single probe may take before it counts as a hang, ms. */
export const PROBE_TIMEOUT_MS = 20_000;

export function tlsConnect(t: Target, id: Identity): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = connect({
      host: t.address,
      port: t.port,
      servername: t.name,
      ca: id.ca,
      ...(id.key && id.cert ? { key: id.key, cert: id.cert } : {}),
      minVersion: "TLSv1.2",
    });
    const fail = (err: Error) => {
      socket.destroy();
      reject(err);
    };
    socket.once("secureConnect", () => {
      socket.off("error", fail);
      resolve(socket);
    });
    socket.once("error", fail);
    socket.setTimeout(PROBE_TIMEOUT_MS, () => fail(new Error("TLS handshake timed out")));
  });
}

/** Reads one HTTP/1.1 response off a socket (Content-Length framing, as funcd always sends). */
function readResponse(socket: TLSSocket): Promise<{ status: number; body: Buffer } | { closed: string }> {
  return new Promise((resolve) => {
    let buf = Buffer.alloc(0);
    let done = false;
    const finish = (r: { status: number; body: Buffer } | { closed: string }) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(r);
    };
    const timer = setTimeout(() => finish({ closed: "no answer within the probe timeout" }), PROBE_TIMEOUT_MS);
    const tryParse = () => {
      const end = buf.indexOf("\r\n\r\n");
      if (end === -1) return;
      const head = buf.subarray(0, end).toString("latin1");
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0);
      const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
      if (buf.length >= end + 4 + length) finish({ status, body: buf.subarray(end + 4, end + 4 + length) });
    };
    socket.on("data", (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      tryParse();
    });
    socket.on("end", () => finish({ closed: buf.length ? "partial answer" : "closed by the minion" }));
    socket.on("close", () => finish({ closed: buf.length ? "partial answer" : "closed by the minion" }));
    socket.on("error", (err) => finish({ closed: `${(err as NodeJS.ErrnoException).code ?? err.message}` }));
  });
}

async function toReply(r: { status: number; body: Buffer } | { closed: string }): Promise<Reply> {
  if ("closed" in r) return { kind: "closed", detail: r.closed };
  if (r.status !== 200) return { kind: "http", status: r.status };
  try {
    return { kind: "ok", value: await decodeResponse(r.body, { bytesAsText: true }) };
  } catch (err) {
    if (err instanceof XmlRpcFault) return { kind: "fault", code: err.faultCode, text: err.faultString };
    return { kind: "closed", detail: `unreadable answer: ${(err as Error).message}` };
  }
}

export interface RawRequest {
  body: string | Buffer;
  method?: string;
  path?: string;
  /** extra header lines; Content-Length is added unless `chunked` or `contentLength: null` */
  headers?: Record<string, string>;
  /** send the body with Transfer-Encoding: chunked (no declared length) */
  chunked?: boolean;
  /** override the declared Content-Length (null: send none) */
  contentLength?: number | null;
}

/**
 * Sends one request with exactly these bytes on a fresh connection and reads the answer. A minion that
 * answers early (413) and closes while we still write is a "http" reply, not an error.
 */
export async function rawCall(t: Target, id: Identity, req: RawRequest): Promise<Reply> {
  let socket: TLSSocket;
  try {
    socket = await tlsConnect(t, id);
  } catch (err) {
    return { kind: "closed", detail: `TLS: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` };
  }
  try {
    const body = typeof req.body === "string" ? Buffer.from(req.body, "utf8") : req.body;
    const lines = [`${req.method ?? "POST"} ${req.path ?? "/"} HTTP/1.1`, `Host: ${t.name}`, "Content-Type: text/xml"];
    for (const [k, v] of Object.entries(req.headers ?? {})) lines.push(`${k}: ${v}`);
    if (req.chunked) lines.push("Transfer-Encoding: chunked");
    else if (req.contentLength !== null) lines.push(`Content-Length: ${req.contentLength ?? body.length}`);
    const answer = readResponse(socket);
    socket.on("error", () => {});
    socket.write(lines.join("\r\n") + "\r\n\r\n");
    if (req.chunked) {
      const CHUNK = 64 * 1024;
      for (let i = 0; i < body.length && socket.writable; i += CHUNK) {
        const part = body.subarray(i, i + CHUNK);
        socket.write(`${part.length.toString(16)}\r\n`);
        socket.write(part);
        socket.write("\r\n");
      }
      if (socket.writable) socket.write("0\r\n\r\n");
    } else if (body.length > 0) {
      socket.write(body);
    }
    return await toReply(await answer);
  } finally {
    socket.destroy();
  }
}

/**
 * Trickles a request's header one byte every `intervalMs` (slowloris) until the minion closes the
 * connection or `maxMs` passes; returns how long the minion let it hang on and what it answered.
 */
export async function trickleHeaders(t: Target, id: Identity, intervalMs: number, maxMs: number): Promise<{ closedAfterMs: number | null; reply: Reply }> {
  const socket = await tlsConnect(t, id);
  const started = performance.now();
  const answer = readResponse(socket);
  let closedAt: number | null = null;
  socket.once("close", () => (closedAt = performance.now() - started));
  socket.on("error", () => {});
  const header = `POST / HTTP/1.1\r\nHost: ${t.name}\r\nContent-Type: text/xml\r\nX-Slow: ${"a".repeat(4096)}\r\n`;
  for (let i = 0; closedAt === null && performance.now() - started < maxMs; i = (i + 1) % header.length) {
    if (socket.writable) socket.write(header[i]!);
    await sleep(intervalMs);
  }
  socket.destroy();
  const reply = closedAt === null ? ({ kind: "closed", detail: "still open: the minion never cut it" } as Reply) : await toReply(await answer);
  return { closedAfterMs: closedAt, reply };
}

/** Opens `count` TLS connections that never send a byte; each settles when the minion closes it. */
export interface IdleConnections {
  /** sockets whose TLS handshake completed */
  opened: number;
  /** sockets refused or reset before or during the handshake (closed at accept by the connection cap) */
  refused: number;
  /** how many of the opened ones the minion has closed so far */
  closed(): number;
  /** resolves when every opened socket is closed, or after `maxMs` with the number still open */
  waitAllClosed(maxMs: number): Promise<number>;
  destroy(): void;
}

export async function openIdle(t: Target, id: Identity, count: number): Promise<IdleConnections> {
  const settled = await Promise.allSettled(Array.from({ length: count }, () => tlsConnect(t, id)));
  const sockets = settled.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
  let closed = 0;
  const waiters: (() => void)[] = [];
  for (const s of sockets) {
    s.on("error", () => {});
    s.resume(); // read (and drop) whatever comes, so the minion's close is seen

    s.once("close", () => {
      closed++;
      if (closed === sockets.length) waiters.splice(0).forEach((w) => w());
    });
  }
  return {
    opened: sockets.length,
    refused: count - sockets.length,
    closed: () => closed,
    async waitAllClosed(maxMs) {
      if (closed < sockets.length) {
        await Promise.race([new Promise<void>((r) => waiters.push(r)), sleep(maxMs)]);
      }
      return sockets.length - closed;
    },
    destroy: () => sockets.forEach((s) => s.destroy()),
  };
}
