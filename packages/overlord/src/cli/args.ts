// Command-line arguments -> XML-RPC values. Func passed raw strings (`call test add 1 2` gave "12"); here
// integers, floats, true/false, null and JSON arrays/objects are typed, a JSON string literal ("\"12\"")
// stays a string, and --str keeps every argument a string.

const INT_RE = /^[-+]?\d+$/;
const FLOAT_RE = /^[-+]?(\d+\.\d*|\.\d+|\d+)([eE][-+]?\d+)?$/;

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

export function coerceArgs(raw: readonly (string | number)[], keepStrings: boolean): unknown[] {
  return raw.map((a) => (keepStrings ? String(a) : coerceArg(String(a))));
}
