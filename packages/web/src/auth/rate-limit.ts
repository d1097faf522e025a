// A token bucket per source address: func-web's login attempts (a burst, then a slow refill), so a guesser
// gets 429s instead of unlimited tries.

/** Sources remembered; past this the table is reset rather than grown. */
const TABLE_MAX = 10_000;

export class RateLimiter {
  readonly #burst: number;
  readonly #perMs: number;
  readonly #table = new Map<string, { tokens: number; at: number }>();

  constructor(burst: number, refillS: number) {
    this.#burst = burst;
    this.#perMs = 1 / (refillS * 1000);
  }

  /** Takes one try for `source`; false when it has none left. */
  take(source: string, now = Date.now()): boolean {
    if (this.#table.size >= TABLE_MAX && !this.#table.has(source)) this.#table.clear();
    const e = this.#table.get(source) ?? { tokens: this.#burst, at: now };
    e.tokens = Math.min(this.#burst, e.tokens + (now - e.at) * this.#perMs);
    e.at = now;
    this.#table.set(source, e);
    if (e.tokens < 1) return false;
    e.tokens -= 1;
    return true;
  }

  /** Seconds until `source` has a try again. */
  retryAfterS(source: string): number {
    const e = this.#table.get(source);
    if (!e || e.tokens >= 1) return 0;
    return Math.ceil((1 - e.tokens) / this.#perMs / 1000);
  }
}
