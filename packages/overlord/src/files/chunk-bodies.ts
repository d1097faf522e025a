// The request bodies of a push's chunks (file.upload_chunk), each read and encoded once and shared by every
// host that sends it while it is held, within a byte budget: a body no host still going needs is dropped, and
// one that slower hosts still need is dropped first when the budget is full (they encode it again).

import type { FileHandle } from "node:fs/promises";
import { FuncError, encodeCallBytes } from "@func/shared";

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
  readonly #budget: number;
  readonly #held = new Map<number, Held>();
  #heldBytes = 0;
  readonly #waiting: (() => void)[] = [];
  /** the lowest chunk index some host still going will ask for: bodies below it are done */
  #low = 0;

  constructor(fh: FileHandle, local: string, id: string, size: number, chunk: number, budgetBytes: number) {
    this.#fh = fh;
    this.#local = local;
    this.#id = id;
    this.#size = size;
    this.#chunk = chunk;
    this.#budget = budgetBytes;
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
      if (this.#heldBytes + bytes <= this.#budget || this.#heldBytes === 0 || this.#evictFor(bytes)) {
        const entry: Held = { body: this.#encode(index), bytes, pins: 0 };
        entry.body.catch(() => this.#drop(index, entry));
        this.#held.set(index, entry);
        this.#heldBytes += bytes;
        continue;
      }
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
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
      if (this.#heldBytes + bytes <= this.#budget) break;
      this.#drop(index, held);
    }
    return this.#heldBytes + bytes <= this.#budget;
  }

  #drop(index: number, held: Held): void {
    if (this.#held.get(index) !== held) return;
    this.#held.delete(index);
    this.#heldBytes -= held.bytes;
  }

  #wake(): void {
    for (const resolve of this.#waiting.splice(0)) resolve();
  }
}
