// The `func-ca` command line (Func's certmaster-ca, plus revoke, fingerprint, issue and serve): one table of
// commands, each a typed async function over the CA (ca/) that prints through `io` and returns an exit code.

import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import {
  FUNC_VERSION,
  MINION_PORT,
  FuncError,
  KEY_FILE_MODE,
  homePaths,
  isGlob,
  globToRegExp,
  loadOverlordConfig,
  parseHostPort,
  resolveHome,
  splitList,
  writeFileAtomic,
  type HomePaths,
} from "@func/shared";
import { caFingerprint, initCa, issueIdentity, listSignedInfo, loadCa, setMinionAddress } from "../ca/ca.js";
import { MAX_WAITING_CSRS, listWaiting, signWaiting } from "../ca/enroll-queue.js";
import { cleanName, revokeName } from "../ca/revocation.js";
import { startEnrollService } from "../ca/enroll-service.js";
import type { Io } from "./call.js";

interface CaArgs {
  paths: HomePaths;
  positionals: string[];
  values: Record<string, string | boolean | string[] | undefined>;
  json: boolean;
  io: Io;
  env: NodeJS.ProcessEnv;
}

interface CaCommand {
  summary: string;
  usage: string;
  examples: string[];
  run(a: CaArgs): Promise<number>;
}

