// Homes and config: FUNC_HOME rules, INI parsing with Func's key names, defaults, and clear errors.

import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULTS, FuncError, homePaths, loadGroups, loadMinionConfig, loadOverlordConfig, parseDuration, parseIni, resolveHome } from "@func/shared";

describe("homes and config", () => {
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), "func-config-"))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("FUNC_HOME puts everything under one directory; root uses /etc/func + /var/lib/func; others ~/.func", () => {
    const h = resolveHome({ FUNC_HOME: "/x" }, 0);
    assert.equal(h.caKey, "/x/pki/ca/ca.key");
    assert.equal(h.jobsDir, "/x/jobs");
    assert.equal(h.minionJobsDir, "/x/minion-jobs");
    const r = resolveHome({}, 0);
    assert.equal(r.overlordConf, "/etc/func/overlord.conf");
    assert.equal(r.jobsDir, "/var/lib/func/jobs");
    assert.equal(r.auditLog, "/var/lib/func/log/audit.log");
    assert.equal(resolveHome({ HOME: "/home/u" }, 1000).minionConf, "/home/u/.func/minion.conf");
  });

  it("reads Func's key names and falls back to the defaults", () => {
    const paths = homePaths(dir);
    assert.equal(loadOverlordConfig(paths).socketTimeoutS, DEFAULTS.overlord.socketTimeoutS);
    writeFileSync(paths.overlordConf, "# comment\n[main]\nsocket_timeout = 7\nforks = 3\nautosign = a*, b*\n");
    const o = loadOverlordConfig(paths);
    assert.equal(o.socketTimeoutS, 7);
    assert.equal(o.forks, 3);
    assert.deepEqual(o.autosign, ["a*", "b*"]);
    writeFileSync(paths.minionConf, "[main]\nlisten_port = 6000\nminion_name = m1\nacl_dir = /acl\n");
    const m = loadMinionConfig(paths);
    assert.equal(m.listenPort, 6000);
    assert.equal(m.minionName, "m1");
    assert.equal(m.aclDir, "/acl");
    assert.equal(m.maxBodyBytes, DEFAULTS.minion.maxBodyBytes);
  });

  it("a bad value is a ConfigError naming the file and key", () => {
    const paths = homePaths(dir);
    writeFileSync(paths.overlordConf, "[main]\nforks = many\n");
    assert.throws(() => loadOverlordConfig(paths), (e: unknown) => e instanceof FuncError && e.type === "ConfigError" && /overlord\.conf: forks/.test(e.message));
    assert.throws(() => parseIni("[main]\njust words\n", "x.conf"), /x\.conf:2/);
  });

  it("reads groups", () => {
    const paths = homePaths(dir);
    writeFileSync(paths.groupsFile, "[web]\nhosts = web1, web2 web3\n[db]\nhosts = db*\n");
    assert.deepEqual(loadGroups(paths), { web: ["web1", "web2", "web3"], db: ["db*"] });
  });

  it("parses durations", () => {
    assert.equal(parseDuration("90"), 90);
    assert.equal(parseDuration("15m"), 900);
    assert.equal(parseDuration("7d"), 7 * 86400);
    assert.throws(() => parseDuration("soon"), FuncError);
  });
});
