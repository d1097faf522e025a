// Issue 10 item 4: nothing a minion sends can do more than give that one host an `error`. Real minions and
// hostile fake minions (real TLS, func-signed minion certs) answering garbage, DOCTYPEs, entities, deep
// nesting, huge, cut-off and slow bodies, wrong types and malformed faults: through the CLI (sync, forked
// buckets, --async polling) and the API, every healthy host's result is there and each bad host gets a
// one-line reason.

import assert from "node:assert/strict";
import { appendFileSync } from "node:fs";
import { EXIT, homePaths, type HostResult } from "@func/shared";
import { Overlord } from "@func/overlord";
import { func, smallBuckets, startFleet, type TestFleet } from "./helpers/fleet.js";
import { ESCAPE_ANSWER, HOSTILE_ANSWERS, SLOW_ANSWERS, startHostileMinions, type HostileMinions } from "./helpers/hostile-minion.js";

/** Real minions on 127.110.0.x; the fake ones on 127.111.0.1 (a port each). */
const SUBNET = 110;
const HOSTILE_ADDRESS = "127.111.0.1";
const HEALTHY = 3;
/** The overlord's response cap in this file's home: under HUGE_ANSWER_BYTES, over any honest answer here. */
const RESPONSE_CAP = 1024 * 1024;
/** Per-host timeout for runs with the slow fake minions, s: generous for the healthy hosts on a loaded machine. */
const TIMEOUT_S = 8;

interface JsonDoc {
  hosts: Record<string, HostResult>;
  summary: Record<string, number>;
}

/** Checks one run's results: healthy hosts ok, each fake one `error` (or `timeout` for the slow ones) with one line. */
function parse(r: { stdout: string; stderr: string; code: number }): JsonDoc {
  try {
    return JSON.parse(r.stdout) as JsonDoc;
  } catch {
    assert.fail(`exit ${r.code}, no JSON document; stderr:\n${r.stderr.slice(0, 3000)}`);
  }
}

function judge(hosts: Record<string, HostResult>, fleet: TestFleet, bad: readonly string[], slow: readonly string[] = []): void {
  for (const m of fleet.minions) assert.equal(hosts[m.name]?.outcome, "ok", `${m.name}: ${JSON.stringify(hosts[m.name])}`);
  for (const name of [...bad, ...slow]) {
    const r = hosts[name];
    assert.ok(r, `${name} is missing from the results`);
    assert.equal(r.outcome, slow.includes(name) ? "timeout" : "error", `${name}: ${JSON.stringify(r).slice(0, 300)}`);
    if (!("error" in r)) continue;
    assert.doesNotMatch(r.error.message, /[\r\n]/, `${name}: the reason is one line`);
    assert.ok(r.error.message.length <= 1100, `${name}: the reason is bounded (${r.error.message.length} chars)`);
    assert.equal(typeof r.error.code, "number");
  }
  assert.equal(Object.keys(hosts).length, fleet.minions.length + bad.length + slow.length, "every host once");
}

describe("hostile answers from minions", function () {
  this.timeout(120_000);
  let fleet: TestFleet;
  let hostile: HostileMinions;
  let slow: HostileMinions;
  let escape: HostileMinions;

  before(async () => {
    fleet = await startFleet("hostile-answers", SUBNET, HEALTHY);
    appendFileSync(homePaths(fleet.home).overlordConf, `max_response_bytes = ${RESPONSE_CAP}\n`);
    smallBuckets(fleet.home);
    hostile = await startHostileMinions(fleet.home, HOSTILE_ADDRESS, HOSTILE_ANSWERS);
    slow = await startHostileMinions(fleet.home, HOSTILE_ADDRESS, SLOW_ANSWERS);
    escape = await startHostileMinions(fleet.home, HOSTILE_ADDRESS, { escapes: ESCAPE_ANSWER });
  });
  after(async () => {
    await hostile?.close();
    await slow?.close();
    await escape?.close();
    await fleet?.stop();
  });

  it("func call: every healthy host ok, every hostile one error, slow ones timeout, exit code says so", async () => {
    const r = await func(fleet.home, ["*", "call", "test", "ping", "--json", "-t", String(TIMEOUT_S), "-e", "evil-escapes"]);
    assert.doesNotMatch(r.stderr, /internal error|TypeError|at .*\.js:\d+/, r.stderr);
    const doc = parse(r);
    judge(doc.hosts, fleet, [...hostile.names], slow.names);
    assert.equal(r.code, EXIT.ERROR | EXIT.TIMEOUT);
    // the cap is the config key's, and it is named
    assert.match((doc.hosts["evil-huge-declared"] as { error: { message: string } }).error.message, /max_response_bytes/);
    assert.match((doc.hosts["evil-huge-chunked"] as { error: { message: string } }).error.message, /max_response_bytes/);
  });

  it("func call --forks: the same through forked buckets", async () => {
    const r = await func(fleet.home, ["*", "call", "test", "ping", "--json", "--forks", "4", "-e", "evil-slow*;evil-no-answer;evil-escapes"]);
    assert.doesNotMatch(r.stderr, /internal error|TypeError/, r.stderr);
    const doc = parse(r);
    judge(doc.hosts, fleet, hostile.names);
    assert.equal(r.code, EXIT.ERROR);
  });

  it("the API: Overlord.call resolves with one result per host", async () => {
    const overlord = new Overlord("*", { home: fleet.home, exclude: "evil-slow*;evil-no-answer;evil-escapes" });
    try {
      judge(await overlord.call("test", "ping"), fleet, hostile.names);
    } finally {
      await overlord.close();
    }
  });

  it("human output: a minion's terminal escapes are shown escaped, --json keeps them", async () => {
    const human = await func(fleet.home, ["evil-escapes", "call", "test", "ping"]);
    assert.equal(human.code, 0, human.stderr);
    // eslint-disable-next-line no-control-regex -- matching control characters is the point
    assert.doesNotMatch(human.stdout, /[\x00-\x08\x0b-\x1f\x7f]/, "no raw control character reaches the terminal");
    assert.match(human.stdout, /\\x1b\]0;owned\\x07/);
    const json = await func(fleet.home, ["evil-escapes", "call", "test", "ping", "--json"]);
    const doc = JSON.parse(json.stdout) as JsonDoc;
    assert.deepEqual(doc.hosts["evil-escapes"], { ...doc.hosts["evil-escapes"], value: "\x1b]0;owned\x07\x1b[2J\x1b[1A\x1b[2Kminion01  ok  forged\x1b]52;c;ZXZpbA==\x07" });
  });

  describe("call --async", () => {
    let polled: HostileMinions;
    before(async () => {
      // these give a good job id at dispatch and their garbage when polled
      polled = await startHostileMinions(fleet.home, HOSTILE_ADDRESS, HOSTILE_ANSWERS, { prefix: "evilpoll-", honestAsync: true });
    });
    after(async () => {
      await polled?.close();
    });

    it("garbage at dispatch and at polling: the job finishes, healthy hosts ok, hostile ones error", async () => {
      const r = await func(fleet.home, ["*", "call", "--async", "test", "ping", "--json", "-e", "evil-slow*;evil-no-answer;evil-escapes"], 90_000);
      assert.doesNotMatch(r.stderr, /internal error|TypeError/, r.stderr);
      const doc = parse(r);
      judge(doc.hosts, fleet, [...hostile.names, ...polled.names]);
      assert.equal(r.code, EXIT.ERROR);
    });
  });
});