const OPTIONS = {
  home: { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean", short: "V" },
  name: { type: "string" },
  "service-name": { type: "string", multiple: true },
  "service-ip": { type: "string", multiple: true },
  role: { type: "string" },
  out: { type: "string" },
  days: { type: "string" },
  listen: { type: "string" },
  port: { type: "string" },
  autosign: { type: "string" },
} as const;

/** "42 s ago", "3 min ago", "5 h ago", for the admin's eyes. */
function age(s: number | null): string {
  if (s === null) return "age unknown";
  if (s < 120) return `${s} s ago`;
  if (s < 7200) return `${Math.round(s / 60)} min ago`;
  return `${Math.round(s / 3600)} h ago`;
}

function str(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}

function printJson(io: Io, v: unknown): void {
  io.out(JSON.stringify(v, null, 2) + "\n");
}

const COMMANDS: Record<string, CaCommand> = {
  init: {
    summary: "create the CA, its CRL, the overlord's identity and the enrollment service's cert in the home",
    usage: "func-ca init [--name CA-CN] [--service-name DNS]... [--service-ip IP]...",
    examples: ["func-ca init", "FUNC_HOME=/srv/overlord func-ca init --service-name overlord.example.com --service-ip 10.0.0.5"],
    async run({ paths, values, json, io }) {
      const name = str(values.name);
      const created = await initCa(paths, {
        ...(name ? { name } : {}),
        serviceNames: (values["service-name"] as string[] | undefined) ?? [],
        serviceIps: (values["service-ip"] as string[] | undefined) ?? [],
      });
      const fp = caFingerprint(paths);
      if (json) {
        printJson(io, { created, caDir: paths.caDir, fingerprint: fp, overlordCert: paths.overlordCert });
        return 0;
      }
      io.out(created ? `created a CA in ${paths.caDir}\n` : `a CA already exists in ${paths.caDir} (left as it is)\n`);
      io.out(`CA fingerprint: ${fp}\n`);
      if (created) {
        io.out(`overlord identity: ${paths.overlordCert}\n\nNext: "func-ca serve", then on each minion:\n  funcd --enroll <this-host> --ca-fingerprint ${fp}\n`);
      }
      return 0;
    },
  },

  fingerprint: {
    summary: "print the CA's SHA-256 fingerprint: what a new minion is given to trust this CA",
    usage: "func-ca fingerprint",
    examples: ["func-ca fingerprint", 'funcd --enroll overlord.example.com --ca-fingerprint "$(func-ca fingerprint)"'],
    async run({ paths, io, json }) {
      const fp = caFingerprint(paths);
      if (json) printJson(io, { fingerprint: fp });
      else io.out(fp + "\n");
      return 0;
    },
  },

  list: {
    summary: "list requests waiting to be signed, with their key fingerprints, source and age (expired ones are dropped)",
    usage: "func-ca list [--json]",
    examples: ["func-ca list", "func-ca list --json"],
    async run({ paths, io, json }) {
      const config = loadOverlordConfig(paths);
      const waiting = listWaiting(paths, { ttlS: config.csrTtlS });
      if (json) {
        printJson(io, waiting);
        return 0;
      }
      if (waiting.length === 0) {
        io.out("No certificates to sign\n");
        return 0;
      }
      for (const w of waiting) {
        const where = w.address ? `${w.address}${w.port ? `:${w.port}` : ""}` : "-";
        io.out(`${w.name}  ${w.fingerprint}  ${where}  ${w.requested ?? "-"}  from ${w.source ?? "-"}  ${age(w.ageS)}\n`);
      }
      const oldest = Math.max(...waiting.map((w) => w.ageS ?? 0));
      io.out(
        `${waiting.length} waiting (cap ${MAX_WAITING_CSRS}, ${config.csrMaxPerSource} per source), oldest ${age(oldest)}; ` +
          `a request not repeated for ${config.csrTtlS} s expires\n`,
      );
      return 0;
    },
  },

  "set-address": {
    summary: "change where the overlord dials a signed minion (a minion's own requests never move it)",
    usage: "func-ca set-address <name> <address>[:port]",
    examples: ["func-ca set-address web1.example.com 10.0.0.7", "func-ca set-address web1.example.com 10.0.0.7:51234"],
    async run({ paths, positionals, io, json }) {
      const [name, where] = positionals;
      if (!name || !where || positionals.length !== 2) throw new FuncError("UsageError", "usage: func-ca set-address <name> <address>[:port]");
      const { host, port } = parseHostPort(where, MINION_PORT);
      const hasPort = /\]:\d+$|^[^:\]]+:\d+$/.test(where.trim());
      const rec = setMinionAddress(paths, name, { address: host, ...(hasPort ? { port } : {}) });
      if (json) printJson(io, { name: name.toLowerCase(), ...rec });
      else io.out(`${name.toLowerCase()}: dialled at ${rec.address ?? "its name"}${rec.port ? `:${rec.port}` : ""} from now on\n`);
      return 0;
    },
  },

  sign: {
    summary: "sign waiting requests by name or glob",
    usage: "func-ca sign <name|glob>...",
    examples: ["func-ca sign web1.example.com", "func-ca sign 'web*' db1"],
    async run({ paths, positionals, io, json }) {
      if (positionals.length === 0) throw new FuncError("UsageError", "func-ca sign needs at least one name or glob (see func-ca list)");
      const waiting = listWaiting(paths).map((w) => w.name);
      const names = new Set<string>();
      let code = 0;
      for (const p of positionals) {
        const matched = isGlob(p) ? waiting.filter((n) => globToRegExp(p).test(n)) : waiting.filter((n) => n === p.toLowerCase());
        if (matched.length === 0) {
          io.err(`func-ca: no waiting request matches ${JSON.stringify(p)}\n`);
          code = 1;
        }
        for (const n of matched) names.add(n);
      }
      const signed: { name: string; cert: string }[] = [];
      for (const n of [...names].sort()) {
        try {
          const cert = await signWaiting(paths, n);
          signed.push({ name: n, cert });
          if (!json) io.out(`${n} signed - cert located at ${cert}\n`);
        } catch (err) {
          io.err(`func-ca: ${n}: ${(err as Error).message}\n`);
          code = 1;
        }
      }
      if (json) printJson(io, signed);
      return code;
    },
  },

  "list-signed": {
    summary: "list signed minions (the target universe), optionally matching a glob",
    usage: "func-ca list-signed [glob] [--json]",
    examples: ["func-ca list-signed", "func-ca list-signed 'web*' --json"],
    async run({ paths, positionals, io, json }) {
      const rows = listSignedInfo(paths, positionals[0] ?? "*");
      if (json) printJson(io, rows);
      else for (const r of rows) io.out(`${r.name}  ${r.address ? `${r.address}${r.port ? `:${r.port}` : ""}` : "(dns)"}  until ${r.notAfter}  serial ${r.serial}\n`);
      return 0;
    },
  },

  revoke: {
    summary: "revoke a minion or an issued identity: its serial goes into the CRL and a minion leaves the universe at once",
    usage: "func-ca revoke <name>...",
    examples: ["func-ca revoke web3.example.com", "func-ca revoke ops1"],
    async run({ paths, positionals, io, json }) {
      if (positionals.length === 0) throw new FuncError("UsageError", "func-ca revoke needs a name");
      const done = [];
      let code = 0;
      for (const p of positionals) {
        try {
          const r = await revokeName(paths, p);
          done.push(r);
          if (!json) io.out(`${r.name} revoked (serial ${r.serial}); CRL updated: ${paths.crl}\n`);
        } catch (err) {
          io.err(`func-ca: ${(err as Error).message}\n`);
          code = 1;
        }
      }
      if (json) printJson(io, done);
      return code;
    },
  },

  clean: {
    summary: "let a name enroll again: revokes any cert it still holds, removes its waiting request and revoked marker",
    usage: "func-ca clean <name>...",
    examples: ["func-ca clean web3.example.com"],
    async run({ paths, positionals, io, json }) {
      if (positionals.length === 0) throw new FuncError("UsageError", "func-ca clean needs a name");
      const done = [];
      for (const p of positionals) {
        const r = await cleanName(paths, p);
        done.push({ name: p, revoked: r.revoked, removed: r.removed });
        if (!json) {
          if (r.revoked) io.out(`${p}: revoked its cert (serial ${r.revoked.serial})\n`);
          io.out(`${p} cleaned: it may enroll again\n`);
        }
      }
      if (json) printJson(io, done);
      return 0;
    },
  },

  issue: {
    summary: "issue a key and cert for another caller: role user (rights from the minions' acl.d) or overlord (every method)",
    usage: "func-ca issue <name> --out DIR [--role user|overlord] [--days N]",
    examples: [
      "func-ca issue ops1 --out /tmp/ops1            # writes ops1.key (0600), ops1.crt, ca.crt",
      "# on the minions, acl.d/ops.acl:  ops1 = test.*, service.status",
    ],
    async run({ paths, positionals, values, io, json }) {
      const name = positionals[0];
      const out = str(values.out);
      if (!name || !out) throw new FuncError("UsageError", "usage: func-ca issue <name> --out DIR [--role user|overlord]");
      const role = str(values.role) ?? "user";
      if (role !== "user" && role !== "overlord") throw new FuncError("UsageError", `--role must be user or overlord, not "${role}"`);
      const days = values.days === undefined ? undefined : Number(values.days);
      if (days !== undefined && !(Number.isInteger(days) && days > 0)) throw new FuncError("UsageError", "--days must be a whole number of days");
      const pair = await issueIdentity(paths, name, { role, ...(days ? { days } : {}) });
      const dir = resolve(out);
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const files = { key: join(dir, `${name}.key`), cert: join(dir, `${name}.crt`), ca: join(dir, "ca.crt") };
      writeFileAtomic(files.key, pair.keyPem, KEY_FILE_MODE);
      writeFileAtomic(files.cert, pair.certPem);
      writeFileAtomic(files.ca, loadCa(paths).certPem);
      if (json) printJson(io, { name, role, ...files });
      else io.out(`issued ${name} (role ${role}): ${files.key} ${files.cert} ${files.ca}\n`);
      return 0;
    },
  },

  serve: {
    summary: "run the enrollment service (HTTPS, port 51235 by default) until stopped",
    usage: "func-ca serve [--listen ADDR] [--port N] [--autosign 'GLOB,GLOB']",
    examples: ["func-ca serve", "func-ca serve --listen 10.0.0.5 --autosign '*.lab.example.com'"],
    async run({ paths, values, io }) {
      const config = loadOverlordConfig(paths);
      const port = values.port === undefined ? config.enrollPort : Number(values.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new FuncError("UsageError", `--port must be 0-65535, got "${String(values.port)}"`);
      const autosign = values.autosign === undefined ? config.autosign : splitList(str(values.autosign));
      const log = (m: string) => io.err(`func-ca serve: ${m}\n`);
      const service = await startEnrollService(paths, {
        listenAddr: str(values.listen) ?? config.enrollListenAddr,
        port,
        autosign,
        csrTtlS: config.csrTtlS,
        maxWaitingPerSource: config.csrMaxPerSource,
        log,
      });
      log(
        `listening on ${service.address}:${service.port}, CA ${caFingerprint(paths)}, autosign ${autosign.length ? autosign.join(", ") : "off"}`,
      );
      await new Promise<void>((done) => {
        const stop = () => void service.close().then(done);
        process.once("SIGTERM", stop);
        process.once("SIGINT", stop);
      });
      return 0;
    },
  },
};

