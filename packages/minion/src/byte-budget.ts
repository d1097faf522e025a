// A budget of request bytes held in memory at once across all of funcd's connections: a request takes its
// share before its body is buffered and gives it back when its answer is done, so a flood of large bodies
// meets HTTP 503 instead of growing the heap without bound. Shared fairly (issue 10 item 8): each identity
// other than the overlord holds at most `perIdentity`, and all of them together never the `reserved` part,
// so no caller can lock the overlord out.

/** Who takes bytes: the cert's CN, and whether it holds the overlord role. */
export interface BudgetHolder {
  id: string;
  privileged: boolean;
}

export interface ByteBudgetShares {
  /** most one unprivileged identity holds at once (default: the whole limit) */
  perIdentity?: number;
  /** part of the limit that only privileged holders may take (default 0) */
  reserved?: number;
}

const ANYONE: BudgetHolder = { id: "", privileged: true };

export class ByteBudget {
  readonly limit: number;
  readonly #perIdentity: number;
  readonly #reserved: number;
  readonly #byIdentity = new Map<string, number>();
  #used = 0;
  #unprivileged = 0;

  constructor(limit: number, shares: ByteBudgetShares = {}) {
    this.limit = limit;
    this.#reserved = Math.min(Math.max(0, shares.reserved ?? 0), limit);
    this.#perIdentity = Math.max(0, Math.min(shares.perIdentity ?? limit, limit - this.#reserved));
  }

  get used(): number {
    return this.#used;
  }

  /** Bytes held by one identity now. */
  heldBy(id: string): number {
    return this.#byIdentity.get(id) ?? 0;
  }

  /** Takes `n` bytes for `who` if they fit its share; false (and nothing taken) when they would not. */
  tryTake(n: number, who: BudgetHolder = ANYONE): boolean {
    if (n < 0 || this.#used + n > this.limit) return false;
    if (!who.privileged) {
      const mine = this.heldBy(who.id);
      if (mine + n > this.#perIdentity || this.#unprivileged + n > this.limit - this.#reserved) return false;
      this.#byIdentity.set(who.id, mine + n);
      this.#unprivileged += n;
    }
    this.#used += n;
    return true;
  }

  give(n: number, who: BudgetHolder = ANYONE): void {
    if (n <= 0) return;
    this.#used = Math.max(0, this.#used - n);
    if (!who.privileged) {
      const left = this.heldBy(who.id) - n;
      if (left > 0) this.#byIdentity.set(who.id, left);
      else this.#byIdentity.delete(who.id);
      this.#unprivileged = Math.max(0, this.#unprivileged - n);
    }
  }
}
