// The `packages` module: installed packages, through dpkg-query (Debian, Ubuntu) or rpm (RHEL, SUSE),
// whichever the host has; run without a shell, names checked by the signature.

import { FuncError, PACKAGES } from "@func/shared/core";
import { implement } from "../registry.js";
import { firstTool, runTool } from "../tool.js";

interface Pkg {
  [key: string]: string;
  name: string;
  version: string;
  arch: string;
  summary: string;
}

const DPKG_FORMAT = "${Package}\\t${Version}\\t${Architecture}\\t${db:Status-Abbrev}\\t${binary:Summary}\\n";
const RPM_FORMAT = "%{NAME}\\t%{VERSION}-%{RELEASE}\\t%{ARCH}\\tii \\t%{SUMMARY}\\n";

let manager: Promise<"dpkg-query" | "rpm"> | undefined;
function packageManager(): Promise<"dpkg-query" | "rpm"> {
  manager ??= firstTool(["dpkg-query", "rpm"]).then((t) => {
    if (!t) {
      manager = undefined;
      throw new FuncError("MethodError", "packages: neither dpkg-query nor rpm is installed on this host");
    }
    return t as "dpkg-query" | "rpm";
  });
  return manager;
}

/** Installed packages ("ii" in dpkg's status), optionally just one. */
async function query(name?: string): Promise<Pkg[]> {
  const tool = await packageManager();
  const args =
    tool === "dpkg-query"
      ? ["-W", `-f=${DPKG_FORMAT}`, ...(name ? ["--", name] : [])]
      : [...(name ? ["-q"] : ["-qa"]), "--queryformat", RPM_FORMAT, ...(name ? ["--", name] : [])];
  const r = await runTool(tool, args);
  if (r.rc !== 0 && !name) throw new FuncError("MethodError", `${tool}: ${r.stderr.trim().split("\n")[0] ?? `exit ${r.rc}`}`);
  return r.stdout
    .split("\n")
    .map((l) => l.split("\t"))
    .filter((f) => f.length >= 5 && f[3]!.startsWith("ii"))
    .map(([n = "", version = "", arch = "", , summary = ""]) => ({ name: n, version, arch, summary }));
}

async function list(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const p of await query()) out[out[p.name] === undefined ? p.name : `${p.name}:${p.arch}`] = p.version;
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : 1)));
}

export const packagesModule = implement(PACKAGES, {
  list: () => list(),
  info: async (_ctx, name) => {
    const [p] = await query(name);
    if (!p) throw new FuncError("NotFound", `packages: ${name} is not installed`);
    return p;
  },
  installed: async (_ctx, name) => (await query(name)).length > 0,
  inventory: () => list(),
});
