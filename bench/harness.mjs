// The benchmark harness: brings up one local fleet, runs every workload beside its floor (interleaved, several
// runs each, load average recorded), and returns one results object. bench/run.mjs prints and records it;
// test/bench-smoke.test.ts runs it in its quickest mode against 3 minions.

import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { appendFileSync, closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync, writeSync } from "node:fs";
import { availableParallelism, cpus, loadavg, release, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { DEFAULTS, homePaths } from "@func/shared";
import { MinionJobStore } from "@func/minion";
import { Overlord } from "@func/overlord";
import { fleetDown, fleetUp, readFleet } from "@func/overlord/fleet";

const HERE = fileURLToPath(new URL(".", import.meta.url));
export const FUNC_BIN = join(HERE, "../packages/overlord/bin/func.js");
const COLD_FLOOR = join(HERE, "floor/cold-fanout.mjs");
const WARM_FLOOR = join(HERE, "floor/warm-posts.mjs");
const WARM_API = join(HERE, "workloads/warm-api.mjs");
const ASYNC_JOBS = join(HERE, "workloads/async-jobs.mjs");
const JOB_STORE = join(HERE, "workloads/job-store.mjs");
const TRANSFER_FLOOR = join(HERE, "floor/transfer.mjs");
const TRANSFER_SERVER = join(HERE, "floor/transfer-server.mjs");
/** Where the transfer floor's servers listen, on each picked minion's address. */
const TRANSFER_FLOOR_PORT = 51240;
const WEB_API = join(HERE, "workloads/web-api.mjs");
const CPU_PROBE = join(HERE, "cpu-probe.mjs");
/** The line the warm workloads print once connected, before the timed rounds. */
const WARM_MARK = "connected\n";
/** Clock ticks per second in /proc/<pid>/stat (USER_HZ, 100 on Linux). */
const CLOCK_TICKS = 100;

/** Version of the results object's shape. */
export const RESULTS_SCHEMA = 1;

/** The issue's targets, in one place: the table and the `met` flags both read them. */
export const TARGETS = {
  coldRatio: 1.3,
  cold1000Ms: 3000,
  warmCallsPerSec: 5000,
  warmRatio: 1.3,
  repeatSpeedup: 1.5,
  jobListMs: 50,
  statusLookupMs: 1,
  idleRssMb: 60,
  transferRatio: 0.5,
  webSpeedup: 3,
};

/** Workload groups, all run by default (`--workloads cold,warm` picks some); `web` (func-web) only when asked for. */
export const WORKLOADS = ["cold", "warm", "async", "footprint", "transfer"];
export const OPTIONAL_WORKLOADS = ["web"];

/** The full run (`npm run bench`) and the short one (`-- --quick`). */
export const PROFILES = {
  full: {
    sizes: [10, 100, 500, 1000],
    forks: [1, 2],
    runs: 5,
    runsLarge: 3,
    warmN: 100,
    warmRounds: 60,
    warmRuns: 5,
    footprintCalls: 10_000,
    asyncRuns: 2,
    runnerRuns: 5,
    jobRecords: 1_000_000,
    purgeRecords: 100_000,
    cliRuns: 5,
    transferHosts: 10,
    transferMb: 100,
    transferRuns: 3,
  },
  quick: {
    sizes: [10, 100],
    forks: [1, 2],
    runs: 1,
    runsLarge: 1,
    warmN: 100,
    warmRounds: 10,
    warmRuns: 1,
    footprintCalls: 1000,
    asyncRuns: 1,
    runnerRuns: 2,
    jobRecords: 20_000,
    purgeRecords: 2_000,
    cliRuns: 1,
    transferHosts: 10,
    transferMb: 8,
    transferRuns: 1,
  },
};

const median = (xs) => {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const round = (x, digits = 1) => (x === null || x === undefined ? null : Math.round(x * 10 ** digits) / 10 ** digits);
const load = () => round(loadavg()[0], 2);

/** What the numbers were measured on. */
export function machine() {
  let cpu = cpus()[0]?.model ?? "unknown";
  try {
    cpu = /model name\s*:\s*(.*)/.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1] ?? cpu;
  } catch {
    // not Linux: os.cpus() named it
  }
  return {
    nproc: availableParallelism(),
    cpu,
    node: process.version,
    openssl: process.versions.openssl,
    kernel: release(),
    memTotalMb: Math.round(totalmem() / 2 ** 20),
    loadAvg: loadavg().map((x) => round(x, 2)),
  };
}

/** CPU time the given processes have used so far, ms (0 for any that is gone or when /proc is missing). */
function processCpuMs(pids) {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
      ticks += Number(fields[11]) + Number(fields[12]); // utime, stime
    } catch {
      // gone
    }
  }
  return (ticks * 1000) / CLOCK_TICKS;
}

