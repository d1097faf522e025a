// Bytes answers beside XML-RPC (shared/bytes-answer.ts): a real funcd answers file.read as raw bytes only to
// a caller that asks, only for a result of that shape, and never for a fault or a refusal; plain XML-RPC
// callers see XML as ever. The fields header is parsed strictly (hostile servers: getfile-hostile.test.ts).

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:https";
import { join } from "node:path";
import {
  BYTES_ANSWER_HEADER,
  BYTES_FIELDS_HEADER,
  bytesAnswerFields,
  decodeBytesAnswer,
  decodeResponse,
  encodeCall,
  issueCert,
  type CertPair,
} from "@func/shared";
import { startMinion, type StartedMinion } from "@func/minion";
import { MinionTransport } from "@func/overlord";
import { makeMinionHome, type TestPki } from "./helpers/pki.js";
import { tempHome } from "./helpers/fleet.js";
import { faultOf } from "./helpers/xmlrpc.js";

interface Answer {
  status: number;
  type: string;
  fields: string | undefined;
  body: Buffer;
}

function post(m: StartedMinion, id: CertPair, ca: string, body: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: m.address,
        port: m.port,
        method: "POST",
        path: "/",
        ca,
        key: id.keyPem,
        cert: id.certPem,
        servername: m.name,
        agent: false,
        headers: { "Content-Type": "text/xml", ...headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, type: String(res.headers["content-type"]), fields: res.headers[BYTES_FIELDS_HEADER] as string | undefined, body: Buffer.concat(chunks) }),
        );
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

describe("bytes answers: the fields header", () => {
  it("a chunk struct becomes its fields; anything else is no bytes answer", () => {
    assert.equal(bytesAnswerFields({ data: Buffer.from("x"), size: 10, offset: 0, eof: false }), "size=10,offset=0,eof=false");
    assert.equal(bytesAnswerFields({ data: Buffer.from("x") }), "");
    for (const v of [null, "x", Buffer.from("x"), [Buffer.from("x")], { data: "x" }, { data: Buffer.from("x"), name: "a" }, { data: Buffer.from("x"), n: 1.5 }, { data: Buffer.from("x"), "Bad-Name": 1 }]) {
      assert.equal(bytesAnswerFields(v), null, JSON.stringify(v));
    }
  });

  it("decodes what it encodes, and refuses what it would never write", () => {
    const data = Buffer.from("hello");
    assert.deepEqual(decodeBytesAnswer("size=10,offset=5,eof=true", data), { size: 10, offset: 5, eof: true, data });
    assert.deepEqual(decodeBytesAnswer(undefined, data), { data });
    const bad: [string | string[], RegExp][] = [
      [["size=1", "size=2"], /more than once/],
      ["size=1,size=2", /came twice/],
      ["data=1", /not a field name/],
      ["__proto__=1", /not a field name/],
      ["Size=1", /not a field name/],
      ["size", /not an integer/],
      ["size=1e3", /not an integer/],
      ["size=0x10", /not an integer/],
      ["size=01", /not an integer/],
      ["size=99999999999999999", /not an integer/],
      ["size=", /not an integer/],
      ["eof=yes", /not an integer/],
      [`a=${"1".repeat(1100)}`, /over 1024/],
      [Array.from({ length: 17 }, (_, i) => `f${i}=1`).join(","), /over 16 fields/],
    ];
    for (const [fields, why] of bad) assert.throws(() => decodeBytesAnswer(fields, data), why, JSON.stringify(fields));
    assert.equal(Object.getPrototypeOf(decodeBytesAnswer("constructor=1", data)), Object.prototype);
  });
});

