#!/usr/bin/env -S node --max-semi-space-size=2
// funcd: the minion daemon. Enrolls with the overlord's enrollment service when it has no cert yet, then serves
// one home (FUNC_HOME or --home), or several homes in one process (--multi, for large local fleets: each is
// still its own TLS server with its own key, cert and address).

import { parseArgs } from "node:util";
import { homePaths, parseHostPort, resolveHome, FuncError, errorLine, FUNC_VERSION, ENROLL_PORT, type MinionConfig } from "@func/shared";
import { startMinion, type StartedMinion } from "../daemon.js";
import { EnrollClientPool } from "../enroll/enroll-client.js";

const HELP = `funcd: the func minion daemon

Usage:
  funcd [--home DIR] [--listen ADDR] [--port N]
  funcd --enroll HOST[:PORT] --ca-fingerprint SHA256:... [--name NAME] [--advertise ADDR] [--home DIR]
  funcd --multi DIR [DIR...]          serve several minion homes in one process
  funcd --list-modules

Options:
  --home DIR              the minion's home (default: FUNC_HOME, /etc/func for root, ~/.func)
  --listen ADDR           address to listen on (minion.conf listen_addr, default 0.0.0.0)
  --port N                port (minion.conf listen_port, default 51234)
  --name NAME             the minion's name, the CN of its cert (minion.conf minion_name, default the host name)
  --enroll HOST[:PORT]    the overlord's enrollment service (minion.conf certmaster / certmaster_port, port ${ENROLL_PORT})
  --ca-fingerprint FP     the CA to trust, as "func-ca fingerprint" prints it (minion.conf ca_fingerprint)
  --advertise ADDR        the address the overlord should dial (minion.conf advertise_addr; default the listen
                          address, or the address the enrollment service sees)

Enrollment: without pki/minion.crt and with an enrollment service configured, funcd makes its key (pki/minion.key,
mode 0600, never sent anywhere) and a CSR, checks that the service's CA has the given fingerprint, sends the CSR and
polls until an admin runs "func-ca sign NAME" (or autosign matches), then stores the cert and serves. The CRL is
fetched from the same service at start and every crl_refresh seconds (default 300).

Signals: SIGTERM or SIGINT stop funcd (async jobs keep running in their own processes); SIGHUP re-reads
minion.conf, the ACLs, the CRL and the certificate and reopens the audit log, keeping every connection.

Exit codes: 0 stopped by a signal, 1 failed, 2 configuration error, 3 enrollment refused for good (the systemd
unit does not restart on 2 or 3).

Examples:
  funcd --enroll overlord.example.com --ca-fingerprint SHA256:4B:D3:...:1E
  FUNC_HOME=/srv/minion1 funcd
  funcd --home /srv/minion1 --listen 127.0.0.2
`;

/** Homes that enroll and start at once in --multi mode: bounded so a large fleet does not open every socket together. */
const START_CONCURRENCY = 64;

/** Set by SIGTERM/SIGINT: an enrollment wait cut short then is a normal exit, not an error. */
let stopping = false;

/** An unknown or malformed option is a usage error (exit 2 with one line), not a stack trace. */
function usage<T>(parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    throw new FuncError("UsageError", `${(err as Error).message} (see funcd --help)`);
  }
}

async function main(): Promise<number> {
  const { values, positionals } = usage(() => parseArgs({
    options: {
      home: { type: "string" },
      listen: { type: "string" },
      port: { type: "string" },
      name: { type: "string" },
      enroll: { type: "string" },
      "ca-fingerprint": { type: "string" },
      advertise: { type: "string" },
      multi: { type: "boolean" },
      "list-modules": { type: "boolean" },
      help: { type: "boolean", short: "h" },
      version: { type: "boolean", short: "V" },
    },
    allowPositionals: true,
  }));
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (values.version) {
    process.stdout.write(`funcd ${FUNC_VERSION}\n`);
    return 0;
  }
  if (values["list-modules"]) {
    const { MODULES } = await import("../modules/index.js");
    for (const m of MODULES) process.stdout.write(`${m.name}\t${m.description}\n`);
    return 0;
  }
  const log = (message: string) => process.stderr.write(`funcd: ${message}\n`);
  const homes = values.multi ? positionals.map((d) => homePaths(d)) : [values.home ? homePaths(values.home) : resolveHome(process.env, process.getuid?.())];
  if (homes.length === 0) throw new FuncError("UsageError", "--multi needs at least one home directory");
  if (values.port !== undefined && !/^\d+$/.test(values.port)) throw new FuncError("UsageError", `--port must be a number, got "${values.port}"`);
  const enroll = values.enroll ? parseHostPort(values.enroll, ENROLL_PORT) : undefined;
  const overrides: Partial<MinionConfig> = {
    ...(values.listen ? { listenAddr: values.listen } : {}),
    ...(values.port ? { listenPort: Number(values.port) } : {}),
    ...(values.name ? { minionName: values.name } : {}),
    ...(enroll ? { enrollHost: enroll.host, enrollPort: enroll.port } : {}),
    ...(values["ca-fingerprint"] ? { caFingerprint: values["ca-fingerprint"] } : {}),
    ...(values.advertise ? { advertiseAddr: values.advertise } : {}),
  };

  const started: StartedMinion[] = [];
  const clients = new EnrollClientPool();
  const abort = new AbortController();
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    abort.abort();
    await Promise.allSettled(started.map((m) => m.close()));
    clients.close();
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop());
  process.on("SIGINT", () => void stop());
  // reload (systemd's ExecReload): config, ACLs, CRL and cert read again; connections and running jobs stay
  process.on("SIGHUP", () => {
    for (const m of started) {
      m.reload().then(
        (notes) => {
          for (const n of notes) log(`${m.name}: reload: ${n}`);
          log(`${m.name}: reloaded minion.conf, ACLs, CRL and certificate`);
        },
        (err: unknown) => log(`${m.name}: reload failed, kept the running configuration: ${(err as Error).message}`),
      );
    }
  });

  let next = 0;
  const worker = async () => {
    while (next < homes.length && !stopping) {
      const paths = homes[next++]!;
      const m = await startMinion(paths, overrides, { log, enrollClients: clients, signal: abort.signal });
      started.push(m);
      log(`${m.name} listening on ${m.address}:${m.port} (pid ${process.pid})`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(START_CONCURRENCY, homes.length) }, worker));
  return -1;
}

/** Exit codes a supervisor can act on: 2 and 3 will not fix themselves, so systemd should not restart. */
const FUNCD_EXIT = { FAILED: 1, CONFIG: 2, ENROLL_REFUSED: 3 } as const;

function exitCodeFor(err: unknown): number {
  if (!(err instanceof FuncError)) return FUNCD_EXIT.FAILED;
  if (err.type === "EnrollError") return FUNCD_EXIT.ENROLL_REFUSED;
  return err.type === "ConfigError" || err.type === "UsageError" ? FUNCD_EXIT.CONFIG : FUNCD_EXIT.FAILED;
}

main().then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (err: unknown) => {
    if (stopping) return;
    process.stderr.write(`funcd: ${errorLine(err)}\n`);
    process.exit(exitCodeFor(err));
  },
);
