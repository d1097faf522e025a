// Fact filters (Func's --filter): `os=debian,cpus>=4` parsed into clauses and matched against one host's
// facts.get() answer. Pure: the Overlord asks the facts, this decides who runs the method.

import { FuncError } from "./errors.js";
import { failure, type HostResult } from "./outcomes.js";

/** The operators, longest first so `>=` is not read as `>`. `~` is "contains" (case-insensitive). */
export const FACT_OPERATORS = ["!=", "<=", ">=", "=", "<", ">", "~"] as const;
export type FactOperator = (typeof FACT_OPERATORS)[number];

export interface FactClause {
  key: string;
  op: FactOperator;
  value: string;
}

export interface FactFilter {
  clauses: FactClause[];
  /** "all": every clause must hold (--filter); "any": one is enough (--filteror) */
  mode: "all" | "any";
}

const KEY_RE = /^[a-z_][a-z0-9_]*$/;
/** Most clauses in one filter. */
const MAX_CLAUSES = 64;
/** Size suffixes a number may carry (memory>=8G). */
const UNITS: Record<string, number> = { k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 };

/** Parses `key<op>value[,key<op>value..]`; a UsageError says which clause is wrong. */
export function parseFactFilter(text: string, mode: "all" | "any" = "all"): FactFilter {
  const parts = text.split(",").map((p) => p.trim());
  if (parts.length > MAX_CLAUSES) throw new FuncError("UsageError", `a fact filter takes at most ${MAX_CLAUSES} clauses`);
  const clauses = parts.map((part): FactClause => {
    let at = -1;
    let op: FactOperator | undefined;
    for (let i = 0; i < part.length && op === undefined; i++) {
      op = FACT_OPERATORS.find((o) => part.startsWith(o, i));
      at = i;
    }
    const key = op ? part.slice(0, at).trim() : "";
    if (!op || !KEY_RE.test(key)) {
      throw new FuncError("UsageError", `bad fact filter clause ${JSON.stringify(part.slice(0, 80))}: write key<op>value, op one of ${FACT_OPERATORS.join(" ")} (e.g. "os=debian,cpus>=4")`);
    }
    return { key, op, value: part.slice(at + op.length).trim() };
  });
  return { clauses, mode };
}

/** A filter value or fact as a number (`8G` too), or undefined when it is not one. */
function asNumber(v: unknown): number | undefined {
  if (typeof v === "number") return v;
  if (typeof v !== "string") return undefined;
  const m = /^(-?\d+(?:\.\d+)?)([kmgt])?i?b?$/i.exec(v.trim());
  if (!m) return undefined;
  return Number(m[1]) * (m[2] ? UNITS[m[2].toLowerCase()]! : 1);
}

function holds(facts: Readonly<Record<string, unknown>>, c: FactClause): boolean {
  if (!Object.hasOwn(facts, c.key)) return false;
  const fact = facts[c.key];
  const text = typeof fact === "string" ? fact : typeof fact === "number" || typeof fact === "boolean" ? String(fact) : JSON.stringify(fact);
  if (c.op === "~") return text.toLowerCase().includes(c.value.toLowerCase());
  const a = asNumber(fact);
  const b = asNumber(c.value);
  const cmp = a !== undefined && b !== undefined ? a - b : text < c.value ? -1 : text > c.value ? 1 : 0;
  switch (c.op) {
    case "=":
      return cmp === 0;
    case "!=":
      return cmp !== 0;
    case "<":
      return cmp < 0;
    case "<=":
      return cmp <= 0;
    case ">":
      return cmp > 0;
    case ">=":
      return cmp >= 0;
  }
}

/** Does a host with these facts pass the filter? A fact it does not have fails its clause. */
export function matchFacts(facts: Readonly<Record<string, unknown>>, filter: FactFilter): boolean {
  return filter.mode === "all" ? filter.clauses.every((c) => holds(facts, c)) : filter.clauses.some((c) => holds(facts, c));
}

/**
 * What one host's facts.get() answer says for a filter: whether it passes, or (facts that could not be read:
 * no answer, a fault, not a struct) the failed result to report for that host instead.
 */
export function factVerdict(result: HostResult, filter: FactFilter): boolean | HostResult {
  if (result.outcome !== "ok") return { ...result, error: { ...result.error, message: `facts for --filter: ${result.error.message}` } };
  const v = result.value;
  if (v === null || typeof v !== "object" || Array.isArray(v) || Buffer.isBuffer(v)) {
    return failure("error", "ProtocolError", "facts for --filter: facts.get did not answer a struct");
  }
  return matchFacts(v, filter);
}
