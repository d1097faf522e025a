// The output formats of `func` as one union, one renderer per format (DESIGN section 7): calls, file transfers
// and job commands all print through these. A renderer may print each host as it finishes (a terminal) and
// prints the rest when the run ends (sorted, for pipes and scripts).

import { foldNames, formatPath, type HostResult, type Summary } from "@func/shared";
import { formatHost, outcomeMark, resultLines, toJson } from "./render.js";
import { visibleLine } from "./terminal-text.js";

/** Every format `--out` names; `--json`, `--jsonl`, `--fold`, `--oneline` and `--diff` are spellings of these. */
export const FORMATS = ["table", "json", "jsonl", "txt", "fold", "oneline", "diff"] as const;
export type Format = (typeof FORMATS)[number];

export interface RenderOptions {
  color: boolean;
  /** `-N`: no host label (as clush -N); the machine formats keep theirs */
  noLabel: boolean;
  /** print each host as it finishes, unsorted (stdout is a terminal) */
  live: boolean;
  /** every host targeted, for the column width of live output */
  hosts: readonly string[];
}

export interface Renderer {
  /** what to print when a host finishes ("" for nothing yet) */
  host(host: string, result: HostResult): string;
  /** what to print when every host has finished: `hosts` sorted */
  end(hosts: readonly string[], results: Readonly<Record<string, HostResult>>, summary: Summary, job: string | null): string;
}

const lines = (text: string[]) => text.map((l) => l + "\n").join("");

/** Most distinct paths a folded label lists before it says how many more. */
const MAX_PATHS_SHOWN = 4;

/**
 * ` via sub1>sub1a`: the path of sub-overlords the results came by (JSON's `via`), for a label; "" when every
 * one was called directly. A group with several paths lists them ("direct" for hosts called directly).
 */
export function viaNote(results: readonly HostResult[]): string {
  if (!results.some((r) => r.via && r.via.length > 0)) return "";
  const paths = [...new Set(results.map((r) => (r.via && r.via.length > 0 ? formatPath(r.via) : "direct")))].sort();
  const shown = paths.slice(0, MAX_PATHS_SHOWN).map(visibleLine).join(", ");
  return ` via ${shown}${paths.length > MAX_PATHS_SHOWN ? ` and ${paths.length - MAX_PATHS_SHOWN} more` : ""}`;
}

/** A host's label in the text formats: its name, and the path it came by when it was not called directly. */
const hostLabel = (host: string, r: HostResult) => visibleLine(host) + viaNote([r]);

/** `host: line` for each line of a host's result (Salt's txt); `first`: only its first line (clush's --oneline style). */
function labelled(host: string, r: HostResult, first: boolean, noLabel: boolean): string[] {
  const { text, tone } = outcomeMark(r);
  const body = resultLines(r);
  const shown = first ? body.slice(0, 1) : body;
  // a failure says so in the line itself: no column shows it
  const mark = tone === "ok" ? "" : `${text}: `;
  return shown.map((l, i) => `${noLabel ? "" : `${hostLabel(host, r)}: `}${i === 0 ? mark : ""}${l}`);
}

function hostLines(format: "table" | "txt" | "oneline", o: RenderOptions, width: number): (host: string, r: HostResult) => string {
  if (format === "table") {
    return (host, r) => (o.noLabel ? lines(resultLines(r)) : formatHost(hostLabel(host, r), r, width, o.color) + "\n");
  }
  return (host, r) => lines(labelled(host, r, format === "oneline", o.noLabel));
}

/** Groups hosts whose outcome and printed lines are identical; the largest group first. */
export function foldResults(hosts: readonly string[], results: Readonly<Record<string, HostResult>>): { hosts: string[]; result: HostResult }[] {
  const groups = new Map<string, { hosts: string[]; result: HostResult }>();
  for (const h of hosts) {
    const r = results[h]!;
    const key = `${outcomeMark(r).text}\0${resultLines(r).join("\n")}`;
    const g = groups.get(key) ?? { hosts: [], result: r };
    g.hosts.push(h);
    groups.set(key, g);
  }
  return [...groups.values()].sort((a, b) => b.hosts.length - a.hosts.length);
}

const foldLabel = (hosts: readonly string[], results: Readonly<Record<string, HostResult>>) =>
  `${foldNames(hosts)} (${hosts.length})${viaNote(hosts.map((h) => results[h]!))}`;

/** Most lines a diff compares (its table is lines x lines): longer outputs are shown whole. */
const MAX_DIFF_LINES = 2000;

/** A line diff of `b` against `a` (longest common subsequence): `  same`, `- only in a`, `+ only in b`. */
export function diffLines(a: readonly string[], b: readonly string[]): string[] {
  if (a.length > MAX_DIFF_LINES || b.length > MAX_DIFF_LINES) return [...a.map((l) => `- ${l}`), ...b.map((l) => `+ ${l}`)];
  const n = a.length;
  const m = b.length;
  const lcs = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  const out: string[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      out.push(`  ${a[i++]}`);
      j++;
    } else if (i < n && (j === m || lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) out.push(`- ${a[i++]}`);
    else out.push(`+ ${b[j++]}`);
  }
  return out;
}

const shownLines = (r: HostResult) => {
  const { text, tone } = outcomeMark(r);
  return tone === "ok" ? resultLines(r) : [`[${text}]`, ...resultLines(r)];
};

export function renderer(format: Format, o: RenderOptions): Renderer {
  const width = Math.max(4, ...o.hosts.map((h) => h.length));
  const none = () => "";
  switch (format) {
    case "table":
    case "txt":
    case "oneline": {
      const each = hostLines(format, o, width);
      return {
        host: o.live ? each : none,
        end: (hosts, results) => {
          if (o.live) return "";
          // one write: a thousand small ones are a thousand system calls on a pipe
          const w = Math.max(4, ...hosts.map((h) => hostLabel(h, results[h]!).length));
          const sorted = hostLines(format, o, w);
          return hosts.map((h) => sorted(h, results[h]!)).join("");
        },
      };
    }
    case "fold":
      return {
        host: none,
        end: (hosts, results) =>
          foldResults(hosts, results)
            .map((g) => (o.noLabel ? lines(resultLines(g.result)) : formatHost(foldLabel(g.hosts, results), g.result, 0, o.color) + "\n"))
            .join(""),
      };
    case "diff":
      return {
        host: none,
        end: (hosts, results) => {
          const [common, ...others] = foldResults(hosts, results);
          if (!common) return "";
          const ref = shownLines(common.result);
          let text = `${foldLabel(common.hosts, results)}: the most common result\n${lines(ref.map((l) => `  ${l}`))}`;
          for (const g of others) text += `${foldLabel(g.hosts, results)}: differs\n${lines(diffLines(ref, shownLines(g.result)))}`;
          return text;
        },
      };
    case "json":
      return {
        host: none,
        end: (hosts, results, summary, job) => toJson({ job, hosts: Object.fromEntries(hosts.map((h) => [h, results[h]])), summary }, 2) + "\n",
      };
    case "jsonl":
      return {
        host: (host, result) => toJson({ host, ...result }) + "\n",
        end: (_hosts, _results, summary, job) => toJson({ summary, job }) + "\n",
      };
  }
}
