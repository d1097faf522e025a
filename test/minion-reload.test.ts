// funcd's SIGHUP (the systemd unit's ExecReload): minion.conf, the CRL and the ACLs are read again and the
// audit log reopened, in the same process, while a kept-alive connection stays open and keeps working.

import assert from "node:assert/strict";
import { appendFileSync, copyFileSync, existsSync, readFileSync, renameSync, rmSync } from "node:fs";
import { Agent, request } from "node:https";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { homePaths } from "@func/shared";
import { FUNC_CA_BIN, runBin, startFleet, tempHome, type TestFleet } from "./helpers/fleet.js";

const SUBNET = 151;

async function until<T>(what: string, fn: () => T | Promise<T>, timeoutMs = 30_000): Promise<NonNullable<T>> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

interface Identity {
  key: Buffer;
  cert: Buffer;
  ca: Buffer;
}

/** One XML-RPC call over `agent`; resolves with the body and whether the socket was a kept-alive one. */
function call(agent: Agent, address: string, id: Identity, method: string, params = ""): Promise<{ body: string; reused: boolean }> {
  return new Promise((resolve, reject) => {
    const body = `<?xml version="1.0"?><methodCall><methodName>${method}</methodName><params>${params}</params></methodCall>`;
    const req = request(
      { host: address, port: 51234, method: "POST", path: "/", agent, ...id, checkServerIdentity: () => undefined, headers: { "Content-Type": "text/xml", "Content-Length": Buffer.byteLength(body) } },
      (res) => {
        let text = "";
        res.on("data", (c: Buffer) => (text += c.toString()));
        res.on("end", () => resolve({ body: text, reused: req.reusedSocket }));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

describe("funcd SIGHUP: reload without dropping connections", function () {
  this.timeout(120_000);
  let fleet: TestFleet;
  let minionHome: string;
  let address: string;
  let pid: number;
  let log: string;
  const out = tempHome("reload-ops");

  before(async () => {
    fleet = await startFleet("reload", SUBNET, 1);
    const m = fleet.minions[0]!;
    minionHome = m.home;
    address = m.address;
    pid = m.pid;
    log = join(fleet.home, "log", `funcd-${m.name}.log`);
  });
  after(async () => {
    await fleet?.stop();
    rmSync(out, { recursive: true, force: true });
  });

  const hup = async () => {
    const before = readFileSync(log, "utf8").split("reloaded minion.conf").length;
    process.kill(pid, "SIGHUP");
    await until("funcd to say it reloaded", () => readFileSync(log, "utf8").split("reloaded minion.conf").length > before);
  };

  it("keeps the process and the kept-alive connection; applies minion.conf limits, a new CRL and a moved audit log", async () => {
    const o = homePaths(fleet.home);
    const overlord = { key: readFileSync(o.overlordKey), cert: readFileSync(o.overlordCert), ca: readFileSync(o.caCert) };
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const big = "<param><value><string>yes a | head -c 5000</string></value></param>";
      const first = await call(agent, address, overlord, "command.run", big);
      assert.match(first.body, /<name>truncated<\/name><value><boolean>0<\/boolean>/, first.body.slice(0, 300));

      // a user identity, revoked on the CA; the minion has not seen that CRL yet
      const issued = await runBin(FUNC_CA_BIN, ["issue", "ops1", "--out", out], { FUNC_HOME: fleet.home });
      assert.equal(issued.code, 0, issued.stderr);
      const ops1 = { key: readFileSync(join(out, "ops1.key")), cert: readFileSync(join(out, "ops1.crt")), ca: readFileSync(join(out, "ca.crt")) };
      const before = await call(new Agent(), address, ops1, "test.ping");
      assert.match(before.body, /faultCode/, "ops1 gets past TLS (then the ACL denies it)");
      const revoked = await runBin(FUNC_CA_BIN, ["revoke", "ops1"], { FUNC_HOME: fleet.home });
      assert.equal(revoked.code, 0, revoked.stderr);

      const m = homePaths(minionHome);
      appendFileSync(m.minionConf, "\ncommand_output_cap = 1024\n");
      copyFileSync(o.crl, m.minionCrl);
      const audit = join(m.stateDir, "log", "audit.log");
      renameSync(audit, `${audit}.moved`);
      await hup();

      assert.doesNotThrow(() => process.kill(pid, 0), "the same funcd process");
      const second = await call(agent, address, overlord, "command.run", big);
      assert.equal(second.reused, true, "the request went over the connection opened before the reload");
      assert.match(second.body, /<name>truncated<\/name><value><boolean>1<\/boolean>/, "command_output_cap from the re-read minion.conf");
      await assert.rejects(call(new Agent(), address, ops1, "test.ping"), "the revoked identity is refused at TLS");
      assert.ok(existsSync(audit), "the audit log was reopened at its path");
      assert.match(readFileSync(audit, "utf8"), /command\.run/);
    } finally {
      agent.destroy();
    }
  });

  it("a minion.conf that does not read is reported, and the running configuration kept", async () => {
    const m = homePaths(minionHome);
    appendFileSync(m.minionConf, "\nmax_depth = lots\n");
    process.kill(pid, "SIGHUP");
    await until("the reload failure in the log", () => /reload failed, kept the running configuration: .*max_depth/.test(readFileSync(log, "utf8")));
    assert.doesNotThrow(() => process.kill(pid, 0), "funcd still runs");
  });
});
