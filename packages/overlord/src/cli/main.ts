// The `func` command line: one place that registers the commands, parses arguments, and maps errors to
// exit codes. Commands are typed async functions that return an exit code; only this file prints errors.
// Plain `func <target> call|ping|...` and `func job status|wait|list|purge` lines are parsed by yargs-parser
// alone (~10 ms to load) with the very option tables yargs gets; help and usage errors load the full yargs
// (~60 ms). Modules only some actions need (async jobs, files) load with those actions.

import yargsParser from "yargs-parser";
import type { Argv, Options } from "yargs";
import { existsSync } from "node:fs";
import { EXIT, FUNC_VERSION, FuncError, parseFactFilter, resolveHome, type HomePaths } from "@func/shared";
import { callArgs } from "./args.js";
import { batchSize, callCommand, listMinions, type Io, type OutputOptions, type RunPlan } from "./call.js";
import { FORMATS, type Format } from "./formats.js";
import { SHELLS, completionScript, type CompletionTables } from "./completion.js";
import { GROUP_ACTIONS, groupCommand, type GroupAction } from "./group.js";
import { Overlord, type OverlordOptions } from "../call/overlord.js";
import { MAP_ACTIONS, type MapAction } from "./map.js";

const ACTIONS = ["call", "ping", "list_minions", "copyfile", "getfile", "show"] as const;
type Action = (typeof ACTIONS)[number];
const JOB_ACTIONS = ["status", "wait", "list", "purge", "rerun"] as const;
type JobAction = (typeof JOB_ACTIONS)[number];

const EPILOG = `Exit codes (bits, ORed): 0 all ok, 2 some error/denied, 4 some unreachable, 8 some timeout/lost,
16 no minion matched, 32 some command exited non-zero (shown as rc=N), 1 usage or configuration error.

Targets: globs and node sets, separated by ; or , : "web[01-20,30]", "rack[1-2]-n[01-40]", "db*,@web".

Arguments are typed by the method's signature (system method_help shows it): a word in a string parameter
stays a string (call command run false), int/number/bool words parse, struct/array words are JSON; extra
words join into command run's cmd with spaces (call command run ls -la). Methods without a signature:
1 -> int, 2.5 -> double, true/false, null, [..] and {..} as JSON, "\\"12\\"" a string.
--str keeps every argument a string. Put -- before arguments that look like options.`;

/** The global options: yargs and the fast path both parse with this table. */
const OPTIONS = {
  forks: { alias: "f", type: "number", describe: "buckets to spread hosts over: one in-process, the rest forked workers, each with at least bucket_min_hosts (64) hosts (default 1)" },
  timeout: { alias: "t", type: "number", describe: "per-host timeout in seconds (default 30, overlord.conf socket_timeout)" },
  exclude: { alias: "e", type: "string", describe: "spec of hosts to leave out" },
  json: { type: "boolean", default: false, describe: "print one JSON document {job, hosts, summary} (--out json)" },
  jsonl: { type: "boolean", default: false, describe: "print one JSON line per host as it finishes, then a summary line (--out jsonl)" },
  str: { type: "boolean", default: false, describe: "pass every argument as a string (no typing)" },
  fold: { alias: "b", type: "boolean", default: false, describe: "print hosts with identical results once: web[01-07,09] (8) (--out fold)" },
  oneline: { type: "boolean", default: false, describe: "one line per host, host: first line (--out oneline)" },
  diff: { type: "boolean", default: false, describe: "the most common result once, then each other result as a diff against it" },
  out: { type: "string", describe: `output format: ${FORMATS.join(" | ")} (txt: host: line, for every line)` },
  nolabel: { alias: "N", type: "boolean", default: false, describe: "no host label in front of the output (clush -N)" },
  stats: { type: "boolean", default: false, describe: "on stderr: per-host latency p50/p95/p99 and the 5 slowest hosts" },
  subset: { type: "number", describe: "run on a random N of the matched hosts" },
  batch: { type: "string", describe: "rolling batches of N hosts or N% of them: each starts when the one before has finished" },
  "batch-wait": { type: "number", describe: "with --batch: seconds to wait between batches" },
  failhard: { type: "boolean", default: false, describe: "with --batch: after a batch with a failure start no more (the rest end skipped)" },
  "list-targets": { type: "boolean", default: false, describe: "print the hosts the target matches and exit (no network)" },
  color: { type: "boolean", describe: "color the outcome column (default: when stdout is a terminal)" },
  async: { alias: "a", type: "boolean", default: false, describe: "call: run as an async job (prints its id, then polls unless --nopoll)" },
  nopoll: { alias: "n", type: "boolean", default: false, describe: "with --async: print only the job id and return at once" },
  jobstatus: { alias: "s", type: "string", describe: "call --jobstatus ID: the status of an async job (Func's spelling of func job status)" },
  delegate: { alias: "d", type: "boolean", describe: "send mapped leaves through their sub-overlords (default: when a delegation map exists); --no-delegate calls every host directly" },
  filter: { type: "string", describe: 'run only where every fact clause holds: "os=debian,cpus>=4" (= != < <= > >= ~)' },
  filteror: { type: "string", describe: 'run only where some fact clause holds: "os=debian,os=ubuntu"' },
} as const satisfies Record<string, Options>;

