// func-web's JSON API against a real fleet: every route, every role (tokens and func-CA client certs),
// bad input (a 4xx with a JSON error, nothing changed), CSRF and auth failures, the event stream with
// Last-Event-ID, async jobs, sign and revoke, the audit log. Fleet on 127.180.0.2..4, func-web on 127.180.0.1.

import { strict as assert } from "node:assert";
import { appendFileSync, readFileSync } from "node:fs";
import { Agent } from "node:https";
import { setTimeout as sleep } from "node:timers/promises";
import { createKeyAndCsr, homePaths, type HomePaths } from "@func/shared";
import { issueIdentity, revokeName, submitCsr } from "@func/overlord";
import { TokenStore, auditFile, loadWebConfig, startWebServer, type WebServer } from "@func/web";
import { startFleet, type TestFleet } from "./helpers/fleet.js";
import { errorType, parseSse, webRequest, type WebRequest } from "./helpers/web.js";

describe("func-web API", function () {
  this.timeout(120_000);
  let fleet: TestFleet;
  let paths: HomePaths;
  let web: WebServer;
  let ca: string;
  const tok: Record<string, string> = {};
  const certs: Record<string, { cert: string; key: string }> = {};

  const call = (path: string, opts: WebRequest = {}) => webRequest(web.url, ca, path, opts);
  const as = (who: string, path: string, opts: WebRequest = {}) => call(path, { ...opts, headers: { authorization: `Bearer ${tok[who]}`, ...opts.headers } });
  const jobCount = async () => ((await as("admin", "/api/jobs?limit=500")).json as { jobs: unknown[] }).jobs.length;
  const events = async (who: string, job: string, lastId?: number) =>
    parseSse((await as(who, `/api/jobs/${job}/events`, lastId !== undefined ? { headers: { "last-event-id": String(lastId) } } : {})).text);

  before(async () => {
    fleet = await startFleet("web-api", 180, 3);
    paths = homePaths(fleet.home);
    appendFileSync(
      paths.overlordConf,
      ["web_login_burst = 4", "web_login_refill = 3600", "[web_roles]", "carol = operator", "erin = admin", "[web_acl]", "op = test.* | minion0[1-2]", "carol = test.ping | *", ""].join("\n"),
    );
    const tokens = new TokenStore(paths);
    for (const [name, role] of [["admin", "admin"], ["op", "operator"], ["viewer", "viewer"], ["gone", "admin"]] as const) tok[name] = tokens.create(name, role, 3600).token;
    for (const name of ["carol", "dave", "erin"]) {
      const pair = await issueIdentity(paths, name, { role: "user" });
      certs[name] = { cert: pair.certPem, key: pair.keyPem };
    }
    certs.overlord = { cert: readFileSync(paths.overlordCert, "utf8"), key: readFileSync(paths.overlordKey, "utf8") };
    web = await startWebServer(paths, loadWebConfig(paths), { listenAddr: "127.180.0.1", port: 0 });
    ca = web.caCert;
  });

  after(async () => {
    await web?.close();
    await fleet?.stop();
  });

  it("refuses callers without credentials, with a bad token or a revoked one (401, JSON error)", async () => {
    const none = await call("/api/minions");
    assert.equal(none.status, 401);
    assert.equal(errorType(none), "Unauthorized");
    assert.equal((await call("/api/minions", { headers: { authorization: "Bearer fw_nope" } })).status, 401);
    assert.equal((await call("/api/minions", { headers: { authorization: "Basic abc" } })).status, 401);
    assert.equal((await as("gone", "/api/minions")).status, 200);
    new TokenStore(paths).revoke("gone");
    const revoked = await as("gone", "/api/minions");
    assert.equal(revoked.status, 401);
    assert.match((revoked.json as { error: { message: string } }).error.message, /revoked/);
  });

  it("serves the page with a strict CSP and no inline script", async () => {
    const page = await call("/");
    assert.equal(page.status, 200);
    const csp = String(page.headers["content-security-policy"]);
    assert.match(csp, /script-src 'self'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.doesNotMatch(page.text, /<script>|<script [^>]*>[^<]+<\/script>|\sstyle=|\son[a-z]+=/i);
    assert.equal((await call("/js/app.js")).status, 200);
    assert.equal((await call("/js/../../package.json")).status, 404);
    assert.equal((await call("/", { method: "POST", body: "x" })).status, 405);
  });

  it("lists minions for a viewer, and refuses it calls, signing and revoking (403)", async () => {
    const r = await as("viewer", "/api/minions");
    assert.equal(r.status, 200);
    const fleetView = r.json as { signed: Array<{ name: string; address: string; certExpires: string }>; counts: { signed: number } };
    assert.deepEqual(fleetView.signed.map((m) => m.name), ["minion01", "minion02", "minion03"]);
    assert.equal(fleetView.signed[0]!.address, "127.180.0.2");
    assert.ok(Date.parse(fleetView.signed[0]!.certExpires) > Date.now());
    const before = await jobCount();
    assert.equal((await as("viewer", "/api/calls", { body: { spec: "*", module: "test", method: "ping" } })).status, 403);
    assert.equal((await as("viewer", "/api/minions/minion01/revoke", { body: {} })).status, 403);
    assert.equal((await as("op", "/api/minions/minion01/revoke", { body: {} })).status, 403);
    assert.equal(await jobCount(), before);
    assert.equal(fleetView.counts.signed, 3);
  });

  it("runs an operator's call within its ACL and streams every host, then a summary", async () => {
    const r = await as("op", "/api/calls", { body: { spec: "minion0[1-2]", module: "test", method: "ping" } });
    assert.equal(r.status, 202, r.text);
    const { job, hosts } = r.json as { job: string; hosts: number };
    assert.equal(hosts, 2);
    const ev = await events("op", job);
    assert.deepEqual(ev.filter((e) => e.event === "host").map((e) => (JSON.parse(e.data) as { host: string }).host).sort(), ["minion01", "minion02"]);
    const last = ev.at(-1)!;
    assert.equal(last.event, "summary");
    assert.equal((JSON.parse(last.data) as { summary: { ok: number } }).summary.ok, 2);
    const st = (await as("viewer", `/api/jobs/${job}`)).json as { status: string; hosts: Record<string, { outcome: string }> };
    assert.equal(st.status, "FINISHED");
    assert.equal(st.hosts.minion01!.outcome, "ok");
  });

  it("refuses an operator's call outside its ACL's methods or targets, and changes nothing", async () => {
    const before = await jobCount();
    const wide = await as("op", "/api/calls", { body: { spec: "*", module: "test", method: "ping" } });
    assert.equal(wide.status, 403);
    assert.match((wide.json as { error: { message: string } }).error.message, /targets/);
    const method = await as("op", "/api/calls", { body: { spec: "minion01", module: "command", method: "run", args: ["id"] } });
    assert.equal(method.status, 403);
    assert.equal(await jobCount(), before);
    const log = readFileSync(auditFile(paths), "utf8").trim().split("\n").map((l) => JSON.parse(l) as { identity: string; action: string; outcome: string });
    assert.ok(log.some((e) => e.identity === "op" && e.action === "call" && e.outcome === "denied"));
    assert.ok(log.some((e) => e.identity === "op" && e.action === "call" && e.outcome === "ok"));
  });

  it("resumes an event stream after Last-Event-ID with exactly the events not seen, and ends with 204", async () => {
    const r = await as("admin", "/api/calls", { body: { spec: "*", module: "test", method: "echo", args: [{ x: [1, 2] }] } });
    assert.equal(r.status, 202);
    const { job } = r.json as { job: string };
    const all = await events("admin", job);
    assert.deepEqual(all.map((e) => e.id), ["1", "2", "3", "4"]);
    for (const e of all.slice(0, 3)) assert.deepEqual((JSON.parse(e.data) as { result: { value: unknown } }).result.value, { x: [1, 2] });
    const rest = await events("admin", job, 1);
    assert.deepEqual(rest.map((e) => e.id), ["2", "3", "4"]);
    assert.deepEqual(rest.slice(0, 2).map((e) => e.data), all.slice(1, 3).map((e) => e.data));
    const after = await as("admin", `/api/jobs/${job}/events`, { headers: { "last-event-id": "4" } });
    assert.equal(after.status, 204);
  });

  it("runs an async job and streams its hosts as the minions finish them", async () => {
    const r = await as("admin", "/api/calls", { body: { spec: "*", module: "test", method: "sleep", args: [1], async: true, batch: 2 } });
    assert.equal(r.status, 202, r.text);
    const { job } = r.json as { job: string };
    const ev = await events("admin", job);
    assert.equal(ev.filter((e) => e.event === "host").length, 3);
    assert.equal((JSON.parse(ev.at(-1)!.data) as { summary: { ok: number } }).summary.ok, 3);
    const list = (await as("viewer", "/api/jobs?limit=5")).json as { jobs: Array<{ id: string; status: string }> };
    assert.equal(list.jobs[0]!.id, job);
  });

  it("answers bad input with a 4xx JSON error and changes nothing", async () => {
    const before = await jobCount();
    const bad: Array<[WebRequest, number, string?]> = [
      [{ body: { module: "test", method: "ping" } }, 400],
      [{ body: { spec: "*", module: "Test", method: "ping" } }, 400],
      [{ body: { spec: "*", module: "async", method: "ping" } }, 400],
      [{ body: { spec: "*", module: "test", method: "ping", args: "x" } }, 400],
      [{ body: { spec: "*", module: "test", method: "ping", batch: 0 } }, 400],
      [{ body: { spec: "*", module: "test", method: "ping", async: "yes" } }, 400],
      [{ body: { spec: "*", module: "test", method: "ping", extra: 1 } }, 400],
      [{ body: { spec: "nomatch*", module: "test", method: "ping" } }, 422, "NoMatch"],
      [{ body: "{not json", headers: { "content-type": "application/json" } }, 400, "BadJson"],
      [{ body: "[1]", headers: { "content-type": "application/json" } }, 400, "BadJson"],
      [{ body: "spec=*", headers: { "content-type": "application/x-www-form-urlencoded" } }, 415],
      [{ body: { spec: "*", module: "test", method: "echo", args: ["x".repeat(2 * 1024 * 1024)] } }, 413],
      [{ body: { spec: "*", module: "test", method: "echo", args: [JSON.parse("[".repeat(40) + "]".repeat(40)) as unknown] } }, 400],
    ];
    for (const [req, status, type] of bad) {
      const r = await as("admin", "/api/calls", req);
      assert.equal(r.status, status, `${JSON.stringify(req.body).slice(0, 80)}: ${r.text}`);
      assert.equal(typeof errorType(r), "string");
      if (type) assert.equal(errorType(r), type);
    }
    assert.equal((await as("admin", "/api/jobs/not-a-job")).status, 400);
    assert.equal((await as("admin", "/api/jobs/20260101T000000-0000000000")).status, 404);
    assert.equal((await as("admin", "/api/jobs/20260101T000000-0000000000/events")).status, 404);
    assert.equal((await as("admin", "/api/jobs?limit=0")).status, 400);
    assert.equal((await as("admin", "/api/nothing")).status, 404);
    assert.equal((await as("admin", "/api/calls")).status, 405);
    assert.equal((await as("admin", "/api/minions/..%2Fetc/sign", { body: {} })).status, 400);
    assert.equal((await as("admin", "/api/minions/nosuch/sign", { body: {} })).status, 404);
    assert.equal(await jobCount(), before);
    assert.equal(((await as("admin", "/api/minions")).json as { counts: { signed: number } }).counts.signed, 3);
  });

  it("gives a session cookie at login (HttpOnly, Secure, SameSite=Strict) and requires the CSRF header on changes", async () => {
    const login = await call("/api/login", { body: { token: tok.op } });
    assert.equal(login.status, 200);
    const cookie = String(login.headers["set-cookie"]);
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /Secure/);
    assert.match(cookie, /SameSite=Strict/);
    const jar = cookie.split(";")[0]!;
    const { csrf, role } = login.json as { csrf: string; role: string };
    assert.equal(role, "operator");
    const session = await call("/api/session", { headers: { cookie: jar } });
    assert.equal((session.json as { csrf: string }).csrf, csrf);
    const body = { spec: "minion01", module: "test", method: "ping" };
    const noHeader = await call("/api/calls", { body, headers: { cookie: jar } });
    assert.equal(noHeader.status, 403);
    assert.equal(errorType(noHeader), "CsrfRejected");
    assert.equal((await call("/api/calls", { body, headers: { cookie: jar, "x-csrf-token": "x".repeat(csrf.length) } })).status, 403);
    assert.equal((await call("/api/calls", { body, headers: { cookie: jar, "x-csrf-token": csrf } })).status, 202);
    assert.equal((await call("/api/logout", { body: {}, headers: { cookie: jar, "x-csrf-token": csrf } })).status, 200);
    assert.equal((await call("/api/session", { headers: { cookie: jar } })).status, 401);
  });

  it("rate-limits login attempts per source address (429 with Retry-After)", async () => {
    const from = { localAddress: "127.180.0.250" };
    for (let i = 0; i < 4; i++) assert.equal((await call("/api/login", { ...from, body: { token: "fw_wrong" } })).status, 401);
    const limited = await call("/api/login", { ...from, body: { token: tok.admin } });
    assert.equal(limited.status, 429);
    assert.ok(Number(limited.headers["retry-after"]) > 0);
    assert.equal((await call("/api/login", { localAddress: "127.180.0.251", body: { token: tok.admin } })).status, 200);
  });

  it("maps func-CA client certs to roles: CSRF on changes, unmapped and non-user certs refused, revoked ones too", async () => {
    const carol = certs.carol!;
    const minions = await call("/api/minions", carol);
    assert.equal(minions.status, 200);
    const session = (await call("/api/session", carol)).json as { identity: string; role: string; csrf: string };
    assert.deepEqual([session.identity, session.role], ["carol", "operator"]);
    const body = { spec: "*", module: "test", method: "ping" };
    assert.equal((await call("/api/calls", { ...carol, body })).status, 403);
    assert.equal((await call("/api/calls", { ...carol, body, headers: { "x-csrf-token": session.csrf } })).status, 202);
    assert.equal((await call("/api/calls", { ...carol, body: { ...body, method: "echo", args: [1] }, headers: { "x-csrf-token": session.csrf } })).status, 403);
    assert.equal((await call("/api/minions", certs.dave)).status, 403);
    assert.equal((await call("/api/minions", certs.overlord)).status, 403);
    const login = await call("/api/login", { ...certs.erin!, body: {} });
    assert.equal((login.json as { role: string }).role, "admin");
    // a connection kept alive from before the revocation must not keep the cert's rights
    const kept = new Agent({ keepAlive: true, maxSockets: 1, ca, ...certs.erin! });
    assert.equal((await call("/api/minions", { agent: kept })).status, 200);
    await revokeName(paths, "erin");
    let status = 200;
    for (let i = 0; i < 60 && status === 200; i++) {
      status = (await call("/api/minions", certs.erin)).status;
      if (status === 200) await sleep(250);
    }
    assert.equal(status, 401);
    assert.equal((await call("/api/minions", { agent: kept })).status, 401);
    kept.destroy();
  });

  it("signs a waiting minion and revokes it (admin), auditing both; a repeat is a 404", async () => {
    const { csrPem } = await createKeyAndCsr({ commonName: "newbie" });
    await submitCsr(paths, csrPem, { address: "127.180.0.99", port: 51234 });
    const waiting = (await as("admin", "/api/minions")).json as { waiting: Array<{ name: string; fingerprint: string }> };
    assert.equal(waiting.waiting[0]!.name, "newbie");
    assert.match(waiting.waiting[0]!.fingerprint, /^SHA256:/);
    assert.equal((await as("admin", "/api/minions/newbie/sign", { body: {} })).status, 200);
    assert.equal((await as("admin", "/api/minions/newbie/sign", { body: {} })).status, 404);
    const after = (await as("admin", "/api/minions")).json as { signed: Array<{ name: string }>; waiting: unknown[] };
    assert.ok(after.signed.some((m) => m.name === "newbie"));
    assert.equal(after.waiting.length, 0);
    assert.equal((await as("admin", "/api/minions/newbie/revoke", { body: {} })).status, 200);
    assert.equal((await as("admin", "/api/minions/newbie/revoke", { body: {} })).status, 404);
    const revoked = (await as("viewer", "/api/minions")).json as { revoked: Array<{ name: string }> };
    assert.ok(revoked.revoked.some((m) => m.name === "newbie"));
    const log = readFileSync(auditFile(paths), "utf8").trim().split("\n").map((l) => JSON.parse(l) as { identity: string; action: string; outcome: string; minion?: string });
    assert.ok(log.some((e) => e.identity === "admin" && e.action === "sign" && e.minion === "newbie" && e.outcome === "ok"));
    assert.ok(log.some((e) => e.identity === "admin" && e.action === "revoke" && e.minion === "newbie" && e.outcome === "ok"));
  });

  it("serves the method table, target previews and a fleet check", async () => {
    const table = (await as("viewer", "/api/modules")).json as { modules: Array<{ module: string; methods: Array<{ name: string; params: unknown[] }> }> };
    const test = table.modules.find((m) => m.module === "test")!;
    assert.deepEqual(test.methods.find((m) => m.name === "add")!.params, [
      { name: "a", type: "any", optional: false, rest: false },
      { name: "b", type: "any", optional: false, rest: false },
    ]);
    assert.deepEqual(test.methods.find((m) => m.name === "ping")!.params, []);
    // the signature table, with what the CLI knows: command.run's words join into its command
    const run = table.modules.find((m) => m.module === "command")!.methods.find((m) => m.name === "run")!;
    assert.deepEqual(run.params[0], { name: "cmd", type: "string", optional: false, rest: true, doc: "the shell command line" });
    const preview = (await as("viewer", "/api/targets?spec=minion0%5B2-3%5D")).json as { count: number; hosts: string[] };
    assert.deepEqual(preview, { spec: "minion0[2-3]", count: 2, hosts: ["minion02", "minion03"] });
    assert.equal(((await as("viewer", "/api/targets?spec=zz*")).json as { count: number }).count, 0);
    assert.deepEqual((await as("viewer", "/api/targets?spec=*&limit=1")).json, { spec: "*", count: 3, hosts: ["minion01"] });
    assert.equal((await as("viewer", "/api/targets?spec=*&limit=0")).status, 400);
    const ping = await as("viewer", "/api/minions/ping", { body: {} });
    assert.equal(ping.status, 202);
    await events("viewer", (ping.json as { job: string }).job);
    const view = (await as("viewer", "/api/minions")).json as { counts: { answers: number } };
    assert.equal(view.counts.answers, 3);
  });

  it("filters the fleet by facts (GET /api/facts), and refuses a bad filter with a 400", async () => {
    type Match = { matched: string[]; unknown: unknown[]; asked: number };
    const all = (await as("viewer", "/api/facts?filter=cpus%3E%3D1")).json as Match;
    assert.deepEqual(all, { spec: "*", filter: "cpus>=1", mode: "all", matched: ["minion01", "minion02", "minion03"], unknown: [], asked: 3 });
    const none = (await as("viewer", "/api/facts?spec=minion0%5B1-2%5D&filter=cpus%3E1000000,os~%20")).json as Match;
    assert.deepEqual([none.matched, none.asked], [[], 2]);
    const any = (await as("viewer", "/api/facts?spec=minion0%5B1-2%5D&filter=cpus%3E1000000,cpus%3E%3D1&mode=any")).json as Match;
    assert.deepEqual(any.matched, ["minion01", "minion02"]);
    for (const bad of ["/api/facts", "/api/facts?filter=nonsense", "/api/facts?filter=cpus%3E1&mode=most", "/api/facts?filter=Bad-Key%3D1"]) {
      const r = await as("viewer", bad);
      assert.equal(r.status, 400, `${bad}: ${r.text}`);
      assert.ok(typeof (r.json as { error?: { message?: string } }).error?.message === "string", bad);
    }
    assert.equal((await call("/api/facts?filter=cpus%3E%3D1")).status, 401, "no credentials, no facts");
  });
});
