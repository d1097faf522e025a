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