describe("bytes answers from a real funcd", function () {
  this.timeout(30_000);
  let dir: string;
  let pki: TestPki;
  let m: StartedMinion;
  let stranger: CertPair;
  let file: string;
  const content = randomBytes(3 * 1024 * 1024 + 17);
  const ask = { [BYTES_ANSWER_HEADER]: "bytes" };

  before(async () => {
    dir = tempHome("bytes-answer");
    pki = await makeMinionHome(dir, "minion-bytes", "127.123.0.2");
    const root = join(dir, "root");
    mkdirSync(root);
    file = join(root, "blob.bin");
    writeFileSync(file, content);
    // a user cert no ACL line names: refused before anything runs
    stranger = await issueCert(pki.ca, { commonName: "stranger", role: "user", dnsNames: ["stranger"] });
    m = await startMinion(pki.paths, { fileRoots: [root] });
  });
  after(async () => {
    await m?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("file.read asked for bytes: the chunk as the body, its fields in one header", async () => {
    const a = await post(m, pki.overlord, pki.ca.certPem, encodeCall("file.read", [file, 1000, 2 * 1024 * 1024]), ask);
    assert.equal(a.status, 200);
    assert.equal(a.type, "application/octet-stream");
    assert.equal(a.fields, `size=${content.length},offset=1000,eof=false`);
    assert.ok(a.body.equals(content.subarray(1000, 1000 + 2 * 1024 * 1024)));
    const last = await post(m, pki.overlord, pki.ca.certPem, encodeCall("file.read", [file, content.length - 10, 4096]), ask);
    assert.equal(last.fields, `size=${content.length},offset=${content.length - 10},eof=true`);
    assert.ok(last.body.equals(content.subarray(content.length - 10)));
  });

  it("without the header, another result, a fault or a refusal: XML as ever", async () => {
    const plain = await post(m, pki.overlord, pki.ca.certPem, encodeCall("file.read", [file, 0, 100]));
    assert.match(plain.type, /^text\/xml/);
    const v = (await decodeResponse(plain.body)) as { data: Buffer };
    assert.ok(v.data.equals(content.subarray(0, 100)));
    const ping = await post(m, pki.overlord, pki.ca.certPem, encodeCall("test.ping", []), ask);
    assert.match(ping.type, /^text\/xml/);
    assert.equal(await decodeResponse(ping.body), 1);
    const outside = await post(m, pki.overlord, pki.ca.certPem, encodeCall("file.read", ["/etc/passwd", 0, 100]), ask);
    assert.match(outside.type, /^text\/xml/);
    assert.equal((await faultOf({ status: outside.status, body: outside.body.toString() })).faultCode, 3);
    const denied = await post(m, stranger, pki.ca.certPem, encodeCall("file.read", [file, 0, 100]), ask);
    assert.match(denied.type, /^text\/xml/);
    assert.equal((await faultOf({ status: denied.status, body: denied.body.toString() })).faultCode, 3);
  });

  it("the overlord's transport reads it into the caller's buffer and refuses one over what it asked", async () => {
    const t = new MinionTransport({ key: pki.overlord.keyPem, cert: pki.overlord.certPem, ca: pki.ca.certPem });
    try {
      const at = { name: m.name, host: m.address, port: m.port };
      const mine = Buffer.alloc(65536);
      const r = await t.send(at, encodeCall("file.read", [file, 4096, 65536]), { timeoutMs: 10_000, bytesAnswer: { maxBytes: 65536, buffer: () => mine } });
      assert.equal(r.outcome, "ok", JSON.stringify(r));
      const v = r.value as { data: Buffer; size: number; offset: number; eof: boolean };
      assert.equal(v.data, mine);
      assert.ok(mine.equals(content.subarray(4096, 4096 + 65536)));
      assert.deepEqual({ size: v.size, offset: v.offset, eof: v.eof }, { size: content.length, offset: 4096, eof: false });
      const over = await t.send(at, encodeCall("file.read", [file, 0, 65537]), { timeoutMs: 10_000, bytesAnswer: { maxBytes: 65536 } });
      assert.equal(over.outcome, "error");
      assert.match(over.error.message, /over the 65536 asked for/);
      // the connection it cut does not keep the next call from working
      const again = await t.send(at, encodeCall("file.read", [file, 0, 10]), { timeoutMs: 10_000, bytesAnswer: { maxBytes: 10 } });
      assert.ok(again.outcome === "ok" && (again.value as { data: Buffer }).data.equals(content.subarray(0, 10)), JSON.stringify(again));
    } finally {
      t.close();
    }
  });
});
