// A hostile sub-overlord (a real TLS server with a cert from the func CA, whose delegation module lies)
// is never trusted: hosts it was not asked about, hosts it answers twice, hosts it never reports and pages
// that make no sense are each reported, and every expected leaf still ends in exactly one outcome.

import assert from "node:assert/strict";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { DELEGATION, FuncError, homePaths, issueCert, loadMinionConfig, minionAddressFile, signedCertFile, type HostResult, type WireValue } from "@func/shared";
import { MODULES, MinionServer, Registry, implement, type FuncModule } from "@func/minion";
import { Overlord } from "@func/overlord";
import { makeMinionHome } from "./helpers/pki.js";
import { tempHome } from "./helpers/fleet.js";

const ADDRESS = "127.161.0.2";
type Mode = "mixed" | "text" | "old" | "bad-cursor" | "dies" | "refuses" | "not-a-struct";

describe("delegation: a hostile sub-overlord", function () {
  this.timeout(60_000);
  let dir: string;
  let server: MinionServer;
  let mode: Mode = "mixed";
  const leaves = ["a1", "a2", "a3", "a4"];

  // the real delegation signatures, with an implementation that lies
  const hostile: FuncModule = implement(DELEGATION, {
    run: () => {
      if (mode === "refuses") throw new FuncError("AccessDenied", "not you");
      return { id: "x", started: true };
    },
    poll: (_ctx, _id, c, _wait, asText) => {
      if (mode === "not-a-struct") return "done, trust me";
      if (mode === "old") {
        // a sub-overlord from before as_text: its signature check refuses the fourth argument
        if (asText !== undefined) throw new FuncError("BadArguments", "delegation.poll takes 2 to 3 argument(s), got 4 (usage: ...)");
        const all: WireValue[] = leaves.map((h, i) => ({ hosts: [h], result: { outcome: "ok", value: i } }));
        return { lines: all, cursor: c + all.length, done: true, alive: true };
      }
      if (mode === "text") {
        assert.equal(asText, true, "the top asks for lines as text");
        const texts: WireValue[] = [
          JSON.stringify({ hosts: ["a1"], result: { outcome: "ok", value: 1 } }),
          "{not json",
          JSON.stringify([1, 2]),
          "x".repeat(3 * 1024 * 1024),
          JSON.stringify({ hosts: ["a2"], result: { outcome: "ok", value: 2 } }),
        ];
        return { lines: texts, cursor: c + texts.length, done: true, alive: true };
      }
      if (mode === "dies") return { lines: [{ hosts: ["a1"], result: { outcome: "ok", value: 1 } }], cursor: c + 1, done: false, alive: false };
      if (mode === "bad-cursor") return { lines: [], cursor: c + 7, done: true, alive: true };
      const lines: WireValue[] = [
        { hosts: ["a1", "zz9"], result: { outcome: "ok", value: 1 } },
        { hosts: ["a2"], result: { outcome: "ok", value: 2 } },
        { hosts: ["a2"], result: { outcome: "ok", value: 666 } },
        { hosts: ["a4"], result: { outcome: "fine", value: 1 } },
      ];
      return { lines, cursor: c + lines.length, done: true, alive: true };
    },
    map: () => null,
  });

  before(async () => {
    dir = tempHome("deleg-hostile");
    const pki = await makeMinionHome(`${dir}/evil`, "evil", ADDRESS);
    const registry = new Registry([...MODULES.filter((m) => m.name !== "delegation"), hostile]);
    const config = { ...loadMinionConfig(pki.paths), listenAddr: ADDRESS, listenPort: 0 };
    server = new MinionServer({ config, paths: pki.paths, tls: { key: pki.minion.keyPem, cert: pki.minion.certPem, ca: pki.ca.certPem }, registry });
    const { port } = await server.listen(0, ADDRESS);
    // the top overlord: the same CA, the evil sub-overlord among its minions, and a map that sends a* through it
    const top = homePaths(`${dir}/top`);
    mkdirSync(top.signedDir, { recursive: true });
    writeFileSync(top.caCert, pki.ca.certPem);
    const me = await issueCert(pki.ca, { commonName: "overlord@top", role: "overlord", dnsNames: ["top"] });
    writeFileSync(top.overlordKey, me.keyPem, { mode: 0o600 });
    writeFileSync(top.overlordCert, me.certPem);
    writeFileSync(signedCertFile(top, "evil"), pki.minion.certPem);
    writeFileSync(minionAddressFile(top, "evil"), JSON.stringify({ address: ADDRESS, port }));
    writeFileSync(top.delegationMap, JSON.stringify({ built: "test", subs: [{ name: "evil", leaves, subs: [] }] }));
  });

  after(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function callThrough(m: Mode): Promise<{ results: Record<string, HostResult>; notices: string[] }> {
    mode = m;
    const notices: string[] = [];
    const overlord = new Overlord("a*", { home: `${dir}/top`, timeout: 5, onNotice: (n) => notices.push(n) });
    try {
      return { results: await overlord.call("test", "ping"), notices };
    } finally {
      await overlord.close();
    }
  }

  it("ignores and reports unknown, duplicated, malformed and missing hosts; each leaf ends once", async () => {
    const { results, notices } = await callThrough("mixed");
    assert.deepEqual(Object.keys(results), leaves);
    assert.deepEqual(results.a1, { outcome: "ok", value: 1, via: ["evil"] });
    // the first answer stands
    assert.deepEqual(results.a2, { outcome: "ok", value: 2, via: ["evil"] });
    // a4's line was malformed and a3 never came: both may have run, so both are lost, never ok or missing
    for (const h of ["a3", "a4"]) {
      assert.equal(results[h]!.outcome, "lost");
      assert.match((results[h] as { error: { message: string } }).error.message, /^via evil: evil finished its share without reporting this host/);
    }
    assert.equal(results.zz9, undefined);
    const text = notices.join("\n");
    assert.match(text, /evil answered for hosts it was not asked about \(ignored\): zz9/);
    assert.match(text, /evil answered for hosts more than once \(the first answer stands\): a2/);
    assert.match(text, /evil sent 1 malformed result line/);
    assert.match(text, /evil finished without reporting these hosts \(counted lost\): a3, a4/);
  });

  it("a sub-overlord that does not know as_text is asked again without it", async () => {
    const { results, notices } = await callThrough("old");
    assert.deepEqual(Object.values(results).map((r) => r.outcome), ["ok", "ok", "ok", "ok"]);
    assert.deepEqual(notices, []);
  });

  it("lines sent as JSON text are checked the same: bad JSON, a non-struct and an oversized line are malformed", async () => {
    const { results, notices } = await callThrough("text");
    assert.deepEqual(results.a1, { outcome: "ok", value: 1, via: ["evil"] });
    assert.deepEqual(results.a2, { outcome: "ok", value: 2, via: ["evil"] });
    for (const h of ["a3", "a4"]) assert.equal(results[h]!.outcome, "lost");
    assert.match(notices.join("\n"), /evil sent 3 malformed result line/);
  });

  it("abandons a share whose pages make no sense: every leaf lost, reported", async () => {
    for (const m of ["bad-cursor", "not-a-struct"] as const) {
      const { results, notices } = await callThrough(m);
      assert.deepEqual(Object.values(results).map((r) => r.outcome), ["lost", "lost", "lost", "lost"], m);
      assert.match(notices.join("\n"), /evil answered a malformed page/, m);
    }
  });

  it("counts the leaves of a share whose runner died as lost, the reported ones as they came", async () => {
    const { results } = await callThrough("dies");
    assert.equal(results.a1!.outcome, "ok");
    for (const h of ["a2", "a3", "a4"]) {
      assert.equal(results[h]!.outcome, "lost");
      assert.match((results[h] as { error: { type: string } }).error.type, /ShareDied/);
    }
  });

  it("a refused share makes every leaf denied, with the path", async () => {
    const { results } = await callThrough("refuses");
    for (const h of leaves) {
      assert.equal(results[h]!.outcome, "denied");
      assert.match((results[h] as { error: { message: string } }).error.message, /^via evil: evil refused: not you/);
    }
  });
});
