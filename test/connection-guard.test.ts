// The pre-TLS connection guard (packages/shared/src/connection-guard.ts): per-address and total caps, the
// reserve only privileged addresses may use, and release on close. Pure counting; the real sockets are in
// test/lockouts.test.ts.

import assert from "node:assert/strict";
import { ConnectionGuard } from "@func/shared";

describe("connection guard (per-address caps before TLS)", () => {
  it("caps each address, counts IPv4-mapped IPv6 as IPv4, and releases on close", () => {
    const g = new ConnectionGuard({ maxConnections: 100, maxPerAddress: 2, reserved: 10 });
    assert.equal(g.admit("10.0.0.1"), "admitted");
    assert.equal(g.admit("::ffff:10.0.0.1"), "admitted");
    assert.equal(g.admit("10.0.0.1"), "over-address-cap");
    assert.equal(g.admit("10.0.0.2"), "admitted");
    g.release("10.0.0.1");
    assert.equal(g.openFrom("10.0.0.1"), 1);
    assert.equal(g.admit("10.0.0.1"), "admitted");
    assert.equal(g.open, 3);
  });

  it("keeps the reserve for addresses that proved the privileged role; those are not held to the per-address cap", () => {
    const g = new ConnectionGuard({ maxConnections: 10, maxPerAddress: 4, reserved: 3 });
    g.markPrivileged("10.0.0.9");
    for (const a of ["10.0.0.1", "10.0.0.2"]) for (let i = 0; i < 4; i++) g.admit(a);
    assert.equal(g.open, 7);
    assert.equal(g.admit("10.0.0.3"), "over-total-cap", "strangers stop at max - reserved");
    for (let i = 0; i < 3; i++) assert.equal(g.admit("10.0.0.9"), "admitted");
    assert.equal(g.admit("10.0.0.9"), "over-total-cap", "the total still holds");
    assert.ok(g.isPrivileged("::ffff:10.0.0.9"));
  });

  it("forgets the least recently confirmed privileged address past its bound", () => {
    const g = new ConnectionGuard({ maxConnections: 10, maxPerAddress: 1, reserved: 1, maxPrivileged: 2 });
    g.markPrivileged("a");
    g.markPrivileged("b");
    g.markPrivileged("a");
    g.markPrivileged("c");
    assert.ok(g.isPrivileged("a") && g.isPrivileged("c") && !g.isPrivileged("b"));
  });
});
