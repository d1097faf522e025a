// func-web's HTTP plumbing: JSON replies and errors (one shape: {"error": {type, message}}), bounded JSON
// bodies, and the security headers every response carries (a strict CSP: scripts and styles from this
// origin only, no inline code, no framing).

import type { IncomingMessage, ServerResponse } from "node:http";
import { FuncError } from "@func/shared";

/** Scripts, styles, images and fetches from this origin only; nothing inline, no frames, no plugins. */
export const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "content-security-policy": CONTENT_SECURITY_POLICY,
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "strict-transport-security": "max-age=31536000",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
};

/** An HTTP status for each error type a route may raise. */
const STATUS: Partial<Record<string, number>> = {
  UsageError: 400,
  BadArguments: 400,
  AccessDenied: 403,
  NotFound: 404,
  NoMatch: 422,
  LimitExceeded: 429,
  ConfigError: 500,
};

/** A route's refusal: an HTTP status with a one-line reason. */
export class HttpError extends Error {
  readonly status: number;
  readonly type: string;
  readonly headers: Record<string, string>;
  constructor(status: number, type: string, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.status = status;
    this.type = type;
    this.headers = headers;
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string | string[]> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...SECURITY_HEADERS, "content-type": "application/json; charset=utf-8", "cache-control": "no-store", "content-length": Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** The status and JSON body for any thrown value; unknown errors become a 500 that names no internals. */
export function errorReply(err: unknown): { status: number; type: string; message: string; headers: Record<string, string>; internal: boolean } {
  if (err instanceof HttpError) return { status: err.status, type: err.type, message: err.message, headers: err.headers, internal: false };
  if (err instanceof FuncError) return { status: STATUS[err.type] ?? 500, type: err.type, message: err.message, headers: {}, internal: false };
  return { status: 500, type: "InternalError", message: "internal error: see func-web's log", headers: {}, internal: true };
}

/** Reads a JSON object body of at most `limit` bytes; anything else is a 4xx. */
export async function readJson(req: IncomingMessage, limit: number): Promise<Record<string, unknown>> {
  const type = (req.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
  if (type !== "application/json") throw new HttpError(415, "UnsupportedMediaType", 'send the body as JSON with "Content-Type: application/json"');
  if (Number(req.headers["content-length"] ?? 0) > limit) throw new HttpError(413, "LimitExceeded", `the body is larger than ${limit} bytes`);
  const body = await new Promise<Buffer | null>((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (v: Buffer | null) => {
      if (!done) {
        done = true;
        resolve(v);
      }
    };
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        req.pause();
        finish(null);
      } else chunks.push(c);
    });
    req.on("end", () => finish(Buffer.concat(chunks)));
    req.on("error", () => finish(null));
  });
  if (body === null) throw new HttpError(413, "LimitExceeded", `the body is larger than ${limit} bytes`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString("utf8"));
  } catch {
    throw new HttpError(400, "BadJson", "the body is not valid JSON");
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new HttpError(400, "BadJson", "the body must be a JSON object");
  return parsed as Record<string, unknown>;
}

/** The peer's address without the IPv4-mapped prefix. */
export function sourceAddress(req: IncomingMessage): string {
  return (req.socket.remoteAddress ?? "").replace(/^::ffff:/, "");
}