/**
 * Runs a node script as a fresh process: wall time from spawn to exit, the CPU time it (and its forked
 * children) used, the CPU time the fleet's funcd processes used meanwhile (from the line `mark` on its
 * stdout, when given: the warm workloads print it once connected), its stdout and stderr.
 */
export function timeProcess(args, env = {}, serverPids = [], mark = null, onSpawn = null) {
  return new Promise((resolve, reject) => {
    const cpuFile = join(tmpdir(), `func-bench-cpu-${process.pid}-${Math.random().toString(36).slice(2)}.json`);
    const serverBefore = processCpuMs(serverPids);
    const started = performance.now();
    const child = spawn(process.execPath, ["--import", CPU_PROBE, ...args], {
      env: { ...process.env, NO_COLOR: "1", BENCH_CPU_FILE: cpuFile, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    onSpawn?.(child);
    let stdout = "";
    let stderr = "";
    let serverFrom = serverBefore;
    child.stdout.on("data", (c) => {
      if (mark && !stdout.includes(mark) && (stdout + c.toString()).includes(mark)) serverFrom = processCpuMs(serverPids);
      stdout += c.length + stdout.length < 1e6 ? c.toString() : "";
    });
    child.stderr.on("data", (c) => (stderr += c.toString()));
    child.on("error", reject);
    child.on("close", (code) => {
      const ms = performance.now() - started;
      const serverCpuMs = processCpuMs(serverPids) - serverFrom;
      let cpuMs = null;
      try {
        const c = JSON.parse(readFileSync(cpuFile, "utf8"));
        cpuMs = c.selfMs + c.childrenMs;
      } catch {
        // the probe did not run
      }
      rmSync(cpuFile, { force: true });
      resolve({ ms, cpuMs, serverCpuMs, code, stdout, stderr });
    });
  });
}

/** `N hosts: K ok`, as both func and the cold floor print it on stderr. */
function allOk(run, n) {
  const m = /(\d+) hosts?: (\d+) ok/.exec(run.stderr);
  return run.code === 0 && m !== null && Number(m[1]) === n && Number(m[2]) === n;
}

/** The last lines of each funcd log of a fleet home. */
function funcdLogTail(home) {
  const dir = join(home, "log");
  try {
    return readdirSync(dir)
      .map((f) => `${f}: ${readFileSync(join(dir, f), "utf8").trim().split("\n").slice(-3).join(" | ")}`)
      .join("\n");
  } catch {
    return "(no funcd logs)";
  }
}

/** Evenly spread picks of `n` of the fleet's minions, so every size touches every funcd process. */
function spread(minions, n) {
  const step = minions.length / n;
  return Array.from({ length: n }, (_, i) => minions[Math.floor(i * step)]);
}

/** Measurements of one series: wall time, the process's CPU, the fleet's CPU meanwhile. */
const series = () => ({ ms: [], cpuMs: [], serverCpuMs: [] });

function record(into, run) {
  into.ms.push(run.ms);
  if (run.cpuMs !== null) into.cpuMs.push(run.cpuMs);
  into.serverCpuMs.push(run.serverCpuMs);
}

function summarize(s) {
  return {
    median: round(median(s.ms)),
    min: s.ms.length ? round(Math.min(...s.ms)) : null,
    max: s.ms.length ? round(Math.max(...s.ms)) : null,
    runs: s.ms.map((v) => round(v)),
    cpuMs: round(median(s.cpuMs)),
    serverCpuMs: round(median(s.serverCpuMs)),
  };
}

/**
 * Cold CLI fan-out and the repeat run: per size and repetition, in rotating order, the floor script, func
 * with no saved TLS sessions then again at once (the repeat resumes them), and func --forks 2 (cold).
 */
async function coldFanOut(ctx, p) {
  const rows = [];
  for (const n of ctx.sizes) {
    const floor = series();
    const repeat = series();
    const cold = Object.fromEntries(p.forks.map((f) => [f, series()]));
    const failures = [];
    const loads = [];
    const run = async (args, env, into, what) => {
      const r = await timeProcess(args, env, ctx.serverPids);
      if (allOk(r, n)) record(into, r);
      else failures.push(`${what}: exit ${r.code}: ${r.stderr.trim().slice(-200)}`);
    };
    const func = (forks, into, what) =>
      run([FUNC_BIN, `@bench-n${n}`, "call", "test", "ping", "--forks", String(forks)], { FUNC_HOME: ctx.home }, into, what);
    const units = [
      () => run([COLD_FLOOR, ctx.home, ctx.listFile(n), String(DEFAULTS.overlord.concurrency)], {}, floor, "floor"),
      ...p.forks.map((forks) => async () => {
        rmSync(ctx.sessionsFile, { force: true });
        await func(forks, cold[forks], `func --forks ${forks}`);
        if (forks === 1) await func(forks, repeat, "func repeat");
      }),
    ];
    // the 1000-host runs take seconds each: fewer of them keep the whole run within a few minutes
    const runs = n >= 1000 ? Math.min(p.runs, p.runsLarge) : p.runs;
    for (let r = 0; r < runs; r++) {
      loads.push(load());
      for (let k = 0; k < units.length; k++) await units[(k + r) % units.length]();
    }
    const floorMs = median(floor.ms);
    ctx.log(`cold fan-out N=${n}: floor ${round(floorMs)} ms, ${p.forks.map((f) => `--forks ${f} ${round(median(cold[f].ms))} ms`).join(", ")}, repeat ${round(median(repeat.ms))} ms`);
    for (const forks of p.forks) {
      const mine = median(cold[forks].ms);
      const ratio = mine !== null && floorMs ? round(mine / floorMs, 2) : null;
      const absolute = n >= 1000 ? mine !== null && mine < TARGETS.cold1000Ms : true;
      rows.push({
        workload: "cold-fanout",
        n,
        variant: `--forks ${forks}`,
        unit: "ms",
        func: summarize(cold[forks]),
        floor: summarize(floor),
        ratio,
        target: `<= ${TARGETS.coldRatio}x floor` + (n >= 1000 ? `, < ${TARGETS.cold1000Ms} ms` : ""),
        met: ratio !== null && ratio <= TARGETS.coldRatio && absolute,
        load: loads,
        failures,
      });
    }
    const coldMs = median(cold[1]?.ms ?? []);
    const repeatMs = median(repeat.ms);
    const speedup = coldMs && repeatMs ? round(coldMs / repeatMs, 2) : null;
    rows.push({
      workload: "repeat-cli",
      n,
      variant: "--forks 1, resumed TLS sessions",
      unit: "ms",
      func: summarize(repeat),
      cold: summarize(cold[1] ?? series()),
      speedup,
      target: `>= ${TARGETS.repeatSpeedup}x faster than cold`,
      met: speedup !== null && speedup >= TARGETS.repeatSpeedup,
      load: loads,
    });
  }
  return rows;
}

/** Warm API: calls per second of one Overlord making repeated calls, beside raw keep-alive POSTs. */
async function warmApi(ctx, p) {
  const n = Math.min(p.warmN, ctx.fleetSize);
  const func = { rate: [], cpuMsPerCall: [], serverCpuMsPerCall: [] };
  const floor = { rate: [], cpuMsPerCall: [], serverCpuMsPerCall: [] };
  const loads = [];
  const failures = [];
  const parse = (r, into, what) => {
    try {
      const out = JSON.parse(r.stdout.trim().split("\n").pop());
      if (r.code !== 0 || out.ok !== out.calls || out.calls === 0) return failures.push(`${what}: ${out.ok}/${out.calls} ok`);
      into.rate.push((out.calls / out.ms) * 1000);
      into.cpuMsPerCall.push(out.cpuMs / out.calls);
      into.serverCpuMsPerCall.push(r.serverCpuMs / out.calls);
    } catch {
      failures.push(`${what}: exit ${r.code}: ${r.stderr.trim().slice(-200)}`);
    }
  };
  for (let r = 0; r < p.warmRuns; r++) {
    loads.push(load());
    const units = [
      async () => parse(await timeProcess([WARM_API, ctx.home, `@bench-n${n}`, String(p.warmRounds)], {}, ctx.serverPids, WARM_MARK), func, "Overlord"),
      async () => parse(await timeProcess([WARM_FLOOR, ctx.home, ctx.listFile(n), String(p.warmRounds)], {}, ctx.serverPids, WARM_MARK), floor, "floor"),
    ];
    for (let k = 0; k < units.length; k++) await units[(k + r) % units.length]();
  }
  const rate = (s) => ({
    median: round(median(s.rate), 0),
    min: s.rate.length ? round(Math.min(...s.rate), 0) : null,
    max: s.rate.length ? round(Math.max(...s.rate), 0) : null,
    runs: s.rate.map((v) => round(v, 0)),
    cpuMsPerCall: round(median(s.cpuMsPerCall), 3),
    serverCpuMsPerCall: round(median(s.serverCpuMsPerCall), 3),
  });
  const mine = median(func.rate);
  const base = median(floor.rate);
  const ratio = mine && base ? round(base / mine, 2) : null;
  ctx.log(`warm API N=${n}: Overlord ${round(mine, 0)} calls/s, floor ${round(base, 0)} calls/s`);
  return [
    {
      workload: "warm-api",
      n,
      variant: `${p.warmRounds} rounds of Overlord.call`,
      unit: "calls/s",
      func: rate(func),
      floor: rate(floor),
      ratio,
      target: `>= ${TARGETS.warmCallsPerSec} calls/s, floor within ${TARGETS.warmRatio}x`,
      met: mine !== null && mine >= TARGETS.warmCallsPerSec && ratio !== null && ratio <= TARGETS.warmRatio,
      load: loads,
      failures,
    },
  ];
}

function rssMb(pid) {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (field) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN);
  return { rss: round(kb("VmRSS") / 1024), hwm: round(kb("VmHWM") / 1024) };
}

/**
 * A funcd serving one minion, alone in its process: RSS right after it enrolled itself, then (restarted, as
 * a running minion is after its first restart) idle and after `calls` calls.
 */
async function footprint(ctx, p) {
  const home = mkdtempSync(join(tmpdir(), "func-bench-foot-"));
  try {
    const enrolled = await fleetUp(home, { count: 1, baseAddress: ctx.footprintAddress, perProcess: 1 });
    await sleep(1000);
    const afterEnroll = rssMb(enrolled.pids[0]);
    await fleetDown(home, { graceMs: 2000 });
    const started = performance.now();
    const state = await fleetUp(home, { count: 1, baseAddress: ctx.footprintAddress, perProcess: 1 });
    const readyMs = performance.now() - started;
    const pid = state.pids[0];
    await sleep(1000);
    const idle = rssMb(pid);
    const overlord = new Overlord("*", { home });
    let ok = 0;
    const lanes = 8;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: lanes }, async (_, lane) => {
        for (let i = lane; i < p.footprintCalls; i += lanes) {
          const res = await overlord.call("test", "ping");
          if (Object.values(res).every((r) => r.outcome === "ok")) ok++;
        }
      }),
    );
    const callsMs = performance.now() - t0;
    await overlord.close();
    const after = rssMb(pid);
    const runner = await runnerStart(ctx, p, home, state.minions[0].home);
    ctx.log(`footprint: idle ${idle.rss} MB (${afterEnroll.rss} MB right after enrolling), after ${p.footprintCalls} calls ${after.rss} MB (peak ${after.hwm} MB)`);
    return [
      {
        workload: "minion-footprint",
        n: 1,
        variant: "funcd, one minion per process, restarted after enrolling",
        unit: "MB",
        idleRssMb: idle.rss,
        afterEnrollRssMb: afterEnroll.rss,
        afterCallsRssMb: after.rss,
        peakRssMb: after.hwm,
        calls: p.footprintCalls,
        callsOk: ok,
        callsPerSec: round((p.footprintCalls / callsMs) * 1000, 0),
        restartReadyMs: round(readyMs),
        asyncRunnerStartMs: runner.median,
        asyncRunnerRuns: runner.runs,
        target: `idle RSS < ${TARGETS.idleRssMb} MB`,
        met: idle.rss < TARGETS.idleRssMb,
      },
    ];
  } finally {
    await fleetDown(home, { graceMs: 2000 });
    rmSync(home, { recursive: true, force: true });
  }
}

