// The pre-TLS guard of our TLS servers (issue 10 item 9): counts open connections per source address at
// accept, before any handshake, and closes those over the per-address cap or the total cap. Addresses that
// once proved the privileged role (funcd: the overlord) keep a reserved share of the total, so strangers
// holding idle sockets can never starve them. funcd uses it; any other TLS server of ours can.

import type { Server } from "node:net";
import type { Socket } from "node:net";

export interface ConnectionGuardOptions {
  /** most connections open at once, over all addresses */
  maxConnections: number;
  /** most connections open at once from one source address (privileged addresses are not held to it) */
  maxPerAddress: number;
  /** connections of the total that only privileged addresses may use */
  reserved: number;
  /** privileged addresses remembered (the oldest is forgotten first) */
  maxPrivileged?: number;
}

/** Privileged addresses remembered by default: one overlord host per address, a handful in practice. */
const DEFAULT_MAX_PRIVILEGED = 256;

export type GuardVerdict = "admitted" | "over-address-cap" | "over-total-cap";

/** IPv4-mapped IPv6 addresses (`::ffff:1.2.3.4`) count as their IPv4 address. */
function addressKey(address: string | undefined): string {
  const a = address ?? "?";
  return a.startsWith("::ffff:") ? a.slice(7) : a;
}

export class ConnectionGuard {
  readonly #opts: Required<ConnectionGuardOptions>;
  readonly #perAddress = new Map<string, number>();
  /** insertion-ordered: the first key is the least recently confirmed */
  readonly #privileged = new Map<string, true>();
  #open = 0;

  constructor(opts: ConnectionGuardOptions) {
    this.#opts = { maxPrivileged: DEFAULT_MAX_PRIVILEGED, ...opts, reserved: Math.min(opts.reserved, Math.max(0, opts.maxConnections - 1)) };
  }

  get open(): number {
    return this.#open;
  }

  /** Connections open now from `address`. */
  openFrom(address: string): number {
    return this.#perAddress.get(addressKey(address)) ?? 0;
  }

  isPrivileged(address: string | undefined): boolean {
    return this.#privileged.has(addressKey(address));
  }

  /** Records that `address` proved the privileged role (after its TLS handshake and cert check). */
  markPrivileged(address: string | undefined): void {
    const key = addressKey(address);
    this.#privileged.delete(key);
    this.#privileged.set(key, true);
    if (this.#privileged.size > this.#opts.maxPrivileged) this.#privileged.delete(this.#privileged.keys().next().value!);
  }

  /** Whether a new connection from `address` may stay open (counted if so: call `release` when it closes). */
  admit(address: string | undefined): GuardVerdict {
    const key = addressKey(address);
    const privileged = this.#privileged.has(key);
    const from = this.#perAddress.get(key) ?? 0;
    if (this.#open >= this.#opts.maxConnections) return "over-total-cap";
    if (!privileged) {
      if (this.#open >= this.#opts.maxConnections - this.#opts.reserved) return "over-total-cap";
      if (from >= this.#opts.maxPerAddress) return "over-address-cap";
    }
    this.#open++;
    this.#perAddress.set(key, from + 1);
    return "admitted";
  }

  release(address: string | undefined): void {
    const key = addressKey(address);
    const from = this.#perAddress.get(key) ?? 0;
    if (from <= 1) this.#perAddress.delete(key);
    else this.#perAddress.set(key, from - 1);
    this.#open = Math.max(0, this.#open - 1);
  }

  /**
   * Guards `server` (a net, tls or https server): every accepted socket is admitted or destroyed at once,
   * before its TLS handshake; `onRefused` hears of each one refused.
   */
  attach(server: Server, onRefused?: (verdict: Exclude<GuardVerdict, "admitted">, address: string) => void): void {
    server.on("connection", (socket: Socket) => {
      const address = socket.remoteAddress ?? "?";
      const verdict = this.admit(address);
      if (verdict !== "admitted") {
        socket.destroy();
        onRefused?.(verdict, address);
        return;
      }
      socket.once("close", () => this.release(address));
    });
  }
}
