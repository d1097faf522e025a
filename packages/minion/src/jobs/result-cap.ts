// Bounds an async job's result before it is stored: long text (command output, logs) is cut, longest
// strings first, until the whole value fits the cap (async_result_cap), each cut string ending in a marker.

import type { WireValue } from "@func/shared";

/** Appended to every string the cap cut. */
export const RESULT_CUT_MARKER = "\n[func: cut to fit async_result_cap]\n";
/** Bytes counted for a scalar or a container's own framing: a rough stand-in for its encoded size. */
const SCALAR_BYTES = 8;

/** Approximate stored size of a value, bytes. */
export function valueSize(value: WireValue): number {
  if (typeof value === "string") return Buffer.byteLength(value);
  if (Buffer.isBuffer(value)) return value.length;
  if (Array.isArray(value)) return value.reduce<number>((n, v) => n + valueSize(v), SCALAR_BYTES);
  if (value !== null && typeof value === "object") {
    let n = SCALAR_BYTES;
    for (const [k, v] of Object.entries(value)) n += Buffer.byteLength(k) + valueSize(v);
    return n;
  }
  return SCALAR_BYTES;
}

function textLeaves(value: WireValue, out: number[]): void {
  if (typeof value === "string") out.push(Buffer.byteLength(value));
  else if (Buffer.isBuffer(value)) out.push(value.length);
  else if (Array.isArray(value)) for (const v of value) textLeaves(v, out);
  else if (value !== null && typeof value === "object") for (const v of Object.values(value)) textLeaves(v, out);
}

/** Cuts a UTF-8 string to at most `bytes` bytes without splitting a character. */
function cutString(s: string, bytes: number): string {
  const buf = Buffer.from(s, "utf8");
  let end = Math.max(0, bytes);
  // step back over continuation bytes (10xxxxxx) so the cut lands on a character boundary
  while (end > 0 && end < buf.length && (buf[end]! & 0xc0) === 0x80) end -= 1;
  return buf.subarray(0, end).toString("utf8");
}

function cutLeaves(value: WireValue, limit: number): WireValue {
  if (typeof value === "string") return Buffer.byteLength(value) > limit ? cutString(value, limit) + RESULT_CUT_MARKER : value;
  if (Buffer.isBuffer(value)) return value.length > limit ? Buffer.concat([value.subarray(0, limit), Buffer.from(RESULT_CUT_MARKER)]) : value;
  if (Array.isArray(value)) return value.map((v) => cutLeaves(v, limit));
  if (value !== null && typeof value === "object") {
    const out: Record<string, WireValue> = {};
    for (const [k, v] of Object.entries(value)) out[k] = cutLeaves(v, limit);
    return out;
  }
  return value;
}

/**
 * The value unchanged when it fits `cap` bytes; else every string longer than some limit L is cut to L
 * (L as large as fits). A value too big without its text is replaced by a note saying so.
 */
export function capResult(value: WireValue, cap: number): { value: WireValue; cut: boolean } {
  const size = valueSize(value);
  if (size <= cap) return { value, cut: false };
  const leaves: number[] = [];
  textLeaves(value, leaves);
  const text = leaves.reduce((a, b) => a + b, 0);
  const markers = Buffer.byteLength(RESULT_CUT_MARKER);
  const room = cap - (size - text);
  if (room <= markers * leaves.length) {
    return { value: `[func: a result of about ${size} bytes was dropped: over async_result_cap (${cap} bytes)]`, cut: true };
  }
  // water-filling: the largest L with sum(min(len, L)) + markers for the cut ones <= room
  leaves.sort((a, b) => a - b);
  let used = 0;
  let limit = 0;
  for (let i = 0; i < leaves.length; i++) {
    const rest = leaves.length - i;
    const even = Math.floor((room - used) / rest) - markers;
    if (leaves[i]! <= even) {
      used += leaves[i]!;
      continue;
    }
    limit = Math.max(0, even);
    break;
  }
  return { value: cutLeaves(value, limit), cut: true };
}
