// One XML-RPC call to one minion over mutual TLS, turned into a HostResult. A bucket builds one
// MinionTransport: one TLS secure context and one keep-alive agent for all its calls, and (optionally) a
// session cache that new connections resume from and that records each minion's newest session ticket.

import { Agent, request, type RequestOptions } from "node:https";
import { isIP } from "node:net";
import { createSecureContext, type SecureContext, type TLSSocket } from "node:tls";
import {
  FAULT,
  XmlRpcFault,
  decodeResponse,
  encodeCall,
  parseFaultString,
  type HostResult,
  type TlsMaterial,
  type WireValue,
} from "@func/shared";
import type { MinionAddress } from "./universe.js";
import { sessionKey, type SessionCache } from "./tls-sessions.js";

/** Largest response accepted from a minion (bytes): bigger is refused rather than buffered. */
export const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

/** Answers up to this size are remembered decoded: a fan-out's hosts mostly send the very same bytes. */
const DECODED_CACHE_MAX_BYTES = 2048;
/** How many distinct such answers one transport remembers. */
const DECODED_CACHE_ENTRIES = 64;

/** Limits for decoding answers: minions are authenticated, so only memory-safety bounds apply. */
const RESPONSE_LIMITS = { maxBodyBytes: MAX_RESPONSE_BYTES, maxDepth: 256, maxElements: 10_000_000 };

export interface CallOptions {
  timeoutMs: number;
  headers?: Record<string, string>;
}

const UNREACHABLE_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EPIPE",
  "ETIMEDOUT",
  "EADDRNOTAVAIL",
]);

export class MinionTransport {
  readonly #context: SecureContext;
  readonly #agent: Agent;
  readonly #sessions: SessionCache | undefined;
  readonly #decoded = new Map<string, WireValue>();

  /**
   * `keepAlive` (default true) keeps connections open for the next call; a one-shot fan-out turns it off, so
   * each connection closes after its answer instead of 1000 idle sockets piling up until the end.
   */
  constructor(identity: TlsMaterial, opts: { maxSockets?: number; sessions?: SessionCache; keepAlive?: boolean } = {}) {
    this.#sessions = opts.sessions;
    this.#context = createSecureContext({
      key: identity.key,
      cert: identity.cert,
      ca: identity.ca,
      ...(identity.crl ? { crl: identity.crl } : {}),
      minVersion: "TLSv1.2",
    });
    this.#agent = new Agent({ keepAlive: opts.keepAlive ?? true, maxSockets: opts.maxSockets ?? Infinity, scheduling: "lifo" });
  }

  /** Calls `method` on one minion; never throws: every failure is an outcome. */
  async call(minion: MinionAddress, method: string, params: readonly unknown[], opts: CallOptions): Promise<HostResult> {
    const request = encodeRequest(method, params);
    return "body" in request ? this.send(minion, request.body, opts) : request.failed;
  }

  /** Posts a request body made by encodeRequest (a fan-out encodes once for all its hosts); never throws. */
  async send(minion: MinionAddress, body: string, opts: CallOptions): Promise<HostResult> {
    const started = performance.now();
    const ms = () => Math.round((performance.now() - started) * 10) / 10;
    let connected = false;
    const key = this.#sessions ? sessionKey(minion) : "";
    const session = this.#sessions?.get(key);
    /**
     * One request. `fresh` makes a new connection outside the pool. An error on a kept-alive connection before
     * any answer is marked `stale`: the minion closed it as idle just as the request went out (its
     * keep-alive timeout), so it never read the request.
     */
    const attempt = (fresh: boolean, timeoutMs: number) =>
      new Promise<Buffer>((resolveBody, rejectBody) => {
        let answered = false;
        const options: RequestOptions & { secureContext: SecureContext; session?: Buffer } = {
          host: minion.host,
          port: minion.port,
          method: "POST",
          path: "/",
          agent: fresh ? false : this.#agent,
          secureContext: this.#context,
          // only when there is one: an explicit `undefined` would also hide the agent's own cached session
          ...(session ? { session } : {}),
          // the minion's cert must name the minion we meant to reach, whatever address it answered on
          ...(isIP(minion.name) ? {} : { servername: minion.name }),
          headers: {
            "Content-Type": "text/xml",
            "Content-Length": Buffer.byteLength(body),
            ...opts.headers,
          },
        };
        const req = request(options);
        // a plain timer, cleared when the call settles: AbortSignal.timeout would leave a timer and a weak
        // reference alive for the whole timeout after each call, which a busy overlord pays for in GC
        const timer = setTimeout(
          () => req.destroy(Object.assign(new Error(`no answer within ${opts.timeoutMs} ms`), { name: "TimeoutError" })),
          timeoutMs,
        );
        const resolve = (xml: Buffer) => {
          clearTimeout(timer);
          resolveBody(xml);
        };
        const reject = (err: unknown) => {
          clearTimeout(timer);
          const code = (err as { code?: unknown } | null)?.code;
          const stale = req.reusedSocket && !answered && (code === "ECONNRESET" || code === "EPIPE");
          rejectBody(stale ? Object.assign(err as Error, { stale: true }) : err);
        };
        req.on("socket", (socket) => {
          // "connected" means the TCP connection is up: a host that accepts and then never answers
          // (hung, stopped) is a timeout, one we could not connect to at all is unreachable
          const s = socket as TLSSocket;
          if (!s.connecting) connected = true;
          else {
            s.once("connect", () => (connected = true));
            // TLS 1.3 sends tickets after the handshake, one or more: keep the newest for the next process
            const sessions = this.#sessions;
            if (sessions) s.on("session", (ticket: Buffer) => sessions.set(key, ticket));
          }
        });
        req.on("response", (res) => {
          connected = true;
          answered = true;
          if (res.statusCode !== 200) {
            res.resume();
            reject(Object.assign(new Error(`HTTP ${res.statusCode} from minion`), { code: "HTTP_STATUS" }));
            return;
          }
          const chunks: Buffer[] = [];
          let size = 0;
          res.on("data", (c: Buffer) => {
            size += c.length;
            if (size > MAX_RESPONSE_BYTES) {
              req.destroy(Object.assign(new Error(`response over ${MAX_RESPONSE_BYTES} bytes`), { code: "TOO_LARGE" }));
              return;
            }
            chunks.push(c);
          });
          res.on("end", () => resolve(Buffer.concat(chunks)));
          res.on("error", reject);
        });
        req.on("error", reject);
        req.end(body);
      });
    try {
      let xml: Buffer;
      try {
        xml = await attempt(false, opts.timeoutMs);
      } catch (err) {
        if (!(err as { stale?: boolean }).stale) throw err;
        // the minion never saw that request: send it once more, on a new connection, within what is left
        xml = await attempt(true, Math.max(1, opts.timeoutMs - (performance.now() - started)));
      }
      const value = await this.#decode(xml);
      return { outcome: "ok", value, ms: ms() };
    } catch (err) {
      return { ...classify(err, connected), ms: ms() };
    }
  }

  /**
   * Decodes an answer; small ones are decoded once per distinct body (in a fresh `func` process, parsing runs
   * unoptimised, ~0.3 ms each: a thousand identical pings would cost 300 ms). Each host gets its own copy.
   */
  async #decode(xml: Buffer): Promise<WireValue> {
    if (xml.length > DECODED_CACHE_MAX_BYTES) return decodeResponse(xml, { bytesAsText: true, limits: RESPONSE_LIMITS });
    const key = xml.toString("latin1");
    let value = this.#decoded.get(key);
    if (value === undefined) {
      value = await decodeResponse(xml, { bytesAsText: true, limits: RESPONSE_LIMITS });
      if (this.#decoded.size >= DECODED_CACHE_ENTRIES) this.#decoded.delete(this.#decoded.keys().next().value!);
      this.#decoded.set(key, value);
    }
    return copyValue(value);
  }

  close(): void {
    this.#agent.destroy();
  }
}

