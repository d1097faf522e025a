// The pure rules of delegation (DESIGN section 12): paging a share's result lines, reading pages without
// trusting them, accounting every expected leaf once, routing leaves through the map, folding near the leaves.

import assert from "node:assert/strict";
import { END_LINE, checkLeaves, pageOf, parsePath, readHostResult, readMapNode, type HostResult } from "@func/shared";
import { ShareLedger, foldLines, planRoutes, pollInterval, readPage } from "@func/overlord/delegation";
import { leavesUnder, mapFromAnswers, routeTable } from "@func/overlord/delegation";

const ok = (value: number): HostResult => ({ outcome: "ok", value });
const line = (hosts: string[], result: HostResult = ok(1)) => JSON.stringify({ hosts, result });

describe("delegation: paging a share's lines", () => {
  it("pages from the cursor, bounded in lines and bytes, and says done only after the end line", () => {
    const texts = [line(["a"]), line(["b"]), line(["c"])];
    assert.deepEqual(pageOf(texts, 0, true, { lines: 2, bytes: 1e6 }), { texts: texts.slice(0, 2), cursor: 2, done: false, alive: true });
    assert.deepEqual(pageOf(texts, 2, true, { lines: 2, bytes: 1e6 }), { texts: texts.slice(2), cursor: 3, done: false, alive: true });
    const ended = [...texts, END_LINE];
    assert.deepEqual(pageOf(ended, 2, false), { texts: texts.slice(2), cursor: 3, done: true, alive: true });
    assert.deepEqual(pageOf(ended, 3, false), { texts: [], cursor: 3, done: true, alive: true });
    // a page never ends mid-budget on its first line: a huge line still goes out, alone
    const big = [line(["a"], ok(1)), line(["b"])];
    assert.equal(pageOf(big, 0, true, { lines: 10, bytes: 1 }).texts.length, 1);
  });

  it("clamps a cursor beyond the lines or below zero, and reports a dead writer", () => {
    const texts = [line(["a"])];
    assert.equal(pageOf(texts, 99, true).cursor, 1);
    assert.equal(pageOf(texts, -5, true).cursor, 1);
    assert.equal(pageOf(texts, 1, false).alive, false);
  });
});

describe("delegation: how often a share is polled", () => {
  it("300 ms apart at first, then a tenth of the share's age, never more than 2 s", () => {
    assert.equal(pollInterval(0), 300);
    assert.equal(pollInterval(-5), 300);
    assert.equal(pollInterval(2_000), 300);
    assert.equal(pollInterval(10_000), 1000);
    assert.equal(pollInterval(60_000), 2000);
    assert.equal(pollInterval(3_600_000), 2000);
  });
});

describe("delegation: reading pages without trusting them", () => {
  it("accepts a well-formed page and counts malformed lines", () => {
    const r = readPage({ lines: [{ hosts: ["a"], result: ok(1) }, { hosts: ["b"], result: { outcome: "maybe" } }, 7], cursor: 3, done: false, alive: true }, 0);
    assert.ok(r);
    assert.equal(r.page.lines.length, 1);
    assert.equal(r.malformed, 2);
  });

  it("refuses a page whose cursor does not move by exactly its lines", () => {
    const lines = [{ hosts: ["a"], result: ok(1) }];
    assert.equal(readPage({ lines, cursor: 5, done: false, alive: true }, 0), null);
    assert.equal(readPage({ lines, cursor: 0, done: false, alive: true }, 0), null);
    assert.equal(readPage({ lines, done: false, alive: true }, 0), null);
    assert.equal(readPage("nope", 0), null);
  });

  it("reads a result with exactly one outcome and a value or an error, and a sane via", () => {
    assert.deepEqual(readHostResult({ outcome: "ok", value: 1, ms: 2 }), { outcome: "ok", value: 1, ms: 2 });
    assert.equal(readHostResult({ outcome: "ok" }), null);
    assert.equal(readHostResult({ outcome: "error", error: { type: 1, message: "x" } }), null);
    assert.equal(readHostResult({ outcome: "ok", value: 1, via: ["../x"] }), null);
    assert.deepEqual(readHostResult({ outcome: "lost", error: { type: "ShareDied", message: "m" }, via: ["s1"] }), {
      outcome: "lost",
      error: { code: 0, type: "ShareDied", message: "m" },
      via: ["s1"],
    });
    // a type the error table does not know is the peer's word: MethodError, its name kept in the message
    assert.deepEqual(readHostResult({ outcome: "lost", error: { type: "T", message: "m" }, via: ["s1"] }), {
      outcome: "lost",
      error: { code: 0, type: "MethodError", message: "T: m" },
      via: ["s1"],
    });
  });
});

