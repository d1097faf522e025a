// Faults during real calls (issue 6): a minion killed mid-call, a hung (SIGSTOPped) minion, a bucket worker
// killed, the overlord killed mid-call. Each must end every targeted host in exactly one outcome, promptly,
// and leave the fleet serving with no leaked descriptors or zombie processes.

import { spawn, type ChildProcess } from "node:child_process";
import { constants as osConstants } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { isOutcome, type HostResult } from "@func/shared";
import { buckets } from "@func/overlord";
import { FUNC_BIN, type RunResult } from "../helpers/fleet.js";
import type { CampaignFleet } from "./campaign-fleet.js";
import { secs, tally, type Row } from "./case.js";
import { alive, children, fdCount, rssKib, settle, zombies } from "./observe.js";

/** Slack on top of what a fault may cost (the call's own length, the per-host timeout), ms: generous for loaded machines. */
const PROMPT_SLACK_MS = 8000;

export interface FaultEnv {
  fleet: CampaignFleet;
  quick: boolean;
}

export interface FaultResult {
  tries: number;
  outcome: string;
  problems: string[];
  /** the minion whose funcd the case hurt, for the RSS columns (default 0) */
  victim?: number;
}

export interface FaultCase {
  name: string;
  run(env: FaultEnv): Promise<FaultResult>;
}

export interface FuncRun {
  child: ChildProcess;
  started: number;
  done: Promise<RunResult & { ms: number }>;
}

/** Starts the real `func` CLI against the fleet's home; `done` settles when it exits. */
export function startFunc(home: string, args: string[], timeoutMs = 60_000): FuncRun {
  const started = performance.now();
  const child = spawn(process.execPath, [FUNC_BIN, ...args], { env: { ...process.env, FUNC_HOME: home, NO_COLOR: "1" }, stdio: ["ignore", "pipe", "pipe"] });
  const done = new Promise<RunResult & { ms: number }>((resolve, reject) => {
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      // a signal shows as the shell would: 128 + its number (139 SIGSEGV, 135 SIGBUS, 137 SIGKILL)
      resolve({ code: code ?? (signal ? 128 + (osConstants.signals[signal] ?? 0) : -1), stdout, stderr, ms: performance.now() - started });
    });
  });
  return { child, started, done };
}

interface JsonRun {
  hosts: Record<string, HostResult>;
  summary: Record<string, number>;
}

/**
 * Checks the one-outcome rule on a `--json` document: every targeted host present once with a known
 * outcome, no stranger, and the summary adding up. Returns the parsed hosts or the problems.
 */
export function checkOneOutcomeEach(stdout: string, expected: readonly string[]): { hosts: Record<string, HostResult>; problems: string[] } {
  let doc: JsonRun;
  try {
    doc = JSON.parse(stdout) as JsonRun;
  } catch {
    return { hosts: {}, problems: [`func --json printed no JSON document: ${stdout.slice(0, 200)}`] };
  }
  const problems: string[] = [];
  const names = Object.keys(doc.hosts ?? {});
  const missing = expected.filter((h) => !names.includes(h));
  const strangers = names.filter((h) => !expected.includes(h));
  if (missing.length) problems.push(`hosts missing from the results: ${missing.join(", ")}`);
  if (strangers.length) problems.push(`results for hosts not targeted: ${strangers.join(", ")}`);
  for (const [h, r] of Object.entries(doc.hosts ?? {})) if (!isOutcome(r.outcome)) problems.push(`${h}: unknown outcome ${String(r.outcome)}`);
  const counted = Object.values(doc.summary ?? {}).reduce((a, b) => a + b, 0);
  if (counted !== expected.length) problems.push(`summary counts ${counted} hosts, ${expected.length} were targeted`);
  return { hosts: doc.hosts ?? {}, problems };
}

function outcomesLine(hosts: Record<string, HostResult>): string {
  return tally(Object.values(hosts).map((r) => r.outcome));
}

