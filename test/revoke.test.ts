// Revocation on a real fleet (127.35.0.x) with `func-ca serve` running as a real process: minions fetch the CRL
// every second here, so a revoked overlord identity is refused at TLS by every minion; they keep the last good
// CRL when the service goes away; a revoked minion leaves the universe and is refused by the overlord.

import assert from "node:assert/strict";
import { cpSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { EXIT, certInfo, crlSerials, homePaths } from "@func/shared";
import { Overlord, minionAddress } from "@func/overlord";
import { FUNC_CA_BIN, func, runBin, startFleet, tempHome, type TestFleet } from "./helpers/fleet.js";
import { eventually, startBin, type Proc } from "./helpers/procs.js";

describe("revocation on a real fleet", function () {
  this.timeout(120_000);
  let fleet: TestFleet;
  let serve: Proc;
  let home2: string;
  let opsSerial: string;

  const ca = (...args: string[]) => runBin(FUNC_CA_BIN, args, { FUNC_HOME: fleet.home });

  before(async () => {
    fleet = await startFleet("revoke", 35, 3, { minionConf: { crl_refresh: "1" } });
    // the fleet's own enrollment service stopped when it was up; this one takes its place (overlord.conf says where)
    serve = startBin(FUNC_CA_BIN, ["serve"], { FUNC_HOME: fleet.home });
    await serve.waitFor(/listening on 127\.35\.0\.2:51235/);

    // a second overlord: an identity with the overlord role, in a home of its own
    const out = tempHome("revoke-ops");
    const issued = await ca("issue", "ops", "--role", "overlord", "--out", out);
    assert.equal(issued.code, 0, issued.stderr);
    home2 = tempHome("revoke-home2");
    const p1 = homePaths(fleet.home);
    const p2 = homePaths(home2);
    mkdirSync(p2.caDir, { recursive: true });
    cpSync(p1.caCert, p2.caCert);
    cpSync(p1.signedDir, p2.signedDir, { recursive: true });
    cpSync(join(out, "ops.key"), p2.overlordKey);
    cpSync(join(out, "ops.crt"), p2.overlordCert);
    cpSync(p1.overlordConf, p2.overlordConf);
    opsSerial = certInfo(readFileSync(join(out, "ops.crt"), "utf8")).serial;
    rmSync(out, { recursive: true, force: true });
  });
  after(async () => {
    await serve?.stop();
    await fleet?.stop();
    if (home2) rmSync(home2, { recursive: true, force: true });
  });

  it("control: both overlords reach every minion", async () => {
    for (const h of [fleet.home, home2]) {
      const r = await func(h, ["*", "ping", "--json"]);
      assert.equal(r.code, EXIT.OK, r.stdout + r.stderr);
      assert.equal(JSON.parse(r.stdout).summary.ok, 3);
    }
  });

  it("a revoked overlord identity is refused at TLS by every minion once they fetch the CRL", async () => {
    const r = await ca("revoke", "ops");
    assert.equal(r.code, 0, r.stderr);
    // exit 4 means "some unreachable": wait until every minion has fetched the CRL and refuses
    const allRefused = async () => JSON.parse((await func(home2, ["*", "ping", "--json"])).stdout).summary.unreachable === fleet.minions.length;
    const refused = await eventually(allRefused, 15_000, 500);
    assert.ok(refused, "every minion refuses the revoked identity");
    const doc = JSON.parse((await func(home2, ["*", "ping", "--json"])).stdout);
    assert.equal(doc.summary.unreachable, 3);
    for (const m of fleet.minions) {
      assert.ok(crlSerials(readFileSync(homePaths(m.home).minionCrl, "utf8")).includes(opsSerial), `${m.name} holds the new CRL`);
    }
    const own = await func(fleet.home, ["*", "ping"]);
    assert.equal(own.code, EXIT.OK, "the fleet's own overlord is unaffected");
  });

  it("minions keep the last good CRL when the enrollment service goes away", async () => {
    const log = join(fleet.home, "log", `funcd-${fleet.minions[0]!.name}.log`);
    const failures = () => (readFileSync(log, "utf8").match(/keeping the last good one/g) ?? []).length;
    const before = failures();
    await serve.stop();
    assert.ok(await eventually(() => failures() > before, 10_000, 200), "the failed refresh is logged");
    assert.equal((await func(home2, ["*", "ping"])).code, EXIT.UNREACHABLE, "still refused");
    assert.equal((await func(fleet.home, ["*", "ping"])).code, EXIT.OK);
  });

  it("a revoked minion leaves the universe at once, and the overlord refuses its cert", async () => {
    const victim = fleet.minions[2]!;
    const addr = minionAddress(homePaths(fleet.home), victim.name, 51234);
    const r = await ca("revoke", victim.name);
    assert.equal(r.code, 0, r.stderr);
    const ping = await func(fleet.home, ["*", "ping", "--json"]);
    assert.equal(ping.code, EXIT.OK, ping.stdout);
    assert.deepEqual(Object.keys(JSON.parse(ping.stdout).hosts).sort(), fleet.minions.slice(0, 2).map((m) => m.name).sort());
    assert.equal((await func(fleet.home, [victim.name, "ping"])).code, EXIT.NO_MATCH);
    const overlord = new Overlord("*", { home: fleet.home, timeout: 10 });
    try {
      const results: { outcome: string; message: string }[] = [];
      await overlord.fanOut([addr], { method: "test.ping", params: [], timeoutMs: 10_000 }, (_h, res) =>
        results.push({ outcome: res.outcome, message: "error" in res ? res.error.message : "" }),
      );
      assert.equal(results[0]!.outcome, "unreachable", JSON.stringify(results));
      assert.match(results[0]!.message, /revoked/i);
    } finally {
      await overlord.close();
    }
  });
});
