// What the minion does with its CRL (DESIGN section 9): while the CRL is fresh, TLS enforces it. Once it is past
// its nextUpdate (the enrollment service unreachable for days), OpenSSL would refuse every caller, locking the
// overlord out; instead TLS runs without it and only the overlord role gets in, minus the serials it still lists.

import { canonicalSerial, crlNextUpdate, crlSerials } from "@func/shared";

/** The role that keeps working on a minion whose CRL is stale: the admin's way in to fix things. */
const STALE_ALLOWED_ROLE = "overlord";
/** Longest timer Node accepts, ms: a later expiry is re-checked when it fires. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export class CrlGate {
  #pem: string | undefined;
  #nextUpdate: number | null = null;
  #serials: Set<string> | null = null;
  #timer: NodeJS.Timeout | undefined;
  readonly #onExpire: () => void;

  /** `onExpire` runs when the CRL held goes stale while serving (the server then drops it from TLS). */
  constructor(crlPem: string | undefined, onExpire: () => void) {
    this.#onExpire = onExpire;
    this.set(crlPem);
  }

  set(crlPem: string | undefined): void {
    this.#pem = crlPem;
    this.#serials = null;
    this.#nextUpdate = null;
    if (crlPem !== undefined) {
      try {
        this.#nextUpdate = crlNextUpdate(crlPem)?.getTime() ?? null;
      } catch {
        this.#nextUpdate = null;
      }
    }
    this.#arm();
  }

  #arm(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#nextUpdate === null || this.stale()) return;
    const wait = Math.min(MAX_TIMER_MS, this.#nextUpdate - Date.now() + 1);
    this.#timer = setTimeout(() => {
      if (this.stale()) this.#onExpire();
      else this.#arm();
    }, wait);
    this.#timer.unref();
  }

  /** Past its nextUpdate: OpenSSL would refuse every handshake with it. */
  stale(now = Date.now()): boolean {
    return this.#pem !== undefined && this.#nextUpdate !== null && this.#nextUpdate <= now;
  }

  /** When the CRL held expires (or expired); null: none held, or it has no nextUpdate. */
  get nextUpdate(): Date | null {
    return this.#nextUpdate === null ? null : new Date(this.#nextUpdate);
  }

  /** The CRL for the TLS context: the one held while fresh, none once stale (the gate checks then). */
  tlsCrl(now = Date.now()): string | undefined {
    return this.stale(now) ? undefined : this.#pem;
  }

  /**
   * Why this peer may not call while the CRL is stale, or null (fresh CRL: TLS has decided already). `serial` is
   * the peer cert's serial as Node reports it (hex).
   */
  refusal(role: string | null, serial: string, now = Date.now()): string | null {
    if (!this.stale(now)) return null;
    this.#serials ??= new Set(safeSerials(this.#pem!));
    if (this.#serials.has(canonicalSerial(serial))) return "this cert is revoked";
    if (role !== STALE_ALLOWED_ROLE) {
      return `this minion's CRL expired at ${new Date(this.#nextUpdate!).toISOString()} and no fresh one could be fetched: only the overlord identity may call until it is`;
    }
    return null;
  }

  close(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}

function safeSerials(pem: string): string[] {
  try {
    return crlSerials(pem);
  } catch {
    return [];
  }
}