/** The options of `func job ...`, besides the global ones. */
const JOB_OPTIONS = {
  limit: { type: "number", default: 50, describe: "job list: how many (newest first)" },
  "older-than": { type: "string", describe: "job purge: finished more than this long ago (90, 30s, 15m, 12h, 7d; default job_retention)" },
  only: { type: "string", describe: "job rerun: the hosts that ended failed (the default: any outcome but ok, or rc != 0), unreachable or ok" },
} as const satisfies Record<string, Options>;

/** yargs-parser settings shared by both paths: options may come anywhere, unknown ones are arguments. */
const PARSER_CONFIGURATION = { "unknown-options-as-args": true, "populate--": true } as const;

interface GlobalArgs {
  forks?: number;
  timeout?: number;
  exclude?: string;
  json: boolean;
  jsonl: boolean;
  str: boolean;
  color?: boolean;
  fold: boolean;
  oneline: boolean;
  diff: boolean;
  out?: string;
  nolabel: boolean;
  stats: boolean;
  subset?: number;
  batch?: string;
  "batch-wait"?: number;
  failhard: boolean;
  "list-targets": boolean;
  async?: boolean;
  nopoll?: boolean;
  jobstatus?: string;
  delegate?: boolean;
  filter?: string;
  filteror?: string;
}

/** One parsed command line of the default command. */
export interface Invocation {
  target: string;
  action: Action;
  /** the action's arguments as typed on the command line (after `--` too) */
  rest: string[];
  options: GlobalArgs;
}

/** One parsed `func map build|show` line. */
export interface MapInvocation {
  map: MapAction;
  options: GlobalArgs;
}

/** One parsed `func job <action> [id]` line. */
export interface JobInvocation {
  action: JobAction;
  id?: string;
  limit: number;
  olderThan?: string;
  only?: string;
  options: GlobalArgs;
}

function jobInvocation(a: Record<string, unknown>): JobInvocation {
  const job = checkedOptions(a, JOB_OPTIONS);
  const action = a.action as JobAction;
  if (a.id !== undefined && (action === "list" || action === "purge")) {
    throw new FuncError("UsageError", `job ${action} takes no job id, got ${JSON.stringify(String(a.id))} (see func job --help)`);
  }
  return {
    action,
    ...(a.id !== undefined ? { id: String(a.id) } : {}),
    limit: Number(job.limit),
    ...(job["older-than"] !== undefined ? { olderThan: String(job["older-than"]) } : {}),
    ...(job.only !== undefined ? { only: String(job.only) } : {}),
    options: pickOptions(a),
  };
}

/**
 * The values of one option table, checked: an option given without its value (`-t` last, or `-t ping`
 * eating the action as a number) or given twice is a usage error; `-e a -e b` leaves out both.
 */
