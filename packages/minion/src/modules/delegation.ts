// The `delegation` module: what makes this minion a sub-overlord (DESIGN section 12). `run` records one share
// of a call and starts `func-delegate` (a program of @func/overlord, found at run time and never imported:
// the minion and the overlord packages stay apart) detached, which fans the share out with this host's own
// overlord identity and appends result lines to run/delegation/<id>.jsonl; `poll` pages those lines back to
// the tier above; `map` answers the tree of leaves this host serves. The job id is the idempotency key.

import { execFile } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import type { HomePaths, MinionConfig, WireValue } from "@func/shared";
import {
  DELEGATION,
  FuncError,
  type ShareRequest,
  MAX_DELEGATION_DEPTH,
  POLL_WAIT_MAX_MS,
  checkLeaves,
  formatPath,
  isJobId,
  pageOf,
  processRunning,
  readMapNode,
  shareFiles,
  spawnDetached,
} from "@func/shared/core";
import { OVERLORD_ROLE } from "../acl.js";
import { implement, type CallContext } from "../registry.js";


/** Per-leaf timeout bounds a share accepts, ms. */
const MIN_TIMEOUT_MS = 100;
const MAX_TIMEOUT_MS = 24 * 60 * 60 * 1000;
/** Between reads of the result file while a poll waits for a new line, ms. */
const POLL_STEP_MS = 50;
/** Longest `delegation.map` waits for func-delegate to ask this host's own minions, ms. */
const MAP_TIMEOUT_MS = 120_000;
/** An async share whose func-delegate died is restarted at most this often, ms. */
const RESPAWN_EVERY_MS = 2000;

/** func-delegate's output (it prints only when something is wrong), under the log dir. */
const DELEGATE_LOG = "delegate.log";

const lastRespawn = new Map<string, number>();
/** Old share files are looked for at most this often (on a `delegation.run`), ms. */
const PURGE_EVERY_MS = 60 * 60 * 1000;
let lastPurge = 0;

/**
 * Removes the files of shares last written more than `retentionS` ago (the minion's job_retention, a week by
 * default: far past any share's end, since an async job's deadline is a day). Returns how many files went.
 */
export function purgeOldShares(paths: HomePaths, retentionS: number, now = Date.now()): number {
  const dir = shareFiles(paths, "x").dir;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return 0;
  }
  let removed = 0;
  for (const name of names) {
    const file = join(dir, name);
    try {
      if (now - statSync(file).mtimeMs > retentionS * 1000) {
        rmSync(file, { force: true });
        removed += 1;
      }
    } catch {
      // gone meanwhile
    }
  }
  for (const id of lastRespawn.keys()) if (!existsSync(shareFiles(paths, id).request)) lastRespawn.delete(id);
  return removed;
}

/** This host holds an overlord identity of its own: without one it has no leaves to call. */
function isSubOverlord(paths: HomePaths): boolean {
  return existsSync(paths.overlordKey) && existsSync(paths.overlordCert);
}

/** The func-delegate program: minion.conf delegate_bin, else the installed @func/overlord's. */
export function delegateBin(config: MinionConfig): string {
  if (config.delegateBin) return config.delegateBin;
  try {
    return fileURLToPath(import.meta.resolve("@func/overlord/func-delegate"));
  } catch {
    throw new FuncError("NoSuchMethod", "this minion cannot delegate: @func/overlord is not installed beside it (or set delegate_bin in minion.conf)");
  }
}

function spawnDelegate(ctx: { config: MinionConfig; paths: HomePaths }, id: string): number {
  const files = shareFiles(ctx.paths, id);
  let pid = 0;
  try {
    // detached: the share outlives a restart of this funcd, as async runners do
    pid = spawnDetached([delegateBin(ctx.config), "run", ctx.paths.configDir, ctx.paths.stateDir, id], { logFile: join(ctx.paths.logDir, DELEGATE_LOG) }).pid;
  } catch {
    // not started: polls find no live process and say so (async: the next poll tries again)
  }
  writeFileSync(files.pid, String(pid), { mode: 0o600 });
  return pid;
}

function readRequest(paths: HomePaths, id: string): ShareRequest | null {
  try {
    return JSON.parse(readFileSync(shareFiles(paths, id).request, "utf8")) as ShareRequest;
  } catch {
    return null;
  }
}

function shareAlive(paths: HomePaths, id: string): boolean {
  try {
    return processRunning(Number(readFileSync(shareFiles(paths, id).pid, "utf8")), id);
  } catch {
    return false;
  }
}

/** The complete lines written so far (a last line without its newline is still being written). */
function readLines(paths: HomePaths, id: string): string[] {
  let text: string;
  try {
    text = readFileSync(shareFiles(paths, id).lines, "utf8");
  } catch {
    return [];
  }
  const end = text.lastIndexOf("\n");
  return end < 0 ? [] : text.slice(0, end).split("\n");
}

function ownName(ctx: CallContext): string {
  return ctx.config.minionName;
}

