// `system.inventory()`: a minion's whole signature table as a wire value, and its parsing back on the
// overlord, where it is hostile input until checked (shape, sizes, patterns that compile).

import { FuncError } from "../errors.js";
import type { WireValue } from "../codec.js";
import { patternRe } from "./check.js";
import type { Field, MethodSignature, ModuleSignature, Param, TypeSpec } from "./schema.js";
import { METHOD_NAME_PATTERN } from "./system.js";

/** What `system.inventory()` answers. */
export interface Inventory {
  funcd_version: string;
  modules: ModuleSignature[];
}

/** Bounds on an inventory read from a minion. */
const MAX_MODULES = 1000;
const MAX_METHODS = 1000;
const MAX_PARAMS = 64;
const MAX_FIELDS = 256;
const MAX_TEXT = 2000;
const MAX_PATTERN = 500;
const MAX_TYPE_DEPTH = 8;
const KINDS = ["string", "bytes", "int", "number", "bool", "enum", "struct", "map", "array", "any"] as const;

/** The inventory as it travels: plain data, no undefined. */
export function inventoryValue(funcdVersion: string, modules: readonly ModuleSignature[]): WireValue {
  return JSON.parse(JSON.stringify({ funcd_version: funcdVersion, modules })) as WireValue;
}

function bad(what: string): never {
  throw new FuncError("BadArguments", `system.inventory answer: ${what}`);
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !Buffer.isBuffer(v);
}

function text(v: unknown, what: string, max = MAX_TEXT): string {
  if (typeof v !== "string" || v.length > max) bad(`${what} must be a string of at most ${max} characters`);
  return v;
}

function num(v: unknown, what: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number" || !Number.isFinite(v)) bad(`${what} must be a number`);
  return v;
}

function pattern(v: unknown, what: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  const p = text(v, what, MAX_PATTERN);
  try {
    patternRe(p);
  } catch {
    bad(`${what} is not a regular expression`);
  }
  return p;
}

function parseType(v: unknown, what: string, depth: number): TypeSpec {
  if (depth > MAX_TYPE_DEPTH) bad(`${what} nests too deep`);
  if (!isObj(v) || !(KINDS as readonly unknown[]).includes(v.kind)) bad(`${what} has no known kind`);
  const kind = v.kind as (typeof KINDS)[number];
  const opt = <T extends object>(o: T): T => Object.fromEntries(Object.entries(o).filter(([, x]) => x !== undefined)) as T;
  switch (kind) {
    case "string":
      return opt({ kind, pattern: pattern(v.pattern, `${what}.pattern`), min_length: num(v.min_length, what), max_length: num(v.max_length, what) });
    case "bytes":
      return opt({ kind, max_length: num(v.max_length, what) });
    case "int":
    case "number":
      return opt({ kind, min: num(v.min, what), max: num(v.max, what) });
    case "bool":
    case "any":
      return { kind };
    case "enum": {
      if (!Array.isArray(v.values) || v.values.length > MAX_FIELDS) bad(`${what}.values must be an array`);
      return { kind, values: v.values.map((x, i) => text(x, `${what}.values[${i}]`)) };
    }
    case "struct": {
      if (!isObj(v.fields) || Object.keys(v.fields).length > MAX_FIELDS) bad(`${what}.fields must be a struct`);
      const fields: Record<string, Field> = {};
      for (const [k, f] of Object.entries(v.fields)) {
        if (!isObj(f)) bad(`${what}.fields.${k} must be a struct`);
        fields[k] = opt({
          type: parseType(f.type, `${what}.fields.${k}`, depth + 1),
          optional: f.optional === true ? true : undefined,
          doc: typeof f.doc === "string" ? text(f.doc, `${what}.fields.${k}.doc`) : undefined,
        });
      }
      return { kind, fields };
    }
    case "map":
      return opt({ kind, values: parseType(v.values, `${what}.values`, depth + 1), key_pattern: pattern(v.key_pattern, `${what}.key_pattern`), max_keys: num(v.max_keys, what) });
    case "array":
      return opt({ kind, items: parseType(v.items, `${what}.items`, depth + 1), min_items: num(v.min_items, what), max_items: num(v.max_items, what) });
  }
}

function parseParam(v: unknown, what: string): Param {
  if (!isObj(v)) bad(`${what} must be a struct`);
  const out: { -readonly [K in keyof Param]: Param[K] } = { name: text(v.name, `${what}.name`, 100), type: parseType(v.type, `${what}.type`, 0) };
  if (v.optional === true) out.optional = true;
  if (v.join_words === true) out.join_words = true;
  if (v.default !== undefined) out.default = v.default as WireValue;
  if (typeof v.doc === "string") out.doc = text(v.doc, `${what}.doc`);
  return out;
}

function parseMethod(v: unknown, what: string): MethodSignature {
  if (!isObj(v) || !Array.isArray(v.params) || v.params.length > MAX_PARAMS) bad(`${what} must be a struct with params`);
  return {
    doc: text(v.doc ?? "", `${what}.doc`),
    example: text(v.example ?? "", `${what}.example`),
    params: v.params.map((p, i) => parseParam(p, `${what}.params[${i}]`)),
    ...(v.async_allowed === false ? { async_allowed: false } : {}),
  };
}

/** A minion's inventory answer, checked; throws BadArguments for anything malformed. */
export function parseInventory(value: unknown): Inventory {
  if (!isObj(value) || !Array.isArray(value.modules) || value.modules.length > MAX_MODULES) bad("not {funcd_version, modules}");
  const modules = value.modules.map((m, i): ModuleSignature => {
    if (!isObj(m) || !isObj(m.methods) || Object.keys(m.methods).length > MAX_METHODS) bad(`modules[${i}] must be {name, methods}`);
    const name = text(m.name, `modules[${i}].name`, 100);
    const methods: Record<string, MethodSignature> = {};
    for (const [method, sig] of Object.entries(m.methods)) {
      if (!patternRe(METHOD_NAME_PATTERN).test(`${name}.${method}`)) bad(`${JSON.stringify(`${name}.${method}`.slice(0, 100))} is not a method name`);
      methods[method] = parseMethod(sig, `${name}.${method}`);
    }
    return { name, description: text(m.description ?? "", `${name}.description`), methods };
  });
  return { funcd_version: text(value.funcd_version, "funcd_version", 100), modules };
}
