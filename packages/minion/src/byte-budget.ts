// A budget of request bytes held in memory at once across all of funcd's connections: a request takes its
// share before its body is buffered and gives it back when its answer is done, so a flood of large bodies
// meets HTTP 503 instead of growing the heap without bound.

export class ByteBudget {
  readonly limit: number;
  #used = 0;

  constructor(limit: number) {
    this.limit = limit;
  }

  get used(): number {
    return this.#used;
  }

  /** Takes `n` bytes if they fit; false (and nothing taken) when they would pass the limit. */
  tryTake(n: number): boolean {
    if (n < 0 || this.#used + n > this.limit) return false;
    this.#used += n;
    return true;
  }

  give(n: number): void {
    this.#used = Math.max(0, this.#used - n);
  }
}
