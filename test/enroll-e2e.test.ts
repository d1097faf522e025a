// Enrollment by hand, with every piece a real process on 127.31.0.x: func-ca init, func-ca serve, funcd --enroll,
// func-ca list / sign, then `func "*" ping`; a wrong fingerprint and a duplicate name are refused; revoke takes
// the minion out at once and makes the next call to it fail at TLS; clean lets it enroll again.

import assert from "node:assert/strict";
import { createCa, fingerprint, homePaths, EXIT } from "@func/shared";
import { existsSync, mkdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Overlord } from "@func/overlord";
import { FUNC_CA_BIN, FUNCD_BIN, func, runBin, tempHome } from "./helpers/fleet.js";
import { startBin, type Proc } from "./helpers/procs.js";

/** funcd's exit code when enrollment is refused for good (systemd does not restart on it). */
const FUNCD_ENROLL_REFUSED = 3;

const SERVICE = "127.31.0.1:51235";

describe("enrollment by hand with real processes", function () {
  this.timeout(120_000);
  let root: string;
  let home: string;
  let fp: string;
  let serve: Proc;
  const procs: Proc[] = [];

  const ca = (...args: string[]) => runBin(FUNC_CA_BIN, args, { FUNC_HOME: home });
  const minionHome = (name: string) => {
    const dir = join(root, name);
    mkdirSync(dir, { recursive: true });
    return dir;
  };
  const funcd = (dir: string, name: string, address: string, fpr = fp) => {
    const p = startBin(FUNCD_BIN, ["--home", dir, "--enroll", SERVICE, "--ca-fingerprint", fpr, "--name", name, "--listen", address, "--port", "51234"]);
    procs.push(p);
    return p;
  };

  before(async () => {
    root = tempHome("enroll-e2e");
    home = join(root, "overlord");
    const init = await ca("init");
    assert.equal(init.code, 0, init.stderr);
    assert.match(init.stdout, /created a CA/);
    const f = await ca("fingerprint");
    assert.equal(f.code, 0, f.stderr);
    fp = f.stdout.trim();
    assert.match(fp, /^SHA256:([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    serve = startBin(FUNC_CA_BIN, ["serve", "--listen", "127.31.0.1", "--port", "51235"], { FUNC_HOME: home });
    procs.push(serve);
    await serve.waitFor(/listening on 127\.31\.0\.1:51235/);
  });
  after(async () => {
    await Promise.all(procs.map((p) => p.stop()));
    rmSync(root, { recursive: true, force: true });
  });

  it("func-ca init made the keys owner-only", () => {
    const p = homePaths(home);
    for (const k of [p.caKey, p.overlordKey, p.serviceKey]) assert.equal(statSync(k).mode & 0o777, 0o600, k);
  });

  it("a minion given the wrong CA fingerprint refuses the service and sends nothing", async () => {
    const other = fingerprint((await createCa({ commonName: "not ours" })).certPem);
    const dir = minionHome("m-wrongfp");
    const p = funcd(dir, "wrongfp1", "127.31.0.9", other);
    assert.equal(await p.exited, FUNCD_ENROLL_REFUSED, p.output());
    assert.match(p.output(), /presents CA SHA256:[0-9A-F:]+ .*not the expected/);
    assert.equal(existsSync(homePaths(dir).minionKey), false);
    const list = await ca("list", "--json");
    assert.deepEqual(JSON.parse(list.stdout), []);
  });

  it("funcd --enroll waits; func-ca list shows it; func-ca sign lets it in; func \"*\" ping reaches it", async () => {
    const dir = minionHome("m-web1");
    const m = funcd(dir, "web1", "127.31.0.2");
    const [, keyFp] = (await m.waitFor(/waiting to be signed.*key fingerprint (SHA256:[0-9A-F:]+)/));
    assert.equal(statSync(homePaths(dir).minionKey).mode & 0o777, 0o600);

    const list = await ca("list");
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, new RegExp(`^web1\\s+${keyFp}\\s+127\\.31\\.0\\.2:51234\\s`, "m"));
    const none = await func(home, ["*", "ping"]);
    assert.equal(none.code, EXIT.NO_MATCH, "nothing is in the universe before signing");

    const sign = await ca("sign", "web1");
    assert.equal(sign.code, 0, sign.stderr);
    assert.match(sign.stdout, /web1 signed - cert located at .*certs\/web1\.crt/);
    await m.waitFor(/web1 listening on 127\.31\.0\.2:51234/);
    assert.equal((await ca("list")).stdout.trim(), "No certificates to sign");

    const ping = await func(home, ["*", "ping"]);
    assert.equal(ping.code, 0, ping.stderr + ping.stdout);
    assert.match(ping.stdout, /^web1\s+ok\s+1$/m);
    const signed = await ca("list-signed", "--json");
    assert.deepEqual(
      JSON.parse(signed.stdout).map((r: { name: string; address: string; port: number }) => [r.name, r.address, r.port]),
      [["web1", "127.31.0.2", 51234]],
    );
  });

  it("a second minion asking for a name that is taken is refused and exits", async () => {
    const p = funcd(minionHome("m-web1-twin"), "web1", "127.31.0.3");
    assert.equal(await p.exited, FUNCD_ENROLL_REFUSED, p.output());
    assert.match(p.output(), /already has a signed cert/);
    const ping = await func(home, ["*", "ping"]);
    assert.equal(ping.code, 0, "the real web1 is untouched");
  });

  it("revoke removes it from the universe at once, and the next call to it fails at TLS", async () => {
    const overlord = new Overlord("*", { home, timeout: 10 });
    try {
      const addresses = overlord.addresses();
      const first: string[] = [];
      await overlord.fanOut(addresses, { method: "test.ping", params: [], timeoutMs: 10_000 }, (_h, r) => first.push(r.outcome));
      assert.deepEqual(first, ["ok"], "a kept-alive connection is open");

      const revoke = await ca("revoke", "web1");
      assert.equal(revoke.code, 0, revoke.stderr);
      assert.match(revoke.stdout, /web1 revoked \(serial [0-9a-f]+\)/);

      const cli = await func(home, ["*", "ping"]);
      assert.equal(cli.code, EXIT.NO_MATCH, cli.stdout);
      const after: { outcome: string; message: string }[] = [];
      await overlord.fanOut(addresses, { method: "test.ping", params: [], timeoutMs: 10_000 }, (_h, r) =>
        after.push({ outcome: r.outcome, message: r.outcome === "ok" ? "" : r.error.message }),
      );
      assert.equal(after[0]!.outcome, "unreachable", JSON.stringify(after));
      assert.match(after[0]!.message, /revoked/i);
    } finally {
      await overlord.close();
    }
  });

  it("clean lets the host enroll again with a new key", async () => {
    const clean = await ca("clean", "web1");
    assert.equal(clean.code, 0, clean.stderr);
    const dir = minionHome("m-web1-again");
    writeFileSync(join(dir, "minion.conf"), "[main]\ncrl_refresh = 0\n");
    const m = funcd(dir, "web1", "127.31.0.4");
    await m.waitFor(/waiting to be signed/);
    assert.equal((await ca("sign", "web*")).code, 0);
    await m.waitFor(/web1 listening on 127\.31\.0\.4/);
    const ping = await func(home, ["web1", "ping", "--json"]);
    assert.equal(ping.code, 0, ping.stdout + ping.stderr);
    assert.equal(JSON.parse(ping.stdout).hosts.web1.outcome, "ok");
  });
});