describe("delegation: every expected leaf in exactly one outcome", () => {
  it("settles each leaf once, ignores and reports unknown and duplicated hosts, prefixes the path", () => {
    const ledger = new ShareLedger("sub1", ["a", "b", "c"]);
    const first = ledger.take([{ hosts: ["a", "zz"], result: ok(1) }, { hosts: ["b"], result: { ...ok(2), via: ["sub1a"] } }]);
    assert.deepEqual(first.fresh, [
      ["a", { outcome: "ok", value: 1, via: ["sub1"] }],
      ["b", { outcome: "ok", value: 2, via: ["sub1", "sub1a"] }],
    ]);
    assert.deepEqual(first.anomalies.map((a) => [a.kind, a.hosts]), [["unknown", ["zz"]]]);
    const second = ledger.take([{ hosts: ["a"], result: ok(9) }], 1);
    assert.deepEqual(second.fresh, []);
    assert.deepEqual(second.anomalies.map((a) => [a.kind, a.hosts]), [["duplicate", ["a"]], ["malformed", []]]);
    const end = ledger.finishDone();
    assert.deepEqual(end.results.map(([h, r]) => [h, r.outcome]), [["c", "lost"]]);
    assert.deepEqual(end.anomalies.map((a) => [a.kind, a.hosts]), [["missing", ["c"]]]);
    assert.equal(ledger.settledCount, 3);
    // nothing is settled twice, whatever comes after
    assert.deepEqual(ledger.finish("unreachable", "ShareDied", "y"), []);
  });

  it("names the path in the reason of leaves ended for the share", () => {
    const ledger = new ShareLedger("sub2", ["x", "y"]);
    const out = ledger.finish("unreachable", "SubOverlordUnreachable", "could not reach sub-overlord sub2");
    assert.equal(out.length, 2);
    for (const [, r] of out) {
      assert.equal(r.outcome, "unreachable");
      assert.deepEqual(r.via, ["sub2"]);
      assert.ok("error" in r && r.error.message.startsWith("via sub2: "));
    }
  });

  it("skips, once and quietly, hosts already settled elsewhere (a re-read async share)", () => {
    const ledger = new ShareLedger("s", ["a", "b"]);
    ledger.markSettled("a", ok(1));
    const r = ledger.take([{ hosts: ["a", "b"], result: ok(1) }]);
    assert.deepEqual(r.fresh.map(([h]) => h), ["b"]);
    assert.deepEqual(r.anomalies, []);
    assert.deepEqual(ledger.take([{ hosts: ["a"], result: ok(1) }]).anomalies.map((a) => a.kind), ["duplicate"]);
  });
});

describe("delegation: routes, maps and folding", () => {
  const map = {
    built: "now",
    subs: [
      { name: "sub1", leaves: ["l1", "sub1a"], subs: [{ name: "sub1a", leaves: ["l2"], subs: [] }] },
      { name: "sub2", leaves: ["l3"], subs: [] },
    ],
  };

  it("routes each mapped leaf to its top-level sub-overlord, the rest directly", () => {
    const route = routeTable(map);
    assert.deepEqual([...route], [["l1", "sub1"], ["sub1a", "sub1"], ["l2", "sub1"], ["l3", "sub2"]]);
    const plan = planRoutes(["d1", "l1", "l2", "l3"], route);
    assert.deepEqual(plan.direct, ["d1"]);
    assert.deepEqual([...plan.shares], [["sub1", ["l1", "l2"]], ["sub2", ["l3"]]]);
    assert.deepEqual(leavesUnder(map.subs[0]!), ["l1", "sub1a", "l2"]);
  });

  it("builds the map from answers: plain minions out, nested sub-overlords under their parent, bad answers listed", () => {
    const answers = new Map<string, HostResult>([
      ["sub1", ok(0)],
      ["l1", { outcome: "ok", value: null }],
      ["sub2", { outcome: "unreachable", error: { code: 0, type: "TransportError", message: "ECONNREFUSED: refused" } }],
      ["liar", { outcome: "ok", value: { name: "someone", leaves: [], subs: [] } }],
    ]);
    answers.set("sub1", { outcome: "ok", value: map.subs[0]! as never });
    answers.set("sub1a", { outcome: "ok", value: map.subs[0]!.subs[0]! as never });
    const { map: built, failed } = mapFromAnswers(answers, new Date(0));
    assert.deepEqual(built.subs.map((s) => s.name), ["sub1"]);
    assert.deepEqual(failed.map(([n]) => n), ["liar", "sub2"]);
  });

  it("checks names, paths and trees from the network", () => {
    assert.deepEqual(parsePath("a>b"), ["a", "b"]);
    assert.throws(() => parsePath("a>../b"), /path/);
    assert.throws(() => parsePath(Array.from({ length: 9 }, (_, i) => `s${i}`).join(">")), /path/);
    assert.throws(() => checkLeaves(["a", "a"]), /twice/);
    assert.throws(() => checkLeaves([]), /list/);
    assert.throws(() => checkLeaves(["a/b"]), /not a minion name/);
    let deep: unknown = { name: "x", leaves: [], subs: [] };
    for (let i = 0; i < 10; i++) deep = { name: `n${i}`, leaves: [], subs: [deep] };
    assert.throws(() => readMapNode(deep), /deeper/);
  });

  it("folds identical results (but for their time) into one line, and keeps them apart unfolded", () => {
    const batch: [string, HostResult][] = [
      ["a", { outcome: "ok", value: 1, ms: 3 }],
      ["b", { outcome: "ok", value: 1, ms: 5 }],
      ["c", { outcome: "ok", value: 2, ms: 1 }],
    ];
    assert.deepEqual(foldLines(batch), [
      { hosts: ["a", "b"], result: { outcome: "ok", value: 1 } },
      { hosts: ["c"], result: { outcome: "ok", value: 2 } },
    ]);
    assert.equal(foldLines(batch, false).length, 3);
  });
});
