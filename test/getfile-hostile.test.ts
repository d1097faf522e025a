// getfile against hostile minions: real TLS servers with func-signed minion certs that answer badly (nil,
// one byte at a time forever, a size past the cap, more bytes than declared, a wrong checksum, faults, and
// bytes answers that are too long, cut short, of no length, with fields that are not ours, or not asked for).
// Each such host ends in an error of its own; the real minion beside them is pulled; nothing else is written.

import assert from "node:assert/strict";
import { createServer, type Server } from "node:https";
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { decodeCall, encodeFault, encodeResponse, homePaths, issueCert, minionAddressFile, signedCertFile, type WireValue } from "@func/shared";
import { loadCa, pulledName } from "@func/overlord";

import { func, startFleet, type TestFleet } from "./helpers/fleet.js";

const FILE = "/srv/data/report.bin";
const HUGE = 2 ** 50;

/** A bytes answer (shared/bytes-answer.ts) as a hostile minion may shape it. */
class Raw {
  constructor(
    readonly body: Buffer,
    readonly fields: string,
    /** the Content-Length sent: the body's by default, null for none (chunked) */
    readonly length: number | null | undefined = undefined,
    /** the connection is cut after the body */
    readonly cut = false,
  ) {}
}
const MB100 = 100 * 1024 * 1024;
const CHUNK = 4 * 1024 * 1024;
const statOf = (size: number) => ({ type: "file", size });
const GOOD = Buffer.from("raw content\n");

/** What each hostile minion answers, by method. */
const SCENARIOS: Record<string, (method: string, params: WireValue[]) => unknown> = {
  "evil-nil": () => null,
  "evil-drip": (m, p) =>
    m === "file.stat" ? { type: "file", size: 100 * 1024 * 1024 } : m === "file.read" ? { data: Buffer.from("x"), size: 100 * 1024 * 1024, offset: p[1]!, eof: false } : "0".repeat(64),
  "evil-huge": (m) => (m === "file.stat" ? { type: "file", size: HUGE } : { data: Buffer.alloc(0), size: HUGE, offset: 0, eof: false }),
  "evil-liar": (m, p) => (m === "file.stat" ? { type: "file", size: 10 } : m === "file.read" ? { data: Buffer.alloc(20, 1), size: 10, offset: p[1]!, eof: true } : "0".repeat(64)),
  "evil-sum": (m, p) => (m === "file.stat" ? { type: "file", size: 5 } : m === "file.read" ? { data: Buffer.from("hello"), size: 5, offset: p[1]!, eof: true } : "f".repeat(64)),
  "evil-shape": (m) => (m === "file.stat" ? { type: "file", size: "12" } : [1, 2, 3]),
  "evil-fault": () => new Error("no"),
  // bytes answers: more than asked for, fewer than declared, no length, fields that are not ours, one unasked
  "evil-rawbig": (m, p) => (m === "file.stat" ? statOf(MB100) : m === "file.read" ? new Raw(Buffer.alloc(CHUNK + 1), `size=${MB100},offset=${p[1]}`) : "0".repeat(64)),
  "evil-rawshort": (m, p) => (m === "file.stat" ? statOf(MB100) : m === "file.read" ? new Raw(Buffer.alloc(1000), `size=${MB100},offset=${p[1]}`, CHUNK, true) : "0".repeat(64)),
  "evil-rawchunked": (m, p) => (m === "file.stat" ? statOf(5) : m === "file.read" ? new Raw(Buffer.from("hello"), `size=5,offset=${p[1]}`, null) : "0".repeat(64)),
  "evil-rawfields": (m) => (m === "file.stat" ? statOf(5) : m === "file.read" ? new Raw(Buffer.from("hello"), "size=5e0,offset=0") : "0".repeat(64)),
  "evil-rawproto": (m) => (m === "file.stat" ? statOf(5) : m === "file.read" ? new Raw(Buffer.from("hello"), "__proto__=1,size=5,offset=0") : "0".repeat(64)),
  "evil-rawdata": (m) => (m === "file.stat" ? statOf(5) : m === "file.read" ? new Raw(Buffer.from("hello"), "size=5,offset=0,data=7") : "0".repeat(64)),
  "evil-rawunasked": (m) => (m === "file.stat" ? new Raw(Buffer.from("x"), "size=1") : "0".repeat(64)),
};

/** A well-behaved minion that answers reads as bytes: what funcd does, from another server. */
const GOOD_RAW = "good-raw";
const goodRaw = (m: string, p: WireValue[]) =>
  m === "file.stat"
    ? statOf(GOOD.length)
    : m === "file.read"
      ? new Raw(GOOD.subarray(p[1] as number), `size=${GOOD.length},offset=${p[1]},eof=true`)
      : createHash("sha256").update(GOOD).digest("hex");
/** A well-behaved minion that ignores the ask and answers XML, as a funcd from before bytes answers does. */
const GOOD_XML = "good-xml";
const goodXml = (m: string, p: WireValue[]) => {
  const v = goodRaw(m, p);
  return v instanceof Raw ? { data: v.body, size: GOOD.length, offset: p[1]!, eof: true } : v;
};