function checkedOptions(a: Record<string, unknown>, table: Readonly<Record<string, Options>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, o] of Object.entries(table)) {
    if (!(name in a)) continue;
    let v = a[name];
    if (Array.isArray(v)) {
      if (o.type === "boolean") v = v[v.length - 1];
      else if (name === "exclude") v = v.map(String).join(";");
      else throw new FuncError("UsageError", `--${name} given more than once (see func --help)`);
    }
    if (o.type !== "boolean" && (v === undefined || v === "" || (typeof v === "number" && Number.isNaN(v)))) {
      throw new FuncError("UsageError", `--${name} needs a ${o.type === "number" ? "number" : "value"}${o.alias ? ` (-${String(o.alias)})` : ""} (see func --help)`);
    }
    if (v !== undefined) out[name] = v;
  }
  return out;
}

function pickOptions(a: Record<string, unknown>): GlobalArgs {
  return checkedOptions(a, OPTIONS) as unknown as GlobalArgs;
}

/**
 * The fast path: the common command lines, parsed as yargs would; null for anything else (help, too few
 * arguments, an unknown action, an option-looking argument), which goes to yargs for its usage and errors.
 */
export function quickParse(argv: readonly string[]): Invocation | JobInvocation | MapInvocation | null {
  let a = parseWith(argv, [OPTIONS]);
  if (a.help) return null;
  // `-t "*" ping` reads "*" as the timeout: said as such, not as a puzzling "not enough arguments"
  checkedOptions(a, OPTIONS);
  if (String(a._[0]) === "job") a = parseWith(argv, [OPTIONS, JOB_OPTIONS]);
  const positional = a._.map(String);
  const dashed = positional.findIndex((p) => p.length > 1 && p.startsWith("-"));
  if (dashed !== -1) {
    // an option we do not know, where no argument can be (before the action, or as a module or method name):
    // a typo such as --jsno, said as such rather than as a puzzling "invalid action"
    const head = positional[0] === "job" ? 3 : positional[1] === "call" ? 4 : 2;
    if (dashed < head) throw new FuncError("UsageError", `unknown option ${JSON.stringify(positional[dashed])} (see func --help)`);
    return null;
  }
  if (positional[0] === "map") {
    const [, action, ...extra] = positional;
    if (!(MAP_ACTIONS as readonly string[]).includes(action ?? "") || extra.length > 0) return null;
    return { map: action as MapAction, options: pickOptions(a) };
  }
  if (positional[0] === "job") {
    const [, action, id, ...extra] = positional;
    if (!(JOB_ACTIONS as readonly string[]).includes(action ?? "")) return null;
    const stray = [...extra, ...(a["--"] ?? []).map(String)];
    if (stray.length > 0) throw new FuncError("UsageError", `job ${action} takes at most one job id, got also ${stray.map((w) => JSON.stringify(w)).join(" ")}`);
    return jobInvocation({ ...a, action, ...(id !== undefined ? { id } : {}) });
  }
  const [target, action, ...args] = positional;
  if (a["list-targets"] && target !== undefined) {
    const extra = [...positional.slice(1), ...(a["--"] ?? []).map(String)];
    if (extra.length > 0) throw new FuncError("UsageError", `--list-targets takes only a target spec, got also ${extra.map((w) => JSON.stringify(w)).join(" ")}`);
    return { target, action: "list_minions", rest: [], options: pickOptions(a) };
  }
  if (target === undefined || !(ACTIONS as readonly string[]).includes(action ?? "")) return null;
  return { target, action: action as Action, rest: [...args, ...(a["--"] ?? []).map(String)], options: pickOptions(a) };
}

/** yargs-parser over `argv` with the given option tables, configured as yargs configures it. */
function parseWith(argv: readonly string[], tables: readonly Record<string, Options>[]): yargsParser.Arguments {
  const parserOpts: yargsParser.Options = {
    alias: { help: ["h"] },
    boolean: ["help"],
    number: [],
    string: [],
    default: {},
    configuration: { ...PARSER_CONFIGURATION, "parse-positional-numbers": false },
  };
  for (const [name, o] of tables.flatMap((t) => Object.entries(t))) {
    if (o.alias) parserOpts.alias![name] = [String(o.alias)];
    if (o.type === "boolean") parserOpts.boolean!.push(name);
    if (o.type === "number") parserOpts.number!.push(name);
    if (o.type === "string") parserOpts.string!.push(name);
    if (o.default !== undefined) parserOpts.default![name] = o.default;
  }
  return yargsParser([...argv], parserOpts);
}

