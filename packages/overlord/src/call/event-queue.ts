// Callbacks in, async iteration out: a producer pushes events (a fan-out's results, a job's hosts as
// they finish) and a consumer `for await`s them in order. The stream API and the CLI's job output use it.

export class EventQueue<T> implements AsyncIterable<T> {
  readonly #items: T[] = [];
  #wake: (() => void) | undefined;
  #ended = false;
  #failure: { error: unknown } | undefined;

  push(item: T): void {
    this.#items.push(item);
    this.#wake?.();
  }

  /** No more items; with an error, iteration throws it after the items already pushed. */
  end(error?: unknown): void {
    this.#ended = true;
    if (error !== undefined) this.#failure = { error };
    this.#wake?.();
  }

  /** Ends the queue when `work` settles (with its error, if it fails). */
  endWith(work: Promise<unknown>): void {
    work.then(
      () => this.end(),
      (err: unknown) => this.end(err ?? new Error("failed")),
    );
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<T> {
    while (true) {
      if (this.#items.length > 0) {
        yield this.#items.shift()!;
        continue;
      }
      if (this.#ended) break;
      await new Promise<void>((resolve) => (this.#wake = resolve));
      this.#wake = undefined;
    }
    if (this.#failure) throw this.#failure.error;
  }
}
