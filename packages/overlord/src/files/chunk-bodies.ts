// The request bodies of a push's chunks (file.upload_chunk), each read and encoded once and shared by every
// host that sends it while it is held, within a byte budget: a body no host still going needs is dropped, and
// one that slower hosts still need is dropped first when the budget (shared by the push's sets) is full (they
// encode it again).

import type { FileHandle } from "node:fs/promises";
import { FuncError, encodeCallBytes } from "@func/shared";

/**
 * The bytes of bodies one push may hold, over all its sets of bodies (one per chunk size its minions take):
 * each set spends from it, and a set waiting for room is woken when any set gives some back.
 */
export class BodyBudget {
  readonly limit: number;
  held = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(limit: number) {
    this.limit = limit;
  }

  fits(bytes: number): boolean {
    return this.held + bytes <= this.limit;
  }

  wait(): Promise<void> {
    return new Promise<void>((resolve) => this.#waiting.push(resolve));
  }

  wake(): void {
    for (const resolve of this.#waiting.splice(0)) resolve();
  }
}

interface Held {
  body: Promise<Buffer>;
  bytes: number;
  /** requests sending it now */
  pins: number;
}

export class ChunkBodies {
  readonly #fh: FileHandle;
  readonly #local: string;
  readonly #id: string;
  readonly #size: number;
  readonly #chunk: number;
  readonly #budget: BodyBudget;
  readonly #held = new Map<number, Held>();
  #heldBytes = 0;
  /** the lowest chunk index some host still going will ask for: bodies below it are done */
  #low = 0;

  /**
   * `budget` is shared with the push's other sets; a set holding nothing may always take one body, so each
   * makes progress (the budget is then over by at most a body per other set).
   */
  constructor(fh: FileHandle, local: string, id: string, size: number, chunk: number, budget: BodyBudget) {
    this.#fh = fh;
    this.#local = local;
    this.#id = id;
    this.#size = size;
    this.#chunk = chunk;
    this.#budget = budget;
  }

  get count(): number {
    return Math.ceil(this.#size / this.#chunk);
  }

  /** Bytes of chunk `index`. */
  length(index: number): number {
    return Math.min(this.#chunk, this.#size - index * this.#chunk);
  }

  /** Bytes of bodies held now. */
  get heldBytes(): number {
    return this.#heldBytes;
  }

  /** The body of chunk `index`, held until `release(index)`; waits while the budget is spent on bodies being sent. */
  async acquire(index: number): Promise<Buffer> {
    for (;;) {
      const held = this.#held.get(index);
      if (held) {
        held.pins++;
        try {
          return await held.body;
        } catch (err) {
          this.release(index);
          throw err;
        }
      }
      // a body is about 4/3 of its chunk (base64) plus a small envelope
      const bytes = Math.ceil(this.length(index) / 3) * 4 + 1024;
      if (this.#budget.fits(bytes) || this.#heldBytes === 0 || this.#evictFor(bytes)) {
        const entry: Held = { body: this.#encode(index), bytes, pins: 0 };
        entry.body.catch(() => this.#drop(index, entry));
        this.#held.set(index, entry);
        this.#heldBytes += bytes;
        this.#budget.held += bytes;
        continue;
      }
      await this.#budget.wait();
    }
  }

  /** One request that sent (or failed to send) chunk `index` is done with it. */
  release(index: number): void {
    const held = this.#held.get(index);
    if (!held) return;
    held.pins--;
    if (held.pins <= 0 && index < this.#low) this.#drop(index, held);
    this.#wake();
  }

  /** No host still going will ask for a chunk below `low` again. */
  passed(low: number): void {
    this.#low = Math.max(this.#low, low);
    for (const [index, held] of this.#held) if (index < this.#low && held.pins <= 0) this.#drop(index, held);
    this.#wake();
  }

  async #encode(index: number): Promise<Buffer> {
    const offset = index * this.#chunk;
    const len = this.length(index);
    const buf = Buffer.allocUnsafe(len);
    for (let got = 0; got < len; ) {
      const { bytesRead } = await this.#fh.read(buf, got, len - got, offset + got);
      if (bytesRead === 0) throw new FuncError("UsageError", `${this.#local} shrank while it was being sent`);
      got += bytesRead;
    }
    return encodeCallBytes("file.upload_chunk", [this.#id, offset, buf]);
  }

  /** Drops unpinned bodies, those only the slowest hosts still need (the lowest) first, until `bytes` fit. */
  #evictFor(bytes: number): boolean {
    const idle = [...this.#held].filter(([, h]) => h.pins <= 0).sort(([a], [b]) => a - b);
    for (const [index, held] of idle) {
      if (this.#budget.fits(bytes)) break;
      this.#drop(index, held);
    }
    return this.#budget.fits(bytes);
  }

  #drop(index: number, held: Held): void {
    if (this.#held.get(index) !== held) return;
    this.#held.delete(index);
    this.#heldBytes -= held.bytes;
    this.#budget.held -= held.bytes;
  }

  #wake(): void {
    this.#budget.wake();
  }
}
