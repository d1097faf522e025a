// The benchmark harness in its quickest mode against 3 minions: it must run every workload and its floor and
// produce a well-formed results object, table and chart. No timing is asserted: this is not a benchmark.

import assert from "node:assert/strict";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { REPO } from "./helpers/fleet.js";

/** Addresses of this file: 127.69.0.x for the fleet, 127.69.1.x for the lone footprint minion. */
const BASE_ADDRESS = "127.69.0.2";
const FOOTPRINT_ADDRESS = "127.69.1.2";

interface Series {
  median: number | null;
  runs: number[];
}
interface Row {
  workload: string;
  n: number;
  variant: string;
  met: boolean | null;
  func?: Series;
  floor?: Series;
  cold?: Series;
  ratio?: number | null;
  speedup?: number | null;
  status?: string;
  failures?: string[];
  idleRssMb?: number;
  afterCallsRssMb?: number;
  callsOk?: number;
  calls?: number;
  asyncRunnerStartMs?: number | null;
  submit?: Series;
  cliSubmit?: Series;
  collect?: Series;
  insertMs?: number;
  listMs?: number;
  lookupMs?: number;
  cliListMs?: number;
  purged?: number;
}
interface Results {
  schema: number;
  profile: string;
  machine: { nproc: number; cpu: string; node: string; loadAvgStart: number[] };
  fleet: { minions: number };
  rows: Row[];
}

describe("benchmark harness (smoke)", function () {
  this.timeout(120_000);

  it("runs every workload beside its floor and returns a well-formed results object", async () => {
    const harness = (await import(pathToFileURL(join(REPO, "bench/harness.mjs")).href)) as {
      runBench(opts: Record<string, unknown>): Promise<Results>;
    };
    const report = (await import(pathToFileURL(join(REPO, "bench/report.mjs")).href)) as {
      tableMarkdown(r: Results): string;
      chartSvg(r: Results): string;
    };
    const r = await harness.runBench({
      quick: true,
      sizes: [3],
      runs: 1,
      warmN: 3,
      warmRounds: 2,
      warmRuns: 1,
      footprintCalls: 20,
      asyncRuns: 1,
      runnerRuns: 1,
      jobRecords: 1000,
      purgeRecords: 100,
      cliRuns: 1,
      baseAddress: BASE_ADDRESS,
      footprintAddress: FOOTPRINT_ADDRESS,
    });
    assert.equal(r.schema, 1);
    assert.equal(r.profile, "quick");
    assert.ok(r.machine.nproc >= 1 && r.machine.cpu !== "" && r.machine.node.startsWith("v"));
    assert.equal(r.machine.loadAvgStart.length, 3);
    assert.equal(r.fleet.minions, 3);

    const rows = (w: string) => r.rows.filter((x) => x.workload === w);
    const cold = rows("cold-fanout");
    assert.deepEqual(cold.map((x) => x.variant).sort(), ["--forks 1", "--forks 2"]);
    for (const x of cold) {
      assert.deepEqual(x.failures, [], `${x.variant} failed: ${x.failures?.join("; ")}`);
      assert.equal(x.n, 3);
      assert.equal(x.func!.runs.length, 1);
      assert.ok(x.func!.median! > 0 && x.floor!.median! > 0 && typeof x.ratio === "number" && typeof x.met === "boolean");
    }
    const [repeat] = rows("repeat-cli");
    assert.ok(repeat && repeat.func!.median! > 0 && repeat.cold!.median! > 0 && typeof repeat.speedup === "number");
    const [warm] = rows("warm-api");
    assert.ok(warm);
    assert.deepEqual(warm.failures, []);
    assert.ok(warm.func!.median! > 0 && warm.floor!.median! > 0 && typeof warm.ratio === "number");
    const [foot] = rows("minion-footprint");
    assert.ok(foot && foot.idleRssMb! > 0 && foot.afterCallsRssMb! > 0);
    assert.equal(foot.callsOk, foot.calls);
    assert.ok(foot.asyncRunnerStartMs! > 0, "an async runner started and finished");
    const [async] = rows("async");
    assert.ok(async);
    assert.deepEqual(async.failures, []);
    assert.ok(async.submit!.median! > 0 && async.cliSubmit!.median! > 0 && async.collect!.median! >= async.submit!.median!);
    const [store] = rows("job-store");
    assert.ok(store && store.n === 1000 && store.insertMs! > 0 && store.listMs! > 0 && store.lookupMs! > 0 && store.cliListMs! > 0);
    assert.equal(store.purged, 100);

    const table = report.tableMarkdown(r);
    assert.match(table, /^\| workload \| N \|/);
    for (const w of ["cold CLI fan-out", "repeat CLI run", "warm API", "async job", "job store", "minion footprint", "async runner start"]) assert.ok(table.includes(`| ${w} |`), w);
    const svg = report.chartSvg(r);
    assert.match(svg, /^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    assert.equal((svg.match(/<polyline /g) ?? []).length, 4, "func --forks 1, --forks 2, the floor, the repeat run");
  });
});
