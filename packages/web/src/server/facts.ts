// GET /api/facts: which minions of a spec pass a fact filter (Func's --filter / --filteror, the same parser
// and matcher `func` uses). Facts come from facts.get on each host, kept a short while so that refining a
// filter on the page does not ask the whole fleet again; a host whose facts cannot be read is listed as such.

import { factVerdict, type FactFilter, type HostResult } from "@func/shared";
import type { Overlord } from "@func/overlord";

/** How long a host's facts are used before facts.get is asked again, ms. */
const FACTS_TTL_MS = 30_000;

export interface FactMatch {
  matched: string[];
  /** hosts whose facts could not be read: their outcome and why */
  unknown: Array<{ host: string; outcome: string; message: string }>;
  asked: number;
}

export class FactSource {
  readonly #overlord: Overlord;
  readonly #cache = new Map<string, { at: number; result: HostResult }>();

  constructor(overlord: Overlord) {
    this.#overlord = overlord;
  }

  /** Reads the facts of `hosts` (fresh ones from the cache, the rest in one fan-out) and applies the filter. */
  async match(hosts: readonly string[], filter: FactFilter, now = Date.now()): Promise<FactMatch> {
    const stale = hosts.filter((h) => {
      const hit = this.#cache.get(h);
      return !hit || now - hit.at > FACTS_TTL_MS;
    });
    if (stale.length > 0) {
      const at = Date.now();
      // by the routes a call takes: mapped leaves through their sub-overlords
      for await (const { host, result } of this.#overlord.stream("facts", "get", [], stale)) this.#cache.set(host, { at, result });
    }
    const out: FactMatch = { matched: [], unknown: [], asked: hosts.length };
    for (const host of hosts) {
      const result = this.#cache.get(host)?.result;
      const verdict = result ? factVerdict(result, filter) : null;
      if (verdict === true) out.matched.push(host);
      else if (verdict === null) out.unknown.push({ host, outcome: "error", message: "facts for --filter: no answer" });
      else if (verdict !== false && verdict.outcome !== "ok") out.unknown.push({ host, outcome: verdict.outcome, message: verdict.error.message });
    }
    // a cache of hosts no longer asked about does not grow without bound
    if (this.#cache.size > 4 * hosts.length + 1000) for (const [h, v] of this.#cache) if (now - v.at > FACTS_TTL_MS) this.#cache.delete(h);
    return out;
  }
}
