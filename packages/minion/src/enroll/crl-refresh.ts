// Keeping a minion's CRL current: fetched from the enrollment service at start and every crl_refresh seconds,
// accepted only when the pinned CA signed it, it has not expired and it is not older than the one held; then
// written to pki/crl.pem and handed to the TLS server. Any failure keeps the last good CRL.

import { existsSync, readFileSync } from "node:fs";
import { crlInfo, crlNextUpdate, verifyCrl, writeFileAtomic, type CrlInfo } from "@func/shared";
import type { EnrollClient } from "./enroll-client.js";

export interface CrlRefresherOptions {
  client: EnrollClient;
  /** the CA the CRL must be signed by (the minion's pki/ca.crt) */
  caPem: string;
  /** where the last good CRL is kept */
  file: string;
  intervalS: number;
  /** installs a new CRL (MinionServer.updateTls) */
  apply: (crlPem: string) => void;
  log?: (message: string) => void;
}

export type RefreshOutcome = "updated" | "unchanged" | "failed";

export class CrlRefresher {
  readonly #opts: CrlRefresherOptions;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<RefreshOutcome> | null = null;
  #failing = false;

  constructor(opts: CrlRefresherOptions) {
    this.#opts = opts;
  }

  #current(): { pem: string; info: CrlInfo } | null {
    if (!existsSync(this.#opts.file)) return null;
    try {
      const pem = readFileSync(this.#opts.file, "utf8");
      return { pem, info: crlInfo(pem) };
    } catch {
      return null;
    }
  }

  /** Fetches once; never throws (a failure is logged once per run of failures). */
  refresh(): Promise<RefreshOutcome> {
    this.#running ??= this.#refresh().finally(() => (this.#running = null));
    return this.#running;
  }

  async #refresh(): Promise<RefreshOutcome> {
    const log = this.#opts.log ?? (() => {});
    try {
      const pem = await this.#opts.client.crl();
      // the same bytes as the CRL held (checked when it was written) need no new check: most refreshes end here
      // without loading the x509 library (~15 MB of a minion's memory) just to find nothing changed
      const held = existsSync(this.#opts.file) ? readFileSync(this.#opts.file, "utf8") : null;
      if (held === pem) {
        const next = crlNextUpdate(pem);
        if (next !== null && next.getTime() < Date.now()) throw new Error(`the CRL it sent expired at ${next.toISOString()}`);
        if (this.#failing) log(`CRL: ${this.#opts.client.where} answers again`);
        this.#failing = false;
        return "unchanged";
      }
      if (!(await verifyCrl(pem, this.#opts.caPem))) throw new Error("the CRL it sent is not signed by this minion's CA");
      const info = crlInfo(pem);
      if (info.nextUpdate !== null && info.nextUpdate.getTime() < Date.now()) throw new Error(`the CRL it sent expired at ${info.nextUpdate.toISOString()}`);
      const cur = this.#current();
      if (this.#failing) log(`CRL: ${this.#opts.client.where} answers again`);
      this.#failing = false;
      if (cur && cur.info.number !== null && info.number !== null && info.number < cur.info.number) {
        throw new Error("the CRL it sent is older than the one this minion holds");
      }
      writeFileAtomic(this.#opts.file, pem);
      this.#opts.apply(pem);
      log(`CRL: updated from ${this.#opts.client.where} (${info.serials.length} revoked)`);
      return "updated";
    } catch (err) {
      if (!this.#failing) log(`CRL: cannot refresh from ${this.#opts.client.where}: ${(err as Error).message}; keeping the last good one`);
      this.#failing = true;
      return "failed";
    }
  }

  /** One refresh now (not awaited: serving does not wait for the service), then one per interval. */
  start(): void {
    void this.refresh();
    if (this.#opts.intervalS > 0) {
      this.#timer = setInterval(() => void this.refresh(), this.#opts.intervalS * 1000);
      this.#timer.unref();
    }
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
