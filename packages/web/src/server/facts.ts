// GET /api/facts: which minions of a spec pass a fact filter (Func's --filter / --filteror, the same parser
// and matcher `func` uses). Facts come from facts.get on each host, kept a short while so that refining a
// filter on the page does not ask the whole fleet again; a host whose facts cannot be read is listed as such.

import { matchFacts, type FactFilter, type HostResult, type WireValue } from "@func/shared";
import type { Overlord } from "@func/overlord";

/** How long a host's facts are used before facts.get is asked again, ms. */
const FACTS_TTL_MS = 30_000;

type Facts = Readonly<Record<string, WireValue>>;

export interface FactMatch {
  matched: string[];
  /** hosts whose facts could not be read: their outcome and why */
  unknown: Array<{ host: string; outcome: string; message: string }>;
  asked: number;
}

function isFacts(v: WireValue | undefined): v is Facts {
  return v !== null && v !== undefined && typeof v === "object" && !Array.isArray(v) && !Buffer.isBuffer(v);
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
      await this.#overlord.fanOut(this.#overlord.addresses(stale), { method: "facts.get", params: [], timeoutMs: this.#overlord.timeoutMs }, (host, result) => {
        this.#cache.set(host, { at, result });
      });
    }
    const out: FactMatch = { matched: [], unknown: [], asked: hosts.length };
    for (const host of hosts) {
      const result = this.#cache.get(host)?.result;
      if (result?.outcome === "ok" && isFacts(result.value)) {
        if (matchFacts(result.value, filter)) out.matched.push(host);
      } else if (result && result.outcome !== "ok") {
        out.unknown.push({ host, outcome: result.outcome, message: result.error.message });
      } else {
        out.unknown.push({ host, outcome: "error", message: result ? "facts.get did not answer a struct" : "no answer" });
      }
    }
    // a cache of hosts no longer asked about does not grow without bound
    if (this.#cache.size > 4 * hosts.length + 1000) for (const [h, v] of this.#cache) if (now - v.at > FACTS_TTL_MS) this.#cache.delete(h);
    return out;
  }
}
