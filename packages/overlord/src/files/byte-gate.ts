// A byte budget that waits: a transfer takes what a chunk in flight will hold before asking for it and gives
// it back once the chunk is done, so the chunks held at once over all hosts stay within the budget.

export class ByteGate {
  readonly #limit: number;
  #used = 0;
  readonly #waiting: { bytes: number; resolve: () => void }[] = [];

  constructor(limit: number) {
    this.#limit = limit;
  }

  /** Resolves once `bytes` are taken; first come, first served (one take always fits when nothing is held). */
  take(bytes: number): Promise<void> {
    if (this.#waiting.length === 0 && this.#fits(bytes)) {
      this.#used += bytes;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#waiting.push({ bytes, resolve }));
  }

  give(bytes: number): void {
    this.#used = Math.max(0, this.#used - bytes);
    while (this.#waiting.length > 0 && this.#fits(this.#waiting[0]!.bytes)) {
      const w = this.#waiting.shift()!;
      this.#used += w.bytes;
      w.resolve();
    }
  }

  get used(): number {
    return this.#used;
  }

  #fits(bytes: number): boolean {
    return this.#used === 0 || this.#used + bytes <= this.#limit;
  }
}
