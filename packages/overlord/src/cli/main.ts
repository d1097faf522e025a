// The `func` command line: one place that registers the commands, parses arguments, and maps errors to
// exit codes. Commands are typed async functions that return an exit code; only this file prints errors.

import yargs from "yargs";
import { EXIT, FuncError } from "@func/shared";
import type { OverlordOptions } from "../overlord.js";
import { coerceArgs } from "./args.js";
import { callCommand, listMinions, type Io, type OutputOptions } from "./call.js";
import { copyFile, getFile } from "./files.js";
import { LIST_LIMIT, asyncCallCommand, jobListCommand, jobPurgeCommand, jobStatusCommand, jobWaitCommand } from "./job.js";

const ACTIONS = ["call", "ping", "list_minions", "copyfile", "getfile"] as const;
const JOB_ACTIONS = ["status", "wait", "list", "purge"] as const;

const EPILOG = `Exit codes (bits, ORed): 0 all ok, 2 some error/denied, 4 some unreachable, 8 some timeout/lost,
16 no minion matched, 1 usage or configuration error.

Arguments are typed: 1 -> int, 2.5 -> double, true/false, null, [..] and {..} as JSON, "\\"12\\"" a string.
--str keeps every argument a string. Put -- before arguments that look like options.`;

interface CallArgs {
  async: boolean;
  nopoll: boolean;
  jobstatus?: string;
}

interface GlobalArgs {
  forks?: number;
  timeout?: number;
  exclude?: string;
  json: boolean;
  jsonl: boolean;
  str: boolean;
  color?: boolean;
  fold: boolean;
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
  return {
    env,
    ...(forks !== undefined ? { forks: Math.floor(forks) } : {}),
    ...(timeout !== undefined ? { timeout } : {}),
    ...(a.exclude ? { exclude: a.exclude } : {}),
  };
}

