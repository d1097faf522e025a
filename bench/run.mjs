#!/usr/bin/env node
// `npm run bench`: runs bench/harness.mjs, prints the table, and (full runs) records the results in
// bench/results/<date>.json, the table in bench/README.md (between its markers) and bench/chart.svg.
//
//   npm run bench                      full run: N = 10, 100, 500, 1000; a few minutes on 2 cores
//   npm run bench -- --quick           smoke run: N = 10, 100, one repetition, nothing recorded
//   npm run bench -- --fleet DIR       reuse (or create and keep) the fleet in DIR across runs
//   npm run bench -- --runs 3 --sizes 10,100 --workloads cold,warm --no-write
//   npm run bench -- --workloads transfer --sizes 10   one workload: results/<date>-transfer.json only
//   npm run bench -- --workloads transfer --sizes 10 --transfer-mb 1024 --transfer-runs 1
//   npm run bench -- --workloads delegation [--trees 1000x4,10000x10]   leaves behind sub-overlords vs direct

import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { runBench } from "./harness.mjs";
import { delegationBench, delegationMarkdown } from "./delegation.mjs";
import { chartSvg, cpuMarkdown, machineMarkdown, tableMarkdown } from "./report.mjs";

const HERE = fileURLToPath(new URL(".", import.meta.url));
const START = "<!-- bench:results:start -->";
const END = "<!-- bench:results:end -->";

const { values } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    fleet: { type: "string" },
    runs: { type: "string" },
    sizes: { type: "string" },
    "per-process": { type: "string" },
    workloads: { type: "string" },
    "transfer-mb": { type: "string" },
    "transfer-runs": { type: "string" },
    write: { type: "boolean" },
    "no-write": { type: "boolean", default: false },
    help: { type: "boolean", short: "h" },
    trees: { type: "string" },
  },
});
if (values.help) {
  process.stdout.write(readFileSync(fileURLToPath(import.meta.url), "utf8").split("\n").slice(1, 10).map((l) => l.replace(/^\/\/ ?/, "")).join("\n") + "\n");
  process.exit(0);
}

// the delegation workload builds its own tree fleet, so it runs on its own (issue 13)
if (values.workloads?.split(",").includes("delegation")) {
  const trees = (values.trees ?? "1000x4").split(",").map((t) => {
    const [count, subs] = t.split("x").map(Number);
    return { count, subs };
  });
  const rows = await delegationBench({ trees, runs: values.runs ? Number(values.runs) : values.quick ? 1 : 3, log: (m) => process.stderr.write(`bench: ${m}\n`) });
  process.stdout.write(`\n${delegationMarkdown(rows)}\n`);
  const write = values.write ?? (!values.quick && !values["no-write"]);
  if (write) {
    const dir = join(HERE, "results");
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `delegation-${new Date().toISOString().slice(0, 10)}.json`);
    writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), rows }, null, 2) + "\n");
    process.stderr.write(`bench: wrote ${file}\n`);
  }
  process.exit(0);
}

const results = await runBench({
  quick: values.quick,
  ...(values.fleet ? { fleetHome: values.fleet } : {}),
  ...(values.runs ? { runs: Number(values.runs), warmRuns: Number(values.runs) } : {}),
  ...(values.sizes ? { sizes: values.sizes.split(",").map(Number) } : {}),
  ...(values["per-process"] ? { perProcess: Number(values["per-process"]) } : {}),
  ...(values.workloads ? { workloads: values.workloads.split(",") } : {}),
  ...(values["transfer-mb"] ? { transferMb: Number(values["transfer-mb"]) } : {}),
  ...(values["transfer-runs"] ? { transferRuns: Number(values["transfer-runs"]) } : {}),
  log: (m) => process.stderr.write(`bench: ${m}\n`),
});

const table = tableMarkdown(results);
const cpu = cpuMarkdown(results);
process.stdout.write(`\n${table}\n\n${cpu}\n\n${machineMarkdown(results)}\n`);

const write = values.write ?? (!values.quick && !values["no-write"]);
if (write) {
  const day = results.date.slice(0, 10);
  const dir = join(HERE, "results");
  mkdirSync(dir, { recursive: true });
  // a run of some workloads only is recorded beside the full runs; the README table and chart stay the full run's
  const some = values.workloads ? `-${values.workloads.split(",").sort().join("-")}` : "";
  const file = join(dir, `${day}${some}.json`);
  writeFileSync(file, JSON.stringify(results, null, 2) + "\n");
  if (some) {
    process.stderr.write(`bench: wrote ${file}\n`);
    process.exit(0);
  }
  writeFileSync(join(HERE, "chart.svg"), chartSvg(results));
  const readme = join(HERE, "README.md");
  const block = `${START}\nResults of ${results.date} ([results/${day}.json](results/${day}.json), chart: [chart.svg](chart.svg)):\n\n${table}\n\nCPU time, medians (own: the process and its forked buckets; fleet: the funcd processes meanwhile):\n\n${cpu}\n\n${machineMarkdown(results)}\n${END}`;
  const text = existsSync(readme) ? readFileSync(readme, "utf8") : `# Benchmarks\n\n${START}\n${END}\n`;
  writeFileSync(readme, text.includes(START) && text.includes(END) ? text.slice(0, text.indexOf(START)) + block + text.slice(text.indexOf(END) + END.length) : `${text}\n${block}\n`);
  process.stderr.write(`bench: wrote ${file}, bench/chart.svg and the table in bench/README.md\n`);
}