/**
 * How long a minion takes to start an async runner: `test.sleep 0` as an async job on the lone minion, then,
 * from its own job store, the time from the RUNNING record funcd wrote to the FINISHED one the runner wrote
 * (a detached Node process started, ran the method and stored the result).
 */
async function runnerStart(ctx, p, home, minionHome) {
  for (let r = 0; r < p.runnerRuns; r++) {
    const run = await timeProcess([ASYNC_JOBS, home, "*", "5"]);
    if (run.code !== 0) throw new Error(`async job on the footprint minion failed: ${run.stderr.trim().slice(-300)}`);
  }
  const store = new MinionJobStore(homePaths(minionHome).minionJobsDir);
  try {
    const times = store.list().filter((j) => j.finished !== undefined).map((j) => j.finished - j.created);
    ctx.log(`async runner: ${times.map((t) => round(t, 0)).join(", ")} ms from RUNNING to FINISHED`);
    return { median: round(median(times)), runs: times.map((t) => round(t)) };
  } finally {
    await store.close();
  }
}

/** Async jobs: `test.sleep 0` submitted to N minions, the id back (API and CLI), every result collected. */
async function asyncJobs(ctx, p) {
  const n = Math.min(p.warmN, ctx.fleetSize);
  const submit = [];
  const collect = [];
  const cliSubmit = [];
  const failures = [];
  for (let r = 0; r < p.asyncRuns; r++) {
    const api = await timeProcess([ASYNC_JOBS, ctx.home, `@bench-n${n}`, "100"]);
    try {
      const out = JSON.parse(api.stdout.trim().split("\n").pop());
      if (api.code === 0 && out.ok === n) {
        submit.push(out.submitMs);
        collect.push(out.collectMs);
      } else failures.push(`API: ${out.ok}/${out.hosts} ok`);
    } catch {
      failures.push(`API: exit ${api.code}: ${api.stderr.trim().slice(-200)}`);
    }
    const cli = await timeProcess([FUNC_BIN, `@bench-n${n}`, "call", "--async", "--nopoll", "test", "sleep", "0"], { FUNC_HOME: ctx.home });
    const cliJob = cli.stdout.trim();
    if (cli.code === 0 && /^\d{8}T\d{6}-[0-9a-f]{10}$/.test(cliJob)) {
      cliSubmit.push(cli.ms);
      // the CLI's job runs on: let its runners finish before the next round starts more (not timed)
      const waiter = new Overlord(`@bench-n${n}`, { home: ctx.home });
      try {
        await waiter.waitJob(cliJob, { timeoutMs: 120_000 });
      } finally {
        await waiter.close();
      }
    } else failures.push(`CLI: exit ${cli.code}: ${cli.stderr.trim().slice(-200)}`);
  }
  ctx.log(`async N=${n}: submit ${round(median(submit))} ms (CLI ${round(median(cliSubmit))} ms), all collected after ${round(median(collect))} ms`);
  const series = (xs) => ({ median: round(median(xs)), min: xs.length ? round(Math.min(...xs)) : null, max: xs.length ? round(Math.max(...xs)) : null, runs: xs.map((x) => round(x)) });
  return [
    {
      workload: "async",
      n,
      variant: "test.sleep 0 as an async job: Overlord.callAsync + waitJob (polling every 100 ms); CLI call --async --nopoll",
      unit: "ms",
      submit: series(submit),
      cliSubmit: series(cliSubmit),
      collect: series(collect),
      target: "none set",
      met: null,
      failures,
    },
  ];
}