describe("getfile against hostile minions", function () {
  this.timeout(120_000);
  let fleet: TestFleet;
  const servers: Server[] = [];
  let into: string;

  before(async () => {
    fleet = await startFleet("getfile-hostile", 121, 1, { minionConf: { file_roots: "/" } });
    const paths = homePaths(fleet.home);
    const ca = loadCa(paths);
    let n = 10;
    for (const [name, answer] of [...Object.entries(SCENARIOS), [GOOD_RAW, goodRaw] as const, [GOOD_XML, goodXml] as const]) {
      const address = `127.121.0.${n++}`;
      const pair = await issueCert(ca, { commonName: name, role: "minion", dnsNames: [name], ipAddresses: [address] });
      const server = createServer({ key: pair.keyPem, cert: pair.certPem, ca: ca.certPem, requestCert: true, rejectUnauthorized: true }, (req, res) => {
        const chunks: Buffer[] = [];
        req.on("data", (c: Buffer) => chunks.push(c));
        req.on("end", () => {
          void decodeCall(Buffer.concat(chunks), { maxBodyBytes: 64 * 1024 * 1024, maxDepth: 64, maxElements: 100_000 }).then(({ method, params }) => {
            const v = answer(method, params);
            if (v instanceof Raw) {
              const length = v.length === undefined ? v.body.length : v.length;
              res.writeHead(200, { "Content-Type": "application/octet-stream", "X-Func-Fields": v.fields, ...(length === null ? {} : { "Content-Length": length }) });
              if (v.cut) res.write(v.body, () => res.socket?.destroy());
              else res.end(v.body);
              return;
            }
            res.writeHead(200, { "Content-Type": "text/xml" });
            res.end(v instanceof Error ? encodeFault(1, `MethodError: ${v.message}`) : encodeResponse(v));
          });
        });
      });
      await new Promise<void>((resolve) => server.listen(51234, address, resolve));
      servers.push(server);
      writeFileSync(signedCertFile(paths, name), pair.certPem);
      writeFileSync(minionAddressFile(paths, name), JSON.stringify({ address, port: 51234 }));
    }
    into = join(fleet.home, "pulled");
    mkdirSync(join(fleet.home, "data"), { recursive: true });
    writeFileSync(join(fleet.home, "data", "report.bin"), "real content\n");
  });
  after(async () => {
    for (const s of servers) s.close();
    await fleet?.stop();
  });

  it("every hostile host ends in an error of its own, at once; the real one is pulled; nothing else lands", async () => {
    const real = fleet.minions[0]!.name;
    // the real minion's file is at the same path as the one asked of the hostile ones: a second run for it
    const r = await func(fleet.home, ["*", "getfile", FILE, into, "--json"], 90_000);
    assert.equal(r.code, 2, r.stderr + r.stdout);
    assert.doesNotMatch(r.stderr, /TypeError|internal error/);
    const hosts = JSON.parse(r.stdout).hosts as Record<string, { outcome: string; error?: { type: string; message: string } }>;
    for (const name of Object.keys(SCENARIOS)) {
      assert.equal(hosts[name]?.outcome, "error", `${name}: ${JSON.stringify(hosts[name])}`);
    }
    assert.match(hosts["evil-drip"]!.error!.message, /1 bytes at offset 0 where \d{6,} were due/);
    assert.match(hosts["evil-huge"]!.error!.message, /over the/);
    assert.match(hosts["evil-liar"]!.error!.message, /20 bytes/);
    assert.match(hosts["evil-sum"]!.error!.message, /SHA-256/);
    assert.match(hosts["evil-nil"]!.error!.message, /no valid size/);
    assert.match(hosts["evil-rawbig"]!.error!.message, /bytes answer of 4194305 bytes, over the 4194304 asked for/);
    assert.match(hosts["evil-rawshort"]!.error!.message, /cut off|closed mid-answer/);
    assert.match(hosts["evil-rawchunked"]!.error!.message, /without a Content-Length/);
    assert.match(hosts["evil-rawfields"]!.error!.message, /size is not an integer/);
    assert.match(hosts["evil-rawproto"]!.error!.message, /"__proto__" is not a field name/);
    assert.match(hosts["evil-rawdata"]!.error!.message, /"data" is not a field name/);
    assert.match(hosts["evil-rawunasked"]!.error!.message, /not asked for/);
    for (const name of Object.keys(SCENARIOS).filter((n) => n.startsWith("evil-raw"))) assert.equal(hosts[name]!.error!.type, "ProtocolError", name);
    // the well-behaved servers are pulled, checked by their SHA-256: one answering bytes, one XML
    assert.equal(hosts[GOOD_RAW]?.outcome, "ok", JSON.stringify(hosts[GOOD_RAW]));
    assert.deepEqual(readFileSync(join(into, GOOD_RAW, "report.bin")), GOOD);
    assert.equal(hosts[GOOD_XML]?.outcome, "ok", JSON.stringify(hosts[GOOD_XML]));
    assert.deepEqual(readFileSync(join(into, GOOD_XML, "report.bin")), GOOD);
    // nothing but (empty) host directories; no temp files, no partial files
    for (const name of Object.keys(SCENARIOS)) {
      const entries = (() => {
        try {
          return readdirSync(join(into, name));
        } catch {
          return [];
        }
      })();
      assert.deepEqual(entries, [], name);
    }
    assert.equal(hosts[real]?.outcome, "error", "the real minion has no /srv/data/report.bin");
    const path = join(fleet.home, "data", "report.bin");
    const good = await func(fleet.home, [real, "getfile", path, into, "--json"]);
    assert.equal(good.code, 0, good.stderr + good.stdout);
    assert.equal(readFileSync(join(into, real, "report.bin"), "utf8"), "real content\n");
  });

  it("file names that cannot be written are refused before anything is asked", () => {
    for (const bad of ["/", "/etc/..", "/x/.", "/x/a\x1bb", "/x/a\nb", "/x/a\0b"]) assert.throws(() => pulledName(bad), /getfile/, JSON.stringify(bad));
    assert.equal(pulledName("/var/log/syslog"), "syslog");
  });
});
