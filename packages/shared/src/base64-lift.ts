// Large `<base64>` values taken out of an XML-RPC body before it is scanned and parsed: sax walks text one
// character at a time (~25 MB/s), so a file chunk of a few MiB cost ~100 ms per request. Each lifted value is
// canonical base64 (checked by re-encoding) and is put back only where the parser finds its placeholder.

import { randomBytes } from "node:crypto";

/** Smaller values are left in place: lifting them saves nothing. */
const LIFT_MIN_CHARS = 4096;
const OPEN = "<base64>";
const CLOSE = "</base64>";

export interface LiftedBase64 {
  /** the body with each lifted value replaced by `token + index` */
  text: string;
  values: Buffer[];
  /** unguessable per body, and outside the base64 alphabet, so no sender can forge a placeholder */
  token: string;
}

/** The body with its large canonical base64 values lifted out, or null when there are none. */
export function liftBase64(text: string): LiftedBase64 | null {
  let from = text.indexOf(OPEN);
  if (from === -1) return null;
  const token = `#${randomBytes(8).toString("hex")}#`;
  const parts: string[] = [];
  const values: Buffer[] = [];
  let copied = 0;
  while (from !== -1) {
    const start = from + OPEN.length;
    const end = text.indexOf(CLOSE, start);
    if (end === -1) break;
    if (end - start >= LIFT_MIN_CHARS) {
      const encoded = text.slice(start, end);
      const bytes = Buffer.from(encoded, "base64");
      // Buffer.from skips what is not base64: only a value that re-encodes to itself is exactly its bytes
      if (bytes.toString("base64") === encoded) {
        parts.push(text.slice(copied, start), `${token}${values.length}`);
        values.push(bytes);
        copied = end;
      }
    }
    from = text.indexOf(OPEN, end + CLOSE.length);
  }
  if (values.length === 0) return null;
  parts.push(text.slice(copied));
  return { text: parts.join(""), values, token };
}

const OPEN_BYTES = Buffer.from(OPEN, "latin1");
const CLOSE_BYTES = Buffer.from(CLOSE, "latin1");
const EQUALS = 0x3d;
/** Node's base64 decoder also takes the URL-safe alphabet; the parser refuses it, so a value with them stays. */
const URL_SAFE = [0x2d, 0x5f];

/** Base64 decoded a piece at a time, as short texts: a whole value as one text would be a copy of its size. */
const PIECE_CHARS = 64 * 1024;

/** `body[start, end)` decoded into a Buffer of `expected` bytes; null when it decodes to any other number. */
function decodePieces(body: Buffer, start: number, end: number, expected: number): Buffer | null {
  if (expected < 0) return null;
  const out = Buffer.allocUnsafe(expected);
  let written = 0;
  // pieces are a multiple of four characters long, so each decodes on its own
  for (let at = start; at < end; at += PIECE_CHARS) {
    written += out.write(body.toString("latin1", at, Math.min(end, at + PIECE_CHARS)), written, "base64");
  }
  return written === expected ? out : null;
}

/** Whether a found position (-1: none) lies before `end`. */
function within(at: number, end: number): boolean {
  return at !== -1 && at < end;
}

/**
 * liftBase64 for a body as it came (bytes): each large value is decoded straight from the bytes, and only the
 * text around the values is decoded (by `text`, strictly), so no text the size of the body is made. A value is
 * lifted only when it is made of the base64 alphabet alone, with at most two `=` at its end, and a multiple of
 * four long: the parser would then see exactly these characters and decode them the same way. Node's decoder
 * skips (or stops at) anything else, so such a value decodes to fewer bytes than its length says: that is the
 * check. Null when nothing is lifted.
 */
export function liftBase64Bytes(body: Buffer, text: (bytes: Buffer) => string): LiftedBase64 | null {
  let from = body.indexOf(OPEN_BYTES);
  if (from === -1) return null;
  const token = `#${randomBytes(8).toString("hex")}#`;
  const parts: string[] = [];
  const values: Buffer[] = [];
  let copied = 0;
  while (from !== -1) {
    const start = from + OPEN_BYTES.length;
    const end = body.indexOf(CLOSE_BYTES, start);
    if (end === -1) break;
    const length = end - start;
    if (length >= LIFT_MIN_CHARS && length % 4 === 0 && !URL_SAFE.some((c) => within(body.indexOf(c, start), end))) {
      const pad = body[end - 1] === EQUALS ? (body[end - 2] === EQUALS ? 2 : 1) : 0;
      const bytes = decodePieces(body, start, end, (length / 4) * 3 - pad);
      if (bytes !== null) {
        parts.push(text(body.subarray(copied, start)), `${token}${values.length}`);
        values.push(bytes);
        copied = end;
      }
    }
    from = body.indexOf(OPEN_BYTES, end + CLOSE_BYTES.length);
  }
  if (values.length === 0) return null;
  parts.push(text(body.subarray(copied)));
  return { text: parts.join(""), values, token };
}
