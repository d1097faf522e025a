// Async faults (issue 6): the minion job store on a full disk, a corrupt or truncated LMDB file (minion and
// overlord stores), and the overlord killed while polling. They talk to funcd on the wire and to the overlord
// through the real CLI. Until async jobs are on main they report "not run" (never a pass).

import { execFileSync } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, truncateSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { FAULT, encodeCall, issueCert, type HostResult } from "@func/shared";
import { MODULES } from "@func/minion";
import { CAMPAIGN_ASYNC_JOBS_PER_IDENTITY, type CampaignFleet } from "./campaign-fleet.js";
import { secs, tally, type Row } from "./case.js";
import { checkOneOutcomeEach, startFunc } from "./fault-cases.js";
import { alive, rssKib } from "./observe.js";
import { rawCall, type Reply } from "./probe.js";

export interface AsyncEnv {
  fleet: CampaignFleet;
  quick: boolean;
}

export interface AsyncResult {
  tries: number;
  outcome: string;
  problems: string[];
  /** set when the case could not run here (e.g. mount refused), with the reason */
  notRun?: string;
}

export interface AsyncFaultCase {
  name: string;
  run(env: AsyncEnv): Promise<AsyncResult>;
}

/** The LMDB data file inside a store directory. */
const DATA_FILE = "data.mdb";
/** Size of the tmpfs that plays a full disk. */
const TMPFS_SIZE = "1m";
/** How long funcd must stay up after meeting a damaged store to count as "not a crash loop", ms. */
const STAYS_UP_MS = 3000;

/** Whether this build has async jobs (a `jobs` module on the minion). */
export function asyncAvailable(): boolean {
  return MODULES.some((m) => m.name === "jobs");
}

const asyncCall = (method: string, params: unknown[] = []) => ({ body: encodeCall(`async.${method}`, params) });
const call = (method: string, params: unknown[] = []) => ({ body: encodeCall(method, params) });

function label(r: Reply): string {
  return r.kind === "fault" ? `fault ${r.code}` : r.kind === "http" ? `HTTP ${r.status}` : r.kind;
}

/** Starts a few async jobs on minion 0 and waits until they are finished, so its store holds real records. */
async function fillStore(fleet: CampaignFleet, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const r = await rawCall(fleet.target(0), fleet.overlord, asyncCall("test.echo", [{ i, text: "y".repeat(2000) }]));
    if (r.kind === "ok" && typeof r.value === "string") ids.push(r.value);
  }
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const open = await Promise.all(ids.map((id) => rawCall(fleet.target(0), fleet.overlord, call("jobs.job_status", [id]))));
    if (open.every((r) => r.kind === "ok" && Array.isArray(r.value) && r.value[0] !== 0)) break;
    await sleep(200);
  }
  return ids;
}

function mount(dir: string): string | null {
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", `size=${TMPFS_SIZE}`, "tmpfs", dir], { stdio: "pipe" });
    return null;
  } catch (err) {
    return `mount -t tmpfs refused: ${((err as { stderr?: Buffer }).stderr?.toString() ?? (err as Error).message).trim()}`;
  }
}

/** Unmounts, waiting for detached job runners (which hold the store open) to be gone. */
async function unmount(dir: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (true) {
    try {
      execFileSync("umount", [dir], { stdio: "pipe" });
      return;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`umount ${dir}: ${(err as Error).message}`);
      await sleep(200);
    }
  }
}

/** Fills a file system until it has no space left; returns the filler file. */
function fillDisk(dir: string): string {
  const filler = join(dir, "campaign-filler");
  const fd = openSync(filler, "w");
  const chunk = Buffer.alloc(4096, 0x55);
  try {
    for (;;) writeSync(fd, chunk);
  } catch {
    // ENOSPC: full
  } finally {
    closeSync(fd);
  }
  return filler;
}

/** Damages a store's data file the way `how` says, with funcd (or nobody) holding it. */
function damage(file: string, how: "corrupt" | "truncate"): void {
  if (how === "truncate") {
    truncateSync(file, Math.floor(statSync(file).size / 2));
    return;
  }
  const fd = openSync(file, "r+");
  try {
    writeSync(fd, Buffer.alloc(8192, 0xa5), 0, 8192, 0);
  } finally {
    closeSync(fd);
  }
}

