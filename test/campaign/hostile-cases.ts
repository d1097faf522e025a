// Hostile input against a running funcd (issue 6): each case sends its bytes over real mutual TLS and
// must get a fault, a 4xx or a closed connection; around every case the runner checks that the minion
// still answers, memory stayed bounded, nothing in its home changed and the attempts were audited.

import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { encodeCall, FAULT } from "@func/shared";
import { MODULES } from "@func/minion";
import type { TypeKind } from "@func/shared";
import { certInfo, createCa, createCrl, issueCert } from "@func/shared";
import {
  CAMPAIGN_HEADERS_TIMEOUT_MS,
  CAMPAIGN_MAX_CONNECTIONS,
  CAMPAIGN_REQUEST_TIMEOUT_MS,
  type CampaignFleet,
} from "./campaign-fleet.js";
import { replyLabel, secs, tally, type Row } from "./case.js";
import {
  alive,
  diffSnapshots,
  fdCount,
  lineCount,
  linesFrom,
  rssKib,
  rssSampler,
  settle,
  snapshotDir,
} from "./observe.js";
import { FUNC_BIN, runBin } from "../helpers/fleet.js";
import { LOCKOUT_CASES } from "./lockout-cases.js";
import { openIdle, pastTls, rawCall, trickleHeaders, type Identity, type RawRequest, type Reply } from "./probe.js";

/** Most a hostile case may raise funcd's peak RSS over where it started, KiB (a flood of 4 MiB bodies peaks near 150 MiB). */
export const HOSTILE_RSS_GROWTH_BOUND_KIB = 256 * 1024;
/**
 * Slack on top of a configured deadline before a connection that outlives it counts as a failure, ms.
 * Generous (a loaded machine delays the check), yet well under the 30 s Node waits without the fix.
 */
const DEADLINE_SLACK_MS = 8000;

export interface HostileEnv {
  fleet: CampaignFleet;
  quick: boolean;
}

export interface HostileResult {
  tries: number;
  outcome: string;
  problems: string[];
  /** audit lines the attempts must have added (those that got past TLS) */
  audited: number;
}

export interface HostileCase {
  name: string;
  /** preparation before the "before" snapshots (it may restart the minion) */
  setup?(env: HostileEnv): Promise<void>;
  run(env: HostileEnv): Promise<HostileResult>;
}

// ---------------------------------------------------------------------------------------------------------
// Bodies

function callXml(method: string, params = ""): string {
  return `<?xml version="1.0"?><methodCall><methodName>${method}</methodName><params>${params}</params></methodCall>`;
}

const stringParam = (inner: string) => `<param><value><string>${inner}</string></value></param>`;

const BILLION_LAUGHS =
  '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">' +
  Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i || ""};`.repeat(10)}">`).join("") +
  "]>" +
  callXml("test.echo", stringParam("&lol9;"));

const XXE =
  '<?xml version="1.0"?><!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>' + callXml("test.echo", stringParam("&xxe;"));

const PARAMETER_ENTITY =
  '<?xml version="1.0"?><!DOCTYPE foo [<!ENTITY % ext SYSTEM "http://127.0.0.1:1/x.dtd"> %ext;]>' + callXml("test.ping");

function nested(depth: number): string {
  return callXml("test.echo", `<param>${"<value><array><data>".repeat(depth)}${"</data></array></value>".repeat(depth)}</param>`);
}

function manyElements(n: number, element = "<value><int>1</int></value>"): string {
  return callXml("test.echo", `<param><value><array><data>${element.repeat(n)}</data></array></value></param>`);
}

// ---------------------------------------------------------------------------------------------------------
// Judging replies

/** Labels a case accepts, e.g. "fault -32700", "HTTP 413", "closed". */
type Accept = readonly string[];

const NOT_XMLRPC: Accept = [`fault ${FAULT.NOT_XMLRPC}`];
const LIMIT: Accept = [`fault ${FAULT.LIMIT_EXCEEDED}`];
const TOO_LARGE: Accept = ["HTTP 413", "closed"];

