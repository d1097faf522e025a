// `func <spec> copyfile LOCAL REMOTE` and `func <spec> getfile REMOTE DIR`, with Func's spellings too
// (`copyfile -f/--file LOCAL --remotepath REMOTE`, `getfile -r/--remotesource FILE -l/--localdir DIR`):
// their own small option table (here -f is --file, not --forks), progress on stderr, results as a call's.

import yargsParser from "yargs-parser";
import type { Options } from "yargs";
import { FuncError, type HostResult } from "@func/shared";
import { Overlord, type OverlordOptions } from "../call/overlord.js";
import { pullFile } from "../files/pull-file.js";
import { pushFile } from "../files/push-file.js";
import type { TransferProgress } from "../files/transfer.js";
import { printResults, type Io, type OutputOptions } from "./call.js";

export const FILE_ACTIONS = ["copyfile", "getfile"] as const;
export type FileAction = (typeof FILE_ACTIONS)[number];

/** Options of copyfile and getfile, besides the global ones (whose -f alias they take over). */
export const FILE_OPTIONS = {
  file: { alias: "f", type: "string", describe: "copyfile: the local file (Func's spelling)" },
  remotepath: { type: "string", describe: "copyfile: the remote path; ending in / means into that directory" },
  remotesource: { alias: "r", type: "string", describe: "getfile: the remote file" },
  localdir: { alias: "l", type: "string", describe: "getfile: where <host>/<name> go" },
  mode: { type: "string", describe: "copyfile: remote permission bits in octal (default: the local file's, without setuid/setgid)" },
  owner: { type: "string", describe: "copyfile: remote owner (name or id; default: the replaced file's)" },
  group: { type: "string", describe: "copyfile: remote group (name or id)" },
  "max-size": { type: "string", describe: "getfile: largest file accepted per host (e.g. 500M, 2G; default 64G)" },
  progress: { type: "boolean", describe: "show transfer progress on stderr (default: when stderr is a terminal)" },
} as const satisfies Record<string, Options>;

export interface FileInvocation {
  target: string;
  action: FileAction;
  /** copyfile: local file; getfile: remote file */
  from: string;
  /** copyfile: remote path; getfile: local directory */
  to: string;
  mode?: number;
  owner?: string;
  group?: string;
  maxBytes?: number;
  progress?: boolean;
  /** the global options, as main.ts reads them */
  globals: Record<string, unknown>;
}

const SIZE_RE = /^(\d+)([kmgt]?)i?b?$/i;

function parseSize(text: string): number {
  const m = SIZE_RE.exec(text.trim());
  if (!m) throw new FuncError("UsageError", `--max-size ${JSON.stringify(text)} is not a size (e.g. 500M, 2G)`);
  return Number(m[1]) * 1024 ** " kmgt".indexOf((m[2] || " ").toLowerCase());
}

/**
 * Parses a copyfile or getfile command line with the global options plus FILE_OPTIONS (`-f` meaning --file);
 * null when the line is not one (or asks for help), so main.ts parses it as before.
 */
