// Tests for the XML-RPC codec (packages/shared/src/codec.ts): round trips of every wire kind, toWire refusals,
// hostile bodies, fast-check properties (round trip, refusal, mutated bodies never crash) and Python interop.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fc from "fast-check";
import {
  CODEC_LIMITS,
  FuncError,
  XmlRpcFault,
  decodeCall,
  decodeResponse,
  encodeCall,
  encodeFault,
  encodeResponse,
  toWire,
  type CodecLimits,
  type WireValue,
} from "@func/shared";

const ANSI = "\x1b[31mred\x1b[0m";
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const XML_ILLEGAL = /[\x00-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF]/;
const STRICT_UTF8 = new TextDecoder("utf-8", { fatal: true });

/** Asserts that `promise` rejects with a FuncError of `type` whose message matches `message` (when given). */
async function rejectsWith(promise: Promise<unknown>, type: string, message?: RegExp): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof FuncError, `expected a FuncError, got ${String(err)}`);
    assert.equal(err.type, type, err.message);
    if (message) assert.match(err.message, message);
    return true;
  });
}

function throwsWith(fn: () => unknown, type: string, message?: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof FuncError, `expected a FuncError, got ${String(err)}`);
    assert.equal(err.type, type, err.message);
    if (message) assert.match(err.message, message);
    return true;
  });
}

/** A call body around already-encoded param XML, for inputs our encoder refuses to write. */
function callXml(params: string, method = "test.echo"): string {
  return `<?xml version="1.0"?><methodCall><methodName>${method}</methodName><params>${params}</params></methodCall>`;
}

function responseXml(value: string): string {
  return `<?xml version="1.0"?><methodResponse><params><param><value>${value}</value></param></params></methodResponse>`;
}

async function callRoundTrip(value: unknown, bytesAsText = false): Promise<WireValue> {
  const { method, params } = await decodeCall(encodeCall("test.echo", [value]), CODEC_LIMITS, { bytesAsText });
  assert.equal(method, "test.echo");
  assert.equal(params.length, 1);
  return params[0]!;
}

async function responseRoundTrip(value: unknown, bytesAsText = false): Promise<WireValue> {
  return decodeResponse(encodeResponse(value), { bytesAsText });
}

/** What bytesAsText should give back for `value`: Buffers holding valid UTF-8 become strings, the rest as is. */
function expectText(value: unknown): unknown {
  if (Buffer.isBuffer(value)) {
    try {
      return STRICT_UTF8.decode(value);
    } catch {
      return value;
    }
  }
  if (Array.isArray(value)) return value.map(expectText);
  if (value === null || typeof value !== "object") return value;
  const out = {};
  for (const [k, v] of Object.entries(value)) {
    Object.defineProperty(out, k, { value: expectText(v), enumerable: true, writable: true, configurable: true });
  }
  return out;
}

