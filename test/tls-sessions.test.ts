// TLS session resumption across runs: the overlord's session store (saved, reloaded, bound to the overlord's
// identity, expired, bounded, merged), a minion resuming a session from a new client and still knowing the
// peer, a CRL/cert update ending old sessions, and `func` itself recording and resuming sessions.

import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { request, type RequestOptions } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TLSSocket } from "node:tls";
import { startMinion, type StartedMinion } from "@func/minion";
import { TlsSessionStore, sessionKey } from "@func/overlord";
import { TLS_SESSION_LIFETIME_S, encodeCall, homePaths } from "@func/shared";
import { func, smallBuckets, startFleet, type TestFleet } from "./helpers/fleet.js";
import { makeMinionHome, type TestPki } from "./helpers/pki.js";

/** Subnet of this file: 127.67.0.x for the fleet, 127.68.0.x for the in-process minion. */
const FLEET_SUBNET = 67;
const MINION_ADDRESS = "127.68.0.2";

const ID = { cert: "-----BEGIN CERTIFICATE-----\noverlord\n", ca: "-----BEGIN CERTIFICATE-----\nca\n" };

describe("TLS session store", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "func-tls-store-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("saves the sessions received and a new store (a new process) reads them back; the file is private", () => {
    const file = join(dir, "tls-sessions");
    const a = new TlsSessionStore(file, ID);
    a.set("m1@127.0.0.2:51234", Buffer.from("one"));
    a.set("m2@127.0.0.3:51234", Buffer.from("two"));
    a.save();
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const b = new TlsSessionStore(file, ID);
    assert.equal(b.size, 2);
    assert.equal(b.get("m1@127.0.0.2:51234")?.toString(), "one");
    assert.equal(b.get("m2@127.0.0.3:51234")?.toString(), "two");
    assert.equal(b.get("m3@127.0.0.4:51234"), undefined);
  });

  it("offers nothing saved under another overlord cert, CA or CRL", () => {
    const file = join(dir, "tls-sessions");
    const a = new TlsSessionStore(file, ID);
    a.set("m1@127.0.0.2:51234", Buffer.from("one"));
    a.save();
    assert.equal(new TlsSessionStore(file, { ...ID, cert: ID.cert + "x" }).size, 0);
    assert.equal(new TlsSessionStore(file, { ...ID, ca: ID.ca + "x" }).size, 0);
    assert.equal(new TlsSessionStore(file, { ...ID, crl: "-----BEGIN X509 CRL-----\n" }).size, 0, "a new CRL ends them");
  });

  it("drops sessions older than the minions keep them resumable", () => {
    const file = join(dir, "tls-sessions");
    const a = new TlsSessionStore(file, ID);
    a.set("m1@127.0.0.2:51234", Buffer.from("one"));
    a.save();
    const later = new TlsSessionStore(file, ID, { now: Date.now() + (TLS_SESSION_LIFETIME_S + 1) * 1000 });
    assert.equal(later.size, 0);
  });

  it("a damaged or truncated file is ignored, and replaced by the next save", () => {
    const file = join(dir, "tls-sessions");
    const a = new TlsSessionStore(file, ID);
    a.set("m1@127.0.0.2:51234", Buffer.from("one"));
    a.save();
    const whole = readFileSync(file);
    writeFileSync(file, whole.subarray(0, whole.length - 2));
    assert.equal(new TlsSessionStore(file, ID).size, 0);
    writeFileSync(file, "not a session file");
    const b = new TlsSessionStore(file, ID);
    assert.equal(b.size, 0);
    b.set("m2@127.0.0.3:51234", Buffer.from("two"));
    b.save();
    assert.equal(new TlsSessionStore(file, ID).get("m2@127.0.0.3:51234")?.toString(), "two");
  });

  it("merges with what another process saved meanwhile, and keeps only the newest when over the cap", () => {
    const file = join(dir, "tls-sessions");
    const a = new TlsSessionStore(file, ID, { maxSessions: 3 });
    const b = new TlsSessionStore(file, ID, { maxSessions: 3 });
    a.set("m1@h:1", Buffer.from("a1"));
    a.save();
    b.set("m2@h:1", Buffer.from("b2"));
    b.save();
    const merged = new TlsSessionStore(file, ID, { maxSessions: 3 });
    assert.deepEqual([merged.get("m1@h:1")?.toString(), merged.get("m2@h:1")?.toString()], ["a1", "b2"]);
    for (const k of ["m3@h:1", "m4@h:1"]) merged.set(k, Buffer.from(k));
    merged.save();
    const capped = new TlsSessionStore(file, ID);
    assert.equal(capped.size, 3);
    assert.equal(capped.get("m4@h:1")?.toString(), "m4@h:1");
  });
});

