// Run-record workload: what recording a finished sync run adds to one `func` process (the run spooled as one
// file for the job store, cli/call.ts), measured in fresh processes as CPU time (wall time on a loaded machine
// is mostly waiting for a core; the CPU a step uses bounds its wall time on an idle one). Usage:
// node run-record.mjs [HOSTS] [RUNS] [RUN_MS]; prints {"hosts","medianCpuMs","medianWallMs","ratio"}, ratio =
// the CPU median against RUN_MS, a measured N-host CLI run (default: bench/README's 1000-host repeat run,
// 1,241 ms; the target is < 5%).

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
  const cpu = process.cpuUsage();
  const overlord = new Overlord("*", { home });
  overlord.recordRun("command", "run", ["uptime"], results);
  await overlord.close();
  const used = process.cpuUsage(cpu);
  process.stdout.write(JSON.stringify({ recordMs: performance.now() - loaded, cpuMs: (used.user + used.system) / 1000, importMs: loaded - started }) + "\n");
} else {
  const times = [];
  const cpus = [];
  for (let r = 0; r < Number(runsArg); r++) {
    const home = mkdtempSync(join(tmpdir(), "func-bench-record-"));
    mkdirSync(join(home, "pki"));
    try {
      const out = spawnSync(process.execPath, [fileURLToPath(import.meta.url), hostsArg], { env: { ...process.env, RUN_RECORD_CHILD: home }, encoding: "utf8" });
      if (out.status !== 0) throw new Error(out.stderr);
      // the Overlord module itself is loaded by every func run anyway: only the record counts
      const r = JSON.parse(out.stdout);
      times.push(r.recordMs);
      cpus.push(r.cpuMs);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const cpu = median(cpus);
  const round = (n) => Math.round(n * 10) / 10;
  process.stdout.write(
    JSON.stringify({ hosts: Number(hostsArg), runs: times.length, medianCpuMs: round(cpu), medianWallMs: round(median(times)), runMs: Number(runMsArg), ratio: Math.round((cpu / Number(runMsArg)) * 1000) / 1000 }) + "\n",
  );
}
