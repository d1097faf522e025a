// The typed XML-RPC codec of @func/shared: toWire checks JS values before they travel, encode* writes calls,
// responses and faults with the xmlrpc package's Serializer, decode* reads them with its Deserializer behind a
// linear pre-scan against hostile bodies and a strict grammar check. Both the minion and the overlord use it.

import { randomBytes } from "node:crypto";
import { createRequire } from "node:module";
import { liftBase64, liftBase64Bytes, type LiftedBase64 } from "./base64-lift.js";
import { DEFAULTS } from "./config.js";
import { FuncError } from "./errors.js";
import { XML_ILLEGAL_CHAR } from "./xml-chars.js";

/** What may travel: no undefined, BigInt, NaN, functions, Date (times are epoch seconds or ISO strings). */
export type WireValue = string | number | boolean | null | Buffer | WireValue[] | { [key: string]: WireValue };

export interface CodecLimits {
  /** largest body accepted, in bytes (UTF-8) */
  maxBodyBytes: number;
  /** deepest nesting of <array>/<struct> accepted (a top-level array is depth 1) */
  maxDepth: number;
  /** most <value> elements accepted in one body */
  maxElements: number;
  /** largest single string, struct key or base64 value, in bytes; unset means only maxBodyBytes bounds it */
  maxStringBytes?: number;
}

/**
 * The codec's default limits are minion.conf's defaults (config.ts DEFAULTS, the one defaults object):
 * `max_body_bytes` 4 MiB holds any normal call or result and bounds parse time to well under a second;
 * `max_depth` 64: real payloads nest a handful of levels and recursion over decoded values stays cheap;
 * `max_elements` 100k values is far past any real payload and bounds the objects one body can allocate.
 */
export const CODEC_LIMITS: CodecLimits = Object.freeze({
  maxBodyBytes: DEFAULTS.minion.maxBodyBytes,
  maxDepth: DEFAULTS.minion.maxDepth,
  maxElements: DEFAULTS.minion.maxElements,
});

/** Longest method name accepted (module.method names are short; this bounds what an error message echoes). */
export const MAX_METHOD_NAME_LENGTH = 200;
/** Method names: up to five dotted identifiers, so no `/`, `..`, NUL or spaces ever reach dispatch. */
export const WIRE_METHOD_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*){0,4}$/;

export interface DecodeOptions {
  /** turn base64 values that are valid UTF-8 into strings (strings with control characters travel as base64) */
  bytesAsText?: boolean;
}

/** A fault answer from the peer: rejected by decodeResponse. */
export class XmlRpcFault extends Error {
  readonly faultCode: number;
  readonly faultString: string;