export function parseFileInvocation(argv: readonly string[], globals: Record<string, Options>): FileInvocation | null {
  const tables = { ...Object.fromEntries(Object.entries(globals).map(([k, o]) => [k, k === "forks" ? { ...o, alias: undefined } : o])), ...FILE_OPTIONS };
  const parserOpts: yargsParser.Options = { alias: { help: ["h"] }, boolean: ["help"], number: [], string: [], configuration: { "unknown-options-as-args": true, "populate--": true, "parse-positional-numbers": false } };
  for (const [name, o] of Object.entries(tables) as [string, Options][]) {
    if (o.alias) parserOpts.alias![name] = [String(o.alias)];
    if (o.type === "boolean") parserOpts.boolean!.push(name);
    if (o.type === "number") parserOpts.number!.push(name);
    if (o.type === "string") parserOpts.string!.push(name);
  }
  const a = yargsParser([...argv], parserOpts);
  const [target, action, ...rest] = [...a._.map(String), ...(a["--"] ?? []).map(String)];
  if (a.help || target === undefined || !(FILE_ACTIONS as readonly string[]).includes(action ?? "")) return null;
  const unknown = rest.find((r) => r.startsWith("-") && r.length > 1);
  if (unknown) throw new FuncError("UsageError", `unknown option ${JSON.stringify(unknown)} for ${action} (see func --help)`);
  const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);
  const [first, second] = action === "copyfile" ? [str(a.file), str(a.remotepath)] : [str(a.remotesource), str(a.localdir)];
  const words = [...rest];
  const from = first ?? words.shift();
  const to = second ?? words.shift();
  if (!from || !to || words.length > 0) {
    throw new FuncError(
      "UsageError",
      action === "copyfile"
        ? 'copyfile needs a local file and a remote path, e.g. func "web*" copyfile ./motd /etc/motd (or -f ./motd --remotepath /etc/)'
        : 'getfile needs a remote file and a local directory, e.g. func "web*" getfile /etc/motd ./collected (or -r /etc/motd -l ./collected)',
    );
  }
  let mode: number | undefined;
  if (a.mode !== undefined) {
    if (!/^0?[0-7]{1,4}$/.test(String(a.mode))) throw new FuncError("UsageError", `--mode ${JSON.stringify(String(a.mode))} is not an octal mode (e.g. 0644)`);
    mode = parseInt(String(a.mode), 8);
  }
  const globalValues: Record<string, unknown> = {};
  for (const name of Object.keys(globals)) if (a[name] !== undefined) globalValues[name] = a[name];
  return {
    target,
    action: action as FileAction,
    from,
    to,
    ...(mode !== undefined ? { mode } : {}),
    ...(str(a.owner) ? { owner: str(a.owner)! } : {}),
    ...(str(a.group) ? { group: str(a.group)! } : {}),
    ...(a["max-size"] !== undefined ? { maxBytes: parseSize(String(a["max-size"])) } : {}),
    ...(typeof a.progress === "boolean" ? { progress: a.progress } : {}),
    globals: globalValues,
  };
}

const MIB = 1024 * 1024;
/** Least time between two progress lines, ms. */
const PROGRESS_EVERY_MS = 250;

function progressLine(io: Io, action: FileAction): { update: (p: TransferProgress) => void; clear: () => void } {
  let last = 0;
  let drawn = false;
  return {
    update(p) {
      const now = performance.now();
      // every host is done: the results follow
      if (p.hosts === 0 || now - last < PROGRESS_EVERY_MS) return;
      last = now;
      drawn = true;
      // hosts go at their own pace: the slowest one still going sets the figure, all of them the rate
      const pct = p.total > 0 ? Math.floor((p.bytes / p.total) * 100) : 100;
      const rate = p.elapsedMs > 0 ? p.moved / MIB / (p.elapsedMs / 1000) : 0;
      io.err(`\r\x1b[K${action}: ${(p.bytes / MIB).toFixed(1)}/${(p.total / MIB).toFixed(1)} MiB (${pct}%), ${p.hosts} host(s) going, ${rate.toFixed(1)} MiB/s`);
    },
    clear() {
      if (drawn) io.err("\r\x1b[K");
    },
  };
}

/** Runs a parsed copyfile/getfile; resolves to the exit code the hosts' outcomes add up to. */
export async function fileCommand(inv: FileInvocation, opts: OverlordOptions, out: OutputOptions, io: Io, stderrIsTty: boolean): Promise<number> {
  // a transfer is many calls to the same hosts: keep the connections between chunks
  const overlord = new Overlord(inv.target, { ...opts, keepAlive: true });
  const progress = (inv.progress ?? stderrIsTty) ? progressLine(io, inv.action) : null;
  try {
    const total = overlord.hosts().length;
    const onProgress = progress ? { onProgress: progress.update } : {};
    // the transfer runs inside the stream printResults reads, so its summary times the whole transfer
    async function* transfer(): AsyncGenerator<{ host: string; result: HostResult }> {
      const results =
        inv.action === "copyfile"
          ? await pushFile(overlord, inv.from, inv.to, {
              ...(inv.mode !== undefined ? { mode: inv.mode } : {}),
              ...(inv.owner !== undefined ? { owner: inv.owner } : {}),
              ...(inv.group !== undefined ? { group: inv.group } : {}),
              ...onProgress,
            })
          : await pullFile(overlord, inv.from, inv.to, { ...(inv.maxBytes !== undefined ? { maxBytes: inv.maxBytes } : {}), ...onProgress });
      progress?.clear();
      for (const [host, result] of Object.entries(results)) yield { host, result };
    }
    return await printResults(transfer(), total, { ...out, progress: false }, io);
  } finally {
    progress?.clear();
    await overlord.close();
  }
}
