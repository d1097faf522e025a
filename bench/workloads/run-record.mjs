// Run-record workload: what recording a finished sync run in the job store adds to one `func` process (the
// store's modules loaded, the store opened, one N-host run written and flushed, the store closed), measured in
// fresh processes. Usage: node run-record.mjs [HOSTS] [RUNS] [RUN_MS]; prints {"hosts","medianMs","ratio"}
// where ratio is the median against RUN_MS, a measured N-host CLI run (default: bench/README's 1000-host
// repeat run, 1,241 ms; the target is < 5%).

import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const [hostsArg = "1000", runsArg = "5", runMsArg = "1241"] = process.argv.slice(2);

if (process.env.RUN_RECORD_CHILD) {
  const started = performance.now();
  const { Overlord } = await import("@func/overlord");
  const home = process.env.RUN_RECORD_CHILD;
  const results = {};
  for (let i = 0; i < Number(hostsArg); i++) results[`minion${String(i + 1).padStart(4, "0")}`] = { outcome: "ok", value: { rc: 0, stdout: "up 3 days\n", stderr: "" }, ms: 12.5 };
  const loaded = performance.now();
  const overlord = new Overlord("*", { home });
  await overlord.recordRun("command", "run", ["uptime"], results);
  await overlord.close();
  process.stdout.write(JSON.stringify({ recordMs: performance.now() - loaded, importMs: loaded - started }) + "\n");
} else {
  const times = [];
  for (let r = 0; r < Number(runsArg); r++) {
    const home = mkdtempSync(join(tmpdir(), "func-bench-record-"));
    mkdirSync(join(home, "pki"));
    try {
      const out = spawnSync(process.execPath, [fileURLToPath(import.meta.url), hostsArg], { env: { ...process.env, RUN_RECORD_CHILD: home }, encoding: "utf8" });
      if (out.status !== 0) throw new Error(out.stderr);
      // the Overlord module itself is loaded by every func run anyway: only the record counts
      times.push(JSON.parse(out.stdout).recordMs);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  }
  const median = [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)];
  process.stdout.write(JSON.stringify({ hosts: Number(hostsArg), runs: times.length, medianMs: Math.round(median * 10) / 10, runMs: Number(runMsArg), ratio: Math.round((median / Number(runMsArg)) * 1000) / 1000 }) + "\n");
}