async function batch(
  env: HostileEnv,
  requests: readonly RawRequest[],
  accept: Accept,
  opts: { identity?: Identity; check?: (r: Reply, req: RawRequest) => string | null; audited?: boolean } = {},
): Promise<HostileResult> {
  const labels: string[] = [];
  const problems: string[] = [];
  const id = opts.identity ?? env.fleet.overlord;
  for (const req of requests) {
    const r = await rawCall(env.fleet.target(0), id, req);
    const label = replyLabel(r);
    labels.push(label);
    if (!accept.includes(label)) problems.push(`got ${label}${r.kind === "closed" ? ` (${r.detail})` : r.kind === "fault" ? ` (${r.text.slice(0, 120)})` : ""}, expected ${accept.join(" or ")}`);
    const extra = opts.check?.(r, req);
    if (extra) problems.push(extra);
  }
  return { tries: requests.length, outcome: tally(labels), problems: [...new Set(problems)].slice(0, 5), audited: opts.audited === false ? 0 : requests.length };
}

const body = (b: string | Buffer, extra: Partial<RawRequest> = {}): RawRequest => ({ body: b, ...extra });

// ---------------------------------------------------------------------------------------------------------
// Every type in the wrong place: for each declared parameter, a value of each other wire type

type Sampled = "string" | "int" | "number" | "bool" | "array" | "struct";
const SAMPLE_BY_TYPE: Record<Sampled, string> = {
  string: "<string>x</string>",
  int: "<int>7</int>",
  number: "<double>1.5</double>",
  bool: "<boolean>1</boolean>",
  array: "<array><data><value><int>1</int></value></data></array>",
  struct: "<struct><member><name>k</name><value><int>1</int></value></member></struct>",
};
/** The wire type a declared kind is written as, and what it also accepts (number takes ints, bytes strings). */
const SAMPLED_AS: Record<Exclude<TypeKind, "any">, Sampled> = { string: "string", bytes: "string", enum: "string", int: "int", number: "number", bool: "bool", array: "array", struct: "struct", map: "struct" };
const ALSO_ACCEPTS: Partial<Record<TypeKind, readonly Sampled[]>> = { number: ["int"] };
const NIL = "<nil/>";

