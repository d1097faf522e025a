// The command table of `func`: every command, action and option with its help and examples, in one place.
// Parsing (the fast path and yargs), --help and `func completion` all derive from it.

import type { Options } from "yargs";
import { SHELLS } from "./completion.js";
import { FORMATS } from "./formats.js";
import { GROUP_ACTIONS } from "./group.js";
import { MAP_ACTIONS } from "./map.js";

/** What may follow a target: `func <target> <action> [args..]`. */
export const ACTION_TABLE = {
  call: { args: "<module> <method> [args..]", describe: "run a method (typed by its signature: func \"*\" call system method_help command.run)" },
  ping: { args: "", describe: "test.ping: is every host up?" },
  list_minions: { args: "", describe: "the hosts the target matches (from the certs)" },
  copyfile: { args: "<local> <remote> [--mode 0644] [--owner U]", describe: "push a file (any size, atomic, skipped when unchanged)" },
  getfile: { args: "<remote> <localdir>", describe: "pull a file into <localdir>/<host>/<name>" },
  show: { args: "hardware|facts [keys..]", describe: "hardware.info or facts.get, cut to the keys named" },
} as const;
export type Action = keyof typeof ACTION_TABLE;
export const ACTIONS = Object.keys(ACTION_TABLE) as Action[];

export const JOB_ACTIONS = ["status", "wait", "list", "purge", "rerun"] as const;
export type JobAction = (typeof JOB_ACTIONS)[number];

export const EPILOG = `Exit codes (bits, ORed): 0 all ok, 2 some error/denied, 4 some unreachable, 8 some timeout/lost,
16 no minion matched, 32 some command exited non-zero (shown as rc=N), 1 usage or configuration error.

Targets: globs and node sets, separated by ; or , : "web[01-20,30]", "rack[1-2]-n[01-40]", "db*,@web".

Arguments are typed by the method's signature (system method_help shows it): a word in a string parameter
stays a string (call command run false), int/number/bool words parse, struct words are JSON, a trailing
list takes the remaining words (call filetracker track /etc/hosts /etc/motd) or one JSON array; extra
words join into command run's cmd with spaces (call command run ls -la). module.method in one word works
too (call test.ping). Methods without a signature:
1 -> int, 2.5 -> double, true/false, null, [..] and {..} as JSON, "\\"12\\"" a string.
--str keeps every argument a string. Put -- before arguments that look like options.`;