/** A deep copy of a decoded value: Buffers stay Buffers, struct keys stay own properties (even "__proto__"). */
function copyValue(v: WireValue): WireValue {
  if (v === null || typeof v !== "object") return v;
  if (Buffer.isBuffer(v)) return Buffer.from(v);
  if (Array.isArray(v)) return v.map(copyValue);
  const out: { [key: string]: WireValue } = {};
  for (const key of Object.keys(v)) Object.defineProperty(out, key, { value: copyValue(v[key]!), enumerable: true, writable: true, configurable: true });
  return out;
}

/** The XML-RPC request body for `method(params)`, or the outcome of every host when the arguments cannot travel. */
export function encodeRequest(method: string, params: readonly unknown[]): { body: string } | { failed: HostResult } {
  try {
    return { body: encodeCall(method, params) };
  } catch (err) {
    return { failed: { outcome: "error", error: { code: FAULT.BAD_ARGUMENTS, type: "BadArguments", message: (err as Error).message }, ms: 0 } };
  }
}

/** Maps a transport failure or a fault to the outcome vocabulary (DESIGN section 7). */
export function classify(err: unknown, connected: boolean): HostResult {
  if (err instanceof XmlRpcFault) {
    const { type, message } = parseFaultString(err.faultString);
    const outcome = err.faultCode === FAULT.ACCESS_DENIED ? "denied" : "error";
    return { outcome, error: { code: err.faultCode, type, message } };
  }
  const e = err as NodeJS.ErrnoException & { cause?: unknown };
  const code = e.code ?? "";
  if (e.name === "AbortError" || e.name === "TimeoutError" || code === "ABORT_ERR") {
    return connected
      ? { outcome: "timeout", error: { code: 0, type: "Timeout", message: "no answer within the per-host timeout" } }
      : { outcome: "unreachable", error: { code: 0, type: "ConnectTimeout", message: "could not connect within the per-host timeout" } };
  }
  if (UNREACHABLE_CODES.has(code) || code.startsWith("ERR_TLS") || code.startsWith("ERR_SSL") || /certificate|ssl|tls|handshake/i.test(e.message ?? "")) {
    return { outcome: "unreachable", error: { code: 0, type: code || "TransportError", message: e.message } };
  }
  if (code === "HTTP_STATUS" || code === "TOO_LARGE") {
    return { outcome: "error", error: { code: 0, type: "ProtocolError", message: e.message } };
  }
  if (!connected) return { outcome: "unreachable", error: { code: 0, type: code || "TransportError", message: e.message ?? String(err) } };
  return { outcome: "error", error: { code: 0, type: code || e.name || "TransportError", message: e.message ?? String(err) } };
}