/** The damaged-store case for one kind of damage, against both the minion's and the overlord's store. */
function damagedStoreCase(how: "corrupt" | "truncate"): AsyncFaultCase {
  return {
    name: how === "corrupt" ? "corrupt LMDB file (minion and overlord stores)" : "truncated LMDB file (minion and overlord stores)",
    async run({ fleet }) {
      const problems: string[] = [];
      const notes: string[] = [];
      // the minion store
      await fillStore(fleet, 20);
      const storeDir = fleet.minionPaths(0).minionJobsDir;
      const file = join(storeDir, DATA_FILE);
      const pid = await fleet.terminate(0);
      damage(file, how);
      let up = true;
      try {
        await fleet.restart(pid);
      } catch {
        up = false;
        problems.push(`funcd does not come up with a ${how === "corrupt" ? "corrupt" : "truncated"} job store (it would crash-loop under systemd)`);
      }
      if (up) {
        const newPid = fleet.minion(0).pid;
        const r = await rawCall(fleet.target(0), fleet.overlord, asyncCall("test.ping"));
        notes.push(`async call: ${label(r)}`);
        if (r.kind !== "fault") problems.push(`an async call against the damaged store answered ${label(r)}, expected a fault`);
        else {
          if (!r.text.includes(file)) problems.push(`the fault does not name ${file}: ${r.text.slice(0, 200)}`);
          if (!/mv /.test(r.text)) problems.push(`the fault does not say how to recover: ${r.text.slice(0, 200)}`);
        }
        const ping = await rawCall(fleet.target(0), fleet.overlord, call("test.ping"));
        if (ping.kind !== "ok") problems.push(`sync calls stopped working: ${label(ping)}`);
        await sleep(STAYS_UP_MS);
        if (!alive(newPid)) problems.push("funcd died after meeting the damaged store");
        // the recovery the message gives, without restarting funcd
        renameSync(file, `${file}.damaged`);
        const again = await rawCall(fleet.target(0), fleet.overlord, asyncCall("test.ping"));
        notes.push(`after mv: ${label(again)}`);
        if (again.kind !== "ok") problems.push(`after moving the file aside, async calls still fail: ${label(again)}`);
      } else {
        // leave the minion usable for the rest of the campaign
        renameSync(file, `${file}.damaged`);
        await fleet.restart(fleet.minion(0).pid).catch(() => undefined);
      }

      // the overlord store
      const job = await startFunc(fleet.home, ["*", "call", "--async", "test", "ping", "--json"]).done;
      if (job.code !== 0) problems.push(`func call --async before the damage: exit ${job.code}: ${job.stderr.slice(-200)}`);
      const overlordFile = join(fleet.paths.jobsDir, DATA_FILE);
      if (!existsSync(overlordFile)) problems.push(`no overlord store at ${overlordFile}`);
      else {
        damage(overlordFile, how);
        const list = await startFunc(fleet.home, ["job", "list"]).done;
        notes.push(`func job list: exit ${list.code}`);
        if (list.code !== 1) problems.push(`func job list on the damaged store exited ${list.code}${list.code > 128 ? " (killed by a signal)" : ""}, expected 1`);
        if (!list.stderr.includes(overlordFile) || !/mv /.test(list.stderr)) problems.push(`func job list does not name the file and the way out: ${list.stderr.slice(-300)}`);
        renameSync(overlordFile, `${overlordFile}.damaged`);
        const after = await startFunc(fleet.home, ["job", "list"]).done;
        if (after.code !== 0) problems.push(`func job list after mv: exit ${after.code}`);
      }
      return { tries: 2, outcome: notes.join("; "), problems };
    },
  };
}

