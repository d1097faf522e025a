// Configuration: one DEFAULTS object, INI files read once at the edge (CLI or daemon start) and passed down.
// Keys use Func's names where Func had one (listen_port, acl_dir, socket_timeout, ...).

import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { FuncError } from "./errors.js";
import { ENROLL_PORT, MINION_PORT, type HomePaths } from "./home.js";
import { parseIni, splitList, type Ini } from "./ini.js";

const MIB = 1024 * 1024;
/**
 * How long a minion keeps a TLS session resumable, s (Node's default). The overlord keeps session tickets no
 * longer; a CRL update on the minion ends them sooner (a resumed session skips the certificate checks).
 */
export const TLS_SESSION_LIFETIME_S = 300;
const DAY_S = 24 * 60 * 60;

export interface MinionConfig {
  /** the minion's name: the CN of its cert; default: the host name */
  minionName: string;
  listenAddr: string;
  listenPort: number;
  aclDir: string;
  auditLog: string;
  /** the audit log is rotated when it would grow past this many bytes; 0: never */
  auditLogMaxBytes: number;
  /** rotated audit logs kept (audit.log.1 ... audit.log.N) */
  auditLogKeep: number;
  /** largest request body accepted (bytes); larger gets HTTP 413 */
  maxBodyBytes: number;
  /** deepest array/struct nesting accepted in a request */
  maxDepth: number;
  /** most `<value>` elements accepted in one request */
  maxElements: number;
  /** most TLS connections open at once; more are closed at accept */
  maxConnections: number;
  /** request bytes being read, decoded and answered at once, over all connections; more answer HTTP 503 */
  maxInflightBytes: number;
  /** time allowed to receive request headers (slowloris guard), ms */
  headersTimeoutMs: number;
  /** time allowed for a whole request including the body, ms */
  requestTimeoutMs: number;
  /** idle keep-alive connections are closed after this, ms */
  keepAliveTimeoutMs: number;
  /** async jobs running at once; more answer fault 5 */
  maxAsyncJobs: number;
  /** finished minion job records are purged after this many seconds */
  jobRetentionS: number;
  /** `command.run` default timeout (s); the whole process tree is killed */
  commandTimeoutS: number;
  /** `command.run` keeps at most this many bytes of stdout and of stderr */
  commandOutputCap: number;
  /** async results larger than this are cut, with a marker */
  asyncResultCap: number;
  /** enrollment service host[:port]; empty: no enrollment (certs placed by hand) */
  enrollHost: string;
  enrollPort: number;
  /** SHA256 fingerprint of the CA the enrollment service must present */
  caFingerprint: string;
  /** the address the overlord should dial, recorded at enrollment; default: listen_addr */
  advertiseAddr: string;
  /** how often to fetch the CRL from the enrollment service, s; 0: never */
  crlRefreshS: number;
  /** what `reboot.now` runs (with /bin/sh -c, a few seconds after it answered); tests point it at something harmless */
  rebootCommand: string;
  /** seconds between `reboot.now` answering and running reboot_command */
  rebootDelayS: number;
  /** directories the `file` module may read and write under (file_roots); paths are resolved first */
  fileRoots: string[];
}

export interface OverlordConfig {
  /** per-host timeout, s (Func's socket_timeout; 0 there meant none, here it means the default) */
  socketTimeoutS: number;
  /** default port to dial when a minion has no recorded port */
  minionPort: number;
  /** default number of buckets (processes) a fan-out may use */
  forks: number;
  /** fewest hosts per bucket: a smaller fan-out uses fewer buckets than `forks` (a forked worker costs ~100+ ms of CPU) */
  bucketMinHosts: number;
  /** calls in flight at once per bucket */
  concurrency: number;
  /** finished async jobs are purged after this many seconds */
  jobRetentionS: number;
  /** an async job whose hosts have not answered by this many seconds is finished with `lost` */
  jobDeadlineS: number;
  /** how often `func job wait` and the CLI's default polling ask the minions, ms */
  pollIntervalMs: number;
  /** enrollment service: where `func-ca serve` listens */
  enrollListenAddr: string;
  enrollPort: number;
  /** names that are signed without `func-ca sign` (globs); empty: off */
  autosign: string[];
}

export const DEFAULTS: { minion: Omit<MinionConfig, "minionName" | "aclDir" | "auditLog">; overlord: OverlordConfig } = {
  minion: {
    listenAddr: "0.0.0.0",
    listenPort: MINION_PORT,
    auditLogMaxBytes: 64 * MIB,
    auditLogKeep: 5,
    maxBodyBytes: 4 * MIB,
    maxDepth: 64,
    maxElements: 100_000,
    maxConnections: 512,
    maxInflightBytes: 16 * MIB,
    headersTimeoutMs: 10_000,
    requestTimeoutMs: 60_000,
    keepAliveTimeoutMs: 30_000,
    maxAsyncJobs: 64,
    jobRetentionS: 7 * DAY_S,
    commandTimeoutS: 600,
    commandOutputCap: 4 * MIB,
    asyncResultCap: 16 * MIB,
    enrollHost: "",
    enrollPort: ENROLL_PORT,
    caFingerprint: "",
    advertiseAddr: "",
    crlRefreshS: 300,
    fileRoots: ["/"],
    rebootCommand: "/sbin/shutdown -r now",
    rebootDelayS: 5,
  },
  overlord: {
    socketTimeoutS: 30,
    minionPort: MINION_PORT,
    forks: 1,
    bucketMinHosts: 64,
    concurrency: 200,
    jobRetentionS: 7 * DAY_S,
    jobDeadlineS: DAY_S,
    pollIntervalMs: 500,
    enrollListenAddr: "0.0.0.0",
    enrollPort: ENROLL_PORT,
    autosign: [],
  },
};