function wrongTypeCalls(): RawRequest[] {
  const out: RawRequest[] = [];
  for (const mod of MODULES) {
    for (const [methodName, spec] of Object.entries(mod.methods)) {
      const method = `${mod.name}.${methodName}`;
      const params = spec.signature.params;
      const good = params.map((p) => SAMPLE_BY_TYPE[p.type.kind === "any" ? "string" : SAMPLED_AS[p.type.kind]]);
      params.forEach((p, i) => {
        const kind = p.type.kind;
        if (kind === "any") return;
        const wrong = (Object.entries(SAMPLE_BY_TYPE) as [Sampled, string][])
          .filter(([t]) => t !== SAMPLED_AS[kind] && !(ALSO_ACCEPTS[kind] ?? []).includes(t))
          .map(([, xml]) => xml);
        if (!p.optional) wrong.push(NIL);
        for (const w of wrong) {
          const xml = good.slice(0, i + 1).map((g, k) => `<param><value>${k === i ? w : g}</value></param>`).join("");
          out.push(body(callXml(method, xml)));
        }
      });
      // one argument too many
      out.push(body(callXml(method, [...good, SAMPLE_BY_TYPE.int].map((g) => `<param><value>${g}</value></param>`).join(""))));
    }
  }
  // wrong types one level down: inside option structs (the command would be `true` if one got through)
  const opt = (members: string) => `<param><value><string>true</string></value></param><param><value><struct>${members}</struct></value></param>`;
  const member = (name: string, value: string) => `<member><name>${name}</name><value>${value}</value></member>`;
  for (const m of [member("timeout", "<string>x</string>"), member("env", "<struct>" + member("A", "<int>1</int>") + "</struct>"), member("env", "<struct>" + member("A=B", "<string>x</string>") + "</struct>"), member("cwd", "<int>5</int>"), member("bogus", "<int>1</int>")]) {
    out.push(body(callXml("command.run", opt(m))));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// The cases

const INPUT_CASES: readonly HostileCase[] = [
  {
    name: "not XML",
    run: (env) => batch(env, ["hello", "{\"method\": \"test.ping\"}", "\u0000\u0001\u0002", " ", "<"].map((b) => body(b)), NOT_XMLRPC),
  },
  {
    name: "truncated XML",
    run: (env) => {
      const full = encodeCall("test.echo", [{ a: [1, "two", 3.5], b: { c: null } }]);
      const cuts = env.quick ? 6 : 40;
      return batch(env, Array.from({ length: cuts }, (_, k) => body(full.slice(0, Math.floor((full.length * (k + 1)) / (cuts + 1))))), NOT_XMLRPC);
    },
  },
  {
    name: "wrong root element",
    run: (env) =>
      batch(
        env,
        [
          '<?xml version="1.0"?><methodResponse><params><param><value><int>1</int></value></param></params></methodResponse>',
          "<html><body>hi</body></html>",
          "<methodcall><methodName>test.ping</methodName></methodcall>",
          `${callXml("test.ping")}<methodCall/>`,
        ].map((b) => body(b)),
        NOT_XMLRPC,
      ),
  },
  {
    name: "invalid UTF-8",
    run: (env) => {
      const good = Buffer.from(encodeCall("test.echo", ["abc"]));
      const at = good.indexOf("abc");
      const bad = [[0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xe2, 0x82]].map((bytes) => Buffer.concat([good.subarray(0, at), Buffer.from(bytes), good.subarray(at)]));
      return batch(env, bad.map((b) => body(b)), NOT_XMLRPC);
    },
  },
  {
    name: "forbidden characters",
    run: (env) => batch(env, ["a\u0001b", "&#0;", "&#x1B;[31m", "&#xFFFE;", "&#x110000;", "a\u000bb"].map((s) => body(callXml("test.echo", stringParam(s)))), NOT_XMLRPC),
  },
  {
    name: "a DOCTYPE",
    run: (env) => batch(env, [body(`<?xml version="1.0"?><!DOCTYPE methodCall>${callXml("test.ping")}`), body(`<!doctype x>${callXml("test.ping")}`)], NOT_XMLRPC),
  },
  {
    name: "internal entities (billion laughs)",
    run: (env) => batch(env, [body(BILLION_LAUGHS), body(BILLION_LAUGHS.replace("DOCTYPE", "doctype"))], NOT_XMLRPC),
  },
  {
    name: "external entities (XXE)",
    run: (env) =>
      batch(env, [body(XXE), body(PARAMETER_ENTITY), body(callXml("test.echo", stringParam("&xxe;")))], NOT_XMLRPC, {
        check: (r) => (r.kind === "ok" || (r.kind === "fault" && /root:/.test(r.text)) ? "a file's content came back" : null),
      }),
  },
  {
    name: "10,000-deep nesting",
    run: (env) => batch(env, [body(nested(10_000)), body(nested(65))], LIMIT),
  },
  {
    name: "1,000,000-element array",
    run: (env) =>
      batch(env, [body(manyElements(1_000_000)), body(manyElements(1_000_000), { chunked: true })], TOO_LARGE),
  },
  {
    name: "100,001 elements under the body limit",
    run: (env) => batch(env, [body(manyElements(100_001, "<value/>"))], LIMIT),
  },
  {
    name: "body over the limit (declared length)",
    run: (env) => {
      const big = encodeCall("test.echo", ["x".repeat(4 * 1024 * 1024 + 1)]);
      return batch(env, [body(big), body("<methodCall>", { contentLength: 5 * 1024 * 1024 * 1024 })], TOO_LARGE);
    },
  },
  {
    name: "body over the limit (undeclared length)",
    run: (env) => batch(env, [body(encodeCall("test.echo", ["x".repeat(4 * 1024 * 1024 + 1)]), { chunked: true })], TOO_LARGE),
  },
  {
    name: "method names with / .. NUL, huge",
    run: (env) =>
      batch(
        env,
        ["test/ping", "../../etc/passwd", "test..ping", "test.ping\u0000", "test.&#0;ping", "%2e%2e.ping", "test.ping/../x", "x".repeat(100_000), "", "a.b.c.d.e.f", "async.../x"].map((m) =>
          body(callXml(m)),
        ),
        NOT_XMLRPC,
      ),
  },
  {
    name: "methods that do not exist (prototype names, traversal args)",
    run: (env) =>
      batch(
        env,
        [
          body(callXml("etc.passwd")),
          body(callXml("test.constructor")),
          body(callXml("test.__proto__")),
          body(callXml("test.hasOwnProperty")),
          body(callXml("__proto__.x")),
          body(callXml("async.test.toString")),
          body(callXml("system.method_help", stringParam("../../etc/passwd"))),
        ],
        [`fault ${FAULT.NO_SUCH_METHOD}`],
      ),
  },
  {
    name: "paths escaping roots (HTTP path, module names)",
    run: async (env) => {
      const http = await batch(env, ["/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "//RPC2/..", "/RPC2/../../x"].map((p) => body(callXml("test.ping"), { path: p })), ["HTTP 404"]);
      const mods = await batch(env, ["../etc", "test/..", "%2e%2e"].map((m) => body(callXml("system.list_methods", stringParam(m)))), [`fault ${FAULT.BAD_ARGUMENTS}`]);
      return { tries: http.tries + mods.tries, outcome: `${http.outcome}; ${mods.outcome}`, problems: [...http.problems, ...mods.problems], audited: http.audited + mods.audited };
    },
  },
  {
    name: "paths escaping the file roots",
    run: async (env) => {
      const root = env.fleet.fileRoot;
      const outside = `${root}-outside`;
      mkdirSync(outside, { recursive: true });
      writeFileSync(join(outside, "secret"), "not for callers\n");
      writeFileSync(join(root, "inside.txt"), "inside\n");
      for (const [link, to] of [["etc-link", "/etc"], ["out-link", outside]] as const) {
        if (!existsSync(join(root, link))) symlinkSync(to, join(root, link));
      }
      const outsideBefore = snapshotDir(outside);
      const escapes = [`${root}/../${basename(outside)}/escaped`, `${root}/out-link/escaped`, `${root}/etc-link/func-campaign-escaped`, "/etc/func-campaign-escaped"];
      const p = (path: string) => `<param><value><string>${path}</string></value></param>`;
      const b64 = (path: string) => `<param><value><base64>${Buffer.from(path).toString("base64")}</base64></value></param>`;
      const requests = [
        ...["/etc/passwd", `${root}/../${basename(outside)}/secret`, `${root}/out-link/secret`, `${root}/etc-link/passwd`, `${root}/inside.txt/../../${basename(outside)}/secret`].flatMap((path) =>
          ["read", "checksum", "stat"].map((m) => body(callXml(`file.${m}`, p(path)))),
        ),
        body(callXml("file.stat", p(`${root}/etc-link`))),
        ...escapes.map((path) => body(callXml("file.write", p(path) + p("pwned\n")))),
        body(callXml("file.write", p("relative/escaped") + p("x"))),
        body(callXml("file.read", b64(`${root}/inside.txt\u0000/../../etc/passwd`))),
        body(callXml("file.read", p(`${root}/%2e%2e/${basename(outside)}/secret`))),
      ];
      const r = await batch(env, requests, [`fault ${FAULT.ACCESS_DENIED}`, `fault ${FAULT.BAD_ARGUMENTS}`], {
        check: (reply) => (reply.kind === "fault" && /not for callers|root:x:0/.test(reply.text) ? "a file outside the roots leaked into a fault" : null),
      });
      const changed = diffSnapshots(outsideBefore, snapshotDir(outside));
      if (changed.length) r.problems.push(`files changed outside the roots: ${changed.join(", ")}`);
      for (const path of escapes.slice(2)) if (existsSync(resolve(path))) r.problems.push(`${path} was created`);
      const denied = r.outcome;
      // the same module still works inside its root: the refusals are the roots, not a broken module
      const inside = await rawCall(env.fleet.target(0), env.fleet.overlord, body(callXml("file.checksum", p(`${root}/inside.txt`))));
      if (inside.kind !== "ok") r.problems.push(`file.checksum inside the root: ${replyLabel(inside)}`);
      return { ...r, tries: r.tries + 1, outcome: `${denied}; inside the root: ${replyLabel(inside)}`, audited: r.audited + 1 };
    },
  },
  {
    name: "job ids that are not job ids (jobs module, func job)",
    run: async (env) => {
      const bad = ["../../etc/passwd", "", "20261122T201233-../../../x", "20261122T201233-5f2a9c01b7/../x", "x".repeat(10_000), "*", "20261122T201233-5F2A9C01B7"];
      const minion = await batch(
        env,
        [
          ...bad.map((id) => body(callXml("jobs.job_status", stringParam(id)))),
          body(callXml("jobs.job_status", `<param><value><base64>${Buffer.from("20261122T201233-5f2a9c01b7\u0000").toString("base64")}</base64></value></param>`)),
          body(callXml("jobs.purge", "<param><value><int>-1</int></value></param>")),
        ],
        [`fault ${FAULT.BAD_ARGUMENTS}`],
      );
      // a well-formed id the minion never issued is an answer, not an error: [2 LOST_IN_SPACE, {reason}]
      const unknown = await rawCall(env.fleet.target(0), env.fleet.overlord, body(callXml("jobs.job_status", stringParam("20200101T000000-0123456789"))));
      if (!(unknown.kind === "ok" && Array.isArray(unknown.value) && unknown.value[0] === 2)) minion.problems.push(`an unknown job id answered ${replyLabel(unknown)}`);
      // the overlord refuses them before any store lookup, with a usage error (exit 1)
      const cli: string[] = [];
      for (const id of ["../../etc/passwd", "x".repeat(300)]) {
        const r = await runBin(FUNC_BIN, ["job", "status", id], { FUNC_HOME: env.fleet.home });
        cli.push(`exit ${r.code}`);
        if (r.code !== 1 || !/job id/i.test(r.stderr)) minion.problems.push(`func job status ${id.slice(0, 20)}: exit ${r.code}: ${r.stderr.trim().slice(0, 160)}`);
      }
      return { ...minion, tries: minion.tries + 3, outcome: `${minion.outcome}; unknown id: ${replyLabel(unknown)}; func job status: ${tally(cli)}`, audited: minion.audited + 1 };
    },
  },
  {
    name: "every type in the wrong place",
    run: (env) => {
      const all = wrongTypeCalls();
      return batch(env, env.quick ? all.filter((_, i) => i % 3 === 0) : all, [`fault ${FAULT.BAD_ARGUMENTS}`]);
    },
  },
  {
    name: "malformed scalars",
    run: (env) =>
      batch(
        env,
        ["<int>abc</int>", "<int>2147483648</int>", "<boolean>2</boolean>", "<double>1e999</double>", "<double>nan</double>", "<base64>!!!</base64>", "<i8>99999999999999999999</i8>", "<dateTime.iso8601>2024-13-45T99:00:00</dateTime.iso8601>"].map((v) =>
          body(callXml("test.echo", `<param><value>${v}</value></param>`)),
        ),
        [`fault ${FAULT.NOT_XMLRPC}`, `fault ${FAULT.BAD_ARGUMENTS}`],
      ),
  },
  {
    name: "HTTP: wrong verb, huge header, garbage",
    run: async (env) => {
      const verbs = await batch(env, [body("", { method: "GET" }), body("", { method: "PUT" })], ["HTTP 405"]);
      const header = await batch(env, [body(callXml("test.ping"), { headers: { "X-Big": "a".repeat(20_000) } })], ["HTTP 431", "closed"], { audited: true });
      const garbage = await batch(env, [body(callXml("test.ping"), { method: "P\u0000ST" }), body(callXml("test.ping"), { contentLength: -5 })], ["HTTP 400", "closed"]);
      return {
        tries: verbs.tries + header.tries + garbage.tries,
        outcome: `${verbs.outcome}; ${header.outcome}; ${garbage.outcome}`,
        problems: [...verbs.problems, ...header.problems, ...garbage.problems],
        audited: verbs.audited + header.audited + garbage.audited,
      };
    },
  },
  {
    name: "refused at TLS (no cert, another CA)",
    run: async (env) => {
      const other = await createCa({ commonName: "campaign rogue CA" });
      const rogue = await issueCert(other, { commonName: "overlord@rogue", role: "overlord", dnsNames: ["rogue"] });
      const ca = env.fleet.overlord.ca;
      // refused before any HTTP: nothing to audit
      const a = await batch(env, [body(callXml("test.ping"))], ["closed"], { identity: { ca }, audited: false });
      const b = await batch(env, [body(callXml("test.ping"))], ["closed"], { identity: { key: rogue.keyPem, cert: rogue.certPem, ca }, audited: false });
      return { tries: a.tries + b.tries, outcome: `no cert: ${a.outcome}; another CA: ${b.outcome}`, problems: [...a.problems, ...b.problems], audited: 0 };
    },
  },
  (() => {
    let revoked: Identity | null = null;
    return {
      name: "a revoked cert (CRL)",
      async setup(env: HostileEnv) {
        const p = env.fleet.paths;
        const ca = { keyPem: readFileSync(p.caKey, "utf8"), certPem: readFileSync(p.caCert, "utf8") };
        const pair = await issueCert(ca, { commonName: "overlord@revoked", role: "overlord", dnsNames: ["revoked"] });
        revoked = { key: pair.keyPem, cert: pair.certPem, ca: ca.certPem };
        writeFileSync(env.fleet.minionPaths(0).minionCrl, await createCrl(ca, [{ serial: certInfo(pair.certPem).serial, revokedAt: new Date() }]));
        // funcd reads its CRL at start
        await env.fleet.restart(await env.fleet.terminate(0));
      },
      run: async (env: HostileEnv) => {
        const r = await batch(env, [body(callXml("test.ping"))], ["closed"], { identity: revoked!, audited: false });
        return { ...r, audited: 0 };
      },
    };
  })(),
  {
    name: "func-CA cert with no ACL entry (default deny)",
    run: (env) => batch(env, [body(callXml("test.ping")), body(callXml("command.run", stringParam("id")))], [`fault ${FAULT.ACCESS_DENIED}`], { identity: env.fleet.minionIdentity(1) }),
  },
  {
    name: "headers trickled one byte at a time (slowloris)",
    run: async (env) => {
      const tries = env.quick ? 1 : 3;
      const problems: string[] = [];
      const labels: string[] = [];
      const bound = CAMPAIGN_HEADERS_TIMEOUT_MS + DEADLINE_SLACK_MS;
      const runs = await Promise.all(Array.from({ length: tries }, () => trickleHeaders(env.fleet.target(0), env.fleet.overlord, 50, bound + 5000)));
      let worst = 0;
      for (const r of runs) {
        labels.push(replyLabel(r.reply));
        if (r.closedAfterMs === null) problems.push(`still open after ${secs(bound + 5000)}`);
        else {
          worst = Math.max(worst, r.closedAfterMs);
          if (r.closedAfterMs > bound) problems.push(`cut only after ${secs(r.closedAfterMs)} (headers_timeout_ms ${CAMPAIGN_HEADERS_TIMEOUT_MS})`);
        }
      }
      return { tries, outcome: `${tally(labels)}, cut after ${secs(worst)}`, problems, audited: tries };
    },
  },
  {
    name: "body stalls after the headers",
    run: async (env) => {
      const started = performance.now();
      // declares 1000 bytes and sends 10: the request deadline must cut it
      const r = await rawCall(env.fleet.target(0), env.fleet.overlord, { body: "<methodCall", contentLength: 1000 });
      const ms = performance.now() - started;
      const problems: string[] = [];
      const label = replyLabel(r);
      if (!["HTTP 408", "closed"].includes(label)) problems.push(`got ${label}`);
      if (ms > CAMPAIGN_REQUEST_TIMEOUT_MS + DEADLINE_SLACK_MS) problems.push(`cut only after ${secs(ms)} (request_timeout_ms ${CAMPAIGN_REQUEST_TIMEOUT_MS})`);
      return { tries: 1, outcome: `${label} after ${secs(ms)}`, problems, audited: 1 };
    },
  },
  {
    name: "many idle connections (connection cap)",
    run: async (env) => {
      const count = CAMPAIGN_MAX_CONNECTIONS * 3;
      const pid = env.fleet.minion(0).pid;
      const fdsBefore = fdCount(pid) ?? 0;
      const started = performance.now();
      const idle = await openIdle(env.fleet.target(0), env.fleet.overlord, count);
      const fdsHeld = fdCount(pid) ?? 0;
      const stillOpen = await idle.waitAllClosed(CAMPAIGN_HEADERS_TIMEOUT_MS + DEADLINE_SLACK_MS + 5000);
      const ms = performance.now() - started;
      idle.destroy();
      const problems: string[] = [];
      if (idle.opened > CAMPAIGN_MAX_CONNECTIONS) problems.push(`${idle.opened} connections got in past a cap of ${CAMPAIGN_MAX_CONNECTIONS}`);
      if (fdsHeld - fdsBefore > CAMPAIGN_MAX_CONNECTIONS) problems.push(`funcd held ${fdsHeld - fdsBefore} more fds than before (cap ${CAMPAIGN_MAX_CONNECTIONS})`);
      if (stillOpen > 0) problems.push(`${stillOpen} idle connections still open after ${secs(ms)}`);
      else if (ms > CAMPAIGN_HEADERS_TIMEOUT_MS + DEADLINE_SLACK_MS) problems.push(`idle connections held for ${secs(ms)}`);
      return {
        tries: count,
        outcome: `${idle.opened} in, ${idle.refused} closed at accept, all cut after ${secs(ms)}`,
        problems,
        audited: idle.opened,
      };
    },
  },
  {
    name: "a bounded flood of requests",
    run: async (env) => {
      const total = env.quick ? 300 : 3000;
      const concurrency = 24;
      const labels: string[] = [];
      const problems: string[] = [];
      let next = 0;
      const ping = encodeCall("test.ping", []);
      const lane = async () => {
        while (next < total) {
          next++;
          const r = await rawCall(env.fleet.target(0), env.fleet.overlord, { body: ping });
          labels.push(replyLabel(r));
        }
      };
      const started = performance.now();
      await Promise.all(Array.from({ length: concurrency }, lane));
      const ms = performance.now() - started;
      const bad = labels.filter((l) => l !== "ok" && l !== "HTTP 503");
      if (bad.length > 0) problems.push(`${bad.length} calls got ${tally(bad)}`);
      return { tries: total, outcome: `${tally(labels)} in ${secs(ms)}`, problems, audited: total };
    },
  },
  {
    name: "a flood of 4 MiB bodies (in-flight byte budget)",
    run: async (env) => {
      const total = env.quick ? 24 : 96;
      const big = Buffer.from(encodeCall("test.echo", ["x".repeat(4 * 1024 * 1024 - 256)]));
      const results = await Promise.all(
        Array.from({ length: total }, (_, i) => rawCall(env.fleet.target(0), env.fleet.overlord, { body: big, chunked: i % 2 === 1 })),
      );
      const labels = results.map(replyLabel);
      // 408: on a loaded machine a body may take longer than request_timeout_ms to arrive, and is cut
      const bad = labels.filter((l) => !["ok", "HTTP 503", "HTTP 408", "closed"].includes(l));
      const problems = bad.length ? [`${bad.length} got ${tally(bad)}`] : [];
      if (!labels.includes("ok")) problems.push("not one large call was served");
      // a body refused while still being sent may end in a reset before the 503 is read: audited all the
      // same; only connections closed at accept (over the connection cap) never reach the audit log
      const inside = results.filter(pastTls).length;
      return { tries: total, outcome: `${tally(labels)}; ${total - inside} of them closed at accept (connection cap)`, problems, audited: inside };
    },
  },
];

/** Every hostile case: bad input, then the lock-outs (lockout-cases.ts). */
export const HOSTILE_CASES: readonly HostileCase[] = [...INPUT_CASES, ...LOCKOUT_CASES];

// ---------------------------------------------------------------------------------------------------------
// The runner's checks around one case

/** Runs one hostile case against minion 0 of `fleet` and checks everything around it. */
export async function runHostileCase(c: HostileCase, env: HostileEnv): Promise<Row> {
  const { fleet } = env;
  const problems: string[] = [];
  try {
    await c.setup?.(env);
  } catch (err) {
    problems.push(`setup failed: ${(err as Error).message}`);
  }
  const m = fleet.minion(0);
  const pid = m.pid;
  const paths = fleet.minionPaths(0);
  if (!(await fleet.answers(0, 15_000))) problems.push("the minion did not answer before the case");
  const fdsBefore = fdCount(pid);
  const snapBefore = snapshotDir(m.home, [paths.auditLog]);
  const auditBefore = lineCount(paths.auditLog);
  const rssBefore = rssKib(pid);
  const sampler = rssSampler(pid);
  let result: HostileResult;
  try {
    result = await c.run(env);
  } catch (err) {
    result = { tries: 0, outcome: "crashed", problems: [`the case itself threw: ${(err as Error).stack ?? String(err)}`], audited: 0 };
  }
  const peak = sampler.stop();
  problems.push(...result.problems);

  // audit lines for the attempts that got past TLS (the log is appended asynchronously)
  const auditDeadline = Date.now() + 3000;
  while (lineCount(paths.auditLog) - auditBefore < result.audited && Date.now() < auditDeadline) await sleep(100);
  const added = linesFrom(paths.auditLog, auditBefore);
  if (added.length < result.audited) problems.push(`${result.audited} attempts got past TLS but only ${added.length} audit lines were written`);
  const strangers = added.filter((l) => typeof l.cn !== "string" || typeof l.method !== "string" || typeof l.outcome !== "string");
  if (strangers.length) problems.push(`${strangers.length} audit lines lack cn/method/outcome`);

  const up = alive(pid) && (await fleet.answers(0, 15_000));
  if (!alive(pid)) problems.push(`funcd ${pid} died`);
  else if (!up) problems.push("the minion stopped answering");
  const rssAfter = rssKib(pid);
  if (rssBefore !== null && peak - rssBefore > HOSTILE_RSS_GROWTH_BOUND_KIB) {
    problems.push(`RSS peaked at ${Math.round(peak / 1024)} MiB, ${Math.round((peak - rssBefore) / 1024)} MiB over the start (bound ${HOSTILE_RSS_GROWTH_BOUND_KIB / 1024} MiB)`);
  }
  const fdsAfter = await settle(() => fdCount(pid), fdsBefore ?? 0, 8000);
  if (fdsBefore !== null && fdsAfter !== null && fdsAfter > fdsBefore) problems.push(`funcd holds ${fdsAfter - fdsBefore} more file descriptors than before`);
  const changed = diffSnapshots(snapBefore, snapshotDir(m.home, [paths.auditLog]));
  if (changed.length) problems.push(`files changed in the minion home: ${changed.slice(0, 5).join(", ")}`);

  return {
    group: "hostile",
    name: c.name,
    tries: result.tries,
    outcome: result.outcome,
    up,
    rssBeforeKib: rssBefore,
    rssAfterKib: rssAfter,
    rssPeakKib: peak,
    held: problems.length === 0,
    problems,
  };
}