describe("codec: round trips", () => {
  const samples: Array<[string, WireValue]> = [
    ["string", "hello"],
    ["empty string", ""],
    ["unicode string", "é 😀 中文 \u200b"],
    ["markup and CR string", "a<b]]>\r\n&c\t'\""],
    ["int", 42],
    ["negative int", -7],
    ["int32 max", 2 ** 31 - 1],
    ["int32 min", -(2 ** 31)],
    ["i8", 2 ** 40],
    ["negative i8", -(2 ** 40)],
    ["max safe integer", Number.MAX_SAFE_INTEGER],
    ["min safe integer", Number.MIN_SAFE_INTEGER],
    ["double", 1.5],
    ["tiny double", 5e-324],
    ["huge integral double", 1e21],
    ["max double", Number.MAX_VALUE],
    ["negative zero", -0],
    ["true", true],
    ["false", false],
    ["null", null],
    ["bytes", Buffer.from([0, 1, 0xfe, 0xff])],
    ["empty bytes", Buffer.alloc(0)],
    ["array", [1, "two", true, null, [3.5, []]]],
    ["empty array", []],
    ["struct", { a: 1, "b c": { d: ["e", { f: null }] }, "": "empty key", "é": 2 }],
    ["empty struct", {}],
    ["struct with __proto__ key", JSON.parse('{"__proto__": {"isAdmin": true}, "x": 1}') as WireValue],
  ];

  for (const [name, value] of samples) {
    it(`${name} through a call and a response`, async () => {
      assert.deepStrictEqual(await callRoundTrip(value), value);
      assert.deepStrictEqual(await responseRoundTrip(value), value);
    });
  }

  it("keeps a __proto__ key as data, never as the prototype", async () => {
    const back = (await responseRoundTrip(JSON.parse('{"__proto__": {"isAdmin": true}}'))) as Record<string, WireValue>;
    assert.equal(Object.getPrototypeOf(back), Object.prototype);
    assert.deepEqual(Object.keys(back), ["__proto__"]);
    assert.equal((back as { isAdmin?: unknown }).isAdmin, undefined);
  });

  it("sends many params in order", async () => {
    const params = [1, "x", null, [true], { k: 2 ** 40 }];
    const call = await decodeCall(encodeCall("a.b.c", params));
    assert.deepStrictEqual(call, { method: "a.b.c", params });
    assert.deepStrictEqual(await decodeCall(encodeCall("ping", [])), { method: "ping", params: [] });
  });

  it("writes <int> inside int32, <i8> for 2**40 and -(2**40), <double> for fractions and -0", () => {
    assert.match(encodeResponse(2 ** 31 - 1), /<int>2147483647<\/int>/);
    assert.match(encodeResponse(2 ** 40), /<i8>1099511627776<\/i8>/);
    assert.match(encodeResponse(-(2 ** 40)), /<i8>-1099511627776<\/i8>/);
    assert.match(encodeResponse(1.5), /<double>1.5<\/double>/);
    assert.match(encodeResponse(-0), /<double>-0<\/double>/);
    assert.match(encodeResponse(1e21), /<double>1e\+21<\/double>/);
  });

  it("sends an ANSI escape string as base64 and gets the string back with bytesAsText", async () => {
    const xml = encodeResponse(ANSI);
    assert.match(xml, /<base64>/);
    assert.ok(!xml.includes("\x1b"));
    assert.deepStrictEqual(await decodeResponse(xml), Buffer.from(ANSI, "utf8"));
    assert.equal(await decodeResponse(xml, { bytesAsText: true }), ANSI);
    assert.deepStrictEqual(await callRoundTrip({ out: [ANSI] }, true), { out: [ANSI] });
    assert.deepStrictEqual(await callRoundTrip(ANSI), Buffer.from(ANSI, "utf8"));
  });

  it("leaves bytes that are not UTF-8 as a Buffer under bytesAsText", async () => {
    const bytes = Buffer.from([0xff, 0x00, 0xc0]);
    assert.deepStrictEqual(await responseRoundTrip(bytes, true), bytes);
  });

  it("round-trips faults (code and string)", async () => {
    for (const [code, text] of [
      [4, "BadArguments: expected 2 arguments"],
      [-32700, "NotXmlRpc: <bad> & worse"],
      [1, ""],
    ] as const) {
      await assert.rejects(decodeResponse(encodeFault(code, text)), (err: unknown) => {
        assert.ok(err instanceof XmlRpcFault);
        assert.equal(err.faultCode, code);
        assert.equal(err.faultString, text);
        return true;
      });
    }
  });

  it("writes characters XML cannot carry in a fault string as visible escapes", async () => {
    await assert.rejects(decodeResponse(encodeFault(1, `MethodError: ${ANSI}\x00`)), (err: unknown) => {
      assert.ok(err instanceof XmlRpcFault);
      assert.equal(err.faultString, "MethodError: \\x1b[31mred\\x1b[0m\\x00");
      return true;
    });
    throwsWith(() => encodeFault(1.5, "x"), "BadArguments");
    throwsWith(() => encodeFault(2 ** 40, "x"), "BadArguments");
  });

  it("reads dateTime.iso8601 as an ISO-8601 string, keeping a zone only when one was sent", async () => {
    const date = (text: string) => decodeResponse(responseXml(`<dateTime.iso8601>${text}</dateTime.iso8601>`));
    assert.equal(await date("20240102T03:04:05"), "2024-01-02T03:04:05");
    assert.equal(await date("2024-01-02T03:04:05Z"), "2024-01-02T03:04:05Z");
    assert.equal(await date("20240102T030405.250+0530"), "2024-01-02T03:04:05.250+05:30");
    await rejectsWith(date("20240230T03:04:05"), "NotXmlRpc");
    await rejectsWith(date("yesterday"), "NotXmlRpc");
  });

  it("reads untyped values as strings, i4 as int, and Python's whitespace-laden layout", async () => {
    assert.equal(await decodeResponse(responseXml("plain &amp; simple")), "plain & simple");
    assert.equal(await decodeResponse(responseXml("")), "");
    assert.equal(await decodeResponse(responseXml("<i4>-12</i4>")), -12);
    const python =
      "<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n<value><struct>\n<member>\n<name>b</name>\n" +
      "<value><base64>\nAP8=\n</base64></value>\n</member>\n<member>\n<name>l</name>\n<value><array><data>\n" +
      "<value><boolean>1</boolean></value>\n<value><nil/></value>\n<value><double>1e-07</double></value>\n" +
      "</data></array></value>\n</member>\n</struct></value>\n</param>\n</params>\n</methodResponse>\n";
    assert.deepStrictEqual(await decodeResponse(Buffer.from(python)), { b: Buffer.from([0, 0xff]), l: [true, null, 1e-7] });
  });

  it("accepts i8 up to the safe integers and refuses beyond, rather than losing precision", async () => {
    assert.equal(await decodeResponse(responseXml("<i8>9007199254740991</i8>")), Number.MAX_SAFE_INTEGER);
    assert.equal(await decodeResponse(responseXml("<i8>-9007199254740991</i8>")), Number.MIN_SAFE_INTEGER);
    await rejectsWith(decodeResponse(responseXml("<i8>9007199254740993</i8>")), "BadArguments", /safe integer/);
    await rejectsWith(decodeResponse(responseXml("<i8>9223372036854775807</i8>")), "BadArguments");
    await rejectsWith(decodeResponse(responseXml("<i8>1.5</i8>")), "NotXmlRpc");
  });

  it("refuses <int> out of int32 range or not an integer, and malformed scalars", async () => {
    for (const bad of [
      "<int>2147483648</int>",
      "<int>-2147483649</int>",
      "<int>1.5</int>",
      "<int>12abc</int>",
      "<int></int>",
      "<i4>0x10</i4>",
      "<boolean>2</boolean>",
      "<double>1.2.3</double>",
      "<base64>not*base64</base64>",
      "<base64>QUJD=</base64>",
    ]) {
      await rejectsWith(decodeResponse(responseXml(bad)), "NotXmlRpc");
    }
    // Python writes float('nan') / float('inf') like this: valid XML-RPC, not a WireValue
    await rejectsWith(decodeResponse(responseXml("<double>nan</double>")), "BadArguments");
    await rejectsWith(decodeResponse(responseXml("<double>-inf</double>")), "BadArguments");
    await rejectsWith(decodeResponse(responseXml("<double>1e999</double>")), "BadArguments");
  });
});