/** Issue 10 item 11: async rights are granted as such, and one identity holds at most its share of the cap. */
const ASYNC_SHARE_CASE: AsyncFaultCase = {
  name: "async rights and one identity's share of max_async_jobs",
  async run({ fleet }) {
    const problems: string[] = [];
    const p = fleet.paths;
    const ca = { keyPem: readFileSync(p.caKey, "utf8"), certPem: readFileSync(p.caCert, "utf8") };
    const ident = async (cn: string) => {
      const pair = await issueCert(ca, { commonName: cn, role: "user", dnsNames: [cn] });
      return { key: pair.keyPem, cert: pair.certPem, ca: ca.certPem };
    };
    const syncOnly = await ident("campaign-sync-ops");
    const asyncOps = await ident("campaign-async-ops");
    const aclDir = fleet.minionPaths(0).aclDir;
    mkdirSync(aclDir, { recursive: true });
    writeFileSync(join(aclDir, "campaign-shares.acl"), "campaign-sync-ops = test.*\ncampaign-async-ops = test.*, async.test.*\n");
    // funcd looks at acl.d at most once a second
    await sleep(1500);
    const labels: string[] = [];
    const denied = await rawCall(fleet.target(0), syncOnly, asyncCall("test.ping"));
    labels.push(`test.* calling async.test.ping: ${label(denied)}`);
    if (!(denied.kind === "fault" && denied.code === FAULT.ACCESS_DENIED)) problems.push(`test.* rights started an async job: ${label(denied)}`);
    const started: Reply[] = [];
    for (let i = 0; i <= CAMPAIGN_ASYNC_JOBS_PER_IDENTITY; i++) started.push(await rawCall(fleet.target(0), asyncOps, asyncCall("test.sleep", [3])));
    const over = started.at(-1)!;
    labels.push(`async.test.sleep x${started.length}: ${tally(started.map(label))}`);
    if (started.slice(0, -1).some((r) => r.kind !== "ok")) problems.push(`jobs within the share were refused: ${tally(started.map(label))}`);
    if (!(over.kind === "fault" && over.code === FAULT.LIMIT_EXCEEDED)) problems.push(`the job past the share got ${label(over)}, expected fault ${FAULT.LIMIT_EXCEEDED}`);
    const overlord = await rawCall(fleet.target(0), fleet.overlord, asyncCall("test.ping"));
    labels.push(`the overlord meanwhile: ${label(overlord)}`);
    if (overlord.kind !== "ok") problems.push(`the overlord's async call got ${label(overlord)}`);
    rmSync(join(aclDir, "campaign-shares.acl"), { force: true });
    // the next case finds no runner of this one still going
    const ids = [...started, overlord].flatMap((r) => (r.kind === "ok" && typeof r.value === "string" ? [r.value] : []));
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      const open = await Promise.all(ids.map((id) => rawCall(fleet.target(0), fleet.overlord, call("jobs.job_status", [id]))));
      if (open.every((r) => r.kind === "ok" && Array.isArray(r.value) && r.value[0] !== 0)) break;
      await sleep(200);
    }
    return { tries: started.length + 2, outcome: labels.join("; "), problems };
  },
};

