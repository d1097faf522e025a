// Test helper: func installed the way an operator installs it: `npm pack --workspaces`, then `npm install -g`
// of the tarballs (or of the checkout) into a temporary prefix; and the bins every package.json declares.

import { spawn } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { REPO, type RunResult } from "./fleet.js";

/** The workspaces, as the root package.json lists them. */
export const WORKSPACES: readonly string[] = (JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as { workspaces: string[] }).workspaces;

/** The flags every install in the tests and the guide uses: lmdb's install script only looks for the prebuilt binary it ships. */
export const INSTALL_FLAGS = ["--ignore-scripts", "--no-audit", "--no-fund"] as const;

interface PackageJson {
  name: string;
  version: string;
  bin?: Record<string, string>;
  engines?: { node?: string };
}

export function packageJson(dir: string): PackageJson {
  return JSON.parse(readFileSync(join(REPO, dir, "package.json"), "utf8")) as PackageJson;
}

/** Every command the packages install, name -> path from the repository root. */
export function workspaceBins(): Record<string, string> {
  const bins: Record<string, string> = {};
  for (const ws of WORKSPACES) for (const [name, file] of Object.entries(packageJson(ws).bin ?? {})) bins[name] = join(ws, file);
  return bins;
}

/** Runs a command (not a node script) with the given environment; never throws for a non-zero exit. */
export function run(cmd: string, args: readonly string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd ?? REPO, env: opts.env ?? process.env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 300_000);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : -1), stdout, stderr });
    });
  });
}

/** `npm pack --workspaces` into `dir` (the build must have run); the tarballs' paths, shared first. */
export async function packWorkspaces(dir: string): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const r = await run("npm", ["pack", "--workspaces", "--json", "--pack-destination", dir]);
  if (r.code !== 0) throw new Error(`npm pack failed: ${r.stderr}`);
  return (JSON.parse(r.stdout) as { filename: string }[]).map((p) => join(dir, p.filename));
}

/**
 * `npm install -g` into `prefix` (tarballs or a directory): from npm's cache alone first (`npm install` of the
 * checkout filled it; tests run in network namespaces with only loopback), else from the registry.
 */
export async function installGlobal(prefix: string, specs: readonly string[]): Promise<RunResult> {
  const cached = await run("npm", ["install", "-g", ...INSTALL_FLAGS, "--offline", "--prefix", prefix, ...specs]);
  if (cached.code === 0 || !/ENOTCACHED/.test(cached.stderr)) return cached;
  return run("npm", ["install", "-g", ...INSTALL_FLAGS, "--prefer-offline", "--fetch-retries", "0", "--prefix", prefix, ...specs]);
}

/** npm could not reach the registry for a package its cache lacks (a network namespace with only loopback). */
export function offline(r: RunResult): boolean {
  return r.code !== 0 && /ENOTCACHED|EAI_AGAIN|ENOTFOUND|ENETUNREACH|ECONNREFUSED/.test(r.stderr);
}

/** An environment whose PATH starts with the prefix's bin and holds the node that runs the tests. */
export function prefixEnv(prefix: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { ...process.env, NO_COLOR: "1", PATH: `${join(prefix, "bin")}:${dirname(process.execPath)}:/usr/bin:/bin`, ...extra };
}
