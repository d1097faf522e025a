// funcd's side of the enrollment protocol: pins the enrollment service's CA by the fingerprint the admin gave
// (read from the TLS handshake before a single request is sent), then calls `enroll.submit` / `enroll.crl` over
// TLS that trusts that CA only and wants a `service` cert. One client per service, shared by a process's homes.

import { X509Certificate } from "node:crypto";
import { Agent, request } from "node:https";
import { isIP } from "node:net";
import { connect, type DetailedPeerCertificate, type PeerCertificate } from "node:tls";
import {
  ENROLL_CRL,
  ENROLL_MAX_REPLY_BYTES,
  ENROLL_PERMANENT_FAULTS,
  ENROLL_SUBMIT,
  FuncError,
  XmlRpcFault,
  decodeResponse,
  encodeCall,
  fingerprint,
  normalizeFingerprint,
  parseEnrollReply,
  type EnrollReply,
  type WireValue,
} from "@func/shared";

/** Time allowed for one request to the service (connect, TLS, answer), ms. */
const REQUEST_TIMEOUT_MS = 15_000;
/** Connections to one service at once: a process enrolling hundreds of homes queues on these. */
const MAX_SOCKETS = 8;
/** The role a cert must carry in its OU to act as the enrollment service. */
const SERVICE_ROLE = "service";
/** Limits for decoding the service's answers: a flat struct of a few PEM strings. */
const REPLY_LIMITS = { maxBodyBytes: ENROLL_MAX_REPLY_BYTES, maxDepth: 4, maxElements: 32 };

export interface EnrollTarget {
  host: string;
  port: number;
}

/** What the client trusts: the fingerprint it was given, the CA cert it already holds, or both (they must agree). */
export interface EnrollTrust {
  fingerprint?: string;
  caPem?: string;
}

/** A failure worth retrying (network, timeout, rate limit, server trouble); anything else thrown is final. */
export function isTransient(err: unknown): boolean {
  return err instanceof FuncError && (err.type === "TransportError" || err.type === "LimitExceeded" || err.type === "MethodError");
}

function roleOf(cert: PeerCertificate): string {
  const ou = cert.subject?.OU;
  return Array.isArray(ou) ? (ou[0] ?? "") : (ou ?? "");
}

export class EnrollClient {
  readonly host: string;
  readonly port: number;
  readonly #expected: string | null;
  #caPem: string | null;
  #pinning: Promise<string> | null = null;
  readonly #agent = new Agent({ keepAlive: true, maxSockets: MAX_SOCKETS });

  constructor(target: EnrollTarget, trust: EnrollTrust) {
    this.host = target.host;
    this.port = target.port;
    this.#expected = trust.fingerprint ? normalizeFingerprint(trust.fingerprint) : null;
    this.#caPem = trust.caPem ?? null;
    if (this.#caPem !== null && this.#expected !== null && fingerprint(this.#caPem) !== this.#expected) {
      throw new FuncError("ConfigError", `the CA cert this minion holds is ${fingerprint(this.#caPem)}, not the configured ca_fingerprint ${this.#expected}`);
    }
    if (this.#caPem === null && this.#expected === null) {
      throw new FuncError("UsageError", "enrolling needs the CA fingerprint (--ca-fingerprint, or ca_fingerprint in minion.conf): ask the admin for `func-ca fingerprint`");
    }
  }

  get where(): string {
    return `${isIP(this.host) === 6 ? `[${this.host}]` : this.host}:${this.port}`;
  }

