// func-inventory: runs every module's inventory() on every matched host through the Overlord, writes
// <state>/inventory/<host>/<module>.json and commits the run to git; --diff shows per host what changed.

import { existsSync } from "node:fs";
import { join } from "node:path";
import { SIGNATURES, exitCodeFor, type HostResult, type Outcome } from "@func/shared";
import { Overlord, type OverlordOptions } from "../call/overlord.js";
import { changeLines } from "./inventory-diff.js";
import { commitRun, git, inventoryDir, openRepo, writeSnapshot } from "./inventory-repo.js";

/** The modules func-inventory snapshots: every built-in one with an inventory() method. */
export const INVENTORY_MODULES: readonly string[] = SIGNATURES.filter((m) => Object.hasOwn(m.methods, "inventory")).map((m) => m.name);

export interface InventoryRun {
  commit: string;
  hosts: number;
  /** host -> module -> what went wrong (the module's file keeps its previous snapshot) */
  failures: Record<string, Record<string, string>>;
  exitCode: number;
}

/** Snapshots every host the spec matches; one commit for the whole run. */
export async function runInventory(spec: string, opts: OverlordOptions): Promise<InventoryRun> {
  const overlord = new Overlord(spec, opts);
  try {
    const hosts = overlord.hosts();
    const dir = await openRepo(overlord.paths);
    const failures: Record<string, Record<string, string>> = {};
    const outcomes: Outcome[] = [];
    for (const module of INVENTORY_MODULES) {
      const results: Record<string, HostResult> = await overlord.call(module, "inventory");
      for (const [host, r] of Object.entries(results)) {
        outcomes.push(r.outcome);
        if (r.outcome === "ok") writeSnapshot(dir, host, module, r.value);
        else (failures[host] ??= {})[module] = `${r.outcome}: ${r.error.message}`;
      }
    }
    const commit = await commitRun(dir, `func-inventory ${new Date().toISOString()} ${spec} (${hosts.length} hosts)`);
    return { commit, hosts: hosts.length, failures, exitCode: exitCodeFor(outcomes) };
  } finally {
    await overlord.close();
  }
}

/** The commit `since` names: a revision, or a date git understands ("2026-12-01", "3 days ago"); default the run before the last. */
async function resolveSince(dir: string, since: string | undefined): Promise<string> {
  if (since === undefined) {
    const revs = (await git(dir, ["rev-list", "--max-count=2", "HEAD"])).trim().split("\n");
    return revs[1] ?? revs[0]!;
  }
  try {
    return (await git(dir, ["rev-parse", "--verify", "--quiet", `${since}^{commit}`])).trim();
  } catch {
    const rev = (await git(dir, ["rev-list", "-1", `--before=${since}`, "HEAD"])).trim();
    if (rev) return rev;
    // before the first run: everything is new
    return (await git(dir, ["rev-list", "--max-parents=0", "HEAD"])).trim().split("\n")[0]!;
  }
}

async function fileAt(dir: string, rev: string, path: string): Promise<unknown> {
  try {
    return JSON.parse(await git(dir, ["show", `${rev}:${path}`])) as unknown;
  } catch {
    return undefined;
  }
}

/** Per host, per module, what changed from `since` to the last run: `host -> module -> lines`. */
export async function inventoryDiff(opts: OverlordOptions, since?: string, spec = "*"): Promise<Record<string, Record<string, string[]>>> {
  const overlord = new Overlord(spec, opts);
  const dir = inventoryDir(overlord.paths);
  if (!existsSync(join(dir, ".git"))) return {};
  const wanted = spec === "*" ? undefined : new Set(overlord.hosts());
  const from = await resolveSince(dir, since);
  const changed = (await git(dir, ["diff", "--name-only", from, "HEAD"])).split("\n").filter((p) => /^[^/]+\/[^/]+\.json$/.test(p));
  const out: Record<string, Record<string, string[]>> = {};
  for (const path of changed.sort()) {
    const [host, file] = path.split("/") as [string, string];
    if (wanted && !wanted.has(host)) continue;
    const before = await fileAt(dir, from, path);
    const now = await fileAt(dir, "HEAD", path);
    const lines = before === undefined ? ["+ first snapshot"] : now === undefined ? ["- no longer snapshotted"] : changeLines(before, now);
    if (lines.length) (out[host] ??= {})[file.replace(/\.json$/, "")] = lines;
  }
  return out;
}
