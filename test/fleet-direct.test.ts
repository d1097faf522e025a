// `func-fleet up --certs direct` (the real CLI, real funcd processes on 127.150.0.x): the fleet's CA gives each
// minion its own key and cert with no enrollment service, the calls are real mutual TLS, a second `up` of the
// same home keeps the certs; a tree builds the same way; and the limits (--count, --certs, open files) refuse
// with one line before anything starts.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { X509Certificate, createPrivateKey } from "node:crypto";
import { existsSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { certInfo, homePaths, minionAddressFile, signedCertFile } from "@func/shared";
import { FDS_PER_MINION, FDS_PER_PROCESS, checkOpenFiles, openFilesLimit, subConcurrency } from "@func/overlord/fleet";
import { FUNC_FLEET_BIN, func, runBin, tempHome } from "./helpers/fleet.js";

interface UpLine {
  minions: { name: string; address: string; pid: number; under?: string; sub?: boolean }[];
}

describe("func-fleet up --certs direct", function () {
  this.timeout(180_000);
  const homes: string[] = [];
  const up = async (home: string, args: string[]) => {
    const r = await runBin(FUNC_FLEET_BIN, ["up", "--home", home, "--port", "51234", "--certs", "direct", ...args], {}, 150_000);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as UpLine;
  };
  const down = (home: string) => runBin(FUNC_FLEET_BIN, ["down", "--home", home]);

  after(async () => {
    for (const h of homes) {
      await down(h);
      rmSync(h, { recursive: true, force: true });
    }
  });

  it("gives each minion its own key and a cert from the fleet's CA, recorded as enrollment would; calls are mutual TLS", async () => {
    const home = tempHome("fleet-direct");
    homes.push(home);
    const line = await up(home, ["--count", "3", "--base-address", "127.150.0.2"]);
    assert.deepEqual(line.minions.map((m) => m.name), ["minion01", "minion02", "minion03"]);
    const paths = homePaths(home);
    const ca = new X509Certificate(readFileSync(paths.caCert));
    const keys = new Set<string>();
    for (const m of line.minions) {
      const mp = homePaths(`${home}/minions/${m.name}`);
      // no enrollment service was configured: nothing to enroll with, nothing to refresh the CRL from
      assert.doesNotMatch(readFileSync(mp.minionConf, "utf8"), /certmaster/);
      const certPem = readFileSync(mp.minionCert, "utf8");
      const cert = new X509Certificate(certPem);
      assert.ok(cert.verify(ca.publicKey), `${m.name}'s cert is signed by the fleet's CA`);
      assert.ok(cert.checkPrivateKey(createPrivateKey(readFileSync(mp.minionKey))), `${m.name}'s cert is for its own key`);
      assert.equal(statSync(mp.minionKey).mode & 0o777, 0o600);
      const info = certInfo(certPem);
      assert.equal(info.commonName, m.name);
      assert.equal(info.role, "minion");
      assert.deepEqual(info.ipAddresses, [m.address]);
      keys.add(info.publicKeyFingerprint);
      // the CA's side: the signed cert and the address record, as func-ca list-signed shows them
      assert.equal(readFileSync(signedCertFile(paths, m.name), "utf8"), certPem);
      assert.equal((JSON.parse(readFileSync(minionAddressFile(paths, m.name), "utf8")) as { address: string }).address, m.address);
    }
    assert.equal(keys.size, 3, "three minions, three keys");
    const ping = await func(home, ["*", "ping", "--json"]);
    assert.equal(ping.code, 0, ping.stderr);
    const doc = JSON.parse(ping.stdout) as { hosts: Record<string, { outcome: string }> };
    assert.deepEqual(Object.values(doc.hosts).map((r) => r.outcome), ["ok", "ok", "ok"]);

    // down and up again: the same certs serve (nothing issued twice, no "already signed" refusal)
    const before = readFileSync(homePaths(`${home}/minions/minion02`).minionCert, "utf8");
    assert.equal((await down(home)).code, 0);
    await up(home, ["--count", "3", "--base-address", "127.150.0.2"]);
    assert.equal(readFileSync(homePaths(`${home}/minions/minion02`).minionCert, "utf8"), before);
    assert.equal((await func(home, ["*", "ping"])).code, 0);
  });

  it("builds a tree the same way: leaves answer through their sub-overlord", async () => {
    const home = tempHome("fleet-direct-tree");
    homes.push(home);
    const line = await up(home, ["--count", "4", "--sub-overlords", "2", "--base-address", "127.150.1.2"]);
    assert.deepEqual(
      line.minions.filter((m) => !m.sub).map((m) => `${m.name}<${m.under}`),
      ["leaf001<sub1", "leaf002<sub1", "leaf003<sub2", "leaf004<sub2"],
    );
    // the tree shares this machine: the two sub-overlords split the default fan-out concurrency (200)
    for (const sub of ["sub1", "sub2"]) assert.match(readFileSync(homePaths(`${home}/minions/${sub}`).overlordConf, "utf8"), /^concurrency = 100$/m);
    assert.equal(subConcurrency(10), 20);
    assert.equal(subConcurrency(1000), 8);
    const r = await func(home, ["leaf*", "ping", "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as { hosts: Record<string, { outcome: string; via?: string[] }> };
    assert.deepEqual(
      Object.entries(doc.hosts).map(([h, x]) => `${h} ${x.outcome} ${(x.via ?? []).join(">")}`),
      ["leaf001 ok sub1", "leaf002 ok sub1", "leaf003 ok sub2", "leaf004 ok sub2"],
    );
  });

  it("refuses a bad --certs, a --count over the limit, and a process that would run out of open files, in one line", async () => {
    const home = tempHome("fleet-direct-limits");
    homes.push(home);
    const bad = await runBin(FUNC_FLEET_BIN, ["up", "--home", home, "--count", "2", "--certs", "mailed"]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /--certs must be enroll or direct/);
    const many = await runBin(FUNC_FLEET_BIN, ["up", "--home", home, "--count", "20001", "--certs", "direct"]);
    assert.equal(many.code, 1);
    assert.match(many.stderr, /--count must be 1\.\.20000/);
    // a real lower limit on the child (the shell's ulimit): 300 minions in one process need 1000 descriptors
    const node = process.execPath;
    const low = spawnSync("sh", ["-c", `ulimit -n 512 && exec "${node}" "${FUNC_FLEET_BIN}" up --home "${home}" --count 300 --per-process 300 --certs direct`], {
      encoding: "utf8",
      env: { ...process.env, NO_COLOR: "1" },
    });
    assert.equal(low.status, 1, low.stderr);
    assert.match(low.stderr, /needs about 1000 open files, but the limit is 512: raise it \(ulimit -n 1000\) or use a smaller --per-process/);
    assert.equal(low.stderr.trim().split("\n").length, 1, low.stderr);
    // and nothing was started or issued for it
    const signed = homePaths(home).signedDir;
    assert.deepEqual(existsSync(signed) ? readdirSync(signed) : [], []);
  });

  it("reads the open-files limit from /proc and counts what a funcd process needs", function () {
    assert.equal(openFilesLimit("Limit                     Soft Limit           Hard Limit           Units\nMax open files            1024                 524288               files\n"), 1024);
    assert.equal(openFilesLimit("Max open files            unlimited            unlimited            files\n"), Number.POSITIVE_INFINITY);
    assert.equal(openFilesLimit("nothing here\n"), null);
    const mine = openFilesLimit();
    assert.ok(mine === null || mine > 0);
    assert.doesNotThrow(() => checkOpenFiles(250, 250 * FDS_PER_MINION + FDS_PER_PROCESS));
    assert.throws(() => checkOpenFiles(251, 250 * FDS_PER_MINION + FDS_PER_PROCESS), /UsageError|open files/);
    assert.doesNotThrow(() => checkOpenFiles(100_000, null));
  });
});