/** The expected outcome for `victims`, `ok` for everyone else. */
function expectOutcomes(hosts: Record<string, HostResult>, victims: Record<string, string>): string[] {
  const problems: string[] = [];
  for (const [h, r] of Object.entries(hosts)) {
    const want = victims[h] ?? "ok";
    if (r.outcome !== want) problems.push(`${h}: ${r.outcome}${"error" in r ? ` (${r.error.type}: ${r.error.message.slice(0, 80)})` : ""}, expected ${want}`);
  }
  return problems;
}

async function waitForChildren(pid: number, count: number, maxMs: number): Promise<number[]> {
  const deadline = Date.now() + maxMs;
  let kids = children(pid);
  while (kids.length < count && Date.now() < deadline) {
    await sleep(50);
    kids = children(pid);
  }
  return kids.map((k) => k.pid);
}

export const FAULT_CASES: readonly FaultCase[] = [
  {
    name: "a minion killed mid-call",
    run: async ({ fleet }) => {
      const victim = 1;
      const names = fleet.minions.map((m) => m.name);
      const pid = fleet.minion(victim).pid;
      const call = startFunc(fleet.home, ["*", "call", "test", "sleep", "2", "--json", "--timeout", "20"]);
      await sleep(700);
      process.kill(pid, "SIGKILL");
      const r = await call.done;
      const { hosts, problems } = checkOneOutcomeEach(r.stdout, names);
      problems.push(...expectOutcomes(hosts, { [fleet.minion(victim).name]: "unreachable" }));
      const victimMs = hosts[fleet.minion(victim).name]?.ms ?? Infinity;
      // prompt: the reset is seen at once, long before the 20 s per-host timeout would fire
      if (victimMs > 700 + PROMPT_SLACK_MS) problems.push(`the killed minion was reported after ${secs(victimMs)}, not promptly`);
      if (r.code !== 4) problems.push(`exit ${r.code}, expected 4 (some unreachable)`);
      await fleet.restart(pid);
      return { tries: 1, outcome: `${outcomesLine(hosts)}; the killed one after ${secs(victimMs)} (killed at 0.7 s, timeout 20 s), exit ${r.code}`, problems, victim };
    },
  },
  {
    name: "a hung minion (SIGSTOP)",
    run: async ({ fleet }) => {
      const victim = 2;
      const names = fleet.minions.map((m) => m.name);
      const pid = fleet.minion(victim).pid;
      const timeoutS = 2;
      process.kill(pid, "SIGSTOP");
      let r;
      try {
        r = await startFunc(fleet.home, ["*", "call", "test", "ping", "--json", "--timeout", String(timeoutS)]).done;
      } finally {
        process.kill(pid, "SIGCONT");
      }
      const { hosts, problems } = checkOneOutcomeEach(r.stdout, names);
      problems.push(...expectOutcomes(hosts, { [fleet.minion(victim).name]: "timeout" }));
      if (r.ms > timeoutS * 1000 + PROMPT_SLACK_MS) problems.push(`took ${secs(r.ms)} with a ${timeoutS} s per-host timeout`);
      if (r.code !== 8) problems.push(`exit ${r.code}, expected 8 (some timeout)`);
      return { tries: 1, outcome: `${outcomesLine(hosts)} in ${secs(r.ms)} (budget ${timeoutS} s), exit ${r.code}`, problems, victim };
    },
  },
  {
    name: "a bucket worker killed",
    run: async ({ fleet }) => {
      const names = fleet.minions.map((m) => m.name);
      // 3 buckets: one in the func process, two forked workers
      const call = startFunc(fleet.home, ["*", "call", "test", "sleep", "2", "--json", "--forks", "3", "--timeout", "20"]);
      const workers = await waitForChildren(call.child.pid!, 2, 5000);
      const problems: string[] = [];
      if (workers.length < 2) problems.push(`expected 2 bucket workers, found ${workers.length}`);
      await sleep(700);
      if (workers[0]) process.kill(workers[0], "SIGKILL");
      const r = await call.done;
      const checked = checkOneOutcomeEach(r.stdout, names);
      problems.push(...checked.problems);
      const died = Object.entries(checked.hosts).filter(([, h]) => h.outcome === "error" && "error" in h && h.error.type === "BucketDied");
      const ok = Object.values(checked.hosts).filter((h) => h.outcome === "ok");
      // round-robin into 3 buckets: the killed worker had all the hosts of one of the two forked ones
      const sizes = buckets(names, 3).slice(1).map((b) => b.length);
      if (!sizes.includes(died.length)) problems.push(`${died.length} hosts ended BucketDied, expected one of ${sizes.join(", ")}`);
      if (ok.length !== names.length - died.length) problems.push(`${ok.length} hosts ok, expected ${names.length - died.length}`);
      if (died.length && !/exited \(SIGKILL\)/.test("error" in died[0]![1] ? died[0]![1].error.message : "")) problems.push("the BucketDied reason does not say how the worker died");
      if (r.code !== 2) problems.push(`exit ${r.code}, expected 2 (some error)`);
      if (r.ms > 2000 + PROMPT_SLACK_MS) problems.push(`took ${secs(r.ms)}`);
      return { tries: 1, outcome: `${outcomesLine(checked.hosts)} (BucketDied x${died.length}) in ${secs(r.ms)}, exit ${r.code}`, problems };
    },
  },
  {
    name: "the overlord killed mid-call",
    run: async ({ fleet }) => {
      const pids = fleet.pidsOf(fleet.minions.map((_, i) => i));
      const fdsBefore = new Map(pids.map((p) => [p, fdCount(p) ?? 0]));
      const call = startFunc(fleet.home, ["*", "call", "test", "sleep", "30", "--forks", "3", "--timeout", "60"]);
      const workers = await waitForChildren(call.child.pid!, 2, 5000);
      await sleep(1000);
      call.child.kill("SIGKILL");
      await call.done;
      const problems: string[] = [];
      const started = Date.now();
      const lingering = await settle(() => workers.filter(alive).length, 0, 5000);
      const workersGoneMs = Date.now() - started;
      if (lingering) problems.push(`${lingering} bucket worker(s) outlived the killed overlord by ${secs(workersGoneMs)}`);
      for (const w of workers.filter(alive)) process.kill(w, "SIGKILL");
      // the minions notice the callers are gone: the sleeps are aborted and their sockets closed
      for (const p of pids) {
        const after = await settle(() => fdCount(p), fdsBefore.get(p)!, 8000);
        if (after !== null && after > fdsBefore.get(p)!) problems.push(`funcd ${p} holds ${after - fdsBefore.get(p)!} more fds after the overlord died`);
      }
      return { tries: 1, outcome: `${workers.length} bucket workers gone ${secs(workersGoneMs)} after the kill; minion sockets released in ${secs(Date.now() - started)}`, problems };
    },
  },
];