  /** The pinned CA cert (PEM), fetched from the service's TLS chain on first use and checked against the fingerprint. */
  ca(): Promise<string> {
    if (this.#caPem !== null) return Promise.resolve(this.#caPem);
    this.#pinning ??= this.#pin().finally(() => (this.#pinning = null));
    return this.#pinning;
  }

  #pin(): Promise<string> {
    const expected = this.#expected!;
    return new Promise<string>((resolve, reject) => {
      // Nothing is sent over this connection: it only shows us the chain the service presents.
      const socket = connect({
        host: this.host,
        port: this.port,
        rejectUnauthorized: false,
        ...(isIP(this.host) ? {} : { servername: this.host }),
        timeout: REQUEST_TIMEOUT_MS,
      });
      const fail = (err: FuncError) => {
        socket.destroy();
        reject(err);
      };
      socket.once("timeout", () => fail(new FuncError("TransportError", `no TLS answer from the enrollment service at ${this.where}`)));
      socket.once("error", (err: NodeJS.ErrnoException) =>
        fail(new FuncError("TransportError", `enrollment service at ${this.where}: ${err.code ?? err.message}`, { cause: err })),
      );
      socket.once("secureConnect", () => {
        const chain: DetailedPeerCertificate[] = [];
        const seen = new Set<string>();
        let c: DetailedPeerCertificate | undefined = socket.getPeerCertificate(true);
        while (c && c.raw && !seen.has(c.fingerprint256)) {
          seen.add(c.fingerprint256);
          chain.push(c);
          c = c.issuerCertificate;
        }
        socket.destroy();
        const match = chain.find((cert) => `SHA256:${cert.fingerprint256}` === expected);
        if (!match) {
          const top = chain[chain.length - 1];
          const shown = top ? `SHA256:${top.fingerprint256} (CN "${String(top.subject?.CN ?? "?")}")` : "no certificate";
          return reject(
            new FuncError("EnrollError", `the enrollment service at ${this.where} presents CA ${shown}, not the expected ${expected}: refusing to enroll with it`),
          );
        }
        const x = new X509Certificate(match.raw);
        if (!x.ca) return reject(new FuncError("EnrollError", `the certificate with fingerprint ${expected} is not a CA certificate`));
        this.#caPem = x.toString();
        resolve(this.#caPem);
      });
    });
  }

  /** `enroll.submit`: the service's decision on this CSR. */
  async submit(csrPem: string, address: string, port: number): Promise<EnrollReply> {
    return parseEnrollReply(await this.#call(ENROLL_SUBMIT, [csrPem, address, port]));
  }

  /** `enroll.crl`: the CA's current CRL (unverified: the caller checks it against the CA). */
  async crl(): Promise<string> {
    const v = await this.#call(ENROLL_CRL, []);
    if (typeof v !== "string") throw new FuncError("EnrollError", "the enrollment service answered enroll.crl with something other than a PEM string");
    return v;
  }

  async #call(method: string, params: unknown[]): Promise<WireValue> {
    const ca = await this.ca();
    const body = encodeCall(method, params);
    const xml = await new Promise<Buffer>((resolve, reject) => {
      const req = request(
        {
          host: this.host,
          port: this.port,
          method: "POST",
          path: "/",
          agent: this.#agent,
          ca,
          ...(isIP(this.host) ? {} : { servername: this.host }),
          // The pinned CA is the trust anchor; the name we dialled says nothing (the service's SANs are not known to
          // minions), but a cert from this CA for a minion or a user must not pass for the service.
          checkServerIdentity: (_host, cert) =>
            roleOf(cert) === SERVICE_ROLE ? undefined : new Error(`the peer's cert (CN "${String(cert.subject?.CN)}") is not an enrollment service cert`),
          signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
          headers: { "Content-Type": "text/xml", "Content-Length": Buffer.byteLength(body) },
        },
        (res) => {
          if (res.statusCode !== 200) {
            res.resume();
            return reject(new FuncError("TransportError", `HTTP ${res.statusCode} from the enrollment service at ${this.where}`));
          }
          const chunks: Buffer[] = [];
          let size = 0;
          res.on("data", (c: Buffer) => {
            size += c.length;
            if (size > ENROLL_MAX_REPLY_BYTES) {
              req.destroy(new Error(`answer over ${ENROLL_MAX_REPLY_BYTES} bytes`));
              return;
            }
            chunks.push(c);
          });
          res.on("end", () => resolve(Buffer.concat(chunks)));
          res.on("error", reject);
        },
      );
      req.on("error", (err: NodeJS.ErrnoException) =>
        reject(err instanceof FuncError ? err : new FuncError("TransportError", `enrollment service at ${this.where}: ${err.code ?? err.message}`, { cause: err })),
      );
      req.end(body);
    });
    try {
      return await decodeResponse(xml, { limits: REPLY_LIMITS });
    } catch (err) {
      if (err instanceof XmlRpcFault) {
        const permanent = ENROLL_PERMANENT_FAULTS.has(err.faultCode);
        throw new FuncError(permanent ? "EnrollError" : "TransportError", `the enrollment service at ${this.where} refused: ${err.faultString}`, { cause: err });
      }
      throw new FuncError("EnrollError", `the enrollment service at ${this.where} sent a malformed answer`, { cause: err });
    }
  }

  close(): void {
    this.#agent.destroy();
  }
}

/** One client per (service, trust) for a process: funcd --multi enrolls many homes through one pinned connection pool. */
export class EnrollClientPool {
  readonly #clients = new Map<string, EnrollClient>();

  get(target: EnrollTarget, trust: EnrollTrust): EnrollClient {
    const key = `${target.host}|${target.port}|${trust.fingerprint ? normalizeFingerprint(trust.fingerprint) : ""}|${trust.caPem ? fingerprint(trust.caPem) : ""}`;
    let c = this.#clients.get(key);
    if (!c) {
      c = new EnrollClient(target, trust);
      this.#clients.set(key, c);
    }
    return c;
  }

  close(): void {
    for (const c of this.#clients.values()) c.close();
    this.#clients.clear();
  }
}