/**
 * The overlord's job store with `jobRecords` finished jobs: insert them (large transactions), newest 50 and
 * status lookups in-process and through the CLI, then purge the `purgeRecords` oldest.
 */
async function jobStore(ctx, p) {
  const home = mkdtempSync(join(tmpdir(), "func-bench-jobs-"));
  const dir = homePaths(home).jobsDir;
  try {
    const phase = async (...args) => {
      const r = await timeProcess([JOB_STORE, ...args]);
      if (r.code !== 0) throw new Error(`job store ${args[0]} failed: ${r.stderr.trim().slice(-300)}`);
      return JSON.parse(r.stdout.trim().split("\n").pop());
    };
    const seeded = await phase("seed", dir, String(p.jobRecords));
    const idsFile = join(home, "ids.json");
    writeFileSync(idsFile, JSON.stringify(seeded.ids));
    const query = await phase("query", dir, idsFile);
    const list = [];
    const status = [];
    const bare = [];
    for (let r = 0; r < p.cliRuns; r++) {
      const l = await timeProcess([FUNC_BIN, "job", "list"], { FUNC_HOME: home });
      if (l.code === 0 && l.stdout.trim().split("\n").length === 50) list.push(l.ms);
      const st = await timeProcess([FUNC_BIN, "job", "status", seeded.ids[r % seeded.ids.length]], { FUNC_HOME: home });
      if (st.code === 0 && /FINISHED/.test(st.stdout + st.stderr)) status.push(st.ms);
      bare.push((await timeProcess(["-e", ""])).ms);
    }
    const sizeMb = statSync(join(dir, "data.mdb")).size / 2 ** 20;
    const purge = await phase("purge", dir, String(p.purgeRecords));
    ctx.log(`job store: ${p.jobRecords} inserted in ${round(seeded.insertMs / 1000)} s, newest 50 in ${round(query.listMs, 2)} ms (CLI ${round(median(list))} ms), lookup ${round(query.lookupMs, 3)} ms, purge ${p.purgeRecords} in ${round(purge.purgeMs)} ms`);
    return [
      {
        workload: "job-store",
        n: p.jobRecords,
        variant: "overlord LMDB store, finished jobs",
        unit: "ms",
        insertMs: round(seeded.insertMs),
        insertPerSec: round(seeded.perSecond, 0),
        storeMb: round(sizeMb),
        listMs: round(query.listMs, 3),
        firstListMs: round(query.firstListMs, 3),
        lookupMs: round(query.lookupMs, 4),
        firstLookupMs: round(query.firstLookupMs, 3),
        cliListMs: round(median(list)),
        cliStatusMs: round(median(status)),
        nodeStartMs: round(median(bare)),
        purged: purge.purged,
        purgeMs: round(purge.purgeMs),
        left: purge.left,
        target: `newest 50 < ${TARGETS.jobListMs} ms, status lookup < ${TARGETS.statusLookupMs} ms`,
        met: query.listMs < TARGETS.jobListMs && query.lookupMs < TARGETS.statusLookupMs,
      },
    ];
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

/** Starts each process's peak RSS (VmHWM) afresh from its current RSS (Linux: clear_refs 5; needs the same user or root). */
function resetPeakRss(pids) {
  for (const pid of pids) {
    try {
      writeFileSync(`/proc/${pid}/clear_refs`, "5");
    } catch {
      // not ours to reset: the peak then covers the process's life so far
    }
  }
}

/** The largest peak RSS (VmHWM) of `pids`, MB. */
function maxPeakRssMb(pids) {
  return Math.max(...pids.map((pid) => peakRssMb(pid) ?? 0));
}

/** A process's peak RSS so far (VmHWM), MB; null once it is gone. */
function peakRssMb(pid) {
  try {
    return rssMb(pid).hwm;
  } catch {
    return null;
  }
}

/** Runs `args` like timeProcess, sampling the child's peak RSS (VmHWM) until it exits. */
async function timeWithPeakRss(args, env, serverPids) {
  let peak = null;
  let timer = null;
  const run = await timeProcess(args, env, serverPids, null, (child) => {
    timer = setInterval(() => {
      // a process that has exited but is not reaped yet has no VmHWM line: NaN, not a peak
      const hwm = peakRssMb(child.pid);
      if (hwm !== null && Number.isFinite(hwm)) peak = Math.max(peak ?? 0, hwm);
    }, 50);
  });
  clearInterval(timer);
  return { ...run, peakRssMb: peak };
}

/**
 * File transfer: `func copyfile` of one file to N minions and `func getfile` of it back, beside the floor
 * (floor/transfer.mjs: the same bytes over plain mutual-TLS streams to servers on the same addresses, with the
 * minions' own certs). Throughput is bytes moved (file size x hosts) per second of wall time; the peak RSS of
 * the func process and of the funcd processes is recorded too.
 */
async function transfer(ctx, p, fleet) {
  const n = Math.min(p.transferHosts, ctx.fleetSize);
  const picked = spread(fleet.minions, n);
  const work = mkdtempSync(join(tmpdir(), "func-bench-xfer-"));
  const servers = [];
  try {
    const data = join(work, "data");
    const bytes = p.transferMb * 1_000_000;
    // random bytes: nothing compresses, and no UTF-8 shortcut applies
    const fd = openSync(data, "w");
    for (let off = 0; off < bytes; off += 1 << 24) writeSync(fd, randomBytes(Math.min(1 << 24, bytes - off)));
    closeSync(fd);
    const remoteDir = join(work, "remote");
    mkdirSync(remoteDir);
    appendFileSync(homePaths(ctx.home).groupsFile, `\n[bench-transfer]\nhosts = ${picked.map((m) => m.name).join(", ")}\n`);
    const list = join(work, "list.json");
    writeFileSync(list, JSON.stringify(picked.map(({ name, address }) => ({ name, address }))));
    for (const m of picked) {
      const child = spawn(process.execPath, [TRANSFER_SERVER, join(ctx.home, "minions", m.name), m.address, String(TRANSFER_FLOOR_PORT), homePaths(ctx.home).caCert], { stdio: ["pipe", "pipe", "inherit"] });
      servers.push(child);
      await new Promise((resolve, reject) => {
        child.stdout.once("data", resolve);
        child.once("exit", () => reject(new Error(`transfer floor server for ${m.name} exited`)));
      });
    }
    const floorPids = servers.map((c) => c.pid);
    const funcdPids = [...new Set(picked.map((m) => m.pid))];
    const funcdBefore = Math.max(...funcdPids.map((pid) => rssMb(pid).rss));
    const s = { push: series(), pull: series(), floorPush: series(), floorPull: series() };
    const peaks = { push: [], pull: [] };
    /** the largest funcd's peak RSS during each run (reset before it) */
    const funcdPeaks = { push: [], pull: [] };
    const failures = [];
    const loads = [];
    const check = (r, what) => {
      if (r.code === 0) return true;
      failures.push(`${what}: exit ${r.code}: ${(r.stderr + r.stdout).trim().slice(-300)}`);
      return false;
    };
    const units = [
      async () => {
        rmSync(join(remoteDir, "data"), { force: true }); // else the second push is skipped as unchanged
        resetPeakRss(funcdPids);
        const r = await timeWithPeakRss([FUNC_BIN, "@bench-transfer", "copyfile", data, `${remoteDir}/`], { FUNC_HOME: ctx.home }, ctx.serverPids);
        if (check(r, "func copyfile")) {
          record(s.push, r);
          peaks.push.push(r.peakRssMb);
          funcdPeaks.push.push(maxPeakRssMb(funcdPids));
        }
        const into = join(work, "pulled");
        rmSync(into, { recursive: true, force: true });
        resetPeakRss(funcdPids);
        const g = await timeWithPeakRss([FUNC_BIN, "@bench-transfer", "getfile", join(remoteDir, "data"), into], { FUNC_HOME: ctx.home }, ctx.serverPids);
        if (check(g, "func getfile")) {
          record(s.pull, g);
          peaks.pull.push(g.peakRssMb);
          funcdPeaks.pull.push(maxPeakRssMb(funcdPids));
        }
        rmSync(into, { recursive: true, force: true });
      },
      async () => {
        const r = await timeProcess([TRANSFER_FLOOR, "push", ctx.home, list, data, remoteDir, String(TRANSFER_FLOOR_PORT)], {}, floorPids);
        if (check(r, "floor push")) record(s.floorPush, r);
        for (const m of picked) rmSync(join(remoteDir, `floor-${m.name}`), { force: true });
        const into = join(work, "floor-pulled");
        const g = await timeProcess([TRANSFER_FLOOR, "pull", ctx.home, list, join(remoteDir, "data"), into, String(TRANSFER_FLOOR_PORT)], {}, floorPids);
        if (check(g, "floor pull")) record(s.floorPull, g);
        rmSync(into, { recursive: true, force: true });
      },
    ];
    for (let r = 0; r < p.transferRuns; r++) {
      loads.push(load());
      // the floor pulls the file func pushed: func's unit runs first in every round
      for (const unit of units) await unit();
    }
    const funcdLifePeak = Math.max(...funcdPids.map((pid) => rssMb(pid).hwm));
    const mbps = (ms) => (ms ? round((bytes * n) / 1e6 / (ms / 1000), 1) : null);
    const rows = [];
    for (const [what, mine, floor, peak, funcdPeak] of [["push", s.push, s.floorPush, peaks.push, funcdPeaks.push], ["pull", s.pull, s.floorPull, peaks.pull, funcdPeaks.pull]]) {
      const funcRate = mbps(median(mine.ms));
      const floorRate = mbps(median(floor.ms));
      const ratio = funcRate && floorRate ? round(funcRate / floorRate, 2) : null;
      ctx.log(`transfer ${what} ${p.transferMb} MB x ${n}: func ${funcRate} MB/s, floor ${floorRate} MB/s`);
      rows.push({
        workload: "transfer",
        n,
        variant: `${what === "push" ? "copyfile" : "getfile"} of ${p.transferMb} MB`,
        unit: "MB/s",
        func: { ...summarize(mine), mbPerSec: funcRate, peakRssMb: median(peak) },
        floor: { ...summarize(floor), mbPerSec: floorRate },
        ratio,
        funcdRssMb: { before: funcdBefore, peak: funcdPeak.length ? Math.max(...funcdPeak) : null, processLifePeak: funcdLifePeak },
        target: `>= ${TARGETS.transferRatio}x the floor's throughput`,
        met: ratio !== null && ratio >= TARGETS.transferRatio,
        load: loads,
        failures,
      });
    }
    return rows;
  } finally {
    for (const c of servers) c.kill("SIGTERM");
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * func-web: a warm call (POST /api/calls, then the event stream to its summary) on the largest size, through
 * a func-web that is already connected, against a cold CLI call (`func @group call test ping`, no saved TLS
 * sessions) on the same hosts, rounds interleaved.
 */
async function webApi(ctx, p) {
  const n = Math.max(...ctx.sizes);
  const cold = series();
  const warm = [];
  const failures = [];
  const runs = n >= 1000 ? Math.min(p.runs, p.runsLarge) : p.runs;
  for (let r = 0; r < runs; r++) {
    rmSync(ctx.sessionsFile, { force: true });
    const c = await timeProcess([FUNC_BIN, `@bench-n${n}`, "call", "test", "ping"], { FUNC_HOME: ctx.home }, ctx.serverPids);
    if (allOk(c, n)) record(cold, c);
    else failures.push(`cold CLI: exit ${c.code}: ${c.stderr.trim().slice(-200)}`);
    const w = await timeProcess([WEB_API, ctx.home, `@bench-n${n}`, "3"], {}, ctx.serverPids, WARM_MARK);
    try {
      const out = JSON.parse(w.stdout.trim().split("\n").pop());
      if (w.code === 0 && out.ok === n * out.rounds.length) warm.push(...out.rounds);
      else failures.push(`func-web: ${out.ok}/${n * out.rounds.length} ok`);
    } catch {
      failures.push(`func-web: exit ${w.code}: ${w.stderr.trim().slice(-200)}`);
    }
  }
  const warmMs = median(warm);
  const coldMs = median(cold.ms);
  const speedup = warmMs && coldMs ? round(coldMs / warmMs, 2) : null;
  ctx.log(`func-web N=${n}: warm API call ${round(warmMs)} ms, cold CLI ${round(coldMs)} ms: ${speedup}x`);
  return [
    {
      workload: "web-api",
      n,
      variant: "test.ping: POST /api/calls + event stream to the summary (warm func-web) vs a cold `func` call",
      unit: "ms",
      func: { median: round(warmMs), min: warm.length ? round(Math.min(...warm)) : null, max: warm.length ? round(Math.max(...warm)) : null, runs: warm.map((x) => round(x)) },
      cold: summarize(cold),
      speedup,
      target: `warm API >= ${TARGETS.webSpeedup}x faster than the cold CLI`,
      met: speedup !== null && speedup >= TARGETS.webSpeedup,
      failures,
    },
  ];
}

/**
 * Runs the benchmark. Options: quick (the short profile), sizes/runs/... to override a profile, fleetHome (a
 * fleet to reuse and leave running; else one is made in a temp dir and removed), baseAddress (first minion
 * address), footprintAddress (the lone footprint minion), perProcess, workloads (a subset of WORKLOADS), log.
 */
export async function runBench(opts = {}) {
  const p = { ...(opts.quick ? PROFILES.quick : PROFILES.full), ...Object.fromEntries(Object.entries(opts).filter(([k]) => k in PROFILES.full)) };
  const log = opts.log ?? (() => {});
  const started = performance.now();
  const startLoad = loadavg().map((x) => round(x, 2));
  const fleetSize = Math.max(...p.sizes, Math.min(p.warmN, Math.max(...p.sizes)));
  const ownFleet = !opts.fleetHome;
  const home = opts.fleetHome ?? mkdtempSync(join(tmpdir(), "func-bench-"));
  const paths = homePaths(home);
  let fleet = readFleet(home);
  const alive = fleet && fleet.minions.length >= fleetSize && fleet.pids.every((pid) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  });
  const fleetStarted = performance.now();
  let fleetUpMs = null;
  let listDir = null;
  const rows = [];
  try {
    if (!alive) {
      if (fleet) await fleetDown(home, { graceMs: 2000 });
      log(`starting ${fleetSize} minions (${opts.perProcess ?? "default"} per funcd process) in ${home}`);
      fleet = await fleetUp(home, {
        count: fleetSize,
        baseAddress: opts.baseAddress ?? "127.50.0.2",
        // every minion makes its key and enrolls through the fleet's service: minutes for 1000 on a busy machine
        readyTimeoutMs: 120_000 + fleetSize * 400,
        ...(opts.perProcess ? { perProcess: opts.perProcess } : {}),
        log,
      }).catch((err) => {
        // the home (and its logs) goes away with the fleet: say what the funcd processes said first
        throw new Error(`${err.message}\n${funcdLogTail(home)}`, { cause: err });
      });
      fleetUpMs = performance.now() - fleetStarted;
      log(`fleet up in ${round(fleetUpMs / 1000)} s`);
    }
    const sizes = p.sizes.filter((n) => n <= fleet.minions.length);
    const warmN = Math.min(p.warmN, fleet.minions.length);
    // one group per size: hosts spread over every funcd process, the same for func and its floor
    const picks = new Map([...new Set([...sizes, warmN])].map((n) => [n, spread(fleet.minions, n)]));
    writeFileSync(paths.groupsFile, [...picks].map(([n, ms]) => `[bench-n${n}]\nhosts = ${ms.map((m) => m.name).join(", ")}\n`).join("\n"));
    listDir = mkdtempSync(join(tmpdir(), "func-bench-lists-"));
    for (const [n, ms] of picks) writeFileSync(join(listDir, `n${n}.json`), JSON.stringify(ms.map(({ name, address, port }) => ({ name, address, port }))));
    const ctx = {
      home,
      sizes,
      fleetSize: fleet.minions.length,
      sessionsFile: paths.tlsSessions,
      serverPids: fleet.pids,
      listFile: (n) => join(listDir, `n${n}.json`),
      footprintAddress: opts.footprintAddress ?? "127.60.0.2",
      log,
    };
    p.sizes = sizes;
    p.warmN = warmN;
    const only = new Set(opts.workloads ?? WORKLOADS);
    if (only.has("cold")) rows.push(...(await coldFanOut(ctx, p)));
    if (only.has("warm")) rows.push(...(await warmApi(ctx, p)));
    if (only.has("async")) rows.push(...(await asyncJobs(ctx, p)), ...(await jobStore(ctx, p)));
    if (only.has("footprint")) rows.push(...(await footprint(ctx, p)));
    if (only.has("transfer")) rows.push(...(await transfer(ctx, p, fleet)));
    if (only.has("web")) rows.push(...(await webApi(ctx, p)));
  } finally {
    if (listDir) rmSync(listDir, { recursive: true, force: true });
    if (ownFleet) {
      // also after a failed start: funcd processes are detached and would outlive us
      await fleetDown(home, { graceMs: 2000 });
      rmSync(home, { recursive: true, force: true });
    }
  }
  return {
    schema: RESULTS_SCHEMA,
    date: new Date().toISOString(),
    profile: opts.quick ? "quick" : "full",
    settings: { ...p, concurrency: DEFAULTS.overlord.concurrency },
    machine: { ...machine(), loadAvgStart: startLoad, loadAvgEnd: loadavg().map((x) => round(x, 2)) },
    fleet: { minions: fleet.minions.length, funcdProcesses: fleet.pids.length, upMs: round(fleetUpMs, 0), reused: !!alive },
    targets: TARGETS,
    rows,
    durationS: round((performance.now() - started) / 1000),
  };
}
