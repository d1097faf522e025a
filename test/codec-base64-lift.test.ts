// Large base64 values are lifted out of a body before it is scanned and parsed (a file chunk parses ~10x
// faster): the decoded value must be exactly what the slow path gives, wherever `<base64>` text may appear.

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { decodeCall, decodeResponse, encodeCall, encodeCallBytes, encodeResponse, encodeResponseBytes } from "@func/shared";

const LIMITS = { maxBodyBytes: 8 * 1024 * 1024, maxDepth: 64, maxElements: 100_000 };
const call = (params: string) => `<?xml version="1.0"?><methodCall><methodName>file.upload_chunk</methodName><params>${params}</params></methodCall>`;
const b64 = (n: number) => randomBytes(n).toString("base64");

describe("codec: large base64 values", () => {
  it("round-trip exactly, in calls and responses, several per body", async () => {
    const a = randomBytes(3 * 1024 * 1024);
    const b = randomBytes(70_000);
    const { params } = await decodeCall(encodeCall("file.upload_chunk", ["id", 0, a, { more: b }]), LIMITS);
    assert.ok(a.equals(params[2] as Buffer));
    assert.ok(b.equals((params[3] as { more: Buffer }).more));
    const v = (await decodeResponse(encodeResponse({ data: a }), { limits: LIMITS })) as { data: Buffer };
    assert.ok(a.equals(v.data));
  });

  it("base64 text inside CDATA or a comment stays text; a real value beside it is still decoded", async () => {
    const inner = b64(60_000);
    const real = randomBytes(60_000);
    const body = call(
      `<param><value><string><![CDATA[<base64>${inner}</base64>]]></string></value></param>` +
        `<!-- <base64>${inner}</base64> -->` +
        `<param><value><base64>${real.toString("base64")}</base64></value></param>`,
    );
    const { params } = await decodeCall(body, LIMITS);
    assert.equal(params[0], `<base64>${inner}</base64>`);
    assert.ok(real.equals(params[1] as Buffer));
  });

  it("non-canonical base64 (wrapped lines) decodes as before; invalid base64 is refused as before", async () => {
    const bytes = randomBytes(80_000);
    const wrapped = bytes.toString("base64").replace(/.{76}/g, "$&\n");
    const { params } = await decodeCall(call(`<param><value><base64>${wrapped}</base64></value></param>`), LIMITS);
    assert.ok(bytes.equals(params[0] as Buffer));
    const bad = b64(60_000).slice(0, -1) + "*";
    await assert.rejects(decodeCall(call(`<param><value><base64>${bad}</base64></value></param>`), LIMITS), /base64/);
  });

  it("the string and value limits still apply to lifted values", async () => {
    const body = call(`<param><value><base64>${b64(100_000)}</base64></value></param>`);
    await assert.rejects(decodeCall(body, { ...LIMITS, maxStringBytes: 50_000 }), /over 50000 bytes/);
    const many = call(Array.from({ length: 5 }, () => `<param><value><base64>${b64(20_000)}</base64></value></param>`).join(""));
    await assert.rejects(decodeCall(many, { ...LIMITS, maxElements: 3 }), /more than 3 values/);
  });

  it("from a body's bytes (what a server reads): the same values, the same refusals", async () => {
    const bytes = randomBytes(200_000);
    const utf8 = "naïve ☃";
    const body = Buffer.from(call(`<param><value><string>${utf8}</string></value></param><param><value><base64>${bytes.toString("base64")}</base64></value></param>`));
    const { params } = await decodeCall(body, LIMITS);
    assert.equal(params[0], utf8);
    assert.ok(bytes.equals(params[1] as Buffer));
    const v = (await decodeResponse(encodeResponseBytes({ data: bytes }), { limits: LIMITS })) as { data: Buffer };
    assert.ok(bytes.equals(v.data));
    assert.ok(encodeCallBytes("file.upload_chunk", ["id", 0, bytes]).equals(Buffer.from(encodeCall("file.upload_chunk", ["id", 0, bytes]))));
    // what the parser refuses stays refused: URL-safe characters, `=` inside, whitespace-wrapped is still fine
    const good = bytes.toString("base64");
    for (const bad of [good.slice(0, 1000) + "-" + good.slice(1001), good.slice(0, 1000) + "_" + good.slice(1001), good.slice(0, 1000) + "=" + good.slice(1001)]) {
      await assert.rejects(decodeCall(Buffer.from(call(`<param><value><base64>${bad}</base64></value></param>`)), LIMITS), /base64/);
    }
    const wrapped = good.replace(/.{76}/g, "$&\n");
    const w = await decodeCall(Buffer.from(call(`<param><value><base64>${wrapped}</base64></value></param>`)), LIMITS);
    assert.ok(bytes.equals(w.params[0] as Buffer));
    // base64 text in CDATA stays text; invalid UTF-8 beside a large value is refused
    const inner = b64(60_000);
    const cdata = await decodeCall(Buffer.from(call(`<param><value><string><![CDATA[<base64>${inner}</base64>]]></string></value></param>`)), LIMITS);
    assert.equal(cdata.params[0], `<base64>${inner}</base64>`);
    const latin1 = Buffer.from(call(`<param><value><string>#</string></value></param><param><value><base64>${good}</base64></value></param>`));
    latin1[latin1.indexOf("#")] = 0xff;
    await assert.rejects(decodeCall(latin1, LIMITS), /UTF-8/);
  });
});