function readIniFile(file: string): Ini {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return {};
    throw new FuncError("ConfigError", `cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
  try {
    return parseIni(text, file);
  } catch (err) {
    throw new FuncError("ConfigError", (err as Error).message, { cause: err });
  }
}

/** Typed readers that name the file and key on a bad value. */
class Section {
  readonly #file: string;
  readonly #values: Record<string, string>;
  constructor(file: string, values: Record<string, string> | undefined) {
    this.#file = file;
    this.#values = values ?? {};
  }
  str(key: string, fallback: string): string {
    const v = this.#values[key];
    return v === undefined || v === "" ? fallback : v;
  }
  num(key: string, fallback: number, min = 0): number {
    const v = this.#values[key];
    if (v === undefined || v === "") return fallback;
    const n = Number(v);
    if (!Number.isFinite(n) || n < min) throw new FuncError("ConfigError", `${this.#file}: ${key} = "${v}" is not a number >= ${min}`);
    return n;
  }
  list(key: string, fallback: string[]): string[] {
    const v = this.#values[key];
    return v === undefined ? fallback : splitList(v);
  }
}

export function loadMinionConfig(paths: HomePaths): MinionConfig {
  const s = new Section(paths.minionConf, readIniFile(paths.minionConf).main);
  const d = DEFAULTS.minion;
  const enroll = s.str("certmaster", d.enrollHost);
  return {
    minionName: s.str("minion_name", hostname()),
    listenAddr: s.str("listen_addr", d.listenAddr),
    listenPort: s.num("listen_port", d.listenPort, 0),
    aclDir: s.str("acl_dir", paths.aclDir),
    auditLog: s.str("audit_log", paths.auditLog),
    auditLogMaxBytes: s.num("audit_log_max_bytes", d.auditLogMaxBytes, 0),
    auditLogKeep: s.num("audit_log_keep", d.auditLogKeep, 0),
    maxBodyBytes: s.num("max_body_bytes", d.maxBodyBytes, 1024),
    maxDepth: s.num("max_depth", d.maxDepth, 2),
    maxElements: s.num("max_elements", d.maxElements, 16),
    maxConnections: s.num("max_connections", d.maxConnections, 1),
    maxInflightBytes: s.num("max_inflight_bytes", d.maxInflightBytes, 1024),
    headersTimeoutMs: s.num("headers_timeout_ms", d.headersTimeoutMs, 100),
    requestTimeoutMs: s.num("request_timeout_ms", d.requestTimeoutMs, 100),
    keepAliveTimeoutMs: s.num("keepalive_timeout_ms", d.keepAliveTimeoutMs, 100),
    maxAsyncJobs: s.num("max_async_jobs", d.maxAsyncJobs, 1),
    jobRetentionS: s.num("job_retention", d.jobRetentionS, 1),
    commandTimeoutS: s.num("command_timeout", d.commandTimeoutS, 1),
    commandOutputCap: s.num("command_output_cap", d.commandOutputCap, 1024),
    asyncResultCap: s.num("async_result_cap", d.asyncResultCap, 1024),
    enrollHost: enroll,
    enrollPort: s.num("certmaster_port", d.enrollPort, 1),
    caFingerprint: s.str("ca_fingerprint", d.caFingerprint),
    advertiseAddr: s.str("advertise_addr", d.advertiseAddr),
    crlRefreshS: s.num("crl_refresh", d.crlRefreshS, 0),
    fileRoots: s.list("file_roots", d.fileRoots),
    rebootCommand: s.str("reboot_command", d.rebootCommand),
    rebootDelayS: s.num("reboot_delay", d.rebootDelayS, 0),
  };
}

export function loadOverlordConfig(paths: HomePaths): OverlordConfig {
  const s = new Section(paths.overlordConf, readIniFile(paths.overlordConf).main);
  const d = DEFAULTS.overlord;
  const timeout = s.num("socket_timeout", d.socketTimeoutS, 0);
  return {
    socketTimeoutS: timeout === 0 ? d.socketTimeoutS : timeout,
    minionPort: s.num("listen_port", d.minionPort, 1),
    forks: s.num("forks", d.forks, 1),
    bucketMinHosts: s.num("bucket_min_hosts", d.bucketMinHosts, 1),
    concurrency: s.num("concurrency", d.concurrency, 1),
    jobRetentionS: s.num("job_retention", d.jobRetentionS, 1),
    jobDeadlineS: s.num("job_deadline", d.jobDeadlineS, 1),
    pollIntervalMs: s.num("poll_interval_ms", d.pollIntervalMs, 10),
    enrollListenAddr: s.str("certmaster_listen_addr", d.enrollListenAddr),
    enrollPort: s.num("certmaster_port", d.enrollPort, 1),
    autosign: s.list("autosign", d.autosign),
  };
}

/** Reads the groups file (`[group]` with `hosts = a, b, web*`); missing file: no groups. */
export function loadGroups(paths: HomePaths): Record<string, string[]> {
  const ini = readIniFile(paths.groupsFile);
  const groups: Record<string, string[]> = {};
  for (const [name, entries] of Object.entries(ini)) {
    if (name === "main" && Object.keys(entries).length === 0) continue;
    groups[name] = splitList(entries.hosts);
  }
  return groups;
}

/** Parses durations like `90`, `30s`, `15m`, `12h`, `7d`, `2w` into seconds. */
export function parseDuration(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$/i.exec(text);
  if (!m) throw new FuncError("UsageError", `"${text}" is not a duration (e.g. 90, 30s, 15m, 12h, 7d, 2w)`);
  const unit = { "": 1, s: 1, m: 60, h: 3600, d: DAY_S, w: 7 * DAY_S }[m[2]!.toLowerCase() as "" | "s"];
  return Number(m[1]) * unit;
}
