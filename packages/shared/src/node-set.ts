// ClusterShell node sets (`web[01-20,30]`, `rack[1-2]-n[01-40]`): the bracket ranges a target spec may hold,
// expanded with their zero padding kept, and the reverse, folding host names back into that syntax for output.

import { FuncError } from "./errors.js";

/** Most numbers one bracket may expand to: a spec is typed by people, never a million hosts. */
export const MAX_NODE_SET = 100_000;

const NODE_SET_BODY = /^\d+(-\d+)?(,\d+(-\d+)?)*$/;

/**
 * A bracket body is a node set when it is numeric ranges and commas with at least one `,` or `-`:
 * `[01-03]`, `[1,3]`, `[1-2,10]`. `[123]` stays a glob character class (one of 1, 2, 3), as a shell reads it;
 * `[1-3]` means the same either way.
 */
export function isNodeSetBody(body: string): boolean {
  return NODE_SET_BODY.test(body) && /[-,]/.test(body);
}

/** The members of a node-set bracket body, in order: `01-03,07` -> 01 02 03 07. Throws UsageError when reversed or too large. */
export function expandNodeSetBody(body: string, where = `[${body}]`): string[] {
  const out: string[] = [];
  for (const range of body.split(",")) {
    const [lo, hi = lo] = range.split("-") as [string, string?];
    const a = Number(lo);
    const b = Number(hi);
    if (a > b) throw new FuncError("UsageError", `the range ${range} in ${where} is reversed: write ${hi}-${lo}`);
    if (out.length + (b - a + 1) > MAX_NODE_SET) throw new FuncError("UsageError", `${where} names more than ${MAX_NODE_SET} hosts`);
    // zero padding as ClusterShell keeps it: 01-10 gives 01 .. 10
    const width = lo.length > 1 && lo.startsWith("0") ? lo.length : 0;
    for (let n = a; n <= b; n++) out.push(String(n).padStart(width, "0"));
  }
  return out;
}

/** Splits at `seps` outside brackets: in `web[01-03,07],db1` the first comma belongs to the node set. */
export function splitOutsideBrackets(text: string, seps: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === "[") depth++;
    else if (c === "]") depth = Math.max(0, depth - 1);
    else if (depth === 0 && seps.includes(c)) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

/** Splits `web07.example.com` into prefix `web`, number `07`, suffix `.example.com` (the last digit run). */
function split(name: string): { prefix: string; num: string; suffix: string } | null {
  const m = /^(.*?)(\d+)(\D*)$/.exec(name);
  return m ? { prefix: m[1]!, num: m[2]!, suffix: m[3]! } : null;
}

/**
 * Folds names into node-set syntax (as clush -b and dshbak -c print them): runs of numbers with the same prefix,
 * suffix and width become ranges, `web[01-07,09],db1`. The result is a valid target spec for the same names.
 */
export function foldNames(names: readonly string[]): string {
  const groups = new Map<string, { prefix: string; suffix: string; width: number; nums: number[] }>();
  const plain: string[] = [];
  const parsed: { prefix: string; num: string; suffix: string }[] = [];
  for (const name of names) {
    const s = split(name);
    // a name with glob or bracket characters folded into a bracket would not read back as itself
    if (!s || /[[\]*?,;]/.test(s.prefix + s.suffix)) plain.push(name);
    else parsed.push(s);
  }
  // zero-padded numbers fix their group's width (web09: 2); a number without a leading zero joins the padded
  // group of its own length when there is one (web10 beside web09: web[09-10]), else the unpadded one
  const padded = new Set(parsed.filter((s) => s.num.length > 1 && s.num.startsWith("0")).map((s) => `${s.prefix}\0${s.suffix}\0${s.num.length}`));
  for (const s of parsed) {
    const own = `${s.prefix}\0${s.suffix}\0${s.num.length}`;
    const width = padded.has(own) ? s.num.length : 0;
    const key = `${s.prefix}\0${s.suffix}\0${width}`;
    const g = groups.get(key) ?? { prefix: s.prefix, suffix: s.suffix, width, nums: [] };
    g.nums.push(Number(s.num));
    groups.set(key, g);
  }
  const parts: string[] = [...plain];
  for (const g of groups.values()) {
    const nums = [...new Set(g.nums)].sort((a, b) => a - b);
    const pad = (n: number) => String(n).padStart(g.width, "0");
    if (nums.length === 1) {
      parts.push(`${g.prefix}${pad(nums[0]!)}${g.suffix}`);
      continue;
    }
    const ranges: string[] = [];
    for (let i = 0; i < nums.length; ) {
      let j = i;
      while (j + 1 < nums.length && nums[j + 1] === nums[j]! + 1) j++;
      ranges.push(i === j ? pad(nums[i]!) : `${pad(nums[i]!)}-${pad(nums[j]!)}`);
      i = j + 1;
    }
    parts.push(`${g.prefix}[${ranges.join(",")}]${g.suffix}`);
  }
  return parts.sort().join(",");
}
