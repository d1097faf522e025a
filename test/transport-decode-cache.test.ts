// The transport decodes identical small answers once (a fan-out's hosts mostly answer the same bytes), but
// every call still gets its own value: mutating one host's result never shows in another's.

import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startMinion, type StartedMinion } from "@func/minion";
import { MinionTransport, type MinionAddress } from "@func/overlord";
import { makeMinionHome, type TestPki } from "./helpers/pki.js";

/** This file's minion address. */
const ADDRESS = "127.66.0.2";

describe("transport: decoded answers are shared only by value", () => {
  let dir: string;
  let pki: TestPki;
  let minion: StartedMinion;
  let transport: MinionTransport;
  let target: MinionAddress;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "func-decode-cache-"));
    pki = await makeMinionHome(dir, "minion-cache", ADDRESS);
    minion = await startMinion(pki.paths, { listenAddr: ADDRESS, listenPort: 0 });
    transport = new MinionTransport({ key: pki.overlord.keyPem, cert: pki.overlord.certPem, ca: pki.ca.certPem });
    target = { name: "minion-cache", host: ADDRESS, port: minion.port };
  });
  after(async () => {
    transport?.close();
    await minion?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("identical answers give equal values that are not the same objects", async () => {
    const value = { list: [1, 2.5, "x", null], nested: { deep: [true] }, __proto__x: "k" };
    const a = await transport.call(target, "test.echo", [value], { timeoutMs: 10_000 });
    const b = await transport.call(target, "test.echo", [value], { timeoutMs: 10_000 });
    assert.equal(a.outcome, "ok");
    assert.equal(b.outcome, "ok");
    if (a.outcome !== "ok" || b.outcome !== "ok") return;
    assert.deepEqual(a.value, b.value);
    assert.notEqual(a.value, b.value);
    ((a.value as { list: unknown[] }).list).push("mutated");
    assert.deepEqual(b.value, value, "the second host's value is untouched");
  });

  it("bytes stay Buffers, and a struct key named __proto__ stays an own key", async () => {
    const bytes = Buffer.from([0xff, 0xfe, 0x00, 0x41]);
    for (let i = 0; i < 2; i++) {
      const r = await transport.call(target, "test.echo", [bytes], { timeoutMs: 10_000 });
      assert.ok(r.outcome === "ok" && Buffer.isBuffer(r.value) && r.value.equals(bytes), JSON.stringify(r));
    }
    const proto = JSON.parse('{"__proto__": {"polluted": 1}}') as Record<string, unknown>;
    for (let i = 0; i < 2; i++) {
      const r = await transport.call(target, "test.echo", [proto], { timeoutMs: 10_000 });
      assert.ok(r.outcome === "ok");
      const v = r.value as Record<string, unknown>;
      assert.ok(Object.prototype.hasOwnProperty.call(v, "__proto__"));
      assert.equal(Object.getPrototypeOf(v), Object.prototype);
      assert.equal(({} as Record<string, unknown>).polluted, undefined);
    }
  });
});
