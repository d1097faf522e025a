// funcd's HTTPS handler under bad input: refused at TLS without a func-CA cert, faults (never crashes or
// HTTP 404s) for bad calls, 413 for oversized bodies, and it keeps serving after each.

import assert from "node:assert/strict";
import { readFileSync, rmSync } from "node:fs";
import { request } from "node:https";
import { createCa, decodeResponse, encodeCall, issueCert, type CertPair } from "@func/shared";
import { startMinion, type StartedMinion } from "@func/minion";
import { makeMinionHome, type TestPki } from "./helpers/pki.js";
import { tempHome } from "./helpers/fleet.js";
import { faultOf } from "./helpers/xmlrpc.js";
import { eventually } from "./helpers/procs.js";

interface Raw {
  status: number;
  body: string;
}

function post(m: StartedMinion, id: CertPair | null, ca: string, body: string | Buffer, headers: Record<string, string> = {}, method = "POST"): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: m.address,
        port: m.port,
        method,
        path: "/",
        ca,
        ...(id ? { key: id.keyPem, cert: id.certPem } : {}),
        servername: m.name,
        agent: false,
        headers: { "Content-Type": "text/xml", ...headers },
      },
      (res) => {
        let data = "";
        res.on("data", (c: Buffer) => (data += c.toString()));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: data }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

describe("minion HTTPS handler", function () {
  this.timeout(30_000);
  let dir: string;
  let pki: TestPki;
  let m: StartedMinion;

  const ping = async () => {
    const raw = await post(m, pki.overlord, pki.ca.certPem, encodeCall("test.ping", []));
    assert.equal(await decodeResponse(raw.body), 1);
  };

  before(async () => {
    dir = tempHome("server");
    pki = await makeMinionHome(dir, "minion-test", "127.0.12.2");
    m = await startMinion(pki.paths, { maxBodyBytes: 64 * 1024 });
  });
  after(async () => {
    await m?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("answers the overlord", ping);

  it("refuses a client without a cert at TLS", async () => {
    await assert.rejects(post(m, null, pki.ca.certPem, encodeCall("test.ping", [])));
    await ping();
  });

  it("refuses a cert from another CA at TLS", async () => {
    const other = await createCa({ commonName: "evil CA" });
    const id = await issueCert(other, { commonName: "overlord@evil", role: "overlord", dnsNames: ["evil"] });
    await assert.rejects(post(m, id, pki.ca.certPem, encodeCall("test.ping", [])));
    await ping();
  });

  it("refuses an expired cert at TLS", async () => {
    const id = await issueCert(pki.ca, {
      commonName: "overlord@old",
      role: "overlord",
      dnsNames: ["old"],
      notBefore: new Date(Date.now() - 10 * 86400_000),
      notAfter: new Date(Date.now() - 86400_000),
    });
    await assert.rejects(post(m, id, pki.ca.certPem, encodeCall("test.ping", [])));
    await ping();
  });

  it("unknown method: fault 2 over HTTP 200, not a 404", async () => {
    const f = await faultOf(await post(m, pki.overlord, pki.ca.certPem, encodeCall("nosuch.method", [])));
    assert.equal(f.faultCode, 2);
    assert.match(f.faultString, /^NoSuchMethod: /);
    await ping();
  });

  it("wrong argument count and types: fault 4", async () => {
    assert.equal((await faultOf(await post(m, pki.overlord, pki.ca.certPem, encodeCall("test.add", [1])))).faultCode, 4);
    assert.equal((await faultOf(await post(m, pki.overlord, pki.ca.certPem, encodeCall("test.sleep", ["x"])))).faultCode, 4);
    assert.equal((await faultOf(await post(m, pki.overlord, pki.ca.certPem, encodeCall("command.run", [42])))).faultCode, 4);
    await ping();
  });

  it("a method that raises: fault 1 with the error type and message", async () => {
    const f = await faultOf(await post(m, pki.overlord, pki.ca.certPem, encodeCall("test.explode", ["boom"])));
    assert.equal(f.faultCode, 1);
    assert.equal(f.faultString, "MethodError: boom");
  });

  it("a body that is not XML-RPC: fault -32700", async () => {
    for (const body of ["hello", "<methodCall><methodName>test.ping", "<foo/>", '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><methodCall><methodName>test.ping</methodName></methodCall>']) {
      assert.equal((await faultOf(await post(m, pki.overlord, pki.ca.certPem, body))).faultCode, -32700, body);
    }
    await ping();
  });

  it("a body over the limit: 413, declared or not", async () => {
    const big = encodeCall("test.echo", ["x".repeat(128 * 1024)]);
    assert.equal((await post(m, pki.overlord, pki.ca.certPem, big)).status, 413);
    assert.equal((await post(m, pki.overlord, pki.ca.certPem, big, { "Transfer-Encoding": "chunked" })).status, 413);
    await ping();
  });

  it("GET: 405", async () => {
    assert.equal((await post(m, pki.overlord, pki.ca.certPem, "", {}, "GET")).status, 405);
    await ping();
  });

  it("a minion cert without an ACL entry is denied (fault 3); the call is audited", async () => {
    const f = await faultOf(await post(m, pki.minion, pki.ca.certPem, encodeCall("test.ping", [])));
    assert.equal(f.faultCode, 3);
    // the audit log is appended asynchronously: poll for the line rather than sleep
    await eventually(() => readFileSync(pki.paths.auditLog, "utf8").includes('"denied"'), 10_000, 50);
    const lines = readFileSync(pki.paths.auditLog, "utf8").trim().split("\n").map((l) => JSON.parse(l));
    const denied = lines.find((l) => l.outcome === "denied");
    assert.ok(denied, "denied call audited");
    assert.equal(denied.cn, "minion-test");
    // refused before its body is read (issue 10 item 8): the method is unknown, the reason is in the line
    assert.equal(denied.method, "-");
    assert.match(denied.detail, /no ACL line/);
    assert.ok(lines.some((l) => l.cn === "overlord@test" && l.outcome === "ok" && typeof l.ms === "number"));
  });
});