/** The global options: yargs and the fast path both parse with this table. */
export const OPTIONS = {
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
export const JOB_OPTIONS = {
  limit: { type: "number", default: 50, describe: "job list: how many (newest first)" },
  "older-than": { type: "string", describe: "job purge: finished more than this long ago (90, 30s, 15m, 12h, 7d; default job_retention)" },
  only: { type: "string", describe: "job rerun: the hosts that ended failed (the default: any outcome but ok, or rc != 0), unreachable or ok" },
} as const satisfies Record<string, Options>;

export interface CommandSpec {
  /** the yargs command line, e.g. "job <action> [id]"; its first positional takes `words` */
  usage: string;
  describe: string;
  /** the words of the first positional (completion offers them) */
  words: readonly string[];
  options?: Readonly<Record<string, Options>>;
  examples: ReadonlyArray<readonly [string, string]>;
  epilog?: string;
  /** run by its own small parser before the target-spec paths (no target, no fast path) */
  standalone?: boolean;
}

/** First words that are commands of their own, not target specs. */
export const COMMAND_TABLE: Readonly<Record<string, CommandSpec>> = {
  map: {
    usage: "map <action>",
    describe: "the delegation map: build (ask every direct minion which leaves it serves, recursively) | show (the tree with counts)",
    words: MAP_ACTIONS,
    examples: [["$0 map build && $0 map show", "find the sub-overlords and their leaves; then calls go through them"]],
  },
  job: {
    usage: "job <action> [id]",
    describe: "jobs (async ones and every recorded run): status <id> | wait <id> [--timeout S] | list [--limit N] | purge [--older-than 7d] | rerun <id|last> [--only failed|unreachable|ok]",
    words: JOB_ACTIONS,
    options: JOB_OPTIONS,
    examples: [
      ["$0 job list --limit 10", "the newest jobs"],
      ["$0 job wait 20261122T201233-5f2a9c01b7 --timeout 60", "each host as it finishes, at most 60 s"],
      ["$0 job purge --older-than 7d", "forget finished jobs older than a week"],
      ["$0 job rerun last --only failed", "the last run again, on the hosts where it failed"],
    ],
    epilog: "In `job wait`, --timeout S bounds the whole wait: hosts still open then count as timeout (exit bit 8).",
  },
  group: {
    usage: "group <action> [args..]",
    describe: "groups of hosts in $FUNC_HOME/groups: add NAME MEMBER.. | remove NAME [MEMBER..] | list | show NAME",
    words: GROUP_ACTIONS,
    examples: [
      ['$0 group add web "web[01-20,30]" web-canary', "members are names, globs or node sets"],
      ["$0 group show web", "the members, and the hosts they match now"],
      ['$0 "@web" ping', "use it as a target"],
      ["$0 group remove web web-canary", "drop a member (no member: the whole group)"],
    ],
    standalone: true,
  },
  check: {
    usage: "check [target]",
    describe: "a doctor: config, certs and their expiry, the CA service, the CRL, the job store, test.ping of the targets",
    words: [],
    examples: [
      ["$0 check", "check this overlord and ping every minion"],
      ['$0 check "web*" --json', "the same as JSON, pinging web* only"],
    ],
    standalone: true,
  },
  dump_config: {
    usage: "dump_config",
    describe: "print the home's paths and the settings in effect (defaults filled in)",
    words: [],
    examples: [["$0 dump_config --json", "as JSON"]],
    standalone: true,
  },
  completion: {
    usage: "completion <shell>",
    describe: "print a completion script: bash | zsh",
    words: SHELLS,
    examples: [
      ["source <(func completion bash)", "complete commands, options, hosts, modules and methods in this shell"],
      ["func completion zsh > ~/.zfunc/_func", "zsh: save it on $fpath"],
    ],
    standalone: true,
  },
};

/** The examples of `func --help`, for the default command. */
export const EXAMPLES: ReadonlyArray<readonly [string, string]> = [
  ['$0 "*" ping', "is every minion up?"],
  ['$0 "web*" call command run "uname -r"', "run a shell command"],
  ['$0 "*" call test add 1 2', "typed arguments: prints 3 on each host"],
  ['$0 "web*;@db" --exclude web3 call command run "systemctl restart nginx"', "globs, groups and exclusions"],
  ['$0 "*" call test ping --jsonl | jq .', "one JSON line per host as it answers"],
  ['$0 "*" -b call command run "cat /etc/os-release"', "fold identical output: minion[01-40] (40)"],
  ['$0 "web[01-20,30]" --batch 25% --failhard call command run "systemctl restart app"', "rolling restart; a failure stops the rest (skipped)"],
  ['$0 "*" --subset 3 --out oneline call command run uptime', "3 random hosts, host: first line"],
  ['$0 "*" --diff call command run "cat /etc/resolv.conf"', "who differs from the most common result"],
  ['$0 "rack[1-2]-n[01-40]" --list-targets', "what a spec matches, no network"],
  ['$0 "web*" copyfile ./nginx.conf /etc/nginx/nginx.conf', "push a file (written atomically, skipped when unchanged)"],
  ['$0 "web*" copyfile -f ./app.tar --remotepath /srv/', "Func's spelling; a path ending in / means into that directory"],
  ['$0 "web*" getfile /var/log/syslog ./logs', "pull a file into ./logs/<host>/syslog (Func's -r FILE -l DIR too)"],
  ['$0 "*" call --async --nopoll command run "yum -y update"', "start an async job: prints its id at once"],
  ['$0 "*" --filter "os=debian,cpus>=4" call command run "apt-get -y upgrade"', "only hosts whose facts match"],
  ['$0 "*" show facts os kernel memory', "some facts of every host"],
  ["$0 job status 20261122T201233-5f2a9c01b7 --json", "where an async job stands (func job wait|list|purge too)"],
  ["$0 map build && $0 map show", "find the sub-overlords and their leaves; then calls go through them"],
];

/** The global options as parsed (checked by checkedOptions in main). */
export interface GlobalArgs {
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

