// func-delegate's side of a share's result file (run/delegation/<id>.jsonl on the sub-overlord): results
// gathered for a moment, folded (identical results once, with their hosts) and appended as whole lines, then
// END_LINE. The minion's delegation.poll reads complete lines only, so a reader never sees half a line.

import { appendFileSync, closeSync, fsyncSync, openSync, readFileSync, truncateSync } from "node:fs";
import { END_LINE, type HostResult } from "@func/shared";
import { foldLines } from "./accounting.js";

/** Results are written at least this often, ms (what a poll waiting on the sub-overlord sees). */
const FLUSH_MS = 100;
/** ... and at once when this many are waiting. */
const FLUSH_HOSTS = 1000;

export class ShareWriter {
  readonly #file: string;
  readonly #fold: boolean;
  #batch: [string, HostResult][] = [];
  #timer: NodeJS.Timeout | undefined;
  /** hosts already in the file (a resumed share writes each host once) */
  readonly written: Set<string>;

  constructor(file: string, fold = true) {
    this.#file = file;
    this.#fold = fold;
    this.written = new Set(writtenHosts(file));
  }

  add(host: string, result: HostResult): void {
    if (this.written.has(host)) return;
    this.written.add(host);
    this.#batch.push([host, result]);
    if (this.#batch.length >= FLUSH_HOSTS) this.flush();
    else this.#timer ??= setTimeout(() => this.flush(), FLUSH_MS);
  }

  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#batch.length === 0) return;
    const lines = foldLines(this.#batch, this.#fold);
    this.#batch = [];
    appendFileSync(this.#file, lines.map((l) => JSON.stringify(l) + "\n").join(""), { mode: 0o600 });
  }

  /** Writes what is left and the end line, and makes the file durable. */
  end(): void {
    this.flush();
    appendFileSync(this.#file, END_LINE + "\n", { mode: 0o600 });
    const fd = openSync(this.#file, "r");
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }
}

/**
 * The hosts named in the complete lines of a result file (none when there is no file). A torn last line (a
 * writer that died mid-write) is cut off, so the next line starts on a line of its own; its hosts are written again.
 */
function writtenHosts(file: string): string[] {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return [];
  }
  const end = text.lastIndexOf("\n") + 1;
  if (end < text.length) truncateSync(file, Buffer.byteLength(text.slice(0, end)));
  const out: string[] = [];
  for (const line of text.slice(0, end).split("\n")) {
    if (!line || line === END_LINE) continue;
    out.push(...((JSON.parse(line) as { hosts: string[] }).hosts ?? []));
  }
  return out;
}
