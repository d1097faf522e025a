// The inventory repository: <state>/inventory, a real git repository holding <host>/<module>.json, one
// commit per func-inventory run. git runs without a shell, with its own identity and no user config.

import { execFile } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { FuncError, writeFileAtomic, type HomePaths } from "@func/shared";

/** git answers at once on a repository this size; a hung one is an error, not a hung CLI. */
const GIT_TIMEOUT_MS = 60_000;
const GIT_MAX_BUFFER = 256 * 1024 * 1024;

export function inventoryDir(paths: HomePaths): string {
  return join(paths.stateDir, "inventory");
}

/** Runs git in the repository; a failure is a FuncError naming what git said. */
export function git(dir: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null", LC_ALL: "C" };
    execFile("git", ["-C", dir, "-c", "user.name=func-inventory", "-c", "user.email=func-inventory@localhost", "-c", "core.quotepath=off", ...args], { env, timeout: GIT_TIMEOUT_MS, maxBuffer: GIT_MAX_BUFFER }, (err, stdout, stderr) => {
      if (!err) return resolve(stdout);
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return reject(new FuncError("ConfigError", "func-inventory needs git: install it (apt-get install git)"));
      reject(new FuncError("StoreError", `git ${args[0]}: ${stderr.trim().split("\n")[0] || err.message}`));
    });
  });
}

/** The repository, created on first use. */
export async function openRepo(paths: HomePaths): Promise<string> {
  const dir = inventoryDir(paths);
  if (!existsSync(join(dir, ".git"))) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    await git(dir, ["init", "-q"]);
  }
  return dir;
}

/** JSON with sorted keys, one value per line: git diffs it line by line. */
export function stableJson(value: unknown): string {
  const sort = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sort);
    if (v !== null && typeof v === "object" && !Buffer.isBuffer(v)) {
      return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sort((v as Record<string, unknown>)[k])]));
    }
    return Buffer.isBuffer(v) ? v.toString("utf8") : v;
  };
  return JSON.stringify(sort(value), null, 2) + "\n";
}

export function writeSnapshot(dir: string, host: string, module: string, value: unknown): void {
  writeFileAtomic(join(dir, host, `${module}.json`), stableJson(value));
}

/** Commits everything as one run; returns the commit id. */
export async function commitRun(dir: string, message: string): Promise<string> {
  await git(dir, ["add", "-A"]);
  await git(dir, ["commit", "-q", "--allow-empty", "-m", message]);
  return (await git(dir, ["rev-parse", "HEAD"])).trim();
}