/**
 * The home this run uses, checked before anything reads or writes it: a mistyped FUNC_HOME is named as such
 * instead of looking like an empty fleet, and nothing is created in it.
 */
function checkedHome(env: NodeJS.ProcessEnv): HomePaths {
  const paths = resolveHome(env, process.getuid?.());
  const where = env.FUNC_HOME ? `FUNC_HOME=${env.FUNC_HOME}` : `the home ${paths.configDir} (FUNC_HOME is not set)`;
  if (!existsSync(paths.configDir)) throw new FuncError("ConfigError", `${where}: no such directory (fix the path, or run "func-ca init" to create a home)`);
  if (![paths.pkiDir, paths.overlordConf, paths.jobsDir].some((f) => existsSync(f))) {
    throw new FuncError("ConfigError", `${where} is not a func home: it has no pki/, overlord.conf or jobs/ (run "func-ca init" there first)`);
  }
  return paths;
}

function overlordOptions(a: GlobalArgs, env: NodeJS.ProcessEnv): OverlordOptions {
  const num = (v: unknown, name: string, min: number): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isFinite(n) || n < min) throw new FuncError("UsageError", `--${name} must be a number >= ${min}, got "${String(v)}"`);
    return n;
  };
  const forks = num(a.forks, "forks", 1);
  const timeout = num(a.timeout, "timeout", 0.001);
  if (a.filter !== undefined && a.filteror !== undefined) throw new FuncError("UsageError", "--filter and --filteror cannot be used together");
  const filterText = a.filter ?? a.filteror;
  return {
    env,
    home: checkedHome(env),
    ...(filterText !== undefined ? { filter: parseFactFilter(String(filterText), a.filteror !== undefined ? "any" : "all") } : {}),
    ...(forks !== undefined ? { forks: Math.floor(forks) } : {}),
    ...(timeout !== undefined ? { timeout } : {}),
    ...(a.exclude ? { exclude: a.exclude } : {}),
    ...(a.delegate !== undefined ? { delegate: a.delegate } : {}),
    // what a sub-overlord answered that was not trusted: one warning line each
    onNotice: (message: string) => process.stderr.write(`func: warning: ${message}\n`),
  };
}

type Tty = { stdout: boolean; stderr: boolean };

/** The one format the flags name: --out, or --json / --jsonl / --fold / --oneline / --diff, never two. */
function outputFormat(g: GlobalArgs): Format {
  const named = new Set<Format>();
  if (g.out !== undefined) {
    if (!(FORMATS as readonly string[]).includes(g.out)) throw new FuncError("UsageError", `--out takes ${FORMATS.join(", ")}; got "${g.out}"`);
    named.add(g.out as Format);
  }
  for (const f of ["json", "jsonl", "fold", "oneline", "diff"] as const) if (g[f]) named.add(f);
  if (named.size > 1) throw new FuncError("UsageError", `choose one output format, got ${[...named].join(" and ")}`);
  return [...named][0] ?? "table";
}

function outputOptions(g: GlobalArgs, env: NodeJS.ProcessEnv, isTty: Tty): OutputOptions {
  return {
    format: outputFormat(g),
    // NO_COLOR (no-color.org): any non-empty value turns color off unless --color asks for it
    color: g.color ?? (isTty.stdout && !env.NO_COLOR),
    progress: isTty.stderr,
    live: isTty.stdout,
    noLabel: g.nolabel,
    stats: g.stats,
  };
}

