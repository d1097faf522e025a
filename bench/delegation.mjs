// The delegation workload (`npm run bench -- --workloads delegation`, issue 13): one tree fleet (func-fleet
// --sub-overlords: N leaves behind K sub-overlords, 250 leaves per funcd process, every leaf a real TLS server
// with its own cert, issued by the fleet's CA directly: --certs direct), and on it, interleaved, a cold
// `func "leaf*" ping` delegated and the same with --no-delegate (direct to every leaf, the same CA): wall time
// and the top `func` process's own CPU. Then the bytes the top overlord receives for that ping: direct,
// delegated with and without folding near the leaves. The load average is sampled at every run.

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fleetDown, fleetUp } from "@func/overlord/fleet";
import { Overlord } from "@func/overlord";
import { homePaths } from "@func/shared";
import { FUNC_BIN, timeProcess } from "./harness.mjs";

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)] : null;
};
/** Per-host timeout of every timed ping, s (both variants). */
const TIMEOUT_S = 120;
const round = (x, d = 0) => (x === null ? null : Math.round(x * 10 ** d) / 10 ** d);

function rssMb(pids) {
  let kb = 0;
  for (const pid of pids) {
    try {
      kb += Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))[1]);
    } catch {
      // gone
    }
  }
  return Math.round(kb / 1024);
}

/** Removes every saved TLS session in the tree (the top's and each sub-overlord's): each run is cold. */
function forgetSessions(fleet) {
  rmSync(homePaths(fleet.home).tlsSessions, { force: true });
  for (const m of fleet.minions) if (m.sub) rmSync(homePaths(m.home).tlsSessions, { force: true });
}

async function bytesFor(home, opts) {
  const overlord = new Overlord("leaf*", { home, timeout: TIMEOUT_S, ...opts });
  try {
    const results = await overlord.call("test", "ping");
    const ok = Object.values(results).filter((r) => r.outcome === "ok").length;
    return { bytes: overlord.bytesReceived, ok, total: Object.keys(results).length };
  } finally {
    await overlord.close();
  }
}

/** Runs the workload for each tree size; resolves to its rows. */
export async function delegationBench({ trees = [{ count: 1000, subs: 4 }], runs = 3, baseAddress = "127.170.0.2", log = () => {} } = {}) {
  const rows = [];
  for (const { count, subs } of trees) {
    const home = mkdtempSync(join(tmpdir(), "func-bench-tree-"));
    try {
      log(`tree: ${count} leaves behind ${subs} sub-overlords (250 per funcd process) in ${home}`);
      const upStarted = performance.now();
      const fleet = await fleetUp(home, { count, subOverlords: subs, baseAddress, certs: "direct", readyTimeoutMs: 120_000 + count * 100, log });
      const upMs = performance.now() - upStarted;
      const funcdRssMb = rssMb(fleet.pids);
      log(`tree up in ${round(upMs / 1000, 1)} s, funcd RSS ${funcdRssMb} MB over ${fleet.pids.length} processes`);
      const series = { delegated: [], direct: [] };
      const loads = [];
      const retried = [];
      for (let r = 0; r < runs; r++) {
        for (const variant of r % 2 ? ["direct", "delegated"] : ["delegated", "direct"]) {
          // a run where some leaf did not answer (the machine is shared: a handshake can time out under load)
          // is run once more; a second short run is recorded as such and left out of the medians
          for (let attempt = 1; ; attempt++) {
            forgetSessions(fleet);
            loads.push(loadavg()[0]);
            // the same per-host timeout for both (120 s, not the default 30): on this shared machine a cold
            // handshake can wait long for a core, and a sync share's deadline is twice the timeout plus 5 s
            const args = [FUNC_BIN, "leaf*", "--timeout", String(TIMEOUT_S), ...(variant === "direct" ? ["--no-delegate"] : []), "ping"];
            const run = await timeProcess(args, { FUNC_HOME: home }, fleet.pids);
            const m = /(\d+) hosts?: (\d+) ok/.exec(run.stderr);
            const last = run.stderr.trim().split("\n").pop();
            if (run.code === 0 && m && Number(m[2]) === count) {
              series[variant].push(run);
              log(`${variant}: ${round(run.ms)} ms wall, ${round(run.cpuMs)} ms CPU (top), ${round(run.serverCpuMs)} ms CPU (funcd), load ${round(loadavg()[0], 1)}`);
              break;
            }
            retried.push(`${variant}: ${last}`);
            if (attempt === 2) {
              log(`${variant} ping short again (${last}): recorded, not counted`);
              break;
            }
            log(`${variant} ping not all ok (${last}): running it again`);
          }
        }
      }
      loads.push(loadavg()[0]);
      forgetSessions(fleet);
      const bytes = {
        direct: await bytesFor(home, { delegate: false }),
        folded: await bytesFor(home, { foldShares: true }),
        unfolded: await bytesFor(home, { foldShares: false }),
      };
      log(`bytes received by the top: direct ${bytes.direct.bytes}, delegated folded ${bytes.folded.bytes}, unfolded ${bytes.unfolded.bytes}`);
      const med = (v, k) => median(series[v].map((x) => x[k]));
      rows.push({
        leaves: count,
        subOverlords: subs,
        funcdProcesses: fleet.pids.length,
        upMs: round(upMs),
        funcdRssMb,
        wallMs: { delegated: round(med("delegated", "ms")), direct: round(med("direct", "ms")) },
        topCpuMs: { delegated: round(med("delegated", "cpuMs")), direct: round(med("direct", "cpuMs")) },
        fleetCpuMs: { delegated: round(med("delegated", "serverCpuMs")), direct: round(med("direct", "serverCpuMs")) },
        bytes: { direct: bytes.direct.bytes, folded: bytes.folded.bytes, unfolded: bytes.unfolded.bytes },
        runs,
        cleanRuns: { delegated: series.delegated.length, direct: series.direct.length },
        retried,
        certs: "direct",
        timeoutS: TIMEOUT_S,
        // 1-minute load average at the start of each run and at the end: min, median, max
        loadAvg1m: { min: round(Math.min(...loads), 1), median: round(median(loads), 1), max: round(Math.max(...loads), 1) },
      });
    } finally {
      await fleetDown(home, { graceMs: 2000 });
      rmSync(home, { recursive: true, force: true });
    }
  }
  return rows;
}

export function delegationMarkdown(rows) {
  const lines = [
    "| leaves / sub-overlords | wall: delegated / direct | top CPU: delegated / direct | top CPU ratio | bytes to the top: direct / delegated unfolded / folded | tree up, funcd RSS | load (1 min) |",
    "|---|---:|---:|---:|---:|---|---|",
  ];
  for (const r of rows) {
    const ratio = r.topCpuMs.direct ? round(r.topCpuMs.delegated / r.topCpuMs.direct, 2) : null;
    lines.push(
      `| ${r.leaves} / ${r.subOverlords} | ${r.wallMs.delegated} / ${r.wallMs.direct} ms (${round(r.wallMs.delegated / r.wallMs.direct, 2)}x) | ${r.topCpuMs.delegated} / ${r.topCpuMs.direct} ms | ${ratio}x | ${r.bytes.direct} / ${r.bytes.unfolded} / ${r.bytes.folded} | ${round(r.upMs / 1000)} s, ${r.funcdRssMb} MB in ${r.funcdProcesses} processes | ${r.loadAvg1m.min}-${r.loadAvg1m.max} (median ${r.loadAvg1m.median}) |`,
    );
  }
  return lines.join("\n");
}
