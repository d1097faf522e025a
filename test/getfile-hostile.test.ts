// getfile against hostile minions: real TLS servers with func-signed minion certs that answer badly (nil,
// one byte at a time forever, a size past the cap, more bytes than declared, a wrong checksum, faults).
// Each such host ends in an error of its own; the real minion beside them is pulled; nothing else is written.

import assert from "node:assert/strict";
import { createServer, type Server } from "node:https";
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { decodeCall, encodeFault, encodeResponse, homePaths, issueCert, minionAddressFile, signedCertFile, type WireValue } from "@func/shared";
import { loadCa, pulledName } from "@func/overlord";

import { func, startFleet, type TestFleet } from "./helpers/fleet.js";

const FILE = "/srv/data/report.bin";
const HUGE = 2 ** 50;

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
    for (const [name, answer] of Object.entries(SCENARIOS)) {
      const address = `127.121.0.${n++}`;
      const pair = await issueCert(ca, { commonName: name, role: "minion", dnsNames: [name], ipAddresses: [address] });
      const server = createServer({ key: pair.keyPem, cert: pair.certPem, ca: ca.certPem, requestCert: true, rejectUnauthorized: true }, (req, res) => {
        const chunks: Buffer[] = [];
        req.on("data", (c: Buffer) => chunks.push(c));
        req.on("end", () => {
          void decodeCall(Buffer.concat(chunks), { maxBodyBytes: 64 * 1024 * 1024, maxDepth: 64, maxElements: 100_000 }).then(({ method, params }) => {
            const v = answer(method, params);
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
