// Test helper: calls straight to one fleet minion with the overlord's identity, past the overlord's own
// signature checks, so a test sees what the minion itself answers (fault 4 for bad input).

import assert from "node:assert/strict";
import type { HostResult, WireValue } from "@func/shared";
import { MinionTransport, Overlord } from "@func/overlord";

export interface DirectCaller {
  raw(method: string, ...params: unknown[]): Promise<HostResult>;
  /** the value of a call that must succeed */
  ok(method: string, ...params: unknown[]): Promise<WireValue>;
  /** a call that must be refused with fault 4, its message matching `re` */
  fault4(method: string, params: unknown[], re: RegExp): Promise<void>;
  close(): Promise<void>;
}

export function directCaller(home: string, host: string): DirectCaller {
  const overlord = new Overlord(host, { home });
  const transport = new MinionTransport(overlord.identity());
  const raw = (method: string, ...params: unknown[]): Promise<HostResult> => transport.call(overlord.addresses([host])[0]!, method, params, { timeoutMs: 30_000 });
  return {
    raw,
    async ok(method, ...params) {
      const r = await raw(method, ...params);
      assert.equal(r.outcome, "ok", `${method}: ${JSON.stringify(r)}`);
      return (r as { value: WireValue }).value;
    },
    async fault4(method, params, re) {
      const r = await raw(method, ...params);
      assert.ok(r.outcome === "error" && r.error.code === 4, `${method}: ${JSON.stringify(r)}`);
      assert.match(r.outcome === "error" ? r.error.message : "", re);
    },
    async close() {
      transport.close();
      await overlord.close();
    },
  };
}