export async function main(argv: string[], env: NodeJS.ProcessEnv, io: Io, isTty: { stdout: boolean; stderr: boolean }): Promise<number> {
  let code: number = EXIT.OK;
  const output = (a: GlobalArgs): OutputOptions => {
    if (a.json && a.jsonl) throw new FuncError("UsageError", "--json and --jsonl cannot be used together");
    return { json: a.json, jsonl: a.jsonl, fold: a.fold, color: a.color ?? (isTty.stdout && !env.NO_COLOR), progress: isTty.stderr };
  };
  const parser = yargs(argv)
    .scriptName("func")
    .parserConfiguration({ "unknown-options-as-args": true, "populate--": true })
    .usage("$0 <target> <action> [args..]\n\nRun methods on the minions matching <target> (globs, @group, @group:glob, ';'-separated).")
    .option("forks", { alias: "f", type: "number", describe: "forked buckets to spread hosts over (default 1: in-process)" })
    .option("timeout", { alias: "t", type: "number", describe: "per-host timeout in seconds (default 30, overlord.conf socket_timeout)" })
    .option("exclude", { alias: "e", type: "string", describe: "spec of hosts to leave out" })
    .option("json", { type: "boolean", default: false, describe: "print one JSON document {job, hosts, summary}" })
    .option("jsonl", { type: "boolean", default: false, describe: "print one JSON line per host as it finishes, then a summary line" })
    .option("str", { type: "boolean", default: false, describe: "pass every argument as a string (no typing)" })
    .option("fold", { alias: "b", type: "boolean", default: false, describe: "print hosts with identical results once: web[01-07,09] (7)" })
    .option("color", { type: "boolean", describe: "color the outcome column (default: when stdout is a terminal)" })
    .command(
      "job <action> [id]",
      "async jobs: status <id> | wait <id> [--timeout S] | list [--limit N] | purge [--older-than 7d]",
      (y) =>
        y
          .positional("action", { choices: JOB_ACTIONS, describe: "status | wait | list | purge" })
          .positional("id", { type: "string", describe: "the job id that call --async printed" })
          .option("limit", { type: "number", default: LIST_LIMIT, describe: "job list: how many (newest first)" })
          .option("older-than", { type: "string", describe: "job purge: finished more than this long ago (90, 30s, 15m, 12h, 7d; default job_retention)" })
          .epilog("In `job wait`, --timeout S bounds the whole wait: hosts still open then count as timeout (exit bit 8)."),
      async (a) => {
        const g = a as unknown as GlobalArgs;
        const action = a.action as (typeof JOB_ACTIONS)[number];
        const id = a.id === undefined ? undefined : String(a.id);
        const needId = () => {
          if (!id) throw new FuncError("UsageError", `job ${action} needs a job id, e.g. func job ${action} 20261122T201233-5f2a9c01b7`);
          return id;
        };
        // in `job wait`, --timeout is the bound on the wait, not the per-host timeout
        const { timeout: waitS, ...rest } = g;
        const opts = overlordOptions(action === "wait" ? rest : g, env);
        switch (action) {
          case "status":
            code = await jobStatusCommand(needId(), opts, output(g), io);
            return;
          case "wait":
            code = await jobWaitCommand(needId(), waitS, opts, output(g), io);
            return;
          case "list": {
            const limit = Number(a.limit);
            if (!Number.isInteger(limit) || limit < 1) throw new FuncError("UsageError", "--limit must be a whole number >= 1");
            code = await jobListCommand(limit, opts, output(g), io);
            return;
          }
          case "purge":
            code = await jobPurgeCommand(a["older-than"] as string | undefined, opts, io);
            return;
        }
      },
    )
    .command(
      "$0 <target> <action> [args..]",
      "run an action on the minions matching <target>",
      (y) =>
        y
          .positional("target", { type: "string", describe: "target spec: web*;db[1-3];@group;@group:glob" })
          .positional("action", {
            choices: ACTIONS,
            describe: "call <module> <method> [args..] | ping | list_minions | copyfile <local> <remote> | getfile <remote> <localdir>",
          })
          .positional("args", { type: "string", array: true })
          .option("async", { alias: "a", type: "boolean", default: false, describe: "call: run as an async job (prints its id, then polls unless --nopoll)" })
          .option("nopoll", { alias: "n", type: "boolean", default: false, describe: "with --async: print only the job id and return at once" })
          .option("jobstatus", { alias: "s", type: "string", describe: "call --jobstatus ID: the status of an async job (Func's spelling of func job status)" }),
      async (a) => {
        const g = a as unknown as GlobalArgs & CallArgs;
        const target = String(a.target);
        const rest = [...((a.args as (string | number)[] | undefined) ?? []), ...(((a as Record<string, unknown>)["--"] as string[] | undefined) ?? [])];
        const opts = overlordOptions(g, env);
        switch (a.action) {
          case "list_minions":
            code = listMinions(target, opts, io);
            return;
          case "ping":
            code = await callCommand(target, "test", "ping", [], opts, output(g), io);
            return;
          case "copyfile":
          case "getfile": {
            const [from, to] = rest.map(String);
            if (!from || !to || rest.length !== 2) throw new FuncError("UsageError", `${a.action} needs two paths, e.g. func "web*" ${a.action === "copyfile" ? "copyfile ./motd /etc/motd" : "getfile /etc/motd ./collected"}`);
            code = a.action === "copyfile" ? await copyFile(target, from, to, opts, output(g), io) : await getFile(target, from, to, opts, output(g), io);
            return;
          }
          case "call": {
            if (g.jobstatus !== undefined) {
              code = await jobStatusCommand(String(g.jobstatus), opts, output(g), io);
              return;
            }
            if (g.nopoll && !g.async) throw new FuncError("UsageError", "--nopoll goes with --async");
            const [module, method, ...args] = rest.map(String);
            if (!module || !method) throw new FuncError("UsageError", "call needs <module> <method> [args..], e.g. func \"*\" call test ping");
            code = g.async
              ? await asyncCallCommand(target, module, method, coerceArgs(args, g.str), opts, output(g), io, g.nopoll)
              : await callCommand(target, module, method, coerceArgs(args, g.str), opts, output(g), io);
            return;
          }
        }
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
  return code;
}
