// Checks a call's arguments against a method's signature and returns the values `run` receives (defaults
// filled in, bytes as Buffers, strings as strings). The minion runs it on every call; the overlord runs it
// once before fan-out. A refusal is a BadArguments error (fault 4) naming the argument.

import { FuncError } from "../errors.js";
import { XML_ILLEGAL_CHAR } from "../xml-chars.js";
import { formatSignature, type MethodSignature, type Param, type TypeSpec } from "./schema.js";

/** Longest value shown back in an error message. */
const SHOWN_MAX = 60;
const patterns = new Map<string, RegExp>();

/** The anchored regular expression of a `pattern` (compiled once). */
export function patternRe(source: string): RegExp {
  let re = patterns.get(source);
  if (!re) {
    re = new RegExp(`^(?:${source})$`, "u");
    patterns.set(source, re);
  }
  return re;
}

/** What a value is, in the words of the signature table: `int`, `string`, `bytes`, `struct`... */
export function kindOf(value: unknown): string {
  if (value === null || value === undefined) return "nil";
  if (Buffer.isBuffer(value)) return "bytes";
  if (Array.isArray(value)) return "array";
  switch (typeof value) {
    case "string":
      return "string";
    case "boolean":
      return "bool";
    case "number":
      return Number.isInteger(value) ? "int" : "number";
    case "object":
      return "struct";
    default:
      return typeof value;
  }
}

function isStruct(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !Buffer.isBuffer(value);
}

function shown(value: unknown): string {
  const s = typeof value === "string" ? JSON.stringify(value) : kindOf(value);
  return s.length > SHOWN_MAX ? `${s.slice(0, SHOWN_MAX)}...` : s;
}

/** A Buffer that is how a string with XML-illegal characters travels (the codec's form), as that string. */
function bufferAsString(value: Buffer): string | undefined {
  const text = value.toString("utf8");
  return XML_ILLEGAL_CHAR.test(text) && Buffer.from(text, "utf8").equals(value) ? text : undefined;
}

/** Checks one value against a type; returns the value `run` gets, or throws with `where` named. */
export function checkValue(type: TypeSpec, value: unknown, where: string): unknown {
  const bad = (want: string): never => {
    throw new FuncError("BadArguments", `${where} must be ${want}, got ${shown(value)}`);
  };
  switch (type.kind) {
    case "any":
      return value;
    case "string": {
      const s = typeof value === "string" ? value : Buffer.isBuffer(value) ? bufferAsString(value) : undefined;
      if (s === undefined) return bad("a string");
      if (type.min_length !== undefined && s.length < type.min_length) return bad(`at least ${type.min_length} characters`);
      if (type.max_length !== undefined && s.length > type.max_length) return bad(`at most ${type.max_length} characters`);
      if (type.pattern !== undefined && !patternRe(type.pattern).test(s)) return bad(`a string matching /${type.pattern}/`);
      return s;
    }
    case "bytes": {
      const b = Buffer.isBuffer(value) ? value : typeof value === "string" ? Buffer.from(value, "utf8") : undefined;
      if (!b) return bad("bytes (base64) or a string");
      if (type.max_length !== undefined && b.length > type.max_length) return bad(`at most ${type.max_length} bytes`);
      return b;
    }
    case "int":
    case "number": {
      const ok = typeof value === "number" && (type.kind === "int" ? Number.isSafeInteger(value) : Number.isFinite(value));
      const range = type.min !== undefined && type.max !== undefined ? ` ${type.min}..${type.max}` : type.min !== undefined ? ` >= ${type.min}` : type.max !== undefined ? ` <= ${type.max}` : "";
      const want = `${type.kind === "int" ? "an int" : "a number"}${range}`;
      if (!ok) return bad(want);
      if ((type.min !== undefined && value < type.min) || (type.max !== undefined && value > type.max)) return bad(want);
      return value;
    }
    case "bool":
      return typeof value === "boolean" ? value : bad("a bool (true or false)");
    case "enum":
      return typeof value === "string" && type.values.includes(value) ? value : bad(`one of ${type.values.join(", ")}`);
    case "struct": {
      if (!isStruct(value)) return bad(`a struct {${Object.keys(type.fields).join(", ")}}`);
      const out: Record<string, unknown> = {};
      for (const key of Object.keys(value)) {
        if (!Object.hasOwn(type.fields, key)) {
          throw new FuncError("BadArguments", `${where} has no field ${shown(key)} (fields: ${Object.keys(type.fields).join(", ") || "none"})`);
        }
      }
      for (const [key, field] of Object.entries(type.fields)) {
        const v = value[key];
        if (v === undefined || v === null) {
          if (!field.optional) throw new FuncError("BadArguments", `${where} needs field ${key}`);
          continue;
        }
        out[key] = checkValue(field.type, v, `${where}.${key}`);
      }
      return out;
    }
    case "map": {
      if (!isStruct(value)) return bad("a struct");
      const keys = Object.keys(value);
      if (type.max_keys !== undefined && keys.length > type.max_keys) return bad(`a struct of at most ${type.max_keys} keys`);
      const out: Record<string, unknown> = {};
      for (const key of keys) {
        if (type.key_pattern !== undefined && !patternRe(type.key_pattern).test(key)) {
          throw new FuncError("BadArguments", `${where}: key ${shown(key)} must match /${type.key_pattern}/`);
        }
        out[key] = checkValue(type.values, value[key], `${where}.${key}`);
      }
      return out;
    }
    case "array": {
      if (!Array.isArray(value)) return bad("an array");
      if (type.min_items !== undefined && value.length < type.min_items) return bad(`an array of at least ${type.min_items} items`);
      if (type.max_items !== undefined && value.length > type.max_items) return bad(`an array of at most ${type.max_items} items`);
      return value.map((v, i) => checkValue(type.items, v, `${where}[${i}]`));
    }
  }
}

function argName(i: number, p: Param): string {
  return `argument ${i + 1} (${p.name})`;
}

/** How many arguments the method takes, as an error says it: `1`, `1 to 2`. */
export function arity(sig: MethodSignature): { min: number; max: number; text: string } {
  const min = sig.params.filter((p) => !p.optional).length;
  const max = sig.params.length;
  return { min, max, text: min === max ? `${min}` : `${min} to ${max}` };
}

export function usageOf(name: string, sig: MethodSignature): string {
  return `usage: ${sig.example || formatSignature(name, sig)}`;
}

/**
 * The arguments of `name(...args)` as `run` receives them: one per parameter, a left-out optional one as
 * its default (or undefined). Throws BadArguments for a wrong count, type or value.
 */
export function checkArgs(name: string, sig: MethodSignature, args: readonly unknown[]): unknown[] {
  const { min, max, text } = arity(sig);
  if (args.length < min || args.length > max) {
    const missing = args.length < min ? `: ${sig.params[args.length]!.name} is missing` : "";
    throw new FuncError("BadArguments", `${name} takes ${text} argument(s), got ${args.length}${missing} (${usageOf(name, sig)})`);
  }
  return sig.params.map((p, i) => {
    const value = args[i];
    if (value === undefined || value === null) {
      if (p.optional) return p.default;
      if (value === null && p.type.kind === "any") return null;
      throw new FuncError("BadArguments", `${name}: ${argName(i, p)} is missing (${usageOf(name, sig)})`);
    }
    try {
      return checkValue(p.type, value, `${name}: ${argName(i, p)}`);
    } catch (err) {
      if (err instanceof FuncError) throw new FuncError("BadArguments", `${err.message} (${usageOf(name, sig)})`);
      throw err;
    }
  });
}