/** The path below the caller, with this host appended; a path that already holds it is a loop. */
function extendPath(ctx: CallContext): string[] {
  const path = ctx.path ?? [];
  if (path.includes(ownName(ctx))) throw new FuncError("BadArguments", `delegation loop: ${formatPath([...path, ownName(ctx)])}`);
  if (path.length + 1 > MAX_DELEGATION_DEPTH) throw new FuncError("BadArguments", `delegation deeper than ${MAX_DELEGATION_DEPTH} tiers`);
  return [...path, ownName(ctx)];
}

function str(v: WireValue | undefined): string {
  return typeof v === "string" ? v : "";
}

export const delegationModule = implement(
  DELEGATION,
  {
    run: (ctx, id, module, method, args, leaves, opts) => {
      if (!isJobId(id)) throw new FuncError("BadArguments", "delegation.run: not a job id");
      if (module === "delegation") throw new FuncError("BadArguments", "delegation.run: a share may not relay delegation itself");
      if (!isSubOverlord(ctx.paths)) throw new FuncError("NoSuchMethod", `${ownName(ctx)} is not a sub-overlord (no overlord identity in its home)`);
      const timeoutMs = opts.timeout_ms ?? 30_000;
      if (!(timeoutMs >= MIN_TIMEOUT_MS && timeoutMs <= MAX_TIMEOUT_MS)) {
        throw new FuncError("BadArguments", `delegation.run: timeout_ms must be ${MIN_TIMEOUT_MS}..${MAX_TIMEOUT_MS}`);
      }
      if (Date.now() - lastPurge > PURGE_EVERY_MS) {
        lastPurge = Date.now();
        purgeOldShares(ctx.paths, ctx.config.jobRetentionS);
      }
      const files = shareFiles(ctx.paths, id);
      const existing = readRequest(ctx.paths, id);
      if (existing) {
        if (existing.peerCn !== ctx.peerCn && ctx.peerRole !== OVERLORD_ROLE) throw new FuncError("AccessDenied", `share ${id} belongs to another caller`);
        return { id, started: false };
      }
      const request: ShareRequest = {
        id,
        module,
        method,
        args,
        leaves: checkLeaves(leaves),
        timeoutMs,
        async: opts.async === true,
        fold: opts.fold !== false,
        caller: ctx.caller ?? ctx.peerCn,
        path: extendPath(ctx),
        peerCn: ctx.peerCn,
        created: Date.now(),
      };
      mkdirSync(files.dir, { recursive: true, mode: 0o700 });
      try {
        // exclusive: two racing repeats of one id start one share
        writeFileSync(files.request, JSON.stringify(request), { mode: 0o600, flag: "wx" });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "EEXIST") return { id, started: false };
        throw err;
      }
      spawnDelegate(ctx, id);
      return { id, started: true };
    },
    poll: async (ctx, id, cursor, waitMs, asText) => {
      if (!isJobId(id)) throw new FuncError("BadArguments", "delegation.poll: not a job id");
      const request = readRequest(ctx.paths, id);
      if (!request) throw new FuncError("NotFound", `no share ${id} on ${ownName(ctx)}`);
      if (request.peerCn !== ctx.peerCn && ctx.peerRole !== OVERLORD_ROLE) throw new FuncError("AccessDenied", `share ${id} belongs to another caller`);
      const until = Date.now() + Math.max(0, Math.min(waitMs ?? 0, POLL_WAIT_MAX_MS));
      while (true) {
        let alive = shareAlive(ctx.paths, id);
        const page = pageOf(readLines(ctx.paths, id), cursor, alive);
        if (!page.done && !page.alive && request.async && Date.now() - (lastRespawn.get(id) ?? 0) > RESPAWN_EVERY_MS) {
          // an async share's leaves hold their jobs in this host's job store: a new func-delegate resumes it
          lastRespawn.set(id, Date.now());
          spawnDelegate(ctx, id);
          alive = true;
        }
        if (page.texts.length > 0 || page.done || !alive || Date.now() >= until || ctx.signal?.aborted) {
          // as text, the lines go as func-delegate wrote them: the top parses JSON instead of XML structs
          const lines = asText === true ? page.texts : page.texts.map((text) => JSON.parse(text) as WireValue);
          return { lines, cursor: page.cursor, done: page.done, alive: page.alive || alive };
        }
        await sleep(POLL_STEP_MS);
      }
    },
    map: async (ctx) => {
      if (!isSubOverlord(ctx.paths)) return null;
      const path = extendPath(ctx);
      const stdout = await new Promise<string>((resolve, reject) => {
        execFile(
          process.execPath,
          [delegateBin(ctx.config), "map", ctx.paths.configDir, ctx.paths.stateDir, formatPath(path)],
          { encoding: "utf8", timeout: MAP_TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024 },
          (err, out, errOut) => {
            if (err) reject(new FuncError("MethodError", `func-delegate map failed: ${(errOut || err.message).trim().split("\n").pop()}`));
            else resolve(out);
          },
        );
      });
      return readMapNode(JSON.parse(stdout)) as unknown as WireValue;
    },
  },
  {
    // delegation.run is checked as the method it relays, so delegating never widens a caller's rights
    run: (args) => `${str(args[1])}.${str(args[2])}`,
    // who may read a share is decided by who started it, in the method
    poll: () => null,
  },
);