  constructor(faultCode: number, faultString: string) {
    super(`XML-RPC fault ${faultCode}: ${faultString}`);
    this.name = "XmlRpcFault";
    this.faultCode = faultCode;
    this.faultString = faultString;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Minimal typings for the parts of xmlrpc (and its sax) we use. @types/xmlrpc describes only the client/server
// and gets the lib modules wrong, so these are written against node_modules/xmlrpc/lib/*.js (xmlrpc 1.3.2).

interface CustomTypeInstance {
  raw: string;
  tagName: string;
}
type CustomTypeCtor = new (raw: string) => CustomTypeInstance;

interface SerializerModule {
  serializeMethodCall(method: string, params: unknown[], encoding?: string): string;
  serializeMethodResponse(value: unknown): string;
  serializeFault(fault: { faultCode: number; faultString: unknown }): string;
}

interface SaxTag {
  name: string;
  attributes: Record<string, unknown>;
  isSelfClosing: boolean;
}

/** Where Deserializer.deserializeMethod* pipe the text: sax's stream, or our adapter over its bare parser. */
interface SaxStream {
  write(chunk: string): unknown;
  end(): void;
}

interface SaxParser {
  write(chunk: string): SaxParser;
  close(): SaxParser;
  error: Error | null;
  onopentag: ((node: SaxTag) => void) | null;
  onclosetag: ((name: string) => void) | null;
  ontext: ((text: string) => void) | null;
  oncdata: ((text: string) => void) | null;
  onend: (() => void) | null;
  onerror: ((err: Error) => void) | null;
}

interface SaxModule {
  parser(
    strict: boolean,
    options: { trim?: boolean; normalize?: boolean; position?: boolean; strictEntities?: boolean; xmlns?: boolean },
  ): SaxParser;
}

/** What Deserializer.deserializeMethod* read from their `stream` argument. */
interface SourceStream {
  setEncoding(encoding: string): void;
  on(event: string, listener: (arg: never) => void): SourceStream;
  pipe(dest: SaxStream): void;
}

type DeserializerCallback = (error: Error | null | undefined, a?: unknown, b?: unknown) => void;

interface DeserializerInstance {
  encoding: string;
  type: string | null;
  responseType: string | null;
  stack: unknown[];
  marks: number[];
  data: string[];
  methodname: string | null;
  value: boolean;
  error: Error | null;
  callback: DeserializerCallback | null;
  parser: SaxStream;
  deserializeMethodCall(stream: SourceStream, callback: DeserializerCallback): void;
  deserializeMethodResponse(stream: SourceStream, callback: DeserializerCallback): void;
  onOpentag(node: SaxTag): void;
  onClosetag(name: string): void;
  onText(text: string): void;
  onCDATA(text: string): void;
  onDone(): void;
  onError(error: Error | string): void;
  push(value: unknown): void;
  endInt(data: string): void;
  endI8(data: string): void;
  endDouble(data: string): void;
  endString(data: string): void;
  endBase64(data: string): void;
  endDateTime(data: string): void;
  endStruct(data: string): void;
  endMethodName(data: string): void;
}
type DeserializerCtor = new (encoding?: string) => DeserializerInstance;

const require = createRequire(import.meta.url);
const Serializer = require("xmlrpc/lib/serializer") as SerializerModule;
const Deserializer = require("xmlrpc/lib/deserializer") as DeserializerCtor;
const CustomType = require("xmlrpc/lib/customtype") as CustomTypeCtor;
// the very sax the Deserializer uses (resolved from its own location), so we can run it in strict mode
const sax = createRequire(require.resolve("xmlrpc/lib/deserializer"))("sax") as SaxModule;

// ---------------------------------------------------------------------------------------------------------
// Character classes

/** A UTF-16 surrogate without its partner: no UTF-8 encoding exists for it. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const XML_UNSAFE_GLOBAL = new RegExp(`${XML_ILLEGAL_CHAR.source}|${LONE_SURROGATE.source}`, "g");
const XML_WHITESPACE = /^[ \t\r\n]*$/;
const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;
const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
const UTF8_STRICT = new TextDecoder("utf-8", { fatal: true });

// ---------------------------------------------------------------------------------------------------------
// toWire

/**
 * Checks and normalises a JS value for the wire; throws FuncError("BadArguments", ...) naming the path
 * (e.g. "args[1].x") of an undefined, BigInt outside the safe-integer range, NaN or Infinity, function, symbol,
 * Date, Map/Set, a non-plain object, a cycle, a string or key with a lone surrogate, or a struct key with an
 * XML-illegal character; FuncError("LimitExceeded") for nesting deeper than CODEC_LIMITS.maxDepth.
 * Normalising: a string with XML-illegal characters (ANSI escapes, NUL...) becomes a Buffer of its UTF-8 (it
 * travels as base64), a safe BigInt becomes a number, a Uint8Array becomes a Buffer; symbol keys are ignored.
 */
export function toWire(value: unknown, path = "value"): WireValue {
  return checkValue(value, path, 0, new Set());
}

function bad(path: string, what: string): FuncError {
  return new FuncError("BadArguments", `${path}: ${what}`);
}

function checkValue(value: unknown, path: string, depth: number, ancestors: Set<object>): WireValue {
  switch (typeof value) {
    case "string":
      if (LONE_SURROGATE.test(value)) throw bad(path, "string has a lone surrogate (not valid Unicode)");
      return XML_ILLEGAL_CHAR.test(value) ? Buffer.from(value, "utf8") : value;
    case "number":
      if (!Number.isFinite(value)) throw bad(path, `${value} is not allowed (numbers must be finite)`);
      return value;
    case "boolean":
      return value;
    case "bigint":
      if (value < BigInt(Number.MIN_SAFE_INTEGER) || value > BigInt(Number.MAX_SAFE_INTEGER)) {
        throw bad(path, "BigInt outside the safe integer range cannot travel (send it as a string)");
      }
      return Number(value);
    case "undefined":
      throw bad(path, "undefined cannot travel (use null)");
    case "function":
      throw bad(path, "a function cannot travel");
    case "symbol":
      throw bad(path, "a symbol cannot travel");
  }
  if (value === null) return null;
  const obj = value as object;
  if (Buffer.isBuffer(obj)) return obj;
  if (obj instanceof Uint8Array) return Buffer.from(obj.buffer, obj.byteOffset, obj.byteLength);
  if (obj instanceof Date) throw bad(path, "a Date cannot travel (send epoch seconds or an ISO-8601 string)");
  if (obj instanceof Map || obj instanceof Set) throw bad(path, `a ${obj.constructor.name} cannot travel (use an array or object)`);
  const isArray = Array.isArray(obj);
  const proto: unknown = Object.getPrototypeOf(obj);
  if (!isArray && proto !== Object.prototype && proto !== null) {
    const name = (obj as { constructor?: { name?: unknown } }).constructor?.name;
    throw bad(path, `a ${typeof name === "string" && name ? name : "non-plain"} object cannot travel (only plain objects and arrays)`);
  }
  if (ancestors.has(obj)) throw bad(path, "circular reference");
  if (depth + 1 > CODEC_LIMITS.maxDepth) {
    throw new FuncError("LimitExceeded", `${path}: nested deeper than ${CODEC_LIMITS.maxDepth} arrays/objects`);
  }
  ancestors.add(obj);
  try {
    if (isArray) {
      const arr = obj as unknown[];
      const out: WireValue[] = new Array<WireValue>(arr.length);
      for (let i = 0; i < arr.length; i++) out[i] = checkValue(arr[i], `${path}[${i}]`, depth + 1, ancestors);
      return out;
    }
    const out: { [key: string]: WireValue } = {};
    for (const key of Object.keys(obj)) {
      const childPath = IDENTIFIER.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(clip(key))}]`;
      if (XML_ILLEGAL_CHAR.test(key) || LONE_SURROGATE.test(key)) {
        throw bad(childPath, "struct key has a character XML cannot carry");
      }
      defineKey(out, key, checkValue((obj as Record<string, unknown>)[key], childPath, depth + 1, ancestors));
    }
    return out;
  } finally {
    ancestors.delete(obj);
  }
}

/** Sets an own enumerable property, so a key such as "__proto__" stays data and never touches the prototype. */
function defineKey(target: object, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function clip(text: string, max = 40): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

// ---------------------------------------------------------------------------------------------------------
// Encoding

function typed(tagName: string, raw: string): CustomTypeInstance {
  const t = new CustomType(raw);
  t.tagName = tagName;
  return t;
}

/**
 * Maps a checked WireValue to what the Serializer should see. Its own number rule writes `<int>` for every
 * integral number (so 2**40 breaks the spec's 32-bit `<int>` and 1e21 goes as `<int>1e+21</int>`, which no
 * peer parses) and -0 as 0; strings with `<` or `&` go as CDATA, where a conforming parser turns CR into LF. So numbers outside
 * int32 and all strings go as CustomTypes, whose text is escaped (`&lt;`, `&amp;`, `&#xD;`).
 */
function toSerializable(value: WireValue, splice?: Splice): unknown {
  if (typeof value === "string") return typed("string", value);
  if (typeof value === "number") {
    if (Number.isInteger(value) && !Object.is(value, -0)) {
      if (value >= INT32_MIN && value <= INT32_MAX) return value;
      if (Number.isSafeInteger(value)) return typed("i8", String(value));
    }
    return typed("double", Object.is(value, -0) ? "-0" : String(value));
  }
  if (Buffer.isBuffer(value) && splice && value.length >= SPLICE_MIN_BYTES) {
    splice.values.push(value);
    return typed("base64", `${splice.token}${splice.values.length - 1}#`);
  }
  if (value === null || typeof value === "boolean" || Buffer.isBuffer(value)) return value;
  if (Array.isArray(value)) return value.map((v) => toSerializable(v, splice));
  const out = {};
  for (const key of Object.keys(value)) defineKey(out, key, toSerializable(value[key]!, splice));
  return out;
}

/** Buffers from this size on are serialized as placeholders and spliced in after (file chunks). */
const SPLICE_MIN_BYTES = 32 * 1024;

/**
 * Large Buffers the serializer sees only as placeholders: its text escaping walks every character (~10 ms
 * per MiB of base64), and base64 needs none. The token is random per body, so no string value can forge it.
 */
interface Splice {
  token: string;
  values: Buffer[];
}

function newSplice(): Splice {
  return { token: `#${randomBytes(8).toString("hex")}#`, values: [] };
}

function spliceIn(xml: string, splice: Splice): string {
  if (splice.values.length === 0) return xml;
  return xml.replace(new RegExp(`${splice.token}(\\d+)#`, "g"), (_, i: string) => splice.values[Number(i)]!.toString("base64"));
}

/**
 * spliceIn's bytes: the UTF-8 of the text around the placeholders, each value's base64 written straight in
 * (one pass to encode, one copy), with no text the size of the whole body.
 */
function spliceBytes(xml: string, splice: Splice): Buffer {
  if (splice.values.length === 0) return Buffer.from(xml, "utf8");
  const pieces: (string | Buffer)[] = [];
  let last = 0;
  for (const m of xml.matchAll(new RegExp(`${splice.token}(\\d+)#`, "g"))) {
    pieces.push(Buffer.from(xml.slice(last, m.index), "utf8"), splice.values[Number(m[1])]!.toString("base64"));
    last = m.index + m[0].length;
  }
  pieces.push(Buffer.from(xml.slice(last), "utf8"));
  const out = Buffer.allocUnsafe(pieces.reduce((n, p) => n + p.length, 0));
  let at = 0;
  // base64 is ASCII: as latin1 each character is its byte
  for (const p of pieces) at += typeof p === "string" ? out.write(p, at, "latin1") : p.copy(out, at);
  return out;
}

function serialize(build: () => string): string {
  try {
    return build();
  } catch (err) {
    // toWire has removed everything xmlbuilder rejects, so this is a bug; still a clean error, not a crash
    throw new FuncError("BadArguments", `cannot encode: ${(err as Error).message}`, { cause: err });
  }
}

/** Whether `method` may travel: at most MAX_METHOD_NAME_LENGTH chars matching WIRE_METHOD_NAME_RE. */
export function isValidMethodName(method: string): boolean {
  return method.length <= MAX_METHOD_NAME_LENGTH && WIRE_METHOD_NAME_RE.test(method);
}

/** A methodCall; throws FuncError("BadArguments") for a bad method name or an argument toWire refuses. */
export function encodeCall(method: string, params: readonly unknown[]): string {
  if (typeof method !== "string" || !isValidMethodName(method)) {
    throw new FuncError("BadArguments", `invalid method name ${JSON.stringify(clip(String(method)))}`);
  }
  const splice = newSplice();
  const wire = params.map((p, i) => toSerializable(toWire(p, `args[${i}]`), splice));
  return spliceIn(serialize(() => Serializer.serializeMethodCall(method, wire)), splice);
}

/** encodeCall as the bytes that go on the wire (UTF-8); large Buffers' base64 is written into them directly. */
export function encodeCallBytes(method: string, params: readonly unknown[]): Buffer {
  if (typeof method !== "string" || !isValidMethodName(method)) {
    throw new FuncError("BadArguments", `invalid method name ${JSON.stringify(clip(String(method)))}`);
  }
  const splice = newSplice();
  const wire = params.map((p, i) => toSerializable(toWire(p, `args[${i}]`), splice));
  return spliceBytes(serialize(() => Serializer.serializeMethodCall(method, wire)), splice);
}

/** encodeResponse as the bytes that go on the wire (UTF-8); large Buffers' base64 is written into them directly. */
export function encodeResponseBytes(value: unknown): Buffer {
  const splice = newSplice();
  const wire = toSerializable(toWire(value, "result"), splice);
  return spliceBytes(serialize(() => Serializer.serializeMethodResponse(wire)), splice);
}

/** A methodResponse carrying one value; throws FuncError("BadArguments") for a value toWire refuses. */
export function encodeResponse(value: unknown): string {
  const splice = newSplice();
  const wire = toSerializable(toWire(value, "result"), splice);
  return spliceIn(serialize(() => Serializer.serializeMethodResponse(wire)), splice);
}

/**
 * A fault methodResponse. The fault string must stay a `<string>` (Python reads faultString as str), so
 * characters XML cannot carry are written as visible escapes (`\x1b`, `\ud800`) rather than sent as base64.
 * Throws FuncError("BadArguments") when faultCode is not an int32 integer (a programming error).
 */
export function encodeFault(faultCode: number, faultString: string): string {
  if (!Number.isInteger(faultCode) || faultCode < INT32_MIN || faultCode > INT32_MAX) {
    throw new FuncError("BadArguments", `fault code ${faultCode} is not an int32 integer`);
  }
  const text = String(faultString).replace(XML_UNSAFE_GLOBAL, (c) => {
    const code = c.charCodeAt(0);
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`;
  });
  return serialize(() => Serializer.serializeFault({ faultCode, faultString: typed("string", text) }));
}

// ---------------------------------------------------------------------------------------------------------
// Decoding: pre-scan

function notXmlRpc(message: string): FuncError {
  return new FuncError("NotXmlRpc", message);
}

function limitExceeded(message: string): FuncError {
  return new FuncError("LimitExceeded", message);
}

/** `<array`, `<struct`, `<value` open, close or self-closing tags, spaced the ways sax accepts (`< /value >`). */
const COUNTED_TAG = /<\s*(\/?)\s*(array|struct|value)(?=[\s/>])([^<>]*)>/gi;
const MARKUP_DECLARATION = /<!\s*(?:doctype|entity)/i;

/**
 * The guard run before any parsing: size, UTF-8, characters XML forbids, DOCTYPE/ENTITY, entity references, and an over-approximate count of nesting
 * and values (case-insensitive, counting inside CDATA and comments too), all in one linear pass that stops
 * at the first limit. The parser re-checks depth and values exactly as it goes.
 */
function preScan(body: string | Buffer, limits: CodecLimits): string {
  let text: string;
  if (typeof body === "string") {
    // each UTF-16 unit is at least one UTF-8 byte, so the cheap length test settles most oversized bodies
    if (body.length > limits.maxBodyBytes || Buffer.byteLength(body, "utf8") > limits.maxBodyBytes) {
      throw limitExceeded(`body over ${limits.maxBodyBytes} bytes`);
    }
    if (LONE_SURROGATE.test(body)) throw notXmlRpc("body is not valid Unicode (lone surrogate)");
    text = body;
  } else if (Buffer.isBuffer(body)) {
    if (body.length > limits.maxBodyBytes) throw limitExceeded(`body over ${limits.maxBodyBytes} bytes`);
    try {
      text = UTF8_STRICT.decode(body);
    } catch {
      throw notXmlRpc("body is not valid UTF-8");
    }
  } else {
    throw notXmlRpc("body is neither a string nor a Buffer");
  }
  if (XML_WHITESPACE.test(text.replace(/^\uFEFF/, ""))) throw notXmlRpc("empty body");
  // sax lets raw control characters through; XML 1.0 (and Python's expat) refuse them anywhere in a document
  const illegal = XML_ILLEGAL_CHAR.exec(text);
  if (illegal) throw notXmlRpc(`body has a character XML 1.0 forbids (U+${illegal[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")})`);
  // sax leaves entities unexpanded, but nothing legitimate carries a DTD: refuse it outright
  if (MARKUP_DECLARATION.test(text)) throw notXmlRpc("DOCTYPE and ENTITY declarations are not accepted");

  checkReferences(text);

  let depth = 0;
  let values = 0;
  COUNTED_TAG.lastIndex = 0;
  for (let m = COUNTED_TAG.exec(text); m !== null; m = COUNTED_TAG.exec(text)) {
    const closing = m[1] === "/";
    const selfClosing = !closing && m[3]!.trimEnd().endsWith("/");
    const name = m[2]!.toLowerCase();
    if (name === "value") {
      if (!closing && ++values > limits.maxElements) throw limitExceeded(`more than ${limits.maxElements} values`);
    } else if (closing) {
      if (depth > 0) depth--;
    } else if (!selfClosing && ++depth > limits.maxDepth) {
      throw limitExceeded(`arrays/structs nested deeper than ${limits.maxDepth}`);
    }
  }
  return text;
}

/** The only references accepted: the five XML predefined entities and character references. */
const REFERENCE = /^&(?:amp|lt|gt|quot|apos|#x([0-9A-Fa-f]{1,6})|#([0-9]{1,7}));/;

function isXmlChar(code: number): boolean {
  return code === 0x9 || code === 0xa || code === 0xd || (code >= 0x20 && code <= 0xd7ff) ||
    (code >= 0xe000 && code <= 0xfffd) || (code >= 0x10000 && code <= 0x10ffff);
}

/**
 * Every `&` outside CDATA sections and comments must start a predefined entity or a reference to an XML
 * character. sax looks entity names up on a plain object, so `&constructor;` would expand to
 * "function Object() { [native code] }", and `&#x110000;` makes it throw from String.fromCodePoint.
 * Two forward-only cursors (next `&`, next `<!`) keep this linear.
 */
function checkReferences(text: string): void {
  let amp = text.indexOf("&");
  let decl = text.indexOf("<!");
  while (amp !== -1) {
    if (decl !== -1 && decl < amp) {
      const close = text.startsWith("<![CDATA[", decl) ? "]]>" : text.startsWith("<!--", decl) ? "-->" : null;
      let resume = decl + 2;
      if (close) {
        const end = text.indexOf(close, decl + 4);
        if (end === -1) return; // unterminated: sax reports it
        resume = end + 3;
      }
      decl = text.indexOf("<!", resume);
      if (amp < resume) amp = text.indexOf("&", resume);
      continue;
    }
    const m = REFERENCE.exec(text.slice(amp, amp + 16));
    if (!m) throw notXmlRpc(`unknown entity reference ${JSON.stringify(/^&[^;<\s]{0,14};?/.exec(text.slice(amp, amp + 16))![0])}`);
    const hex = m[1];
    const dec = m[2];
    if (hex !== undefined || dec !== undefined) {
      const code = hex !== undefined ? parseInt(hex, 16) : parseInt(dec!, 10);
      if (!isXmlChar(code)) throw notXmlRpc(`character reference ${m[0]} is not an XML character`);
    }
    amp = text.indexOf("&", amp + 1);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Decoding: the guarded Deserializer

const SCALAR_TAGS = ["i4", "int", "i8", "boolean", "string", "double", "dateTime.iso8601", "base64"] as const;
/** Which children each element may have (XML-RPC spec plus `<i8>` and `<nil/>`). Absent: a leaf. */
const CHILDREN: Readonly<Record<string, ReadonlySet<string>>> = {
  methodCall: new Set(["methodName", "params"]),
  methodResponse: new Set(["params", "fault"]),
  params: new Set(["param"]),
  param: new Set(["value"]),
  fault: new Set(["value"]),
  value: new Set([...SCALAR_TAGS, "nil", "array", "struct"]),
  array: new Set(["data"]),
  data: new Set(["value"]),
  struct: new Set(["member"]),
  member: new Set(["name", "value"]),
};
/** Leaves whose text is their value; other elements may hold only whitespace (`value` holds text or a child). */
const TEXT_TAGS: ReadonlySet<string> = new Set<string>([...SCALAR_TAGS, "methodName", "name", "value"]);

/** Chunk size we feed sax with, so parsing stops within one chunk of the first error. */
const PARSE_CHUNK = 64 * 1024;

interface Frame {
  tag: string;
  count: number;
  /** the first two child tags, enough to check every fixed-shape element */
  first?: string;
  second?: string;
  text: boolean;
}

const SAX_OPTIONS = { trim: false, normalize: false, position: true, strictEntities: true, xmlns: false };

/**
 * Deserializer's own constructor, minus the loose sax stream it builds and we would only replace: the same
 * initial state (xmlrpc 1.3.2's constructor, field for field) on Deserializer's prototype.
 */
const DeserializerState = function (this: DeserializerInstance, encoding?: string) {
  this.type = null;
  this.responseType = null;
  this.stack = [];
  this.marks = [];
  this.data = [];
  this.methodname = null;
  this.encoding = encoding || "utf8";
  this.value = false;
  this.callback = null;
  this.error = null;
} as unknown as DeserializerCtor;
DeserializerState.prototype = Deserializer.prototype;

/**
 * The xmlrpc Deserializer with its loose sax parser swapped for a strict one (mismatched or unclosed tags,
 * unknown entities and text outside the root become errors instead of being repaired silently), a grammar
 * check on every element, in-parse depth/value/string limits, and value rules of our own: int32 range for
 * `<int>`, safe integers for `<i8>` (it returns strings), finite doubles, strict base64, dateTime as an
 * ISO-8601 string, struct keys as own properties (its `struct[key] = v` lets "__proto__" replace the
 * prototype), and a method name check. Tag names reach the base class upper-cased, as its loose parser gave them.
 */
class GuardedDeserializer extends DeserializerState {
  readonly #limits: CodecLimits;
  readonly #root: "methodCall" | "methodResponse";
  readonly #frames: Frame[] = [];
  readonly #lifted: LiftedBase64 | null;
  #sawRoot = false;
  #values = 0;
  #depth = 0;
  /** lifted base64 values put back so far (each exactly once, in order) */
  #restored = 0;

  constructor(limits: CodecLimits, root: "methodCall" | "methodResponse", lifted: LiftedBase64 | null = null) {
    super("utf8");
    this.#limits = limits;
    this.#root = root;
    this.#lifted = lifted;
    // sax's bare parser, not its stream wrapper: the wrapper costs more to build than a small body costs to
    // parse (the handlers below are what it would have forwarded to, event for event)
    const parser = sax.parser(true, SAX_OPTIONS);
    parser.onopentag = (node) => this.onOpentag(node);
    parser.onclosetag = (name) => this.onClosetag(name);
    parser.ontext = (text) => this.onText(text);
    parser.oncdata = (text) => this.onCDATA(text);
    parser.onend = () => this.onDone();
    parser.onerror = (err) => {
      this.onError(err);
      parser.error = null; // handled, as sax's stream does, so a later write does not throw it again
    };
    this.parser = { write: (chunk) => parser.write(chunk), end: () => parser.close() };
  }

  /** Runs `step`; anything it throws becomes the parse error instead of escaping through sax's emit. */
  #guard(step: () => void): void {
    if (this.error) return;
    try {
      step();
    } catch (err) {
      this.onError(err as Error);
    }
  }

  override onOpentag(node: SaxTag): void {
    this.#guard(() => {
      const tag = node.name;
      const parent = this.#frames.at(-1);
      if (!parent) {
        if (this.#sawRoot) throw notXmlRpc("more than one root element");
        if (tag !== this.#root) throw notXmlRpc(`root element is <${clip(tag)}>, expected <${this.#root}>`);
        this.#sawRoot = true;
      } else {
        if (!CHILDREN[parent.tag]?.has(tag)) throw notXmlRpc(`<${clip(tag)}> is not allowed in <${parent.tag}>`);
        if (parent.tag === "value" && parent.text) throw notXmlRpc("<value> has both text and a typed child");
        parent.count++;
        if (parent.count === 1) parent.first = tag;
        else if (parent.count === 2) parent.second = tag;
      }
      if (tag === "value" && ++this.#values > this.#limits.maxElements) {
        throw limitExceeded(`more than ${this.#limits.maxElements} values`);
      }
      if ((tag === "array" || tag === "struct") && ++this.#depth > this.#limits.maxDepth) {
        throw limitExceeded(`arrays/structs nested deeper than ${this.#limits.maxDepth}`);
      }
      this.#frames.push({ tag, count: 0, text: false });
      super.onOpentag({ ...node, name: tag.toUpperCase() });
    });
  }

  override onClosetag(name: string): void {
    this.#guard(() => {
      const frame = this.#frames.pop();
      if (!frame || frame.tag !== name) throw notXmlRpc(`unexpected </${clip(name)}>`);
      checkShape(frame, this.#frames.at(-1)?.tag);
      if (name === "array" || name === "struct") this.#depth--;
      super.onClosetag(name.toUpperCase());
    });
  }

  override onText(text: string): void {
    this.#guard(() => {
      const frame = this.#frames.at(-1);
      if (XML_WHITESPACE.test(text)) {
        super.onText(text);
        return;
      }
      if (!frame || !TEXT_TAGS.has(frame.tag)) throw notXmlRpc(`text is not allowed in <${frame?.tag ?? "document"}>`);
      if (frame.tag === "value" && frame.count > 0) throw notXmlRpc("<value> has both text and a typed child");
      frame.text = true;
      super.onText(text);
    });
  }

  override onCDATA(text: string): void {
    this.onText(text);
  }

  override onDone(): void {
    this.#guard(() => {
      if (this.#frames.length > 0 || !this.#sawRoot) throw notXmlRpc("truncated or empty document");
      if (this.#lifted && this.#restored !== this.#lifted.values.length) throw new LiftMismatch();
      if (this.type === "methodresponse" && this.responseType === "fault" && this.callback) {
        this.callback(faultFrom(this.stack[0]));
        return;
      }
      super.onDone();
    });
  }

  #checkStringBytes(data: string): void {
    const max = this.#limits.maxStringBytes;
    if (max !== undefined && (data.length > max || Buffer.byteLength(data, "utf8") > max)) {
      throw limitExceeded(`a string is over ${max} bytes`);
    }
  }

  override endString(data: string): void {
    this.#checkStringBytes(data);
    super.endString(data);
  }

  override endInt(data: string): void {
    const text = data.trim();
    const n = /^[+-]?\d+$/.test(text) ? Number(text) : NaN;
    if (!Number.isInteger(n) || n < INT32_MIN || n > INT32_MAX) throw notXmlRpc(`bad <int> ${JSON.stringify(clip(data))}`);
    this.push(n === 0 ? 0 : n); // "-0" is 0
    this.value = false;
  }

  override endI8(data: string): void {
    const text = data.trim();
    if (!/^[+-]?\d+$/.test(text)) throw notXmlRpc(`bad <i8> ${JSON.stringify(clip(data))}`);
    const n = Number(text);
    // a rounded Number is never a safe integer when the digits were not, so no precision is lost silently
    if (!Number.isSafeInteger(n)) throw new FuncError("BadArguments", `<i8> ${clip(text)} is outside the safe integer range`);
    this.push(n === 0 ? 0 : n);
    this.value = false;
  }

  override endDouble(data: string): void {
    const text = data.trim();
    if (!/^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/.test(text)) {
      // Python writes float('nan') and float('inf') as "nan" / "inf": valid for it, not a WireValue for us
      if (/^[+-]?(?:nan|inf|infinity)$/i.test(text)) throw new FuncError("BadArguments", `non-finite <double> ${text}`);
      throw notXmlRpc(`bad <double> ${JSON.stringify(clip(data))}`);
    }
    const n = Number(text);
    if (!Number.isFinite(n)) throw new FuncError("BadArguments", `<double> ${clip(text)} overflows`);
    this.push(n);
    this.value = false;
  }

  override endBase64(data: string): void {
    const lifted = this.#lifted;
    if (lifted && data === `${lifted.token}${this.#restored}`) {
      const bytes = lifted.values[this.#restored++]!;
      const max = this.#limits.maxStringBytes;
      if (max !== undefined && bytes.length > max) throw limitExceeded(`a base64 value is over ${max} bytes`);
      this.push(bytes);
      this.value = false;
      return;
    }
    const text = data.replace(/[ \t\r\n]+/g, ""); // Python wraps base64 at 76 columns
    if (text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) throw notXmlRpc("bad <base64>");
    const bytes = Buffer.from(text, "base64");
    const max = this.#limits.maxStringBytes;
    if (max !== undefined && bytes.length > max) throw limitExceeded(`a base64 value is over ${max} bytes`);
    this.push(bytes);
    this.value = false;
  }

  override endDateTime(data: string): void {
    this.push(isoDateTime(data.trim()));
    this.value = false;
  }

  override endStruct(_data: string): void {
    const mark = this.marks.pop() ?? 0;
    const items = this.stack.splice(mark);
    const struct = {};
    for (let i = 0; i + 1 < items.length; i += 2) defineKey(struct, String(items[i]), items[i + 1]);
    this.push(struct);
    this.value = false;
  }

  override endMethodName(data: string): void {
    if (!isValidMethodName(data)) throw notXmlRpc(`invalid method name ${JSON.stringify(clip(data))}`);
    super.endMethodName(data);
  }
}

/** Checks the element's children when it closes (its opening tag already checked which children may appear). */
function checkShape(frame: Frame, parentTag: string | undefined): void {
  const { tag, count, first, second } = frame;
  let ok = true;
  switch (tag) {
    case "methodCall":
      ok = first === "methodName" && (count === 1 || (count === 2 && second === "params"));
      break;
    case "methodResponse":
    case "param":
    case "fault":
    case "array":
      ok = count === 1;
      break;
    case "params":
      // a response carries exactly one value; a call any number
      ok = parentTag !== "methodResponse" || count === 1;
      break;
    case "member":
      ok = count === 2 && first === "name" && second === "value";
      break;
    case "value":
      ok = count <= 1; // text, or one typed child
      break;
  }
  if (!ok) throw notXmlRpc(`malformed <${tag}>`);
}

/** The fault's struct as an XmlRpcFault, or a NotXmlRpc error when it is not `{faultCode: int, faultString}`. */
function faultFrom(value: unknown): Error {
  const v = value as { faultCode?: unknown; faultString?: unknown } | null | undefined;
  if (v === null || typeof v !== "object" || Buffer.isBuffer(v) || Array.isArray(v)) return notXmlRpc("malformed <fault>");
  const code = v.faultCode;
  const text = Buffer.isBuffer(v.faultString) ? v.faultString.toString("utf8") : v.faultString;
  if (typeof code !== "number" || !Number.isInteger(code) || typeof text !== "string") return notXmlRpc("malformed <fault>");
  return new XmlRpcFault(code, text);
}

const DATE_TIME = /^(\d{4})-?(\d{2})-?(\d{2})T(\d{2}):?(\d{2}):?(\d{2})(\.\d+)?(Z|[+-]\d{2}(?::?\d{2})?)?$/;

/**
 * `<dateTime.iso8601>` as an extended ISO-8601 string. XML-RPC dates carry no zone (Python writes local
 * `20240102T03:04:05`), so none is invented: a zone is kept only when the sender gave one.
 */
function isoDateTime(text: string): string {
  const m = DATE_TIME.exec(text);
  if (!m) throw notXmlRpc(`bad <dateTime.iso8601> ${JSON.stringify(clip(text))}`);
  const [, y, mo, d, h, mi, s, frac = "", zone = ""] = m;
  const month = Number(mo);
  const day = Number(d);
  const daysInMonth = new Date(Date.UTC(Number(y), month, 0)).getUTCDate();
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth || Number(h) > 23 || Number(mi) > 59 || Number(s) > 60) {
    throw notXmlRpc(`bad <dateTime.iso8601> ${JSON.stringify(clip(text))}`);
  }
  const z = zone === "" || zone === "Z" ? zone : `${zone.slice(0, 3)}:${zone.length > 3 ? zone.slice(-2) : "00"}`;
  return `${y}-${mo}-${d}T${h}:${mi}:${s}${frac}${z}`;
}

/** Any parse failure as a FuncError (ours pass through; sax and xmlrpc messages become NotXmlRpc). */
function decodeError(err: unknown): Error {
  if (err instanceof FuncError || err instanceof XmlRpcFault) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new FuncError("NotXmlRpc", `malformed XML-RPC: ${clip(message.replace(/\s*\n\s*/g, ", "), 200)}`, { cause: err });
}

/**
 * Feeds `text` to a GuardedDeserializer. The "stream" handed to deserializeMethod* writes synchronously in
 * chunks inside try/catch: a sax throw (e.g. `&#x110000;` makes String.fromCodePoint throw) cannot escape as
 * an uncaught exception, parsing stops at the first error, and the callback (which xmlrpc may fire more
 * than once) settles the promise only once. If the parser ends without calling back, we reject, never hang.
 */
function runDeserializer(text: string, limits: CodecLimits, root: "methodCall" | "methodResponse", lifted: LiftedBase64 | null = null): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (err: unknown, result?: unknown[]): void => {
      if (settled) return;
      settled = true;
      if (err) reject(decodeError(err));
      else resolve(result ?? []);
    };
    const source: SourceStream = {
      setEncoding: () => undefined,
      on: () => source,
      pipe: (dest) => {
        try {
          for (let i = 0; i < text.length && !settled; i += PARSE_CHUNK) dest.write(text.slice(i, i + PARSE_CHUNK));
          if (!settled) dest.end();
        } catch (err) {
          settle(err);
        }
        settle(new Error("parser ended without a result"));
      },
    };
    const d = new GuardedDeserializer(limits, root, lifted);
    if (root === "methodCall") {
      d.deserializeMethodCall(source, (err, method, params) => settle(err, err ? undefined : [method, params]));
    } else {
      d.deserializeMethodResponse(source, (err, value) => settle(err, err ? undefined : [value]));
    }
  });
}

/** A placeholder of a lifted base64 value was not where a base64 value is (CDATA, a comment...): parse as sent. */
class LiftMismatch extends Error {}

/**
 * preScan and parse, with large base64 values lifted out first (base64-lift.ts). Whatever goes wrong with
 * them lifted (a placeholder not found where a value is, or any error) is decided on the body as sent.
 */
async function scanAndParse(body: string | Buffer, limits: CodecLimits, root: "methodCall" | "methodResponse"): Promise<unknown[]> {
  const size = typeof body === "string" ? Buffer.byteLength(body, "utf8") : Buffer.isBuffer(body) ? body.length : 0;
  if (size > limits.maxBodyBytes || size < LIFT_MIN_BODY) return runDeserializer(preScan(body, limits), limits, root);
  // bytes are lifted from as they are: the text of the whole body is made only when that fails
  const lifted = typeof body === "string" ? liftBase64(body) : liftBase64Bytes(body, (b) => preDecode(b, limits));
  if (lifted) {
    try {
      return await runDeserializer(preScan(lifted.text, limits), limits, root, lifted);
    } catch {
      // decided below, on the body as sent
    }
  }
  return runDeserializer(preScan(typeof body === "string" ? body : preDecode(body, limits), limits), limits, root);
}

/** Bodies smaller than this are parsed as they are. */
const LIFT_MIN_BODY = 64 * 1024;

/** A Buffer body as text (preScan's first step), so that base64 can be lifted from it. */
function preDecode(body: Buffer, limits: CodecLimits): string {
  if (body.length > limits.maxBodyBytes) throw limitExceeded(`body over ${limits.maxBodyBytes} bytes`);
  try {
    return UTF8_STRICT.decode(body);
  } catch {
    throw notXmlRpc("body is not valid UTF-8");
  }
}

function bytesToText(value: WireValue): WireValue {
  if (Buffer.isBuffer(value)) {
    try {
      return UTF8_STRICT.decode(value);
    } catch {
      return value;
    }
  }
  if (Array.isArray(value)) return value.map(bytesToText);
  if (value === null || typeof value !== "object") return value;
  const out = {};
  for (const key of Object.keys(value)) defineKey(out, key, bytesToText(value[key]!));
  return out;
}

/**
 * Parse a methodCall. Throws FuncError("NotXmlRpc") for non-XML / wrong root / malformed / a method name
 * outside WIRE_METHOD_NAME_RE or over MAX_METHOD_NAME_LENGTH (the envelope is invalid, so it never reaches dispatch),
 * FuncError("LimitExceeded") for body/depth/element limits, FuncError("BadArguments") for well-formed values we
 * cannot represent (an `<i8>` outside the safe integers, a non-finite double). With `bytesAsText`, base64 values
 * that are valid UTF-8 come back as strings (default false: the minion gets Buffers).
 */
export async function decodeCall(
  body: string | Buffer,
  limits: CodecLimits = CODEC_LIMITS,
  options: DecodeOptions = {},
): Promise<{ method: string; params: WireValue[] }> {
  const [method, params] = await scanAndParse(body, limits, "methodCall");
  if (typeof method !== "string" || !Array.isArray(params)) throw notXmlRpc("malformed methodCall");
  const values = params as WireValue[];
  return { method, params: options.bytesAsText ? values.map(bytesToText) : values };
}

/**
 * Parse a methodResponse; a fault rejects with XmlRpcFault, everything else as decodeCall. `bytesAsText` turns
 * base64 values that are valid UTF-8 into strings (the overlord renders such bytes as text).
 */
export async function decodeResponse(
  body: string | Buffer,
  options: { limits?: CodecLimits; bytesAsText?: boolean } = {},
): Promise<WireValue> {
  const limits = options.limits ?? CODEC_LIMITS;
  const [value] = await scanAndParse(body, limits, "methodResponse");
  if (value === undefined) throw notXmlRpc("methodResponse without a value");
  return options.bytesAsText ? bytesToText(value as WireValue) : (value as WireValue);
}