/** --subset, --batch, --batch-wait, --failhard, checked. */
function runPlan(g: GlobalArgs): RunPlan {
  if (g.subset !== undefined && (!Number.isInteger(g.subset) || g.subset < 1)) throw new FuncError("UsageError", `--subset takes a whole number >= 1, got ${g.subset}`);
  if (g.batch === undefined && (g.failhard || g["batch-wait"] !== undefined)) throw new FuncError("UsageError", `--${g.failhard ? "failhard" : "batch-wait"} goes with --batch N`);
  if (g["batch-wait"] !== undefined && !(g["batch-wait"] >= 0)) throw new FuncError("UsageError", "--batch-wait takes seconds >= 0");
  if (g.batch !== undefined) batchSize(g.batch, 1);
  return {
    ...(g.subset !== undefined ? { subset: g.subset } : {}),
    ...(g.batch !== undefined ? { batch: g.batch } : {}),
    ...(g["batch-wait"] !== undefined ? { batchWaitS: g["batch-wait"] } : {}),
    ...(g.failhard ? { failhard: true } : {}),
  };
}

async function run(inv: Invocation, env: NodeJS.ProcessEnv, io: Io, isTty: Tty): Promise<number> {
  const g = inv.options;
  if ((inv.action === "ping" || inv.action === "list_minions") && inv.rest.length > 0) {
    // unknown options come through as arguments (`call command run ls -la`): a mistyped --json lands here
    throw new FuncError("UsageError", `${inv.action} takes no arguments, got ${inv.rest.map((r) => JSON.stringify(r)).join(" ")} (see func --help)`);
  }
  const opts = overlordOptions(g, env);
  const output = (): OutputOptions => outputOptions(g, env, isTty);
  switch (inv.action) {
    case "list_minions":
      return listMinions(inv.target, opts, output(), io);
    case "show": {
      const [what, ...keys] = inv.rest;
      return (await import("./show.js")).showCommand(inv.target, what, keys, opts, output(), io);
    }
    case "ping":
      return callCommand(inv.target, "test", "ping", [], opts, output(), io, runPlan(g));
    case "copyfile":
    case "getfile": {
      // parseFileInvocation (in main) takes every copyfile/getfile line it can; what is left is a usage error
      throw new FuncError("UsageError", `${inv.action} needs two paths, e.g. func "web*" ${inv.action === "copyfile" ? "copyfile ./motd /etc/motd" : "getfile /etc/motd ./collected"}`);
    }
    case "call": {
      if (g.jobstatus !== undefined) return (await import("./job.js")).jobStatusCommand(String(g.jobstatus), opts, output(), io);
      if (g.nopoll && !g.async) throw new FuncError("UsageError", "--nopoll goes with --async");
      const [module, method, ...words] = inv.rest;
      if (!module || !method) throw new FuncError("UsageError", 'call needs <module> <method> [args..], e.g. func "*" call test ping');
      const plan = runPlan(g);
      if (g.async && Object.keys(plan).length > 0) throw new FuncError("UsageError", "--subset, --batch and --failhard are for calls without --async");
      const args = await callArgs(inv.target, module, method, words, g.str, opts);
      return g.async
        ? (await import("./job.js")).asyncCallCommand(inv.target, module, method, args, opts, output(), io, !!g.nopoll)
        : callCommand(inv.target, module, method, args, opts, output(), io, plan);
    }
  }
}

