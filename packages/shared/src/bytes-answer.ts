// Answers as raw bytes beside XML-RPC. A caller that sends BYTES_ANSWER_HEADER may get, instead of the XML
// answer, the result's `data` bytes as the body (application/octet-stream) and its other fields in one header,
// when the result is a struct of one `data` Buffer and otherwise integers and booleans (file.read's chunk).
// The call itself, its checks, ACL, audit and faults are XML-RPC as ever; a plain XML-RPC client never sends
// the header and never sees such an answer. Why: a pulled chunk as base64 in XML costs a third more bytes to
// encrypt and decrypt and a decode on each side (getfile ran at a third of a plain TLS stream's throughput).

import { FuncError } from "./errors.js";

/** Request header asking for a bytes answer where the result allows one. */
export const BYTES_ANSWER_HEADER = "x-func-answer";
/** Its one value. */
export const BYTES_ANSWER_VALUE = "bytes";
/** Content type of a bytes answer (an XML answer is text/xml). */
export const BYTES_CONTENT_TYPE = "application/octet-stream";
/** Response header carrying the result's fields other than `data`: `name=value` pairs, comma-separated. */
export const BYTES_FIELDS_HEADER = "x-func-fields";

/** The struct a bytes answer stands for. */
export type BytesResult = { data: Buffer } & Record<string, number | boolean | Buffer>;

const FIELD_NAME_RE = /^[a-z][a-z0-9_]{0,31}$/;
const INT_RE = /^(0|-?[1-9][0-9]{0,15})$/;
/** Most fields a bytes answer carries; a longer header is refused unread. */
const MAX_FIELDS = 16;
const MAX_FIELDS_HEADER_CHARS = 1024;

/** The header for `value`'s other fields when `value` can travel as a bytes answer, else null. */
export function bytesAnswerFields(value: unknown): string | null {
  if (typeof value !== "object" || value === null || Array.isArray(value) || Buffer.isBuffer(value)) return null;
  const v = value as Record<string, unknown>;
  if (!Buffer.isBuffer(v.data)) return null;
  const parts: string[] = [];
  for (const [name, field] of Object.entries(v)) {
    if (name === "data") continue;
    if (!FIELD_NAME_RE.test(name)) return null;
    if (typeof field === "boolean") parts.push(`${name}=${field}`);
    else if (typeof field === "number" && Number.isSafeInteger(field)) parts.push(`${name}=${field}`);
    else return null;
  }
  return parts.length > MAX_FIELDS ? null : parts.join(",");
}

/**
 * The struct a bytes answer stands for: `data` and the fields of its header, each checked (a name the encoder
 * could write, a safe integer or a boolean, no name twice, no `data`). A malformed header is a FuncError: the
 * answer is refused whole, never trusted in part.
 */
export function decodeBytesAnswer(fields: string | string[] | undefined, data: Buffer): BytesResult {
  if (fields !== undefined && typeof fields !== "string") throw new FuncError("BadArguments", `${BYTES_FIELDS_HEADER} came more than once`);
  // names start with a letter, so none is "__proto__" or any other the prototype answers to
  const out = {} as BytesResult;
  if (fields !== undefined && fields !== "") {
    if (fields.length > MAX_FIELDS_HEADER_CHARS) throw new FuncError("BadArguments", `${BYTES_FIELDS_HEADER} is over ${MAX_FIELDS_HEADER_CHARS} characters`);
    const pairs = fields.split(",");
    if (pairs.length > MAX_FIELDS) throw new FuncError("BadArguments", `${BYTES_FIELDS_HEADER} has over ${MAX_FIELDS} fields`);
    for (const pair of pairs) {
      const eq = pair.indexOf("=");
      const name = eq === -1 ? pair : pair.slice(0, eq);
      const text = eq === -1 ? "" : pair.slice(eq + 1);
      if (!FIELD_NAME_RE.test(name) || name === "data" || Object.hasOwn(out, name)) {
        throw new FuncError("BadArguments", `${BYTES_FIELDS_HEADER}: ${JSON.stringify(name.slice(0, 40))} is not a field name, or came twice`);
      }
      let field: number | boolean;
      if (text === "true" || text === "false") field = text === "true";
      else if (INT_RE.test(text) && Number.isSafeInteger(Number(text))) field = Number(text);
      else throw new FuncError("BadArguments", `${BYTES_FIELDS_HEADER}: ${name} is not an integer or a boolean`);
      out[name] = field;
    }
  }
  out.data = data;
  return out;
}
