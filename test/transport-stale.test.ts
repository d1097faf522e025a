// A kept-alive connection the minion closes as idle just as the next request goes out (its keep-alive
// timeout): the minion never read that request, so the transport sends it once more on a new connection
// instead of reporting a healthy minion `unreachable` (the 10-minute soak saw this once in ~30,000 calls).
// A connection reset on a fresh connection, or after the minion started answering, is not retried.

import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Socket } from "node:net";
import { MinionTransport, type MinionAddress } from "@func/overlord";
import { encodeResponse } from "@func/shared";
import { makeMinionHome, type TestPki } from "./helpers/pki.js";

const ADDRESS = "127.70.0.2";

type Behaviour = "drop-second-on-a-connection" | "drop-all" | "half-answer";

describe("transport: a request on a connection the minion just closed", () => {
  let dir: string;
  let pki: TestPki;
  let server: Server;
  let behaviour: Behaviour = "drop-second-on-a-connection";
  let connections = 0;
  let requests = 0;
  const perSocket = new WeakMap<Socket, number>();
  let target: MinionAddress;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "func-stale-"));
    pki = await makeMinionHome(dir, "minion-stale", ADDRESS);
    server = createServer({ key: pki.minion.keyPem, cert: pki.minion.certPem, ca: pki.ca.certPem, requestCert: true, rejectUnauthorized: true });
    server.on("secureConnection", () => connections++);
    server.on("request", (req, res) => {
      requests++;
      const n = (perSocket.get(req.socket) ?? 0) + 1;
      perSocket.set(req.socket, n);
      req.resume();
      req.on("end", () => {
        const body = Buffer.from(encodeResponse(n));
        if (behaviour === "drop-all" || (behaviour === "drop-second-on-a-connection" && n >= 2)) return void req.socket.destroy();
        if (behaviour === "half-answer" && n >= 2) {
          res.writeHead(200, { "Content-Type": "text/xml", "Content-Length": body.length });
          res.write(body.subarray(0, 10));
          return void setTimeout(() => req.socket.destroy(), 20);
        }
        res.writeHead(200, { "Content-Type": "text/xml", "Content-Length": body.length });
        res.end(body);
      });
    });
    await new Promise<void>((r) => server.listen(0, ADDRESS, r));
    const port = (server.address() as { port: number }).port;
    target = { name: "minion-stale", host: ADDRESS, port };
  });
  after(async () => {
    await new Promise((r) => server?.close(r));
    rmSync(dir, { recursive: true, force: true });
  });
  const transport = () => new MinionTransport({ key: pki.overlord.keyPem, cert: pki.overlord.certPem, ca: pki.ca.certPem });
  const reset = (b: Behaviour) => {
    behaviour = b;
    connections = 0;
    requests = 0;
  };

  it("is sent once more on a new connection, and answers", async () => {
    reset("drop-second-on-a-connection");
    const t = transport();
    try {
      const first = await t.call(target, "test.ping", [], { timeoutMs: 5000 });
      assert.deepEqual([first.outcome, first.outcome === "ok" && first.value], ["ok", 1]);
      const second = await t.call(target, "test.ping", [], { timeoutMs: 5000 });
      assert.equal(second.outcome, "ok", JSON.stringify(second));
      assert.equal(second.outcome === "ok" && second.value, 1, "answered as the first request of a new connection");
      assert.deepEqual({ connections, requests }, { connections: 2, requests: 3 });
    } finally {
      t.close();
    }
  });

  it("control: a reset on a new connection is not retried (unreachable after one try)", async () => {
    reset("drop-all");
    const t = transport();
    try {
      const r = await t.call(target, "test.ping", [], { timeoutMs: 5000 });
      assert.notEqual(r.outcome, "ok");
      assert.deepEqual({ connections, requests }, { connections: 1, requests: 1 });
    } finally {
      t.close();
    }
  });

  it("control: a minion that had started answering is not asked again", async () => {
    reset("half-answer");
    const t = transport();
    try {
      assert.equal((await t.call(target, "test.ping", [], { timeoutMs: 5000 })).outcome, "ok");
      const r = await t.call(target, "test.ping", [], { timeoutMs: 5000 });
      assert.notEqual(r.outcome, "ok");
      assert.deepEqual({ connections, requests }, { connections: 1, requests: 2 });
    } finally {
      t.close();
    }
  });
});