describe("codec: toWire", () => {
  it("names the path of an undefined", () => {
    throwsWith(() => encodeCall("a.b", [1, { x: undefined }]), "BadArguments", /args\[1\]\.x/);
    throwsWith(() => toWire([1, [2, undefined]]), "BadArguments", /value\[1\]\[1\]: undefined/);
    throwsWith(() => toWire({ "odd key": [undefined] }, "opts"), "BadArguments", /opts\["odd key"\]\[0\]/);
    // eslint-disable-next-line no-sparse-arrays
    throwsWith(() => toWire([1, , 3]), "BadArguments", /value\[1\]/);
    throwsWith(() => encodeResponse({ r: undefined }), "BadArguments", /result\.r/);
  });

  it("refuses NaN and Infinity", () => {
    throwsWith(() => toWire({ n: NaN }), "BadArguments", /value\.n: NaN/);
    throwsWith(() => toWire([Infinity]), "BadArguments", /value\[0\]: Infinity/);
    throwsWith(() => toWire(-Infinity), "BadArguments");
  });

  it("allows a BigInt in the safe range as a number and refuses a larger one", () => {
    assert.equal(toWire(5n), 5);
    assert.equal(toWire(2n ** 40n), 2 ** 40);
    assert.match(encodeCall("a", [2n ** 40n]), /<i8>1099511627776<\/i8>/);
    throwsWith(() => toWire({ big: 2n ** 64n }), "BadArguments", /value\.big: BigInt/);
    throwsWith(() => toWire(2n ** 53n), "BadArguments", /BigInt/);
  });

  it("refuses functions, symbols, Dates, Maps, Sets, class instances and boxed primitives", () => {
    throwsWith(() => toWire({ f: () => 1 }), "BadArguments", /value\.f: a function/);
    throwsWith(() => toWire([Symbol("s")]), "BadArguments", /value\[0\]: a symbol/);
    throwsWith(() => toWire({ when: new Date(0) }), "BadArguments", /value\.when: a Date/);
    throwsWith(() => toWire(new Map()), "BadArguments", /Map/);
    throwsWith(() => toWire([new Set([1])]), "BadArguments", /value\[0\]: a Set/);
    class Point {
      x = 1;
    }
    throwsWith(() => toWire({ p: new Point() }), "BadArguments", /value\.p: a Point object/);
    throwsWith(() => toWire(new String("s")), "BadArguments");
    throwsWith(() => toWire(/re/), "BadArguments");
  });

  it("refuses cycles but allows shared references", () => {
    const loop: Record<string, unknown> = { a: 1 };
    loop.self = loop;
    throwsWith(() => toWire(loop), "BadArguments", /value\.self: circular/);
    const shared = { k: 1 };
    assert.deepStrictEqual(toWire([shared, shared]), [{ k: 1 }, { k: 1 }]);
  });

  it("refuses lone surrogates and struct keys XML cannot carry", () => {
    throwsWith(() => toWire(["ok", "x\ud800y"]), "BadArguments", /value\[1\]: string has a lone surrogate/);
    throwsWith(() => toWire({ "a\x00b": 1 }), "BadArguments", /struct key/);
    throwsWith(() => toWire({ "\x1b": 1 }), "BadArguments");
  });

  it("refuses nesting deeper than the limit", () => {
    let deep: unknown = 1;
    for (let i = 0; i < CODEC_LIMITS.maxDepth + 1; i++) deep = [deep];
    throwsWith(() => toWire(deep), "LimitExceeded");
    let ok: unknown = 1;
    for (let i = 0; i < CODEC_LIMITS.maxDepth; i++) ok = [ok];
    assert.doesNotThrow(() => toWire(ok));
  });

  it("normalises: a string with control characters becomes its UTF-8 bytes, a Uint8Array a Buffer", () => {
    assert.deepStrictEqual(toWire({ s: ANSI }), { s: Buffer.from(ANSI) });
    assert.deepStrictEqual(toWire("tab\tLF\nCR\r"), "tab\tLF\nCR\r");
    assert.deepStrictEqual(toWire(new Uint8Array([1, 2])), Buffer.from([1, 2]));
  });

  it("refuses bad method names when encoding", () => {
    for (const name of ["", "a/b", "a..b", "a.", "1abc", "a b", "a\x00b", "a.b.c.d.e.f", "x".repeat(201)]) {
      throwsWith(() => encodeCall(name, []), "BadArguments");
    }
    assert.doesNotThrow(() => encodeCall("a.b.c.d.e", []));
  });
});

