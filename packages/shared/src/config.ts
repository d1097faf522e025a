// Configuration: one DEFAULTS object, INI files read once at the edge (CLI or daemon start) and passed down.
// Keys use Func's names where Func had one (listen_port, acl_dir, socket_timeout, ...).

import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { FuncError } from "./errors.js";
import { ENROLL_PORT, MINION_PORT, type HomePaths } from "./home.js";
import { splitOutsideBrackets } from "./node-set.js";
import { parseIni, rewriteIni, splitList, type Ini } from "./ini.js";
import { writeFileAtomic } from "./files.js";

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
  /** most connections open at once from one source address, before TLS (addresses seen as the overlord are exempt) */
  maxConnectionsPerAddress: number;
  /** connections of max_connections kept for addresses that proved the overlord role; default max_connections / 8 */
  overlordReservedConnections: number;
  /** time allowed for a TLS handshake before the socket is dropped, ms */
  handshakeTimeoutMs: number;
  /** request bytes being read, decoded and answered at once, over all connections; more answer HTTP 503 */
  maxInflightBytes: number;
  /** of those, most held by one identity (cert CN) that is not the overlord; default max_body_bytes */
  maxInflightBytesPerIdentity: number;
  /** of those, what identities other than the overlord can never take; default max_inflight_bytes / 2 */
  overlordReservedInflightBytes: number;
  /** time allowed to receive request headers (slowloris guard), ms */
  headersTimeoutMs: number;
  /** time allowed for a whole request including the body, ms */
  requestTimeoutMs: number;
  /** idle keep-alive connections are closed after this, ms */
  keepAliveTimeoutMs: number;
  /** async jobs running at once; more answer fault 5 */
  maxAsyncJobs: number;
  /** of those, most started by one identity that is not the overlord; default max_async_jobs / 4 */
  maxAsyncJobsPerIdentity: number;
  /** of those, what identities other than the overlord can never take; default max_async_jobs / 4 */
  overlordReservedAsyncJobs: number;
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
  /** how many backups (`path.YYYY-MM-DD@HH:MM~`) of a replaced file the `file` module keeps; 0: none */
  fileBackups: number;
  /** mode bits a written file may get (file_max_mode, octal); setuid, setgid and sticky need 07777 */
  fileMaxMode: number;
  /** an upload with no chunk for this many seconds is abandoned and its temp file removed */
  uploadExpiryS: number;
  /** uploads open at once; more answer fault 5 */
  maxUploads: number;
  /**
   * the program that runs a delegated share on a sub-overlord (`func-delegate` of @func/overlord, found when
   * the share starts); empty: the installed @func/overlord's (delegate_bin)
   */
  delegateBin: string;
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
  /** largest answer read from one minion (bytes); a bigger one gives that host `error`, never more */
  maxResponseBytes: number;
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
  /** a waiting enrollment request whose minion has not asked again for this long is dropped, s (csr_ttl) */
  csrTtlS: number;
  /** most waiting enrollment requests from one source address (csr_max_per_source) */
  csrMaxPerSource: number;
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
    maxConnectionsPerAddress: 32,
    overlordReservedConnections: 64,
    handshakeTimeoutMs: 10_000,
    maxInflightBytes: 16 * MIB,
    maxInflightBytesPerIdentity: 4 * MIB,
    overlordReservedInflightBytes: 8 * MIB,
    headersTimeoutMs: 10_000,
    requestTimeoutMs: 60_000,
    keepAliveTimeoutMs: 30_000,
    maxAsyncJobs: 64,
    maxAsyncJobsPerIdentity: 16,
    overlordReservedAsyncJobs: 16,
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
    fileBackups: 5,
    fileMaxMode: 0o777,
    uploadExpiryS: 600,
    maxUploads: 16,
    delegateBin: "",
    rebootCommand: "/sbin/shutdown -r now",
    rebootDelayS: 5,
  },
  overlord: {
    socketTimeoutS: 30,
    minionPort: MINION_PORT,
    forks: 1,
    bucketMinHosts: 64,
    concurrency: 200,
    maxResponseBytes: 64 * MIB,
    jobRetentionS: 7 * DAY_S,
    jobDeadlineS: DAY_S,
    pollIntervalMs: 500,
    enrollListenAddr: "0.0.0.0",
    enrollPort: ENROLL_PORT,
    autosign: [],
    csrTtlS: 3600,
    csrMaxPerSource: 32,
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
  /** A file mode in octal (`0644`, `755`). */
  mode(key: string, fallback: number): number {
    const v = this.#values[key];
    if (v === undefined || v === "") return fallback;
    if (!/^0?[0-7]{1,4}$/.test(v.trim())) throw new FuncError("ConfigError", `${this.#file}: ${key} = "${v}" is not an octal mode (e.g. 0777)`);
    return parseInt(v.trim(), 8);
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
  // the shares default to parts of the caps they share, so lowering a cap lowers them with it
  const maxConnections = s.num("max_connections", d.maxConnections, 1);
  const maxBodyBytes = s.num("max_body_bytes", d.maxBodyBytes, 1024);
  const maxInflightBytes = s.num("max_inflight_bytes", d.maxInflightBytes, 1024);
  const maxAsyncJobs = s.num("max_async_jobs", d.maxAsyncJobs, 1);
  const part = (whole: number, base: number, share: number) => (whole === base ? share : Math.floor((whole * share) / base));
  return {
    minionName: s.str("minion_name", hostname()),
    listenAddr: s.str("listen_addr", d.listenAddr),
    listenPort: s.num("listen_port", d.listenPort, 0),
    aclDir: s.str("acl_dir", paths.aclDir),
    auditLog: s.str("audit_log", paths.auditLog),
    auditLogMaxBytes: s.num("audit_log_max_bytes", d.auditLogMaxBytes, 0),
    auditLogKeep: s.num("audit_log_keep", d.auditLogKeep, 0),
    maxBodyBytes,
    maxDepth: s.num("max_depth", d.maxDepth, 2),
    maxElements: s.num("max_elements", d.maxElements, 16),
    maxConnections,
    maxConnectionsPerAddress: s.num("max_connections_per_address", d.maxConnectionsPerAddress, 1),
    overlordReservedConnections: s.num("overlord_reserved_connections", part(maxConnections, d.maxConnections, d.overlordReservedConnections), 0),
    handshakeTimeoutMs: s.num("handshake_timeout_ms", d.handshakeTimeoutMs, 100),
    maxInflightBytes,
    maxInflightBytesPerIdentity: s.num("max_inflight_bytes_per_identity", Math.min(maxBodyBytes, maxInflightBytes), 1024),
    overlordReservedInflightBytes: s.num("overlord_reserved_inflight_bytes", part(maxInflightBytes, d.maxInflightBytes, d.overlordReservedInflightBytes), 0),
    headersTimeoutMs: s.num("headers_timeout_ms", d.headersTimeoutMs, 100),
    requestTimeoutMs: s.num("request_timeout_ms", d.requestTimeoutMs, 100),
    keepAliveTimeoutMs: s.num("keepalive_timeout_ms", d.keepAliveTimeoutMs, 100),
    maxAsyncJobs,
    maxAsyncJobsPerIdentity: s.num("max_async_jobs_per_identity", Math.max(1, part(maxAsyncJobs, d.maxAsyncJobs, d.maxAsyncJobsPerIdentity)), 1),
    overlordReservedAsyncJobs: s.num("overlord_reserved_async_jobs", part(maxAsyncJobs, d.maxAsyncJobs, d.overlordReservedAsyncJobs), 0),
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
    fileBackups: s.num("file_backups", d.fileBackups, 0),
    fileMaxMode: s.mode("file_max_mode", d.fileMaxMode),
    uploadExpiryS: s.num("upload_expiry", d.uploadExpiryS, 1),
    maxUploads: s.num("max_uploads", d.maxUploads, 1),
    delegateBin: s.str("delegate_bin", d.delegateBin),
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
    maxResponseBytes: s.num("max_response_bytes", d.maxResponseBytes, 1024),
    jobRetentionS: s.num("job_retention", d.jobRetentionS, 1),
    jobDeadlineS: s.num("job_deadline", d.jobDeadlineS, 1),
    pollIntervalMs: s.num("poll_interval_ms", d.pollIntervalMs, 10),
    enrollListenAddr: s.str("certmaster_listen_addr", d.enrollListenAddr),
    enrollPort: s.num("certmaster_port", d.enrollPort, 1),
    autosign: s.list("autosign", d.autosign),
    csrTtlS: s.num("csr_ttl", d.csrTtlS, 60),
    csrMaxPerSource: s.num("csr_max_per_source", d.csrMaxPerSource, 1),
  };
}

/** Reads the groups file (`[group]` with `hosts = a, b, web*`); missing file: no groups. */
export function loadGroups(paths: HomePaths): Record<string, string[]> {
  const ini = readIniFile(paths.groupsFile);
  const groups: Record<string, string[]> = {};
  for (const [name, entries] of Object.entries(ini)) {
    if (name === "main" && Object.keys(entries).length === 0) continue;
    // `web[01-03,07], db1`: a comma inside a node set is not a separator
    groups[name] = splitOutsideBrackets(entries.hosts ?? "", ", \t").filter((m) => m !== "");
  }
  return groups;
}

/**
 * Writes the groups file (`[name]` / `hosts = a, b, web[01-03]`), atomically: groups no longer in `groups`
 * are dropped, the others' `hosts` lines set, new ones appended; comments and everything else stay as written.
 */
export function saveGroups(paths: HomePaths, groups: Readonly<Record<string, readonly string[]>>): void {
  let text = "";
  try {
    text = readFileSync(paths.groupsFile, "utf8");
  } catch {
    // no groups file yet
  }
  const changes: Record<string, Record<string, string> | null> = {};
  for (const name of Object.keys(loadGroups(paths))) changes[name] = null;
  for (const name of Object.keys(groups).sort()) changes[name] = { hosts: groups[name]!.join(", ") };
  writeFileAtomic(paths.groupsFile, rewriteIni(text, changes));
}

/** Parses durations like `90`, `30s`, `15m`, `12h`, `7d`, `2w` into seconds. */
export function parseDuration(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$/i.exec(text);
  if (!m) throw new FuncError("UsageError", `"${text}" is not a duration (e.g. 90, 30s, 15m, 12h, 7d, 2w)`);
  const unit = { "": 1, s: 1, m: 60, h: 3600, d: DAY_S, w: 7 * DAY_S }[m[2]!.toLowerCase() as "" | "s"];
  return Number(m[1]) * unit;
}
