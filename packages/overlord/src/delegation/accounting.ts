// The accounting of one share (DESIGN section 12), pure: the tier above knows the share's leaves before
// anything runs, reads each page a sub-overlord answers without trusting it (hosts it was not asked about,
// hosts answered twice and malformed lines are reported and ignored), and ends every leaf it did not hear
// about in exactly one outcome: unreachable (never dispatched), lost (dispatched, may have run).

import { PAGE_MAX_BYTES, hostError, readHostResult, type ErrorType, type HostResult, type SharePage, type ShareLine } from "@func/shared";

export type AnomalyKind = "unknown" | "duplicate" | "malformed" | "missing";

/** Something a sub-overlord answered that was not trusted. */
export interface Anomaly {
  kind: AnomalyKind;
  sub: string;
  hosts: string[];
  detail: string;
}

/**
 * One line of a page as a value: a struct as sent, or (delegation.poll with as_text) its JSON text, parsed
 * when no longer than a page may be; anything else is null (malformed).
 */
function lineValue(raw: unknown): Record<string, unknown> | null {
  if (typeof raw === "string") {
    if (raw.length > PAGE_MAX_BYTES) return null;
    try {
      const parsed: unknown = JSON.parse(raw);
      return parsed !== null && typeof parsed === "object" && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : null;
    } catch {
      return null;
    }
  }
  return raw !== null && typeof raw === "object" && !Array.isArray(raw) && !Buffer.isBuffer(raw) ? (raw as Record<string, unknown>) : null;
}

/** A checked page: its lines (each result checked), or null when the page itself is malformed. */
export function readPage(value: unknown, cursor: number): { page: SharePage; malformed: number } | null {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return null;
  const v = value as Record<string, unknown>;
  if (!Array.isArray(v.lines) || typeof v.cursor !== "number" || typeof v.done !== "boolean" || typeof v.alive !== "boolean") return null;
  // the cursor moves forward by the lines given, never back, never past them
  if (!Number.isInteger(v.cursor) || v.cursor !== cursor + v.lines.length) return null;
  const lines: ShareLine[] = [];
  let malformed = 0;
  for (const raw of v.lines) {
    const line = lineValue(raw);
    const result = line && typeof line === "object" ? readHostResult(line.result) : null;
    if (!result || !Array.isArray(line!.hosts) || !line!.hosts.every((h) => typeof h === "string")) {
      malformed += 1;
      continue;
    }
    lines.push({ hosts: line!.hosts, result });
  }
  return { page: { lines, cursor: v.cursor, done: v.done, alive: v.alive }, malformed };
}

export class ShareLedger {
  readonly sub: string;
  /** the path prefix every result of this share gets (the tier's own path, then the sub-overlord) */
  readonly via: readonly string[];
  readonly #expected: ReadonlySet<string>;
  readonly #settled = new Map<string, HostResult>();
  /** settled before this read (markSettled): their first line is skipped quietly */
  readonly #quiet = new Set<string>();

  constructor(sub: string, expected: readonly string[], via: readonly string[] = [sub]) {
    this.sub = sub;
    this.via = via;
    this.#expected = new Set(expected);
  }

  get expected(): number {
    return this.#expected.size;
  }

  get settledCount(): number {
    return this.#settled.size;
  }

  isSettled(host: string): boolean {
    return this.#settled.has(host);
  }