/** `func job status|wait|list|purge`: async jobs by id. */
async function runJob(inv: JobInvocation, env: NodeJS.ProcessEnv, io: Io, isTty: Tty): Promise<number> {
  const { jobListCommand, jobPurgeCommand, jobRerunCommand, jobStatusCommand, jobWaitCommand, RERUN_SUBSETS } = await import("./job.js");
  const g = inv.options;
  const { action, id } = inv;
  const needId = () => {
    if (!id) throw new FuncError("UsageError", `job ${action} needs a job id, e.g. func job ${action} 20261122T201233-5f2a9c01b7`);
    return id;
  };
  // in `job wait`, --timeout is the bound on the wait, not the per-host timeout
  const { timeout: waitS, ...rest } = g;
  const opts = overlordOptions(action === "wait" ? (rest) : g, env);
  const output = outputOptions(g, env, isTty);
  switch (action) {
    case "status":
      return jobStatusCommand(needId(), opts, output, io);
    case "wait":
      return jobWaitCommand(needId(), waitS, opts, output, io);
    case "list": {
      const limit = inv.limit;
      if (!Number.isInteger(limit) || limit < 1) throw new FuncError("UsageError", "--limit must be a whole number >= 1");
      return jobListCommand(limit, opts, output, io);
    }
    case "purge":
      return jobPurgeCommand(inv.olderThan, opts, io);
    case "rerun": {
      const only = inv.only ?? "failed";
      if (!(RERUN_SUBSETS as readonly string[]).includes(only)) throw new FuncError("UsageError", `--only takes ${RERUN_SUBSETS.join(", ")}; got "${only}"`);
      if (!id) throw new FuncError("UsageError", "job rerun needs a job id or last, e.g. func job rerun last --only failed");
      return jobRerunCommand(id, only as (typeof RERUN_SUBSETS)[number], opts, output, io);
    }
  }
}

/** `func map build|show`: the delegation map. */
async function runMap(inv: MapInvocation, env: NodeJS.ProcessEnv, io: Io, isTty: Tty): Promise<number> {
  const { mapCommand } = await import("./map.js");
  return mapCommand(inv.map, overlordOptions(inv.options, env), outputOptions(inv.options, env, isTty), io);
}

