// A plain Python client (ssl + xmlrpc.client, nothing of ours) against a real minion on 127.34.0.2: with the
// overlord's cert it may call anything; with a minion's own cert it is denied until an ACL line allows it.
// Skipped when python3 is not installed.

import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { createCa, homePaths, issueCert } from "@func/shared";
import { startFleet, type TestFleet } from "./helpers/fleet.js";

const CLIENT = `
import json, ssl, sys, xmlrpc.client
ca, cert, key, url, method = sys.argv[1:6]
args = json.loads(sys.argv[6])
ctx = ssl.create_default_context(cafile=ca)
ctx.load_cert_chain(cert, key)
proxy = xmlrpc.client.ServerProxy(url, context=ctx)
try:
    print(json.dumps({"value": getattr(proxy, method)(*args)}))
except xmlrpc.client.Fault as f:
    print(json.dumps({"fault": f.faultCode, "message": f.faultString}))
except (ssl.SSLError, OSError) as e:
    print(json.dumps({"tls": str(e)}))
`;

interface PyResult {
  value?: unknown;
  fault?: number;
  message?: string;
  tls?: string;
}

const HAVE_PYTHON = spawnSync("python3", ["-c", "import ssl, xmlrpc.client"]).status === 0;

describe("a plain Python xmlrpc.client against a minion", function () {
  this.timeout(120_000);
  let fleet: TestFleet;
  let script: string;

  function py(certFile: string, keyFile: string, method: string, args: unknown[] = []): Promise<PyResult> {
    const p = homePaths(fleet.home);
    const m = fleet.minions[0]!;
    return new Promise((resolve, reject) => {
      const child = spawn("python3", [script, p.caCert, certFile, keyFile, `https://${m.address}:${m.port}/`, method, JSON.stringify(args)]);
      let out = "";
      let err = "";
      child.stdout.on("data", (c: Buffer) => (out += c.toString()));
      child.stderr.on("data", (c: Buffer) => (err += c.toString()));
      child.on("error", reject);
      child.on("close", () => {
        try {
          resolve(JSON.parse(out) as PyResult);
        } catch {
          reject(new Error(`python said: ${out}${err}`));
        }
      });
    });
  }

  before(async function () {
    if (!HAVE_PYTHON) this.skip();
    fleet = await startFleet("python", 34, 1);
    script = join(fleet.home, "client.py");
    writeFileSync(script, CLIENT);
  });
  after(async () => {
    await fleet?.stop();
  });

  it("with the overlord's cert: test.ping, typed arguments and a listing", async () => {
    const p = homePaths(fleet.home);
    assert.deepEqual(await py(p.overlordCert, p.overlordKey, "test.ping"), { value: 1 });
    assert.deepEqual(await py(p.overlordCert, p.overlordKey, "test.add", [40, 2]), { value: 42 });
    const methods = await py(p.overlordCert, p.overlordKey, "system.list_methods");
    assert.ok(Array.isArray(methods.value) && (methods.value as string[]).includes("test.ping"));
  });

  it("with a minion's own cert: denied (fault 3) until an ACL line allows it", async () => {
    const mp = homePaths(fleet.minions[0]!.home);
    const denied = await py(mp.minionCert, mp.minionKey, "test.ping");
    assert.equal(denied.fault, 3, JSON.stringify(denied));
    // no ACL line names it: refused before its body is read, so before the method is known
    assert.match(denied.message!, /^AccessDenied: minion01 may not call anything on this minion/);
    mkdirSync(mp.aclDir, { recursive: true });
    // a line without a role grants user identities: one named like a minion does not let the minion in
    writeFileSync(join(mp.aclDir, "self.acl"), "minion01 = test.ping\n* = test.ping\n");
    await sleep(1200); // the minion looks at acl.d at most once a second
    assert.equal((await py(mp.minionCert, mp.minionKey, "test.ping")).fault, 3, "user lines grant no minion cert");
    writeFileSync(join(mp.aclDir, "self.acl"), "minion:minion01 = test.ping\n");
    await sleep(1200);
    assert.deepEqual(await py(mp.minionCert, mp.minionKey, "test.ping"), { value: 1 });
    assert.equal((await py(mp.minionCert, mp.minionKey, "test.add", [1, 2])).fault, 3, "only what the line allows");
  });

  it("with a cert from another CA the handshake fails", async () => {
    const other = await createCa({ commonName: "not the func CA" });
    const pair = await issueCert(other, { commonName: "overlord@elsewhere", role: "overlord", dnsNames: ["elsewhere"] });
    const certFile = join(fleet.home, "other.crt");
    const keyFile = join(fleet.home, "other.key");
    writeFileSync(certFile, pair.certPem);
    writeFileSync(keyFile, pair.keyPem, { mode: 0o600 });
    const r = await py(certFile, keyFile, "test.ping");
    assert.ok(r.tls !== undefined, JSON.stringify(r));
    const p = homePaths(fleet.home);
    assert.deepEqual(await py(p.overlordCert, p.overlordKey, "test.ping"), { value: 1 }, "control: the func cert still works");
  });
});