/** One POST of test.ping; whether the TLS session was resumed, and the answer. */
function ping(pki: TestPki, port: number, session?: Buffer): Promise<{ reused: boolean; status: number; body: string; session?: Buffer }> {
  return new Promise((resolve, reject) => {
    const body = encodeCall("test.ping", []);
    let reused = false;
    let latest: Buffer | undefined;
    const req = request(
      {
        host: MINION_ADDRESS,
        port,
        method: "POST",
        path: "/",
        agent: false,
        key: pki.overlord.keyPem,
        cert: pki.overlord.certPem,
        ca: pki.ca.certPem,
        servername: "minion-tls",
        ...(session ? { session } : {}),
        headers: { "Content-Type": "text/xml", "Content-Length": Buffer.byteLength(body) },
      },
      (res) => {
        let text = "";
        res.on("data", (c: Buffer) => (text += c.toString()));
        res.on("end", () => resolve({ reused, status: res.statusCode ?? 0, body: text, ...(latest ? { session: latest } : {}) }));
      },
    );
    req.on("socket", (s) => {
      const socket = s as TLSSocket;
      socket.on("session", (t: Buffer) => (latest = t));
      socket.once("secureConnect", () => (reused = socket.isSessionReused()));
    });
    req.on("error", reject);
    req.end(body);
  });
}

describe("TLS session resumption on a minion", () => {
  let dir: string;
  let pki: TestPki;
  let minion: StartedMinion;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "func-tls-minion-"));
    pki = await makeMinionHome(dir, "minion-tls", MINION_ADDRESS);
    minion = await startMinion(pki.paths, { listenAddr: MINION_ADDRESS, listenPort: 0 });
  });
  after(async () => {
    await minion?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("resumes a session from a new connection, and still knows the peer (ACL and audit)", async () => {
    const first = await ping(pki, minion.port);
    assert.equal(first.reused, false);
    assert.ok(first.session, "the minion issued a session ticket");
    const again = await ping(pki, minion.port, first.session);
    assert.equal(again.reused, true, "the session was resumed");
    assert.equal(again.status, 200);
    assert.match(again.body, /<int>1<\/int>/);
    const lines = readFileSync(homePaths(dir).auditLog, "utf8").trim().split("\n").map((l) => JSON.parse(l) as { cn: string; outcome: string });
    assert.deepEqual(lines.slice(-2).map((l) => [l.cn, l.outcome]), [["overlord@test", "ok"], ["overlord@test", "ok"]]);
  });

  it("a CRL or cert update ends the sessions issued before it: full handshake, still answered", async () => {
    const first = await ping(pki, minion.port);
    assert.ok(first.session);
    minion.server.updateTls({});
    const after = await ping(pki, minion.port, first.session);
    assert.equal(after.reused, false, "an old session must not skip the new CRL");
    assert.equal(after.status, 200);
    assert.equal((await ping(pki, minion.port, after.session)).reused, true, "sessions issued after the update resume");
  });
});

describe("func keeps TLS sessions between runs", function () {
  this.timeout(90_000);
  let fleet: TestFleet;
  before(async () => {
    fleet = await startFleet("tls-sessions", FLEET_SUBNET, 3);
    smallBuckets(fleet.home);
  });
  after(async () => {
    await fleet?.stop();
  });

  const store = () => {
    const p = homePaths(fleet.home);
    return new TlsSessionStore(p.tlsSessions, {
      cert: readFileSync(p.overlordCert, "utf8"),
      ca: readFileSync(p.caCert, "utf8"),
      ...(existsSync(p.crl) ? { crl: readFileSync(p.crl, "utf8") } : {}),
    });
  };

  it("a run records one session per minion, in-process or from forked buckets", async () => {
    for (const forks of ["1", "2"]) {
      rmSync(homePaths(fleet.home).tlsSessions, { force: true });
      const r = await func(fleet.home, ["*", "ping", "--forks", forks]);
      assert.equal(r.code, 0, r.stderr);
      const s = store();
      for (const m of fleet.minions) assert.ok(s.get(sessionKey({ name: m.name, host: m.address, port: m.port })), `--forks ${forks}: ${m.name}`);
    }
  });

  it("the next run resumes them and gets the same answers", async () => {
    const cold = await func(fleet.home, ["*", "ping", "--json"]);
    const repeat = await func(fleet.home, ["*", "ping", "--json"]);
    assert.equal(repeat.code, 0, repeat.stderr);
    assert.deepEqual(JSON.parse(repeat.stdout).summary, JSON.parse(cold.stdout).summary);
    // a stored session resumes from yet another client: the minion accepts it as this overlord
    const m = fleet.minions[0]!;
    const session = store().get(sessionKey({ name: m.name, host: m.address, port: m.port }))!;
    const p = homePaths(fleet.home);
    const reused = await new Promise<boolean>((resolve, reject) => {
      const options: RequestOptions & { session: Buffer } = {
        host: m.address,
        port: m.port,
        method: "POST",
        agent: false,
        key: readFileSync(p.overlordKey),
        cert: readFileSync(p.overlordCert),
        ca: readFileSync(p.caCert),
        servername: m.name,
        session,
      };
      const req = request(
        options,
        (res) => {
          res.resume();
          res.on("end", () => resolve((res.socket as TLSSocket).isSessionReused()));
        },
      );
      req.on("error", reject);
      req.end(encodeCall("test.ping", []));
    });
    assert.equal(reused, true);
  });
});