/** Parses with the full yargs: help, usage errors, every command; calls `onInvocation` for the default one. */
export async function yargsParse(
  argv: readonly string[],
  onInvocation: (inv: Invocation) => Promise<void>,
  onJob: (inv: JobInvocation) => Promise<void> = async () => {},
  onMap: (inv: MapInvocation) => Promise<void> = async () => {},
): Promise<void> {
  const { default: yargs } = await import("yargs");
  const parser: Argv = yargs([...argv])
    .scriptName("func")
    .parserConfiguration(PARSER_CONFIGURATION)
    .usage("$0 <target> <action> [args..]\n\nRun methods on the minions matching <target> (globs, node sets, @group, @group:glob, ';'- or ','-separated).")
    .options(OPTIONS)
    .command(
      "map <action>",
      "the delegation map: build (ask every direct minion which leaves it serves, recursively) | show (the tree with counts)",
      (y) => y.positional("action", { choices: MAP_ACTIONS, describe: "build | show" }),
      async (a) => onMap({ map: a.action as MapAction, options: pickOptions(a) }),
    )
    .command(
      "job <action> [id]",
      "jobs (async ones and every recorded run): status <id> | wait <id> [--timeout S] | list [--limit N] | purge [--older-than 7d] | rerun <id|last> [--only failed|unreachable|ok]",
      (y) =>
        y
          .positional("action", { choices: JOB_ACTIONS, describe: "status | wait | list | purge | rerun" })
          .positional("id", { type: "string", describe: "the job id that call --async printed" })
          .options(JOB_OPTIONS)
          .example("$0 job list --limit 10", "the newest jobs")
          .example("$0 job wait 20261122T201233-5f2a9c01b7 --timeout 60", "each host as it finishes, at most 60 s")
          .example("$0 job purge --older-than 7d", "forget finished jobs older than a week")
          .example("$0 job rerun last --only failed", "the last run again, on the hosts where it failed")
          .epilog("In `job wait`, --timeout S bounds the whole wait: hosts still open then count as timeout (exit bit 8)."),
      async (a) => onJob(jobInvocation(a as Record<string, unknown>)),
    )
    .command(
      "group <action> [args..]",
      "groups of hosts in $FUNC_HOME/groups: add NAME MEMBER.. | remove NAME [MEMBER..] | list | show NAME",
      (y) =>
        y
          .positional("action", { choices: GROUP_ACTIONS, describe: "add | remove | list | show" })
          .example('$0 group add web "web[01-20,30]" web-canary', "members are names, globs or node sets")
          .example("$0 group show web", "the members, and the hosts they match now")
          .example('$0 "@web" ping', "use it as a target")
          .example("$0 group remove web web-canary", "drop a member (no member: the whole group)"),
      async () => {},
    )
    .command(
      "check [target]",
      "a doctor: config, certs and their expiry, the CA service, the CRL, the job store, test.ping of the targets",
      (y) => y.example("$0 check", "check this overlord and ping every minion").example('$0 check "web*" --json', "the same as JSON, pinging web* only"),
      async () => {},
    )
    .command(
      "dump_config",
      "print the home's paths and the settings in effect (defaults filled in)",
      (y) => y.example("$0 dump_config --json", "as JSON"),
      async () => {},
    )
    .command(
      "completion <shell>",
      "print a completion script: bash | zsh",
      (y) =>
        y
          .positional("shell", { choices: SHELLS })
          .example("source <(func completion bash)", "complete commands, options and host names in this shell")
          .example("func completion zsh > ~/.zfunc/_func", "zsh: save it on $fpath"),
      async () => {},
    )
    .command(
      "$0 <target> <action> [args..]",
      "run an action on the minions matching <target>",
      (y) =>
        y
          .positional("target", { type: "string", describe: "target spec: web*;db[1-3];@group;@group:glob" })
          .positional("action", {
            choices: ACTIONS,
            describe: "call <module> <method> [args..] | ping | list_minions | copyfile <local> <remote> [--mode 0644] [--owner U] | getfile <remote> <localdir> | show hardware|facts [keys..]",
          })
          .positional("args", { type: "string", array: true }),
      async (a) => {
        const rest = [...((a.args as (string | number)[] | undefined) ?? []), ...(((a as Record<string, unknown>)["--"] as string[] | undefined) ?? [])];
        await onInvocation({ target: String(a.target), action: a.action as Action, rest: rest.map(String), options: pickOptions(a) });
      },
    )
    .example('$0 "*" ping', "is every minion up?")
    .example('$0 "web*" call command run "uname -r"', "run a shell command")
    .example('$0 "*" call test add 1 2', "typed arguments: prints 3 on each host")
    .example('$0 "web*;@db" --exclude web3 call command run "systemctl restart nginx"', "globs, groups and exclusions")
    .example('$0 "*" call test ping --jsonl | jq .', "one JSON line per host as it answers")
    .example('$0 "*" -b call command run "cat /etc/os-release"', "fold identical output: minion[01-40] (40)")
    .example('$0 "web[01-20,30]" --batch 25% --failhard call command run "systemctl restart app"', "rolling restart; a failure stops the rest (skipped)")
    .example('$0 "*" --subset 3 --out oneline call command run uptime', "3 random hosts, host: first line")
    .example('$0 "*" --diff call command run "cat /etc/resolv.conf"', "who differs from the most common result")
    .example('$0 "rack[1-2]-n[01-40]" --list-targets', "what a spec matches, no network")
    .example('$0 "web*" copyfile ./nginx.conf /etc/nginx/nginx.conf', "push a file (written atomically, skipped when unchanged)")
    .example('$0 "web*" copyfile -f ./app.tar --remotepath /srv/', "Func's spelling; a path ending in / means into that directory")
    .example('$0 "web*" getfile /var/log/syslog ./logs', "pull a file into ./logs/<host>/syslog (Func's -r FILE -l DIR too)")
    .example('$0 "*" call --async --nopoll command run "yum -y update"', "start an async job: prints its id at once")
    .example('$0 "*" --filter "os=debian,cpus>=4" call command run "apt-get -y upgrade"', "only hosts whose facts match")
    .example('$0 "*" show facts os kernel memory', "some facts of every host")
    .example("$0 job status 20261122T201233-5f2a9c01b7 --json", "where an async job stands (func job wait|list|purge too)")
    .example("$0 map build && $0 map show", "find the sub-overlords and their leaves; then calls go through them")
    .epilog(EPILOG)
    .strictOptions(false)
    .help()
    .alias("help", "h")
    .version(false)
    .wrap(Math.min(110, process.stdout.columns || 100))
    .exitProcess(false)
    .fail((msg, err) => {
      // yargs' own messages span lines ("Invalid values:\n  Argument: ..."): one line at the boundary
      throw err ?? new FuncError("UsageError", `${msg.replace(/\s*\n\s*/g, " ")} (see func --help)`);
    });
  await parser.parseAsync();
}