  /** Settles hosts already known final elsewhere (a resumed poll): their lines are then neither new nor duplicates. */
  markSettled(host: string, result: HostResult): void {
    if (!this.#expected.has(host)) return;
    this.#settled.set(host, result);
    this.#quiet.add(host);
  }

  /** Takes one page's lines: the results new to this share, and what was ignored and why. */
  take(lines: readonly ShareLine[], malformed = 0): { fresh: [string, HostResult][]; anomalies: Anomaly[] } {
    const fresh: [string, HostResult][] = [];
    const unknown: string[] = [];
    const duplicate: string[] = [];
    for (const line of lines) {
      for (const host of line.hosts) {
        if (!this.#expected.has(host)) unknown.push(host);
        else if (this.#quiet.delete(host)) continue;
        else if (this.#settled.has(host)) duplicate.push(host);
        else {
          const result: HostResult = { ...line.result, via: [...this.via, ...(line.result.via ?? [])] };
          this.#settled.set(host, result);
          fresh.push([host, result]);
        }
      }
    }
    const anomalies: Anomaly[] = [];
    if (unknown.length) anomalies.push({ kind: "unknown", sub: this.sub, hosts: [...new Set(unknown)], detail: "answered for hosts it was not asked about (ignored)" });
    if (duplicate.length) anomalies.push({ kind: "duplicate", sub: this.sub, hosts: [...new Set(duplicate)], detail: "answered for hosts more than once (the first answer stands)" });
    if (malformed) anomalies.push({ kind: "malformed", sub: this.sub, hosts: [], detail: `sent ${malformed} malformed result line(s) (ignored)` });
    return { fresh, anomalies };
  }

  /**
   * Ends every leaf not settled yet in `outcome` (unreachable: never dispatched; lost: dispatched, it may
   * have run; or the denied/error of a refused share), with the reason naming the path.
   */
  finish(outcome: Exclude<HostResult["outcome"], "ok">, type: ErrorType, message: string, code?: number): [string, HostResult][] {
    const out: [string, HostResult][] = [];
    for (const host of [...this.#expected].sort()) {
      if (this.#settled.has(host)) continue;
      const result: HostResult = { outcome, error: hostError(type, `via ${this.via.join(">")}: ${message}`, code), via: [...this.via] };
      this.#settled.set(host, result);
      out.push([host, result]);
    }
    return out;
  }

  /** The share said it is done: the leaves it never reported are lost (they may have run), and reported as missing. */
  finishDone(): { results: [string, HostResult][]; anomalies: Anomaly[] } {
    const results = this.finish("lost", "MissingFromShare", `${this.sub} finished its share without reporting this host`);
    const anomalies: Anomaly[] = results.length
      ? [{ kind: "missing", sub: this.sub, hosts: results.map(([h]) => h), detail: "finished without reporting these hosts (counted lost)" }]
      : [];
    return { results, anomalies };
  }
}

/** One line for an operator about an anomaly: `sub1 answered for hosts it was not asked about (ignored): x, y`. */
export function describeAnomaly(a: Anomaly): string {
  const shown = a.hosts.slice(0, 10).join(", ") + (a.hosts.length > 10 ? `, ... (${a.hosts.length})` : "");
  return `sub-overlord ${a.sub} ${a.detail}${shown ? `: ${shown}` : ""}`;
}

/** Where each share goes: the leaves of the target under each top-level sub-overlord, the rest called directly. */
export function planRoutes(hosts: readonly string[], route: ReadonlyMap<string, string>): { direct: string[]; shares: Map<string, string[]> } {
  const direct: string[] = [];
  const shares = new Map<string, string[]>();
  for (const host of hosts) {
    const sub = route.get(host);
    if (sub === undefined) direct.push(host);
    else {
      const list = shares.get(sub) ?? [];
      list.push(host);
      shares.set(sub, list);
    }
  }
  return { direct, shares };
}

/**
 * Folds results near the leaves: hosts whose results are identical but for their time are one line (the
 * line keeps no time). `unfolded` keeps one line per host, with its time.
 */
export function foldLines(batch: readonly [string, HostResult][], fold = true): ShareLine[] {
  if (!fold) return batch.map(([host, result]) => ({ hosts: [host], result }));
  const groups = new Map<string, ShareLine>();
  for (const [host, result] of batch) {
    const { ms: _ms, ...rest } = result;
    const key = JSON.stringify(rest);
    const line = groups.get(key);
    if (line) line.hosts.push(host);
    else groups.set(key, { hosts: [host], result: rest });
  }
  return [...groups.values()];
}
