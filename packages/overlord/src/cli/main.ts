// The `func` command line: parses arguments with the command table (commands.ts: commands, actions,
// options, help), runs the command, and maps errors to exit codes. Commands are typed async functions that
// return an exit code; only this file prints errors.
// Plain `func <target> call|ping|...` and `func job status|wait|list|purge` lines are parsed by yargs-parser
// alone (~10 ms to load) with the very option tables yargs gets; help and usage errors load the full yargs
// (~60 ms). Modules only some actions need (async jobs, files) load with those actions.

import yargsParser from "yargs-parser";
import type { Argv, Options } from "yargs";
import { existsSync } from "node:fs";
import { EXIT, FUNC_VERSION, FuncError, METHOD_NAME_RE, SIGNATURES, parseFactFilter, resolveHome, type HomePaths } from "@func/shared";
import { callArgs } from "./args.js";
import { batchSize, callCommand, listMinions, type Io, type OutputOptions, type RunPlan } from "./call.js";
import { FORMATS, type Format } from "./formats.js";
import { completionScript, type CompletionTables } from "./completion.js";
import { GROUP_ACTIONS, groupCommand, type GroupAction } from "./group.js";
import { Overlord, type OverlordOptions } from "../call/overlord.js";
import { MAP_ACTIONS, type MapAction } from "./map.js";
import {
  ACTION_TABLE,
  ACTIONS,
  COMMAND_TABLE,
  EPILOG,
  EXAMPLES,
  JOB_ACTIONS,
  JOB_OPTIONS,
  OPTIONS,
  type Action,
  type GlobalArgs,
  type JobAction,
} from "./commands.js";

/** yargs-parser settings shared by both paths: options may come anywhere, unknown ones are arguments. */
const PARSER_CONFIGURATION = { "unknown-options-as-args": true, "populate--": true } as const;

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
      const [module, method, ...words] = splitDotted(inv.rest);
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

/**
 * `call test.ping [args..]` (Salt's spelling, and the wire's) as `call test ping [args..]`: a module name
 * never has a dot, so a first word `module.method` can mean nothing else.
 */
function splitDotted(rest: readonly string[]): string[] {
  const [first, ...more] = rest;
  const m = first === undefined ? null : METHOD_NAME_RE.exec(first);
  return m ? [m[1]!, m[2]!, ...more] : [...rest];
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
  let parser: Argv = yargs([...argv])
    .scriptName("func")
    .parserConfiguration(PARSER_CONFIGURATION)
    .usage("$0 <target> <action> [args..]\n\nRun methods on the minions matching <target> (globs, node sets, @group, @group:glob, ';'- or ','-separated).")
    .options(OPTIONS);
  // the commands of the table; group, check, dump_config and completion run before yargs (runCommand): here
  // they only give their --help and usage errors
  const handlers: Record<string, (a: Record<string, unknown>) => Promise<void>> = {
    map: (a) => onMap({ map: a.action as MapAction, options: pickOptions(a) }),
    job: (a) => onJob(jobInvocation(a)),
  };
  for (const [name, c] of Object.entries(COMMAND_TABLE)) {
    const first = /^\S+ [<[](\w+)/.exec(c.usage)?.[1];
    parser = parser.command(
      c.usage,
      c.describe,
      (y) => {
        let sub = first && c.words.length > 0 ? y.positional(first, { choices: c.words, describe: c.words.join(" | ") }) : y;
        if (c.options) sub = sub.options(c.options);
        for (const [cmd, what] of c.examples) sub = sub.example(cmd, what);
        return c.epilog ? sub.epilog(c.epilog) : sub;
      },
      async (a) => handlers[name]?.(a as Record<string, unknown>),
    );
  }
  for (const [cmd, what] of EXAMPLES) parser = parser.example(cmd, what);
  parser = parser
    .command(
      "$0 <target> <action> [args..]",
      "run an action on the minions matching <target>",
      (y) =>
        y
          .positional("target", { type: "string", describe: "target spec: web*;db[1-3];@group;@group:glob" })
          .positional("action", {
            choices: ACTIONS,
            describe: ACTIONS.map((name) => `${name}${ACTION_TABLE[name].args ? ` ${ACTION_TABLE[name].args}` : ""}`).join(" | "),
          })
          .positional("args", { type: "string", array: true }),
      async (a) => {
        const rest = [...((a.args as (string | number)[] | undefined) ?? []), ...(((a as Record<string, unknown>)["--"] as string[] | undefined) ?? [])];
        await onInvocation({ target: String(a.target), action: a.action as Action, rest: rest.map(String), options: pickOptions(a) });
      },
    )
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

/** The commands runCommand parses itself (their --help goes to yargs). */
const STANDALONE: readonly string[] = Object.keys(COMMAND_TABLE).filter((name) => COMMAND_TABLE[name]!.standalone);

/** The words of `func completion`: derived from the same tables as parsing and help. */
function completionTables(): CompletionTables {
  return {
    actions: ACTIONS,
    commands: Object.fromEntries(Object.entries(COMMAND_TABLE).map(([name, c]) => [name, c.words])),
    options: [...Object.keys(OPTIONS), ...Object.keys(JOB_OPTIONS), "help", "version"].sort(),
    methods: Object.fromEntries(SIGNATURES.map((m) => [m.name, Object.keys(m.methods)])),
  };
}

/** `func group ...` and `func completion ...` (their --help goes to yargs); null for every other line. */
async function runCommand(argv: readonly string[], env: NodeJS.ProcessEnv, io: Io, isTty: Tty): Promise<number | null> {
  const first = argv[0];
  if (!STANDALONE.includes(first ?? "") || argv.includes("--help") || argv.includes("-h")) return null;
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