/** Runs one fault case on `fleet` and checks that the whole fleet serves again afterwards, with no zombies. */
export async function runFaultCase(c: FaultCase, env: FaultEnv): Promise<Row> {
  const { fleet } = env;
  const problems: string[] = [];
  for (let i = 0; i < fleet.minions.length; i++) {
    if (!(await fleet.answers(i, 15_000))) problems.push(`${fleet.minion(i).name} did not answer before the case`);
  }
  const rssBefore = new Map(fleet.minions.map((m, i) => [i, rssKib(m.pid)]));
  let result: FaultResult;
  try {
    result = await c.run(env);
  } catch (err) {
    result = { tries: 0, outcome: "crashed", problems: [`the case itself threw: ${(err as Error).stack ?? String(err)}`] };
  }
  problems.push(...result.problems);
  const up = await fleet.checkAfterCase(problems);
  const mine = await settle(() => zombies(process.pid), 0, 3000);
  if (mine) problems.push(`the campaign process has ${mine} zombie children`);
  const victim = result.victim ?? 0;
  return {
    group: "fault",
    name: c.name,
    tries: result.tries,
    outcome: result.outcome,
    up,
    rssBeforeKib: rssBefore.get(victim) ?? null,
    rssAfterKib: rssKib(fleet.minion(victim).pid),
    rssPeakKib: null,
    held: problems.length === 0,
    problems,
  };
}
