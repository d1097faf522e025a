// One XML-RPC call to one minion over mutual TLS, turned into a HostResult. A bucket builds one
// MinionTransport: one TLS secure context and one keep-alive agent for all its calls, and (optionally) a
// session cache that new connections resume from and that records each minion's newest session ticket.
// The peer must be the minion dialled: the `minion` role and the dialled name as its CN (SANs do not count).

import type { ClientRequest, IncomingMessage } from "node:http";
import { Agent, request, type RequestOptions } from "node:https";
import { isIP } from "node:net";
import { createSecureContext, type PeerCertificate, type SecureContext, type TLSSocket } from "node:tls";
import {
  BYTES_ANSWER_HEADER,
  BYTES_ANSWER_VALUE,
  BYTES_CONTENT_TYPE,
  BYTES_FIELDS_HEADER,
  DEFAULTS,
  FAULT,
  decodeBytesAnswer,
  canonicalName,
  canonicalSerial,
  crlNextUpdate,
  crlSerials,
  FuncError,
  XmlRpcFault,
  decodeResponse,
  encodeCall,
  failure,
  faultHostError,
  type CodecLimits,
  type HostResult,
  type TlsMaterial,
  type WireValue,
} from "@func/shared";
import type { MinionAddress } from "./universe.js";
import { sessionKey, type SessionCache } from "./tls-sessions.js";


/** Answers up to this size are remembered decoded: a fan-out's hosts mostly send the very same bytes. */
const DECODED_CACHE_MAX_BYTES = 2048;
/** How many distinct such answers one transport remembers. */
const DECODED_CACHE_ENTRIES = 64;

/** Nesting accepted in an answer: deeper than any real result, shallow enough for the recursive copies. */
const RESPONSE_MAX_DEPTH = 256;
/** Values accepted in one answer: bounds the objects one minion's answer can make the overlord allocate. */
const RESPONSE_MAX_ELEMENTS = 10_000_000;

export interface TransportOptions {
  maxSockets?: number;
  sessions?: SessionCache;
  keepAlive?: boolean;
  /** largest answer read from one minion, bytes; a bigger one is cut off and that host gets `error` */
  maxResponseBytes?: number;
}

export interface CallOptions {
  timeoutMs: number;
  headers?: Record<string, string>;
  /** base64 values that are valid UTF-8 come back as strings (default true); file transfer wants the bytes */
  bytesAsText?: boolean;
  /**
   * Asks for a bytes answer (shared/bytes-answer.ts: file.read's chunk as the body, not base64 in XML). One of
   * more than `maxBytes` is refused before it is read; `buffer(n)` gives the n bytes it is read into (a pull
   * reuses its chunk buffers). A minion that answers XML (an older funcd, a fault) is decoded as ever.
   */
  bytesAnswer?: { maxBytes: number; buffer?: (n: number) => Buffer };
}

/** An answer as it came: an XML body, or a bytes answer's body and fields header. */
type Answer = { xml: Buffer } | { bytes: Buffer; fields: string | string[] | undefined };

/** Bodies larger than this are written in slices of it, each after the last one left: see #write. */
const WRITE_SLICE_BYTES = 256 * 1024;

/** The role a minion's cert carries in its OU: a user, service or overlord cert never passes for a minion. */
const MINION_ROLE = "minion";

/** Error code of a peer whose cert is from our CA but not the minion we dialled. */
const WRONG_PEER = "ERR_TLS_CERT_NOT_THIS_MINION";

function subjectField(cert: PeerCertificate, field: "CN" | "OU"): string | null {
  const v = (cert.subject as unknown as Record<string, string | string[] | undefined> | undefined)?.[field];
  return typeof v === "string" ? v : null;
}

/**
 * Node's checkServerIdentity for a minion: the chain was verified against the CA already; this decides whether
 * it is the minion we meant. A cert with several CNs or OUs is refused: which one counts would be a guess.
 */
export function checkMinionIdentity(name: string, cert: PeerCertificate, revoked?: ReadonlySet<string>): Error | undefined {
  const cn = subjectField(cert, "CN");
  const role = subjectField(cert, "OU");
  if (revoked && typeof cert.serialNumber === "string" && revoked.has(canonicalSerial(cert.serialNumber))) {
    return Object.assign(new Error(`minion ${name}'s certificate is revoked (by this overlord's expired CRL)`), { code: "CERT_REVOKED" });
  }
  if (role === MINION_ROLE && cn !== null && canonicalName(cn) === canonicalName(name)) return undefined;
  return Object.assign(new Error(`the peer's cert (CN ${JSON.stringify(cn)}, role ${JSON.stringify(role)}) is not minion ${name}'s`), { code: WRONG_PEER });
}