export const ASYNC_FAULT_CASES: readonly AsyncFaultCase[] = [
  {
    name: "minion job store on a full disk (tmpfs)",
    async run({ fleet }) {
      const problems: string[] = [];
      const storeDir = fleet.minionPaths(0).minionJobsDir;
      const pid = await fleet.terminate(0);
      rmSync(storeDir, { recursive: true, force: true });
      mkdirSync(storeDir, { recursive: true, mode: 0o700 });
      const refused = mount(storeDir);
      if (refused) {
        await fleet.restart(pid);
        return { tries: 0, outcome: "not run", problems: [], notRun: refused };
      }
      try {
        await fleet.restart(pid);
        const newPid = fleet.minion(0).pid;
        const first = await rawCall(fleet.target(0), fleet.overlord, asyncCall("test.ping"));
        if (first.kind !== "ok") problems.push(`the first async call (disk not full yet) answered ${label(first)}`);
        const filler = fillDisk(storeDir);
        const tries = 20;
        const labels: string[] = [];
        for (let i = 0; i < tries; i++) {
          const r = await rawCall(fleet.target(0), fleet.overlord, asyncCall("test.echo", ["x".repeat(20_000)]));
          labels.push(label(r));
          if (r.kind !== "fault") problems.push(`async call ${i} on a full disk answered ${label(r)}, expected a fault`);
        }
        // through the overlord: the full minion is `error`, the other `ok`, each once
        const cli = await startFunc(fleet.home, ["*", "call", "--async", "test", "ping", "--json"]).done;
        const checked = checkOneOutcomeEach(cli.stdout, fleet.minions.map((m) => m.name));
        problems.push(...checked.problems);
        const full = checked.hosts[fleet.minion(0).name];
        if (full && full.outcome !== "error") problems.push(`func call --async: the full minion is ${full.outcome}, expected error`);
        for (const [h, r] of Object.entries(checked.hosts)) if (h !== fleet.minion(0).name && r.outcome !== "ok") problems.push(`${h}: ${r.outcome}`);
        const ping = await rawCall(fleet.target(0), fleet.overlord, call("test.ping"));
        if (ping.kind !== "ok") problems.push(`sync calls fail on a full job-store disk: ${label(ping)}`);
        if (!alive(newPid)) problems.push("funcd died on a full disk");
        rmSync(filler);
        const again = await rawCall(fleet.target(0), fleet.overlord, asyncCall("test.ping"));
        if (again.kind !== "ok") problems.push(`with space again, async calls still fail: ${label(again)}`);
        return {
          tries: tries + 1,
          outcome: `${tally(labels)} while full; func --async: ${tally(Object.values(checked.hosts).map((r: HostResult) => r.outcome))}; sync ${label(ping)}; freed: ${label(again)}`,
          problems,
        };
      } finally {
        const p = await fleet.terminate(0);
        await unmount(storeDir);
        await fleet.restart(p);
      }
    },
  },
  damagedStoreCase("corrupt"),
  damagedStoreCase("truncate"),
  {
    name: "the overlord killed while polling",
    async run({ fleet }) {
      const problems: string[] = [];
      const names = fleet.minions.map((m) => m.name);
      const sleepS = 2;
      const started = Date.now() / 1000;
      const polling = startFunc(fleet.home, ["*", "call", "--async", "test", "sleep", String(sleepS)]);
      // the job id is on stderr once the job is stored and dispatched; kill while it polls
      let id: string | undefined;
      let stderr = "";
      polling.child.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
      const deadline = Date.now() + 15_000;
      while (!id && Date.now() < deadline) {
        id = /job (\S+) started/.exec(stderr)?.[1];
        await sleep(50);
      }
      await sleep(500);
      polling.child.kill("SIGKILL");
      await polling.done;
      if (!id) return { tries: 1, outcome: "no job id printed", problems: [`func call --async printed no job id: ${stderr.slice(-200)}`] };
      const wait = await startFunc(fleet.home, ["job", "wait", id, "--json", "--timeout", "30"]).done;
      const checked = checkOneOutcomeEach(wait.stdout, names);
      problems.push(...checked.problems);
      for (const [h, r] of Object.entries(checked.hosts)) {
        if (r.outcome !== "ok") problems.push(`${h}: ${r.outcome}${"error" in r ? ` (${r.error.message.slice(0, 100)})` : ""}`);
        else if (typeof r.value !== "number" || r.value < started + sleepS - 1) problems.push(`${h}: value ${JSON.stringify(r.value)} is not the time the sleep woke`);
      }
      if (wait.code !== 0) problems.push(`func job wait exited ${wait.code}`);
      // nothing ran twice: each minion holds exactly one job for this overlord job
      for (let i = 0; i < fleet.minions.length; i++) {
        const r = await rawCall(fleet.target(i), fleet.overlord, call("jobs.list"));
        const mine = r.kind === "ok" && Array.isArray(r.value) ? (r.value as { overlord_job?: string }[]).filter((j) => j.overlord_job === id) : [];
        if (mine.length !== 1) problems.push(`${fleet.minion(i).name} holds ${mine.length} jobs for ${id}, expected 1`);
      }
      return { tries: 1, outcome: `killed while polling; func job wait: ${tally(Object.values(checked.hosts).map((r) => r.outcome))}, exit ${wait.code}`, problems };
    },
  },
  ASYNC_SHARE_CASE,
];

/** Runs one async fault case and checks the fleet serves again afterwards, with no zombies. */
export async function runAsyncFaultCase(c: AsyncFaultCase, env: AsyncEnv): Promise<Row> {
  const { fleet } = env;
  const problems: string[] = [];
  const rssBefore = rssKib(fleet.minion(0).pid);
  let result: AsyncResult;
  const started = performance.now();
  try {
    result = await c.run(env);
  } catch (err) {
    result = { tries: 0, outcome: "crashed", problems: [`the case itself threw: ${(err as Error).stack ?? String(err)}`] };
  }
  problems.push(...result.problems);
  const up = await fleet.checkAfterCase(problems);
  return {
    group: "fault",
    name: c.name,
    tries: result.tries,
    outcome: result.notRun ? "not run" : `${result.outcome} (${secs(performance.now() - started)})`,
    up,
    rssBeforeKib: rssBefore,
    rssAfterKib: rssKib(fleet.minion(0).pid),
    rssPeakKib: null,
    held: problems.length === 0 && !result.notRun,
    ...(result.notRun ? { notRun: result.notRun } : {}),
    problems,
  };
}