/** First words that are commands of their own, not target specs. */
const COMMANDS: readonly string[] = ["group", "completion", "check", "dump_config"];

/** The words of `func completion`: derived from the same tables as parsing and help. */
function completionTables(): CompletionTables {
  return {
    actions: ACTIONS,
    commands: { job: JOB_ACTIONS, group: GROUP_ACTIONS, completion: SHELLS, check: [], dump_config: [] },
    options: [...Object.keys(OPTIONS), ...Object.keys(JOB_OPTIONS), "help", "version"].sort(),
  };
}

/** `func group ...` and `func completion ...` (their --help goes to yargs); null for every other line. */
async function runCommand(argv: readonly string[], env: NodeJS.ProcessEnv, io: Io, isTty: Tty): Promise<number | null> {
  const first = argv[0];
  if (!COMMANDS.includes(first ?? "") || argv.includes("--help") || argv.includes("-h")) return null;
  const a = parseWith(argv, [OPTIONS]);
  const g = pickOptions(a);
  const [, sub, ...words] = [...a._.map(String), ...(a["--"] ?? []).map(String)];
  if (first === "check" || first === "dump_config") {
    const extra = first === "check" ? words : [sub, ...words].filter((w) => w !== undefined);
    if (extra.length > 0) throw new FuncError("UsageError", `${first} takes ${first === "check" ? "at most a target spec" : "no arguments"}, got also ${extra.join(" ")}`);
    const { checkCommand, dumpConfigCommand } = await import("./check.js");
    const opts = overlordOptions(g, env);
    const paths = opts.home as HomePaths;
    return first === "check" ? checkCommand(paths, sub ?? "*", opts, outputOptions(g, env, isTty), io) : dumpConfigCommand(paths, outputOptions(g, env, isTty), io);
  }
  if (first === "completion") {
    if (words.length > 0) throw new FuncError("UsageError", `completion takes one shell name, got also ${words.join(" ")}`);
    io.out(completionScript(sub, completionTables()));
    return EXIT.OK;
  }
  if (!(GROUP_ACTIONS as readonly string[]).includes(sub ?? "")) {
    throw new FuncError("UsageError", `func group takes ${GROUP_ACTIONS.join(", ")}${sub === undefined ? "" : `, got "${sub}"`} (see func group --help)`);
  }
  const overlord = new Overlord("*", overlordOptions(g, env));
  return groupCommand(overlord, sub as GroupAction, words, outputOptions(g, env, isTty), io);
}

export async function main(argv: string[], env: NodeJS.ProcessEnv, io: Io, isTty: { stdout: boolean; stderr: boolean }): Promise<number> {
  if (argv.length === 1 && (argv[0] === "--version" || argv[0] === "-V")) {
    io.out(`func ${FUNC_VERSION}\n`);
    return EXIT.OK;
  }
  const command = await runCommand(argv, env, io, isTty);
  if (command !== null) return command;
  if (argv.includes("copyfile") || argv.includes("getfile")) {
    // their own option table (Func's -f/--file, -r, -l); loaded only for these actions
    const files = await import("./files.js");
    const inv = files.parseFileInvocation(argv, OPTIONS);
    if (inv) {
      const g = inv.globals as unknown as GlobalArgs;
      return files.fileCommand(inv, overlordOptions(g, env), outputOptions(g, env, isTty), io, isTty.stderr);
    }
  }
  const quick = quickParse(argv);
  if (quick) return "target" in quick ? run(quick, env, io, isTty) : "map" in quick ? runMap(quick, env, io, isTty) : runJob(quick, env, io, isTty);
  let code: number = EXIT.OK;
  await yargsParse(
    argv,
    async (inv) => {
      code = await run(inv, env, io, isTty);
    },
    async (inv) => {
      code = await runJob(inv, env, io, isTty);
    },
    async (inv) => {
      code = await runMap(inv, env, io, isTty);
    },
  );
  return code;
}
