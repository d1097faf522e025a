// Command-line words -> call arguments, typed by the method's signature: a word landing in a string
// parameter stays the string typed (`call command run false` runs "false"), int/number/bool words parse,
// struct/map/array words are JSON. Methods without a signature keep the generic typing of coerceArg.

import { FuncError } from "../errors.js";
import { checkValue, usageOf } from "./check.js";
import type { MethodSignature, Param, TypeSpec } from "./schema.js";

const INT_RE = /^[-+]?\d+$/;
const FLOAT_RE = /^[-+]?(\d+\.\d*|\.\d+|\d+)([eE][-+]?\d+)?$/;
const TRUE_WORDS = ["true", "yes", "on", "1"];
const FALSE_WORDS = ["false", "no", "off", "0"];

/**
 * The generic typing, for methods no signature describes: integers, floats, true/false, null and JSON
 * arrays/objects are typed, a JSON string literal ("\"12\"") stays a string, anything else is the word.
 */
export function coerceArg(raw: string): unknown {
  if (raw === "true") return true;
  if (raw === "false") return false;
  if (raw === "null") return null;
  if (INT_RE.test(raw)) {
    const n = Number(raw);
    return Number.isSafeInteger(n) ? n : raw;
  }
  if (FLOAT_RE.test(raw)) {
    const n = Number(raw);
    return Number.isFinite(n) ? n : raw;
  }
  const first = raw[0];
  if (first === "[" || first === "{" || first === '"') {
    try {
      return JSON.parse(raw) as unknown;
    } catch {
      return raw;
    }
  }
  return raw;
}

/** The value of one word for a parameter of `type`, or undefined when the word cannot be one. */
export function wordValue(type: TypeSpec, word: string): unknown {
  switch (type.kind) {
    case "string":
    case "enum":
    case "bytes":
      return word;
    case "int":
      return INT_RE.test(word) && Number.isSafeInteger(Number(word)) ? Number(word) : undefined;
    case "number":
      return FLOAT_RE.test(word) && Number.isFinite(Number(word)) ? Number(word) : undefined;
    case "bool": {
      const w = word.toLowerCase();
      return TRUE_WORDS.includes(w) ? true : FALSE_WORDS.includes(w) ? false : undefined;
    }
    case "struct":
    case "map":
    case "array":
      try {
        return JSON.parse(word) as unknown;
      } catch {
        return undefined;
      }
    case "any":
      return coerceArg(word);
  }
}

/** True when the word is a valid value for the parameter (type and constraints). */
function fits(p: Param, word: string): boolean {
  const v = wordValue(p.type, word);
  if (v === undefined) return false;
  try {
    checkValue(p.type, v, p.name);
    return true;
  } catch {
    return false;
  }
}

/**
 * Splits the words over the parameters: one word each, except a `join_words` parameter, which takes every
 * word the parameters after it do not (the trailing words go to those only when each fits its parameter).
 */
function assign(sig: MethodSignature, words: readonly string[]): string[] {
  const joinAt = sig.params.findIndex((p) => p.join_words);
  if (joinAt === -1 || words.length <= joinAt + 1) return [...words];
  const after = sig.params.slice(joinAt + 1);
  for (let k = Math.min(after.length, words.length - joinAt - 1); k >= 0; k--) {
    const tail = words.slice(words.length - k);
    if (tail.every((w, i) => fits(after[i]!, w))) {
      return [...words.slice(0, joinAt), words.slice(joinAt, words.length - k).join(" "), ...tail];
    }
  }
  return [...words];
}

/**
 * The call arguments for CLI words. With a signature, each word is typed by its parameter and a word
 * that cannot be one is a UsageError naming it; `keepStrings` (--str) or no signature: generic typing.
 * The count and constraints are checked afterwards, by checkArgs (see checkCall).
 */
export function typeWords(name: string, sig: MethodSignature | undefined, words: readonly string[], keepStrings = false): unknown[] {
  if (keepStrings) return words.map(String);
  if (!sig) return words.map(coerceArg);
  const assigned = assign(sig, words);
  const typed = (word: string, type: TypeSpec, i: number, p: Param): unknown => {
    const v = wordValue(type, word);
    if (v === undefined) {
      const shownWord = word.length > 60 ? `${JSON.stringify(word.slice(0, 60))}...` : JSON.stringify(word);
      throw new FuncError("UsageError", `${name}: argument ${i + 1} (${p.name}) must be ${wordHint(type)}, got ${shownWord} (${usageOf(name, sig)})`);
    }
    return v;
  };
  // a last parameter that is a list of plain values takes the remaining words as its items, as Func's CLI
  // did (`filetracker track /etc/hosts /etc/motd`); one word that starts with "[" is still the JSON list
  const at = sig.params.length - 1;
  const last = sig.params[at];
  if (last?.type.kind === "array" && SCALAR_KINDS.has(last.type.items.kind) && assigned.length > at && !(assigned.length === at + 1 && assigned[at]!.trimStart().startsWith("["))) {
    const items = last.type.items;
    return [...assigned.slice(0, at).map((word, i) => typed(word, sig.params[i]!.type, i, sig.params[i]!)), assigned.slice(at).map((word) => typed(word, items, at, last))];
  }
  return assigned.map((word, i) => {
    const p = sig.params[i];
    if (!p) return word; // too many words: checkArgs names the count
    return typed(word, p.type, i, p);
  });
}

/** Item kinds a list can be typed from plain words. */
const SCALAR_KINDS = new Set<TypeSpec["kind"]>(["string", "enum", "bytes", "int", "number", "bool"]);

function wordHint(type: TypeSpec): string {
  switch (type.kind) {
    case "int":
      return "a whole number";
    case "number":
      return "a number";
    case "bool":
      return "true or false";
    case "array":
      return "a JSON array";
    default:
      return "a JSON object";
  }
}
