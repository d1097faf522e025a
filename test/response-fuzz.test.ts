// Fuzzing the overlord's side of the wire (issue 10 item 4), as codec.test.ts fuzzes the request side: mutated
// and random answers and faults go through decodeResponse and classify, and through MinionTransport against a
// real TLS server that answers with exactly those bytes. Every one ends as one HostResult (ok, or an error
// with a one-line reason); nothing throws, nothing hangs.

import assert from "node:assert/strict";
import { createServer, type Server } from "node:https";
import fc from "fast-check";
import { OUTCOMES, XmlRpcFault, createCa, decodeResponse, encodeFault, encodeResponse, issueCert, type HostResult } from "@func/shared";
import { MinionTransport, classify } from "@func/overlord";

/** This file's fake minion. */
const ADDRESS = "127.112.0.1";
const NAME = "fuzzed-minion";

const BASES = [
  encodeResponse({ rc: 0, stdout: "\x1b[31mred\x1b[0m", stderr: "", list: [1, 2 ** 40, 1.5, true, null, Buffer.from([0xff])] }),
  encodeResponse(["20261122T201233-5f2a9c01b7", { faultCode: 1, faultString: "x" }]),
  encodeFault(1, "MethodError: boom"),
  encodeFault(3, "AccessDenied: no"),
];
const INSERTS = fc.oneof(
  fc.string({ maxLength: 8 }),
  fc.constantFrom(
    "<", ">", "&", "</value>", "<value>", "<array><data>", "<struct>", "<![CDATA[", "&#x110000;", "<!DOCTYPE x>", "<!ENTITY e 'x'>", "&e;",
    "<fault>", "<faultCode>", "<string>", "<int>x</int>", "<double>nan</double>", "<i8>99999999999999999999</i8>", "\u0000", "\uffff",
  ),
);
const mutated = fc.record({ base: fc.constantFrom(...BASES), at: fc.nat(), drop: fc.nat({ max: 16 }), insert: INSERTS }).map(({ base, at, drop, insert }) => {
  const i = at % (base.length + 1);
  return base.slice(0, i) + insert + base.slice(i + drop);
});
const FAULT_VALUES = fc.constantFrom("<int>1</int>", "<string>1</string>", "<double>1.5</double>", "<nil/>", "<array><data/></array>", "<boolean>1</boolean>", "<i8>4</i8>", "");
const oddFault = fc.record({ code: FAULT_VALUES, text: fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom("<int>1</int>", "<base64>QUJD</base64>", "")) }).map(
  ({ code, text }) =>
    `<?xml version="1.0"?><methodResponse><fault><value><struct><member><name>faultCode</name><value>${code}</value></member>` +
    `<member><name>faultString</name><value>${text}</value></member></struct></value></fault></methodResponse>`,
);
const anyBody = fc.oneof(mutated, oddFault, fc.string({ maxLength: 64 }), fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a).toString("latin1")));

function checkResult(r: HostResult, what: string): void {
  assert.ok((OUTCOMES as readonly string[]).includes(r.outcome), `${what}: outcome ${String(r.outcome)}`);
  if (r.outcome === "ok") return;
  assert.ok(r.outcome === "error" || r.outcome === "denied", `${what}: an answer is error or denied, got ${r.outcome}`);
  assert.equal(typeof r.error.type, "string");
  assert.equal(typeof r.error.code, "number");
  assert.doesNotMatch(r.error.message, /[\r\n]/, `${what}: one line`);
}

describe("the overlord's response decoding (fuzzed)", () => {
  it("decodeResponse then classify: a value or one error, never a throw (property)", async () => {
    await fc.assert(
      fc.asyncProperty(anyBody, async (body) => {
        let result: HostResult;
        try {
          result = { outcome: "ok", value: await decodeResponse(body, { bytesAsText: true }) };
        } catch (err) {
          result = classify(err, true);
        }
        checkResult(result, JSON.stringify(body.slice(0, 80)));
      }),
      { numRuns: 1000 },
    );
  });

  it("classify never throws, whatever it is given", () => {
    const odd: unknown[] = [null, undefined, 0, "x", Symbol("s"), { code: 42 }, { code: -32700, message: 7 }, { name: 5, code: {} }, new XmlRpcFault(3, "x"), Object.create(null)];
    const throwing = Object.defineProperty({}, "code", {
      get() {
        throw new Error("a getter that throws");
      },
    });
    for (const err of [...odd, throwing]) {
      const r = classify(err, true);
      assert.ok(r.outcome !== "ok");
    }
  });

  describe("through MinionTransport and real TLS", function () {
    this.timeout(120_000);
    let server: Server;
    let transport: MinionTransport;
    let port = 0;
    let next: string = BASES[0]!;

    before(async () => {
      const ca = await createCa({ commonName: "fuzz CA" });
      const minion = await issueCert(ca, { commonName: NAME, role: "minion", dnsNames: [NAME], ipAddresses: [ADDRESS] });
      const overlord = await issueCert(ca, { commonName: "overlord@fuzz", role: "overlord", dnsNames: ["overlord-fuzz"] });
      server = createServer({ key: minion.keyPem, cert: minion.certPem, ca: ca.certPem, requestCert: true, rejectUnauthorized: true }, (req, res) => {
        req.resume();
        req.on("end", () => {
          res.writeHead(200, { "Content-Type": "text/xml", "Content-Length": Buffer.byteLength(next, "latin1") });
          res.end(next, "latin1");
        });
      });
      await new Promise<void>((resolve) => server.listen(0, ADDRESS, resolve));
      port = (server.address() as { port: number }).port;
      transport = new MinionTransport({ key: overlord.keyPem, cert: overlord.certPem, ca: ca.certPem }, { maxResponseBytes: 64 * 1024 });
    });
    after(async () => {
      transport?.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    });

    it("every fuzzed answer becomes one HostResult for that host (property)", async () => {
      await fc.assert(
        fc.asyncProperty(anyBody, async (body) => {
          next = body;
          const r = await transport.call({ name: NAME, host: ADDRESS, port }, "test.ping", [], { timeoutMs: 20_000 });
          checkResult(r, JSON.stringify(body.slice(0, 80)));
        }),
        { numRuns: 150 },
      );
    });
  });
});
