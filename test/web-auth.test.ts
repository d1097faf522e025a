// func-web's pure parts: overlord.conf's web settings ([web_roles], [web_acl]) and their errors, the
// operator ACL (method globs and target specs per identity), the login rate limiter, the method-signature
// parser, the call body checks, and the token store (hashed, expiring, revocable) in a temp home.

import { strict as assert } from "node:assert";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { FuncError, SIGNATURES, homePaths } from "@func/shared";
import { RateLimiter, TokenStore, checkCallAcl, parseCallBody, moduleTable, parseWebConfig, WEB_PORT } from "@func/web";
import { tempHome } from "./helpers/fleet.js";

describe("func-web settings, ACL and tokens", () => {
  it("reads web_listen_addr, web_port, [web_roles] and [web_acl] from overlord.conf, with defaults", () => {
    const d = parseWebConfig("");
    assert.deepEqual([d.listenAddr, d.port, d.certRoles, d.acl], ["127.0.0.1", WEB_PORT, [], []]);
    const c = parseWebConfig("web_listen_addr = 0.0.0.0\nweb_port = 8443\n[web_roles]\nalice = admin\nops-* = viewer\n[web_acl]\nop = test.*, command.run | web*, @db\n");
    assert.deepEqual([c.listenAddr, c.port], ["0.0.0.0", 8443]);
    assert.deepEqual(c.certRoles, [{ cn: "alice", role: "admin" }, { cn: "ops-*", role: "viewer" }]);
    assert.deepEqual(c.acl, [{ identity: "op", methods: ["test.*", "command.run"], targets: ["web*", "@db"] }]);
    for (const bad of ["web_port = x", "[web_roles]\nbob = root", "[web_acl]\nop = test.*", "[web_acl]\nop = | web*"]) {
      assert.throws(() => parseWebConfig(bad), (e: unknown) => e instanceof FuncError && e.type === "ConfigError", bad);
    }
  });

  it("lets an operator call only a method its rule names, on hosts its rule's targets cover", () => {
    const rules = parseWebConfig("[web_acl]\nop = test.* | web*\no[p] = command.run | web1\nops-* = test.ping | *\n").acl;
    const resolve = (spec: string) => ["web1", "web2", "db1"].filter((h) => (spec === "*" ? true : spec === "web*" ? h.startsWith("web") : h === spec));
    const denied = (fn: () => void) => assert.throws(fn, (e: unknown) => e instanceof FuncError && e.type === "AccessDenied");
    checkCallAcl(rules, "op", "operator", "test.ping", ["web1", "web2"], resolve);
    checkCallAcl(rules, "op", "operator", "command.run", ["web1"], resolve);
    denied(() => checkCallAcl(rules, "op", "operator", "command.run", ["web2"], resolve));
    denied(() => checkCallAcl(rules, "op", "operator", "test.ping", ["web1", "db1"], resolve));
    denied(() => checkCallAcl(rules, "op", "operator", "service.restart", ["web1"], resolve));
    checkCallAcl(rules, "ops-7", "operator", "test.ping", ["db1"], resolve);
    denied(() => checkCallAcl(rules, "nobody", "operator", "test.ping", ["web1"], resolve));
    denied(() => checkCallAcl(rules, "op", "viewer", "test.ping", ["web1"], resolve));
    checkCallAcl([], "root", "admin", "command.run", ["db1"], resolve);
  });

  it("rate-limits per source: a burst, then one try per refill period", () => {
    const limiter = new RateLimiter(3, 10);
    const t = 1_000_000;
    assert.deepEqual([1, 2, 3, 4].map(() => limiter.take("a", t)), [true, true, true, false]);
    assert.equal(limiter.take("b", t), true);
    assert.ok(limiter.retryAfterS("a") > 0);
    assert.equal(limiter.take("a", t + 5_000), false);
    assert.equal(limiter.take("a", t + 10_001), true);
  });

  it("builds the page's method table from the signature table", () => {
    const table = moduleTable(SIGNATURES, "signature table");
    const methods = (m: string) => table.modules.find((x) => x.module === m)!.methods;
    assert.deepEqual(methods("test").find((m) => m.name === "ping")!.params, []);
    const run = methods("command").find((m) => m.name === "run")!;
    assert.equal(run.params[0]!.type, "string");
    assert.equal(run.params[0]!.rest, true, "command.run joins the words left over into its command");
    assert.match(run.signature, /^command\.run\(/);
    // every method of the table is on the page, with its parameters
    for (const mod of SIGNATURES) {
      assert.deepEqual(methods(mod.name).map((m) => m.name).sort(), Object.keys(mod.methods).sort(), mod.name);
      for (const [name, sig] of Object.entries(mod.methods)) {
        assert.deepEqual(methods(mod.name).find((m) => m.name === name)!.params.map((p) => [p.name, p.type]), sig.params.map((p) => [p.name, p.type.kind]));
      }
    }
  });

  it("checks a call body field by field", () => {
    assert.deepEqual(parseCallBody({ spec: "web*", module: "test", method: "add", args: [1, 2], batch: 5 }), { spec: "web*", module: "test", method: "add", args: [1, 2], async: false, batch: 5 });
    for (const bad of [{}, { spec: "", module: "test", method: "ping" }, { spec: "*", module: "te st", method: "ping" }, { spec: "*", module: "test", method: "ping", batch: 1.5 }, { spec: "*", module: "test", method: "ping", args: {} }]) {
      assert.throws(() => parseCallBody(bad), JSON.stringify(bad));
    }
  });

  it("stores tokens hashed, verifies them until they expire or are revoked", () => {
    const home = tempHome("web-tokens");
    try {
      const store = new TokenStore(homePaths(home));
      const now = Date.now();
      const { token, record } = store.create("Alice", "operator", 60, now);
      assert.equal(record.name, "alice");
      assert.ok(!readFileSync(join(home, "web", "tokens.json"), "utf8").includes(token));
      assert.equal(store.verify(token, now)?.role, "operator");
      assert.equal(store.verify(token, now + 61_000), null);
      assert.equal(store.verify(token.slice(0, -1) + (token.endsWith("A") ? "B" : "A"), now), null);
      assert.equal(store.verify("not-a-token", now), null);
      assert.throws(() => store.create("alice", "admin", 60, now), /active/);
      assert.throws(() => store.create("bad name", "admin", 60, now), /token name/);
      // another process (the CLI) revokes it: this store sees the change
      new TokenStore(homePaths(home)).revoke("alice", now);
      assert.equal(store.verify(token, now), null);
      assert.throws(() => store.revoke("alice", now), /no active token/);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});
