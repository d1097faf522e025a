// The `func` command line: one place that registers the commands, parses arguments, and maps errors to
// exit codes. Commands are typed async functions that return an exit code; only this file prints errors.
// Plain `func <target> call|ping|...` and `func job status|wait|list|purge` lines are parsed by yargs-parser
// alone (~10 ms to load) with the very option tables yargs gets; help and usage errors load the full yargs
// (~60 ms). Modules only some actions need (async jobs, files) load with those actions.

import yargsParser from "yargs-parser";
import type { Argv, Options } from "yargs";
import { EXIT, FUNC_VERSION, FuncError, parseFactFilter } from "@func/shared";
import type { OverlordOptions } from "../call/overlord.js";
import { callArgs } from "./args.js";
import { callCommand, listMinions, type Io, type OutputOptions } from "./call.js";

const ACTIONS = ["call", "ping", "list_minions", "copyfile", "getfile", "show"] as const;
type Action = (typeof ACTIONS)[number];
const JOB_ACTIONS = ["status", "wait", "list", "purge"] as const;
type JobAction = (typeof JOB_ACTIONS)[number];

const EPILOG = `Exit codes (bits, ORed): 0 all ok, 2 some error/denied, 4 some unreachable, 8 some timeout/lost,
16 no minion matched, 1 usage or configuration error.

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
  json: { type: "boolean", default: false, describe: "print one JSON document {job, hosts, summary}" },
  jsonl: { type: "boolean", default: false, describe: "print one JSON line per host as it finishes, then a summary line" },
  str: { type: "boolean", default: false, describe: "pass every argument as a string (no typing)" },
  fold: { alias: "b", type: "boolean", default: false, describe: "print hosts with identical results once: web[01-07,09] (7)" },
  color: { type: "boolean", describe: "color the outcome column (default: when stdout is a terminal)" },
  async: { alias: "a", type: "boolean", default: false, describe: "call: run as an async job (prints its id, then polls unless --nopoll)" },
  nopoll: { alias: "n", type: "boolean", default: false, describe: "with --async: print only the job id and return at once" },
  jobstatus: { alias: "s", type: "string", describe: "call --jobstatus ID: the status of an async job (Func's spelling of func job status)" },
  filter: { type: "string", describe: 'run only where every fact clause holds: "os=debian,cpus>=4" (= != < <= > >= ~)' },
  filteror: { type: "string", describe: 'run only where some fact clause holds: "os=debian,os=ubuntu"' },
} as const satisfies Record<string, Options>;

/** The options of `func job ...`, besides the global ones. */
const JOB_OPTIONS = {
  limit: { type: "number", default: 50, describe: "job list: how many (newest first)" },
  "older-than": { type: "string", describe: "job purge: finished more than this long ago (90, 30s, 15m, 12h, 7d; default job_retention)" },
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
  async?: boolean;
  nopoll?: boolean;
  jobstatus?: string;
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

/** One parsed `func job <action> [id]` line. */
export interface JobInvocation {
  action: JobAction;
  id?: string;
  limit: number;
  olderThan?: string;
  options: GlobalArgs;
}

function jobInvocation(a: Record<string, unknown>): JobInvocation {
  return {
    action: a.action as JobAction,
    ...(a.id !== undefined ? { id: String(a.id) } : {}),
    limit: Number(a.limit),
    ...(a["older-than"] !== undefined ? { olderThan: String(a["older-than"]) } : {}),
    options: pickOptions(a),
  };
}

function pickOptions(a: Record<string, unknown>): GlobalArgs {
  const out: Record<string, unknown> = {};
  for (const name of Object.keys(OPTIONS)) if (a[name] !== undefined) out[name] = a[name];
  return out as unknown as GlobalArgs;
}

/**
 * The fast path: the common command lines, parsed as yargs would; null for anything else (help, too few
 * arguments, an unknown action, an option-looking argument), which goes to yargs for its usage and errors.
 */
export function quickParse(argv: readonly string[]): Invocation | JobInvocation | null {
  let a = parseWith(argv, [OPTIONS]);
  if (a.help) return null;
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
  if (positional[0] === "job") {
    const [, action, id, ...extra] = positional;
    if (!(JOB_ACTIONS as readonly string[]).includes(action ?? "") || extra.length > 0 || a["--"]?.length) return null;
    return jobInvocation({ ...a, action, ...(id !== undefined ? { id } : {}) });
  }
  const [target, action, ...args] = positional;
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
    ...(filterText !== undefined ? { filter: parseFactFilter(String(filterText), a.filteror !== undefined ? "any" : "all") } : {}),
    ...(forks !== undefined ? { forks: Math.floor(forks) } : {}),
    ...(timeout !== undefined ? { timeout } : {}),
    ...(a.exclude ? { exclude: a.exclude } : {}),
  };
}

type Tty = { stdout: boolean; stderr: boolean };

function outputOptions(g: GlobalArgs, env: NodeJS.ProcessEnv, isTty: Tty): OutputOptions {
  if (g.json && g.jsonl) throw new FuncError("UsageError", "--json and --jsonl cannot be used together");
  return { json: g.json, jsonl: g.jsonl, fold: g.fold, color: g.color ?? (isTty.stdout && !env.NO_COLOR), progress: isTty.stderr };
}

async function run(inv: Invocation, env: NodeJS.ProcessEnv, io: Io, isTty: Tty): Promise<number> {
  const g = inv.options;
  const opts = overlordOptions(g, env);
  const output = (): OutputOptions => outputOptions(g, env, isTty);
  if ((inv.action === "ping" || inv.action === "list_minions") && inv.rest.length > 0) {
    // unknown options come through as arguments (`call command run ls -la`): a mistyped --json lands here
    throw new FuncError("UsageError", `${inv.action} takes no arguments, got ${inv.rest.map((r) => JSON.stringify(r)).join(" ")} (see func --help)`);
  }
  switch (inv.action) {
    case "list_minions":
      return listMinions(inv.target, opts, io);
    case "show": {
      const [what, ...keys] = inv.rest;
      return (await import("./show.js")).showCommand(inv.target, what, keys, opts, output(), io);
    }
    case "ping":
      return callCommand(inv.target, "test", "ping", [], opts, output(), io);
    case "copyfile":
    case "getfile": {
      const [from, to] = inv.rest;
      if (!from || !to || inv.rest.length !== 2) {
        throw new FuncError("UsageError", `${inv.action} needs two paths, e.g. func "web*" ${inv.action === "copyfile" ? "copyfile ./motd /etc/motd" : "getfile /etc/motd ./collected"}`);
      }
      const { copyFile, getFile } = await import("./files.js");
      return inv.action === "copyfile" ? copyFile(inv.target, from, to, opts, output(), io) : getFile(inv.target, from, to, opts, output(), io);
    }
    case "call": {
      if (g.jobstatus !== undefined) return (await import("./job.js")).jobStatusCommand(String(g.jobstatus), opts, output(), io);
      if (g.nopoll && !g.async) throw new FuncError("UsageError", "--nopoll goes with --async");
      const [module, method, ...words] = inv.rest;
      if (!module || !method) throw new FuncError("UsageError", 'call needs <module> <method> [args..], e.g. func "*" call test ping');
      const args = await callArgs(inv.target, module, method, words, g.str, opts);
      return g.async
        ? (await import("./job.js")).asyncCallCommand(inv.target, module, method, args, opts, output(), io, !!g.nopoll)
        : callCommand(inv.target, module, method, args, opts, output(), io);
    }
  }
}

/** `func job status|wait|list|purge`: async jobs by id. */
async function runJob(inv: JobInvocation, env: NodeJS.ProcessEnv, io: Io, isTty: Tty): Promise<number> {
  const { jobListCommand, jobPurgeCommand, jobStatusCommand, jobWaitCommand } = await import("./job.js");
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
  }
}

/** Parses with the full yargs: help, usage errors, every command; calls `onInvocation` for the default one. */
export async function yargsParse(
  argv: readonly string[],
  onInvocation: (inv: Invocation) => Promise<void>,
  onJob: (inv: JobInvocation) => Promise<void> = async () => {},
): Promise<void> {
  const { default: yargs } = await import("yargs");
  const parser: Argv = yargs([...argv])
    .scriptName("func")
    .parserConfiguration(PARSER_CONFIGURATION)
    .usage("$0 <target> <action> [args..]\n\nRun methods on the minions matching <target> (globs, @group, @group:glob, ';'-separated).")
    .options(OPTIONS)
    .command(
      "job <action> [id]",
      "async jobs: status <id> | wait <id> [--timeout S] | list [--limit N] | purge [--older-than 7d]",
      (y) =>
        y
          .positional("action", { choices: JOB_ACTIONS, describe: "status | wait | list | purge" })
          .positional("id", { type: "string", describe: "the job id that call --async printed" })
          .options(JOB_OPTIONS)
          .epilog("In `job wait`, --timeout S bounds the whole wait: hosts still open then count as timeout (exit bit 8)."),
      async (a) => onJob(jobInvocation(a as Record<string, unknown>)),
    )
    .command(
      "$0 <target> <action> [args..]",
      "run an action on the minions matching <target>",
      (y) =>
        y
          .positional("target", { type: "string", describe: "target spec: web*;db[1-3];@group;@group:glob" })
          .positional("action", {
            choices: ACTIONS,
            describe: "call <module> <method> [args..] | ping | list_minions | copyfile <local> <remote> | getfile <remote> <localdir> | show hardware|facts [keys..]",
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
    .example('$0 "web*" copyfile ./nginx.conf /etc/nginx/nginx.conf', "push a file (written atomically, skipped when unchanged)")
    .example('$0 "web*" getfile /var/log/syslog ./logs', "pull a file into ./logs/<host>/syslog")
    .example('$0 "*" call --async --nopoll command run "yum -y update"', "start an async job: prints its id at once")
    .example('$0 "*" --filter "os=debian,cpus>=4" call command run "apt-get -y upgrade"', "only hosts whose facts match")
    .example('$0 "*" show facts os kernel memory', "some facts of every host")
    .example("$0 job status 20261122T201233-5f2a9c01b7 --json", "where an async job stands (func job wait|list|purge too)")
    .epilog(EPILOG)
    .strictOptions(false)
    .help()
    .alias("help", "h")
    .version(false)
    .wrap(Math.min(110, process.stdout.columns || 100))
    .exitProcess(false)
    .fail((msg, err) => {
      throw err ?? new FuncError("UsageError", `${msg} (see func --help)`);
    });
  await parser.parseAsync();
}

export async function main(argv: string[], env: NodeJS.ProcessEnv, io: Io, isTty: { stdout: boolean; stderr: boolean }): Promise<number> {
  if (argv.length === 1 && (argv[0] === "--version" || argv[0] === "-V")) {
    io.out(`func ${FUNC_VERSION}\n`);
    return EXIT.OK;
  }
  const quick = quickParse(argv);
  if (quick) return "target" in quick ? run(quick, env, io, isTty) : runJob(quick, env, io, isTty);
  let code: number = EXIT.OK;
  await yargsParse(
    argv,
    async (inv) => {
      code = await run(inv, env, io, isTty);
    },
    async (inv) => {
      code = await runJob(inv, env, io, isTty);
    },
  );
  return code;
}