function helpText(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  return [
    "func-ca: the func certificate authority (Func's certmaster-ca)",
    "",
    "Usage: func-ca <command> [options] [--home DIR] [--json]",
    "",
    "Commands:",
    ...Object.entries(COMMANDS).map(([n, c]) => `  ${n.padEnd(width)}  ${c.summary}`),
    "",
    "The home is --home DIR, else FUNC_HOME, else /etc/func for root, else ~/.func. `func-ca <command> --help`",
    "shows a command's examples.",
    "",
    "The flow by hand:",
    "  func-ca init && func-ca serve &",
    '  funcd --enroll overlord.example.com --ca-fingerprint "$(func-ca fingerprint)"     # on the minion',
    "  func-ca list && func-ca sign web1.example.com",
    '  func "*" ping',
    "",
  ].join("\n");
}

function commandHelp(name: string, c: CaCommand): string {
  return `func-ca ${name}: ${c.summary}\n\nUsage: ${c.usage} [--home DIR]\n\nExamples:\n${c.examples.map((e) => `  ${e}`).join("\n")}\n`;
}

export async function caMain(argv: string[], env: NodeJS.ProcessEnv, io: Io): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    throw new FuncError("UsageError", (err as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.version) {
    io.out(`func-ca ${FUNC_VERSION}\n`);
    return 0;
  }
  const [cmd, ...rest] = positionals;
  if (!cmd) {
    io.out(helpText());
    return values.help ? 0 : 1;
  }
  const command = Object.hasOwn(COMMANDS, cmd) ? COMMANDS[cmd] : undefined;
  if (!command) throw new FuncError("UsageError", `unknown command "${cmd}" (${Object.keys(COMMANDS).join(", ")})`);
  if (values.help) {
    io.out(commandHelp(cmd, command));
    return 0;
  }
  const home = str(values.home);
  const paths = home ? homePaths(resolve(home)) : resolveHome(env, process.getuid?.());
  return command.run({ paths, positionals: rest, values, json: values.json === true, io, env });
}