/**
 * The CRL for the TLS context, or, once it is past its nextUpdate, the serials it lists (checked by hand): an
 * overlord without the CA key (a second one, with a copied pki/ca) would otherwise reach no minion at all.
 */
function crlUse(crl: string | undefined): { crl?: string; revoked?: ReadonlySet<string> } {
  if (!crl) return {};
  let next: Date | null = null;
  try {
    next = crlNextUpdate(crl);
  } catch {
    return { crl };
  }
  if (next === null || next.getTime() > Date.now()) return { crl };
  try {
    return { revoked: new Set(crlSerials(crl)) };
  } catch {
    return { crl };
  }
}

/** What to do about the minion's cert when the TLS handshake refuses it, by OpenSSL's verify code. */
const NOT_OUR_CA = "the minion's cert is not from this overlord's CA (another fleet at that address, or a minion enrolled elsewhere): check FUNC_HOME, or enroll the minion here";
const TLS_HINTS: Record<string, string> = {
  UNABLE_TO_GET_CRL: NOT_OUR_CA,
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: NOT_OUR_CA,
  UNABLE_TO_GET_ISSUER_CERT: NOT_OUR_CA,
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: NOT_OUR_CA,
  SELF_SIGNED_CERT_IN_CHAIN: NOT_OUR_CA,
  DEPTH_ZERO_SELF_SIGNED_CERT: NOT_OUR_CA,
  CERT_SIGNATURE_FAILURE: NOT_OUR_CA,
  CERT_HAS_EXPIRED: "the minion's cert has expired: re-enroll it (func-ca clean <name>, then restart its funcd)",
  CERT_NOT_YET_VALID: "the minion's cert is not valid yet: check the clocks of both hosts",
};
/** A connection closed before any answer. */
const HUNG_UP = "the minion closed the connection before answering (when it does so every time, it refuses this overlord's cert: its funcd log says why)";
/** The minion's TLS alert about our cert. */
const REFUSED_OUR_CERT = "the minion refused this overlord's cert (another CA's, expired or revoked): check FUNC_HOME and the minion's ca.crt and crl.pem";

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
  readonly #revoked: ReadonlySet<string> | undefined;
  readonly #limits: CodecLimits;
  #received = 0;

  /**
   * `keepAlive` (default true) keeps connections open for the next call; a one-shot fan-out turns it off, so
   * each connection closes after its answer instead of 1000 idle sockets piling up until the end.
   * `maxResponseBytes` (overlord.conf `max_response_bytes`) bounds what one minion's answer may make us read.
   */
  constructor(identity: TlsMaterial, opts: TransportOptions = {}) {
    this.#sessions = opts.sessions;
    const { crl, revoked } = crlUse(identity.crl);
    this.#revoked = revoked;
    const maxBodyBytes = opts.maxResponseBytes ?? DEFAULTS.overlord.maxResponseBytes;
    this.#limits = { maxBodyBytes, maxDepth: RESPONSE_MAX_DEPTH, maxElements: RESPONSE_MAX_ELEMENTS };
    this.#context = createSecureContext({
      key: identity.key,
      cert: identity.cert,
      ca: identity.ca,
      ...(crl ? { crl } : {}),
      minVersion: "TLSv1.2",
    });
    this.#agent = new Agent({ keepAlive: opts.keepAlive ?? true, maxSockets: opts.maxSockets ?? Infinity, scheduling: "lifo" });
  }

  /** Calls `method` on one minion; never throws: every failure is an outcome. */
  async call(minion: MinionAddress, method: string, params: readonly unknown[], opts: CallOptions): Promise<HostResult> {
    const request = encodeRequest(method, params);
    return "body" in request ? this.send(minion, request.body, opts) : request.failed;
  }

  /**
   * Posts a request body made by encodeRequest (a fan-out encodes once for all its hosts), or its bytes (a
   * file chunk's body, shared by every host it goes to); never throws.
   */
  async send(minion: MinionAddress, body: string | Buffer, opts: CallOptions): Promise<HostResult> {
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
      new Promise<Answer>((resolveBody, rejectBody) => {
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
          checkServerIdentity: (_host: string, cert: PeerCertificate) => checkMinionIdentity(minion.name, cert, this.#revoked),
          headers: {
            "Content-Type": "text/xml",
            "Content-Length": Buffer.byteLength(body),
            ...(opts.bytesAnswer ? { [BYTES_ANSWER_HEADER]: BYTES_ANSWER_VALUE } : {}),
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
        const resolve = (answer: Answer) => {
          clearTimeout(timer);
          resolveBody(answer);
        };
        const reject = (err: unknown) => {
          clearTimeout(timer);
          const e = err as { code?: unknown; name?: unknown; message?: unknown } | null;
          const code = e?.code;
          const stale = req.reusedSocket && !answered && (code === "ECONNRESET" || code === "EPIPE");
          // once the minion has begun to answer, a broken connection is a broken answer, not an unreachable host
          const cut = answered && code !== "TOO_LARGE" && code !== "BAD_BYTES_ANSWER" && e?.name !== "TimeoutError";
          if (cut) rejectBody(Object.assign(new Error(`the answer was cut off (${String(e?.message ?? code)})`), { code: "CUT_OFF" }));
          else rejectBody(stale ? Object.assign(err as Error, { stale: true }) : err);
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
          const max = this.#limits.maxBodyBytes;
          const tooLarge = () => Object.assign(new Error(`answer over max_response_bytes (${max} bytes)`), { code: "TOO_LARGE" });
          const declared = Number(res.headers["content-length"]);
          if (declared > max) {
            req.destroy(tooLarge());
            return;
          }
          if ((res.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase() === BYTES_CONTENT_TYPE) {
            readBytesAnswer(req, res, declared, opts.bytesAnswer, (bytes) => {
              this.#received += bytes.length;
              resolve({ bytes, fields: res.headers[BYTES_FIELDS_HEADER] });
            }, reject);
            return;
          }
          const chunks: Buffer[] = [];
          let size = 0;
          res.on("data", (c: Buffer) => {
            size += c.length;
            if (size > max) {
              chunks.length = 0;
              req.destroy(tooLarge());
              return;
            }
            chunks.push(c);
          });
          res.on("end", () => {
            this.#received += size;
            resolve({ xml: Buffer.concat(chunks) });
          });
          res.on("error", reject);
          res.on("aborted", () => reject(Object.assign(new Error("the connection closed mid-answer"), { code: "ECONNRESET" })));
        });
        req.on("error", reject);
        writeBody(req, body);
      });
    try {
      let answer: Answer;
      try {
        answer = await attempt(false, opts.timeoutMs);
      } catch (err) {
        if (!(err as { stale?: boolean }).stale) throw err;
        // the minion never saw that request: send it once more, on a new connection, within what is left
        answer = await attempt(true, Math.max(1, opts.timeoutMs - (performance.now() - started)));
      }
      if ("bytes" in answer) return { outcome: "ok", value: decodeBytesAnswer(answer.fields, answer.bytes), ms: ms() };
      const xml = answer.xml;
      const value = opts.bytesAsText === false ? await decodeResponse(xml, { limits: this.#limits }) : await this.#decode(xml);
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
    if (xml.length > DECODED_CACHE_MAX_BYTES) return decodeResponse(xml, { bytesAsText: true, limits: this.#limits });
    const key = xml.toString("latin1");
    let value = this.#decoded.get(key);
    if (value === undefined) {
      value = await decodeResponse(xml, { bytesAsText: true, limits: this.#limits });
      if (this.#decoded.size >= DECODED_CACHE_ENTRIES) this.#decoded.delete(this.#decoded.keys().next().value!);
      this.#decoded.set(key, value);
    }
    return copyValue(value);
  }

  /** Bytes of answer bodies this transport received (what a tier above pays for its results). */
  get bytesReceived(): number {
    return this.#received;
  }

  close(): void {
    this.#agent.destroy();
  }
}

/**
 * Reads a bytes answer into one buffer of its declared length: one asked for, with a Content-Length within
 * `bytesAnswer.maxBytes`, and exactly that many bytes. Anything else is a protocol error for that host alone
 * (a minion cannot make us hold more than we asked for, nor stream an answer of unknown length).
 */
function readBytesAnswer(
  req: ClientRequest,
  res: IncomingMessage,
  declared: number,
  want: CallOptions["bytesAnswer"],
  done: (bytes: Buffer) => void,
  reject: (err: unknown) => void,
): void {
  const refuse = (message: string): void => void req.destroy(Object.assign(new Error(message), { code: "BAD_BYTES_ANSWER" }));
  if (!want) return refuse("a bytes answer that was not asked for");
  if (!Number.isSafeInteger(declared) || declared < 0) return refuse("a bytes answer without a Content-Length");
  if (declared > want.maxBytes) return refuse(`a bytes answer of ${declared} bytes, over the ${want.maxBytes} asked for`);
  const into = want.buffer?.(declared) ?? Buffer.allocUnsafe(declared);
  if (into.length !== declared) return refuse("no buffer of the answer's length");
  let at = 0;
  res.on("data", (c: Buffer) => {
    if (at + c.length > declared) return refuse("a bytes answer longer than its Content-Length");
    c.copy(into, at);
    at += c.length;
  });
  res.on("end", () => (at === declared ? done(into) : refuse(`a bytes answer of ${at} bytes where ${declared} were declared`)));
  res.on("error", reject);
  res.on("aborted", () => reject(Object.assign(new Error("the connection closed mid-answer"), { code: "ECONNRESET" })));
}

/**
 * Writes a request body. A large one goes in slices, each once the socket has taken the last: TLS encrypts
 * what it is given at once and holds it until the kernel takes it, so a whole file chunk written to each of
 * many hosts (and several chunks to each) would be a second copy per connection; sliced, each connection
 * holds about one slice and the chunk's bytes are shared.
 */
function writeBody(req: ClientRequest, body: string | Buffer): void {
  if (typeof body === "string" || body.length <= WRITE_SLICE_BYTES) {
    req.end(body);
    return;
  }
  let at = 0;
  const next = (): void => {
    while (at < body.length && !req.destroyed) {
      const end = Math.min(body.length, at + WRITE_SLICE_BYTES);
      const more = req.write(body.subarray(at, end));
      at = end;
      if (!more && at < body.length) {
        req.once("drain", next);
        return;
      }
    }
    if (!req.destroyed) req.end();
  };
  next();
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
    return { failed: { ...failure("error", "BadArguments", (err as Error).message), ms: 0 } };
  }
}

/**
 * Maps a transport failure or a fault to the outcome vocabulary (DESIGN section 7). Never throws, whatever it
 * is given: what a minion sends can at most give that one host an `error`.
 */
export function classify(err: unknown, connected: boolean): HostResult {
  try {
    return classifyError(err, connected);
  } catch {
    return failure("error", "ProtocolError", "the minion's answer could not be read");
  }
}

function classifyError(err: unknown, connected: boolean): HostResult {
  if (err instanceof XmlRpcFault) {
    return { outcome: err.faultCode === FAULT.ACCESS_DENIED ? "denied" : "error", error: faultHostError(err.faultCode, err.faultString) };
  }
  // the codec's own errors: the minion answered, but not with XML-RPC we accept
  if (err instanceof FuncError) return failure("error", "ProtocolError", `undecodable answer: ${err.message}`);
  const e = (typeof err === "object" && err !== null ? err : {}) as { code?: unknown; name?: unknown; message?: unknown };
  const code = typeof e.code === "string" ? e.code : "";
  const name = typeof e.name === "string" ? e.name : "";
  const message = typeof e.message === "string" && e.message !== "" ? e.message : String(err);
  const detail = code && !message.includes(code) ? `${message} (${code})` : message;
  if (name === "AbortError" || name === "TimeoutError" || code === "ABORT_ERR") {
    return connected
      ? failure("timeout", "Timeout", "no answer within the per-host timeout")
      : failure("unreachable", "ConnectTimeout", "could not connect within the per-host timeout");
  }
  if (code === "HTTP_STATUS" || code === "TOO_LARGE" || code === "CUT_OFF" || code === "BAD_BYTES_ANSWER" || code.startsWith("HPE_")) return failure("error", "ProtocolError", detail);
  if (UNREACHABLE_CODES.has(code) || code.startsWith("ERR_TLS") || code.startsWith("ERR_SSL") || /certificate|ssl|tls|handshake/i.test(message)) {
    // TLS 1.3: a minion that refuses our cert closes the connection after the handshake; we see a hang-up
    if (code === "ECONNRESET" && message === "socket hang up") return failure("unreachable", "TransportError", `${detail}: ${HUNG_UP}`);
    const hint = TLS_HINTS[code] ?? (/ALERT_(UNKNOWN_CA|BAD_CERTIFICATE|CERTIFICATE_EXPIRED|CERTIFICATE_REVOKED)$/.test(code) ? REFUSED_OUR_CERT : undefined);
    return failure("unreachable", "TransportError", hint ? `${detail}: ${hint}` : detail);
  }
  return failure(connected ? "error" : "unreachable", "TransportError", detail);
}
