// The enrollment protocol between funcd (client, in @func/minion) and `func-ca serve` (service, in
// @func/overlord): XML-RPC over HTTPS on ENROLL_PORT, server TLS only. Method names, reply shapes, limits
// and the CA fingerprint format live here so that both sides read them from one place.

import { FuncError, FAULT } from "./errors.js";
import type { WireValue } from "./codec.js";

/** `enroll.submit(csrPem, address, port)`: signs (autosign, or already signed) or queues the request. */
export const ENROLL_SUBMIT = "enroll.submit";
/** `enroll.crl()`: the CA's current CRL, PEM. */
export const ENROLL_CRL = "enroll.crl";

/** Largest request the service reads: a CSR is under 1 KiB, so 64 KiB leaves room and bounds memory per request. */
export const ENROLL_MAX_BODY_BYTES = 64 * 1024;
/** Largest answer the client reads: a cert, the CA cert and a CRL with many thousand entries. */
export const ENROLL_MAX_REPLY_BYTES = 4 * 1024 * 1024;
/** Codec limits for enrollment bodies: flat calls of three scalars, so a few levels and values are plenty. */
export const ENROLL_CODEC_LIMITS = { maxBodyBytes: ENROLL_MAX_BODY_BYTES, maxDepth: 4, maxElements: 32, maxStringBytes: 32 * 1024 } as const;

export type EnrollReply =
  | { status: "signed"; cert: string; ca: string; crl: string }
  /** `fingerprint`: of the request's public key, the one `func-ca list` shows the admin */
  | { status: "waiting"; fingerprint: string };

/**
 * Faults that end an enrollment attempt for good: the service refused this name or key (ACCESS_DENIED) or the
 * request is malformed (BAD_ARGUMENTS). Anything else (LIMIT_EXCEEDED from rate limiting, a server error, a
 * broken connection) is retried with backoff.
 */
export const ENROLL_PERMANENT_FAULTS: ReadonlySet<number> = new Set([FAULT.ACCESS_DENIED, FAULT.BAD_ARGUMENTS, FAULT.NO_SUCH_METHOD]);

/** Checks the shape of an `enroll.submit` answer from the wire; anything else is a protocol error. */
export function parseEnrollReply(v: WireValue): EnrollReply {
  if (v !== null && typeof v === "object" && !Array.isArray(v) && !Buffer.isBuffer(v)) {
    const r = v as Record<string, WireValue>;
    if (r.status === "signed" && typeof r.cert === "string" && typeof r.ca === "string" && typeof r.crl === "string") {
      return { status: "signed", cert: r.cert, ca: r.ca, crl: r.crl };
    }
    if (r.status === "waiting" && typeof r.fingerprint === "string") return { status: "waiting", fingerprint: r.fingerprint };
  }
  throw new FuncError("EnrollError", "the enrollment service sent an answer this minion does not understand");
}

/** A SHA-256 fingerprint: 32 bytes as hex, with or without `:` separators. */
const FINGERPRINT_HEX_RE = /^(?:[0-9a-f]{2}:){31}[0-9a-f]{2}$|^[0-9a-f]{64}$/i;

/**
 * The canonical `SHA256:AB:CD:...` form (what `func-ca fingerprint` prints and pki.fingerprint computes) of a
 * fingerprint typed by a person: the `SHA256:` prefix is optional, case and colons are free.
 */
export function normalizeFingerprint(text: string): string {
  const t = text.trim().replace(/^sha-?256[:=]/i, "");
  if (!FINGERPRINT_HEX_RE.test(t)) {
    throw new FuncError("UsageError", `"${text.slice(0, 120)}" is not a SHA-256 fingerprint (expected SHA256:AB:CD:... as "func-ca fingerprint" prints it)`);
  }
  const hex = t.replace(/:/g, "").toUpperCase();
  return "SHA256:" + (hex.match(/../g) ?? []).join(":");
}

/** `host`, `host:port`, `[v6]` or `[v6]:port` (as `--enroll` takes it); port defaults to `defaultPort`. */
export function parseHostPort(text: string, defaultPort: number): { host: string; port: number } {
  const t = text.trim();
  let host = t;
  let port: string | undefined;
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(t);
  if (v6) {
    host = v6[1]!;
    port = v6[2];
  } else if ((t.match(/:/g) ?? []).length === 1) {
    [host, port] = t.split(":") as [string, string];
  }
  const n = port === undefined ? defaultPort : Number(port);
  if (host === "" || !Number.isInteger(n) || n < 1 || n > 65535 || /[\s/]/.test(host)) {
    throw new FuncError("UsageError", `"${t.slice(0, 120)}" is not host[:port]`);
  }
  return { host, port: n };
}