describe("codec: hostile input", () => {
  it("refuses bodies that are not XML", async () => {
    for (const body of ["hello", '{"method":"x"}', "", "   \n", Buffer.alloc(0), "<", "<<<>>>", "\ufeff"]) {
      await rejectsWith(decodeCall(body), "NotXmlRpc");
      await rejectsWith(decodeResponse(body), "NotXmlRpc");
    }
  });

  it("refuses every truncation of a valid call and response", async () => {
    const call = encodeCall("test.echo", [{ a: [1, "two", Buffer.from("x")], b: 2 ** 40, c: null }, 1.5]);
    const response = encodeResponse({ a: [1, "two"], b: true });
    for (let cut = 0; cut < call.length; cut++) await rejectsWith(decodeCall(call.slice(0, cut)), "NotXmlRpc");
    for (let cut = 0; cut < response.length; cut++) await rejectsWith(decodeResponse(response.slice(0, cut)), "NotXmlRpc");
  });

  it("refuses a wrong root", async () => {
    await rejectsWith(decodeCall(encodeResponse(1)), "NotXmlRpc", /root/);
    await rejectsWith(decodeResponse(encodeCall("a", [])), "NotXmlRpc", /root/);
    await rejectsWith(decodeCall("<html><body>hi</body></html>"), "NotXmlRpc", /root/);
    await rejectsWith(decodeCall("<methodcall><methodName>a</methodName></methodcall>"), "NotXmlRpc");
    await rejectsWith(decodeCall(`${encodeCall("a", [])}<methodCall/>`), "NotXmlRpc");
  });

  it("refuses a DOCTYPE with billion-laughs entities", async () => {
    const laughs =
      '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">' +
      Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i || ""};`.repeat(10)}">`).join("") +
      "]>" +
      callXml("<param><value><string>&lol9;</string></value></param>");
    await rejectsWith(decodeCall(laughs), "NotXmlRpc", /DOCTYPE/);
    await rejectsWith(decodeCall(laughs.replace("DOCTYPE", "doctype")), "NotXmlRpc", /DOCTYPE/);
  });

  it("refuses an XXE external entity", async () => {
    const xxe =
      '<?xml version="1.0"?><!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>' +
      callXml("<param><value><string>&xxe;</string></value></param>");
    await rejectsWith(decodeCall(xxe), "NotXmlRpc", /DOCTYPE/);
    await rejectsWith(decodeResponse(responseXml("<string>&xxe;</string>")), "NotXmlRpc", /entity/);
  });

  it("refuses unknown entities (sax would expand &constructor; from Object.prototype) and bad character references", async () => {
    for (const ref of ["&constructor;", "&__proto__;", "&nbsp;", "&#x110000;", "&#0;", "&#xD800;", "& ", "&amp"]) {
      await rejectsWith(decodeResponse(responseXml(`<string>${ref}</string>`)), "NotXmlRpc");
    }
    assert.equal(await decodeResponse(responseXml("<string>&lt;&amp;&gt;&quot;&apos;&#x41;&#66;&#x1F600;</string>")), "<&>\"'AB😀");
    // the xmlrpc package's own encoder puts strings with & or < in CDATA: those must still pass the scan
    assert.equal(await decodeResponse(responseXml("<string><![CDATA[a & b <!-- < &nbsp;]]></string>")), "a & b <!-- < &nbsp;");
  });

  it("refuses 10,000-deep nesting", async () => {
    const depth = 10_000;
    const body = callXml(`<param>${"<value><array><data>".repeat(depth)}${"</data></array></value>".repeat(depth)}</param>`);
    await rejectsWith(decodeCall(body), "LimitExceeded", /deeper/);
    const structs = responseXml(`${"<struct><member><name>a</name><value>".repeat(depth)}${"</value></member></struct>".repeat(depth)}`);
    await rejectsWith(decodeResponse(structs), "LimitExceeded", /deeper/);
  });

  it("accepts nesting at the depth limit and refuses one more", async () => {
    let value: WireValue = 1;
    for (let i = 0; i < CODEC_LIMITS.maxDepth; i++) value = [value];
    assert.deepStrictEqual(await responseRoundTrip(value), value);
    const limits: CodecLimits = { ...CODEC_LIMITS, maxDepth: CODEC_LIMITS.maxDepth - 1 };
    await rejectsWith(decodeResponse(encodeResponse(value), { limits }), "LimitExceeded");
  });

  it("refuses a 1,000,000-element array (by body size, and by element count when the body limit is raised)", async () => {
    const body = callXml(`<param><value><array><data>${"<value><i4>1</i4></value>".repeat(1_000_000)}</data></array></value></param>`);
    await rejectsWith(decodeCall(body), "LimitExceeded", /body over/);
    await rejectsWith(decodeCall(Buffer.from(body)), "LimitExceeded", /body over/);
    await rejectsWith(decodeCall(body, { ...CODEC_LIMITS, maxBodyBytes: 64 * 1024 * 1024 }), "LimitExceeded", /values/);
  });

  it("refuses an oversized body and accepts one just under the limit", async () => {
    const limit = CODEC_LIMITS.maxBodyBytes;
    const overhead = encodeResponse("").length;
    const fits = encodeResponse("x".repeat(limit - overhead - 64));
    assert.ok(Buffer.byteLength(fits) <= limit);
    assert.equal(((await decodeResponse(fits)) as string).length, limit - overhead - 64);
    const over = encodeResponse("x".repeat(limit));
    await rejectsWith(decodeResponse(over), "LimitExceeded", /body over/);
    // multi-byte characters count in bytes, not UTF-16 units
    await rejectsWith(decodeResponse(encodeResponse("é".repeat(limit / 2))), "LimitExceeded");
    await rejectsWith(decodeResponse(encodeResponse("x".repeat(200)), { limits: { ...CODEC_LIMITS, maxStringBytes: 100 } }), "LimitExceeded");
  });

  it("refuses invalid UTF-8", async () => {
    const good = Buffer.from(encodeResponse("abc"));
    const at = good.indexOf("abc");
    for (const bytes of [[0xff], [0xfe, 0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xe2, 0x82]]) {
      const bad = Buffer.concat([good.subarray(0, at), Buffer.from(bytes), good.subarray(at)]);
      await rejectsWith(decodeResponse(bad), "NotXmlRpc", /UTF-8/);
    }
    await rejectsWith(decodeResponse(encodeResponse("abc").replace("abc", "a\ud800")), "NotXmlRpc");
  });

  it("refuses raw characters XML 1.0 forbids anywhere in the body", async () => {
    for (const c of ["\u0000", "\u0001", "\u000b", "\u001b", "\ufffe", "\uffff"]) {
      await rejectsWith(decodeResponse(responseXml(`<string>a${c}b</string>`)), "NotXmlRpc", /forbids/);
      await rejectsWith(decodeCall(callXml(`<param><value><string>a${c}b</string></value></param>`)), "NotXmlRpc", /forbids/);
    }
    assert.equal(await decodeResponse(responseXml("<string>tab\tCR\rLF\n</string>")), "tab\tCR\rLF\n");
  });

  it("refuses method names with /, .., NUL, 10,000 characters and other non-identifiers", async () => {
    for (const name of ["a/b", "../etc/passwd", "a..b", "a\x00b", "a&#0;b", "x".repeat(10_000), "", " a", "a.b.c.d.e.f", "1x", "a-b"]) {
      await rejectsWith(decodeCall(callXml("", name)), "NotXmlRpc");
    }
    assert.equal((await decodeCall(callXml("", "system.listMethods"))).method, "system.listMethods");
  });

  it("refuses malformed XML-RPC structure", async () => {
    const calls = [
      "<methodCall><params/></methodCall>", // no methodName
      "<methodCall><params/><methodName>a</methodName></methodCall>",
      callXml("<param><value><int>1</int></param></value>"), // mismatched tags
      callXml("<param><value><int>1</int><int>2</int></value></param>"),
      callXml("<param><value>text<int>1</int></value></param>"),
      callXml("<param><value><struct><member><value><int>1</int></value></member></struct></value></param>"),
      callXml("<param><value><struct><member><name>a</name></member></struct></value></param>"),
      callXml("<param><value><struct>stray</struct></value></param>"),
      callXml("<param><value><array><value><int>1</int></value></array></value></param>"), // no <data>
      callXml("<param><value><foo>1</foo></value></param>"),
      callXml("<param><value><string><b>x</b></string></value></param>"),
      callXml("<param></param>"),
      callXml("<param><value/><value/></param>"),
    ];
    for (const body of calls) await rejectsWith(decodeCall(body), "NotXmlRpc");
    const responses = [
      "<methodResponse/>",
      "<methodResponse><params/></methodResponse>",
      "<methodResponse><params><param><value>1</value></param><param><value>2</value></param></params></methodResponse>",
      "<methodResponse><params><param><value>1</value></param></params><fault><value>x</value></fault></methodResponse>",
      "<methodResponse><fault><value><int>4</int></value></fault></methodResponse>",
      "<methodResponse><fault><value><struct><member><name>faultCode</name><value><string>4</string></value></member></struct></value></fault></methodResponse>",
    ];
    for (const body of responses) await rejectsWith(decodeResponse(body), "NotXmlRpc");
  });

  it("never crashes or hangs on mutated bodies (property)", async () => {
    const base = encodeCall("test.echo", [{ a: [1, "two", Buffer.from("three")], b: 2 ** 40, c: null, d: 1.25 }, ANSI]);
    const mutation = fc.record({
      at: fc.nat({ max: base.length }),
      drop: fc.nat({ max: 12 }),
      insert: fc.oneof(
        fc.string({ maxLength: 8 }),
        fc.constantFrom("<", ">", "&", "</value>", "<value>", "<array><data>", "<struct>", "<![CDATA[", "&#x110000;", "<!DOCTYPE"),
      ),
    });
    await fc.assert(
      fc.asyncProperty(mutation, async ({ at, drop, insert }) => {
        const body = base.slice(0, at) + insert + base.slice(at + drop);
        try {
          await decodeCall(body);
        } catch (err) {
          assert.ok(err instanceof FuncError, `expected a FuncError, got ${String(err)}`);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe("codec: properties", () => {
  const key = fc.string({ unit: "binary", maxLength: 8 }).filter((k) => !XML_ILLEGAL.test(k));
  const leaf = fc.oneof(
    fc.string({ unit: "binary", maxLength: 16 }),
    // the awkward characters, often: controls that force base64, markup, CR, non-characters, astral
    fc.string({ unit: fc.constantFrom("\x00", "\x1b", "\x7f", "\t", "\r", "\n", "a", "<", "&", "]]>", "\uffff", "😀", "é"), maxLength: 10 }),
    fc.maxSafeInteger(),
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.boolean(),
    fc.constant(null),
    fc.uint8Array({ maxLength: 16 }).map((a) => Buffer.from(a)),
  );
  const { value: wireValue } = fc.letrec<{ value: unknown }>((tie) => ({
    value: fc.oneof(
      { maxDepth: 4, depthSize: "small" },
      leaf,
      fc.array(tie("value"), { maxLength: 4 }),
      fc.dictionary(key, tie("value"), { maxKeys: 4 }),
    ),
  }));

  it("every allowed value round-trips through encodeCall/decodeCall", async () => {
    await fc.assert(
      fc.asyncProperty(wireValue, async (value) => {
        assert.deepStrictEqual(await callRoundTrip(value), toWire(value));
        // strings that went as base64 come back equal with bytesAsText (decodeCall's option, default false)
        assert.deepStrictEqual(await callRoundTrip(value, true), expectText(value));
      }),
      { numRuns: 300 },
    );
  });

  it("every allowed value round-trips through encodeResponse/decodeResponse", async () => {
    await fc.assert(
      fc.asyncProperty(wireValue, async (value) => {
        assert.deepStrictEqual(await responseRoundTrip(value), toWire(value));
        assert.deepStrictEqual(await responseRoundTrip(value, true), expectText(value));
      }),
      { numRuns: 300 },
    );
  });

  it("a value holding something not allowed is refused by toWire, naming where", () => {
    const notAllowed = fc.constantFrom<unknown>(undefined, NaN, Infinity, 2n ** 70n, () => 0, Symbol("x"), new Date(0), new Map(), new Set(), new (class Thing {})());
    fc.assert(
      fc.property(fc.array(wireValue, { maxLength: 3 }), notAllowed, fc.boolean(), (prefix, bad, inStruct) => {
        const value = inStruct ? { ok: prefix, bad } : [...prefix, bad];
        const where = inStruct ? "value.bad" : `value[${prefix.length}]`;
        throwsWith(() => toWire(value), "BadArguments", new RegExp(where.replace(/[.[\]]/g, "\\$&")));
        throwsWith(() => encodeResponse(value), "BadArguments");
      }),
      { numRuns: 200 },
    );
  });
});

describe("codec: Python xmlrpc.client interop", function () {
  let python: string | null = null;

  before(function () {
    for (const candidate of ["python3", "python"]) {
      const probe = spawnSync(candidate, ["-c", "import sys, xmlrpc.client; assert sys.version_info >= (3, 6)"], { timeout: 10_000 });
      if (!probe.error && probe.status === 0) {
        python = candidate;
        return;
      }
    }
    this.skip();
  });

  /** Runs `script` under Python with `input` on stdin and returns its stdout (throws with stderr on failure). */
  function runPython(script: string, input = ""): string {
    const r = spawnSync(python!, ["-c", script], { input, encoding: "utf8", timeout: 20_000 });
    if (r.error || r.status !== 0) throw new Error(`python failed: ${r.error?.message ?? r.stderr}`);
    return r.stdout;
  }

  // bytes as {"$bytes": hex} so JSON can carry them
  const PY_LOAD = `
import sys, json, xmlrpc.client
def enc(o):
    if isinstance(o, bytes): return {"$bytes": o.hex()}
    raise TypeError(type(o))
try:
    params, method = xmlrpc.client.loads(sys.stdin.buffer.read(), use_builtin_types=True)
    print(json.dumps({"method": method, "params": params}, default=enc))
except xmlrpc.client.Fault as f:
    print(json.dumps({"faultCode": f.faultCode, "faultString": f.faultString}))
`;

  function fromPython(json: string): unknown {
    return JSON.parse(json, (_k, v: unknown) =>
      v !== null && typeof v === "object" && "$bytes" in v ? Buffer.from((v as { $bytes: string }).$bytes, "hex") : v,
    );
  }

  const payload = [
    2 ** 40,
    -(2 ** 40),
    null,
    Buffer.from([0, 1, 0xff]),
    { nested: { list: [1, "two", true, 1.5, -0.25], empty: {}, none: null }, "key with space": "a<b&c>]]>\r\n\té😀" },
  ];

  it("Python reads our call and response (i8, nil, base64, nested struct)", () => {
    const call = fromPython(runPython(PY_LOAD, encodeCall("test.echo", payload)));
    assert.deepStrictEqual(call, { method: "test.echo", params: payload });
    const response = fromPython(runPython(PY_LOAD, encodeResponse(payload)));
    assert.deepStrictEqual(response, { method: null, params: [payload] });
    // a control-character string arrives as bytes of its UTF-8
    const ansi = fromPython(runPython(PY_LOAD, encodeResponse(ANSI)));
    assert.deepStrictEqual(ansi, { method: null, params: [Buffer.from(ANSI)] });
  });

  it("Python reads our fault", () => {
    const fault = fromPython(runPython(PY_LOAD, encodeFault(3, "AccessDenied: nope <&>")));
    assert.deepStrictEqual(fault, { faultCode: 3, faultString: "AccessDenied: nope <&>" });
  });

  it("we read what Python writes (int, nil, base64, dateTime, floats, nested struct, faults, calls)", async () => {
    const out = runPython(`
import sys, datetime, xmlrpc.client as x
value = {"n": 2**31 - 1, "neg": -5, "f": 1e-07, "big": 1e300, "none": None, "b": b"\\x00\\xff" * 40,
         "d": datetime.datetime(2024, 1, 2, 3, 4, 5), "s": "a&b<c>\\n\\t é 😀",
         "l": [True, False, [], {}], "deep": {"x": [{"y": [1]}]}}
sys.stdout.write(x.dumps((value,), methodresponse=True, allow_none=True))
sys.stdout.write("\\0")
sys.stdout.write(x.dumps(x.Fault(4, "BadArguments: two <args>"), methodresponse=True))
sys.stdout.write("\\0")
sys.stdout.write(x.dumps((1, "x", None, [2.5]), methodname="test.add", allow_none=True))
`);
    const [response, fault, call] = out.split("\0") as [string, string, string];
    assert.deepStrictEqual(await decodeResponse(Buffer.from(response)), {
      n: 2 ** 31 - 1,
      neg: -5,
      f: 1e-7,
      big: 1e300,
      none: null,
      b: Buffer.from("00ff".repeat(40), "hex"),
      d: "2024-01-02T03:04:05",
      s: "a&b<c>\n\t é 😀",
      l: [true, false, [], {}],
      deep: { x: [{ y: [1] }] },
    });
    await assert.rejects(decodeResponse(fault), (err: unknown) => {
      assert.ok(err instanceof XmlRpcFault);
      assert.equal(err.faultCode, 4);
      assert.equal(err.faultString, "BadArguments: two <args>");
      return true;
    });
    assert.deepStrictEqual(await decodeCall(call), { method: "test.add", params: [1, "x", null, [2.5]] });
  });
});
