// The Overlord client API: a target spec resolved against the signed certs, calls fanned out to the
// matching minions, one HostResult per host as data. The CLI is a thin layer over this class.

import { existsSync, readFileSync, statSync } from "node:fs";
import {
  checkCall,
  ERRORS,
  FuncError,
  matchFacts,
  homePaths,
  loadGroups,
  loadOverlordConfig,
  resolveHome,
  resolveTargets,
  type HomePaths,
  type FactFilter,
  type HostResult,
  type MethodSignature,
  type OverlordConfig,
} from "@func/shared";
import type { JobEngine, JobStatus, JobSummary, WaitOptions } from "../jobs/job-engine.js";
import { refreshCrlIfStale } from "../ca/ca-store.js";
import { EventQueue } from "./event-queue.js";
import { fanOut, type FanOutCall } from "./fan-out.js";
import { listMinionNames, minionAddress, type MinionAddress } from "./universe.js";
import { hasCachedInventory, knownSignature, storeInventory } from "./signature-cache.js";
import { TlsSessionStore } from "./tls-sessions.js";
import { MinionTransport } from "./transport.js";
import type { TlsMaterial } from "@func/shared";

export interface OverlordOptions {
  /** the overlord's home directory, or its paths; default: FUNC_HOME / ~/.func / /etc/func from `env` */
  home?: string | HomePaths;
  /** environment to resolve the home from (default process.env: the API's caller is an edge) */
  env?: Readonly<Record<string, string | undefined>>;
  /** spec of hosts to leave out */
  exclude?: string;
  /** forked buckets (default from overlord.conf, else 1) */
  forks?: number;
  /** fewest hosts per bucket (default from overlord.conf `bucket_min_hosts`, else 64): fewer hosts, fewer forks */
  bucketMinHosts?: number;
  /** calls in flight per bucket */
  concurrency?: number;
  /** per-host timeout, seconds */
  timeout?: number;
  /** settings to use instead of reading overlord.conf */
  config?: OverlordConfig;
  /** keep connections open between calls (default true); a one-shot caller such as the CLI turns it off */
  keepAlive?: boolean;
  /** run only on hosts whose facts.get() passes this filter (parseFactFilter); asked first, in one fan-out */
  filter?: FactFilter;
}

/** What a fact filter made of the matched hosts. */
export interface FactSelection {
  /** hosts the spec matched */
  asked: number;
  /** hosts whose facts passed: the method ran on these */
  matched: number;
  /** hosts whose facts could not be read: reported with that outcome, the method not run */
  unknown: number;
}

/** Hosts asked at once for `system.inventory` when no cached one knows a method. */
const FETCH_HOSTS = 3;
/** Longest wait for that inventory, ms: a host that does not answer soon is left to the call itself. */
const FETCH_TIMEOUT_MS = 5000;
/** How recent a change to certs/ or groups must be for its time stamps not to be trusted yet, ms. */
const RACY_MS = 1000;

interface Universe {
  /** when the certs/ directory and the groups file last changed */
  stamp: string;
  hosts?: string[];
  addresses: Map<string, MinionAddress>;
}

export interface HostEvent {
  host: string;
  result: HostResult;
}

export class Overlord {
  readonly spec: string;
  readonly paths: HomePaths;
  readonly config: OverlordConfig;
  readonly #opts: OverlordOptions;
  #identity: TlsMaterial | undefined;
  #crlStamp = "";
  #transport: MinionTransport | undefined;
  #universe: Universe | undefined;
  #sessions: TlsSessionStore | undefined;
  #engine: Promise<JobEngine> | undefined;
  #selection: FactSelection | undefined;

  constructor(spec: string, options: OverlordOptions = {}) {
    this.spec = spec;
    this.#opts = options;
    this.paths =
      typeof options.home === "string"
        ? homePaths(options.home)
        : (options.home ?? resolveHome(options.env ?? process.env, process.getuid?.()));
    this.config = options.config ?? loadOverlordConfig(this.paths);
  }

  get forks(): number {
    return this.#opts.forks ?? this.config.forks;
  }

  get timeoutMs(): number {
    return (this.#opts.timeout ?? this.config.socketTimeoutS) * 1000;
  }

  /** The sorted host names the spec matches; throws NoMatch (exit 16) when none do. */
  hosts(): string[] {
    const universe = this.#currentUniverse();
    universe.hosts ??= resolveTargets(this.spec, { names: listMinionNames(this.paths), groups: loadGroups(this.paths) }, this.#opts.exclude);
    return [...universe.hosts];
  }

  /** Where each matched host is dialled. */
  addresses(hosts: readonly string[] = this.hosts()): MinionAddress[] {
    const known = this.#currentUniverse().addresses;
    return hosts.map((h) => {
      let address = known.get(h);
      if (!address) known.set(h, (address = minionAddress(this.paths, h, this.config.minionPort)));
      return address;
    });
  }

  /**
   * What was read from the CA's certs/ directory and the groups file, kept while neither changes: repeated
   * calls from one Overlord would otherwise list and read them again each time (~3 ms per call to 100 hosts).
   * Certs and address records are written by rename, so any enrollment or revocation changes the directory.
   */
  #currentUniverse(): Universe {
    let recent = false;
    const stat = (f: string) => {
      const st = statSync(f, { throwIfNoEntry: false });
      if (!st) return "-";
      // file times tick coarsely (a few ms): a change right after another may leave them as they were, so
      // what changed within the last second is read again every time
      if (Date.now() - Math.max(st.mtimeMs, st.ctimeMs) < RACY_MS) recent = true;
      return `${st.mtimeMs}/${st.ctimeMs}/${st.size}`;
    };
    const stamp = `${stat(this.paths.signedDir)} ${stat(this.paths.groupsFile)}`;
    if (recent || this.#universe?.stamp !== stamp) this.#universe = { stamp, addresses: new Map() };
    return this.#universe;
  }

  identity(): TlsMaterial {
    if (this.#identity) return this.#identity;
    const p = this.paths;
    for (const f of [p.overlordKey, p.overlordCert, p.caCert]) {
      if (!existsSync(f)) throw new FuncError("ConfigError", `missing ${f}: run "func-ca init" on this overlord first`);
    }
    this.#crlStamp = fileStamp(p.crl);
    this.#identity = {
      key: readFileSync(p.overlordKey, "utf8"),
      cert: readFileSync(p.overlordCert, "utf8"),
      ca: readFileSync(p.caCert, "utf8"),
      ...(existsSync(p.crl) ? { crl: readFileSync(p.crl, "utf8") } : {}),
    };
    return this.#identity;
  }

  #call(method: string, args: readonly unknown[], extra: Partial<FanOutCall> = {}): FanOutCall {
    return { method, params: args, timeoutMs: this.timeoutMs, ...extra };
  }

  /** Fans `module.method(args)` out to the given minions; `onResult` sees each host once, as it finishes. */
  async fanOut(
    minions: readonly MinionAddress[],
    call: FanOutCall,
    onResult: (host: string, result: HostResult) => void,
    settings: { forks?: number; concurrency?: number } = {},
  ): Promise<void> {
    await this.#followCrl();
    const identity = this.identity();
    this.#sessions ??= new TlsSessionStore(this.paths.tlsSessions, identity);
    const forks = settings.forks ?? this.forks;
    // the first bucket always runs in this process, on this overlord's own (possibly kept-alive) connections
    this.#transport ??= new MinionTransport(identity, { sessions: this.#sessions, keepAlive: this.#opts.keepAlive ?? true });
    await fanOut(
      minions,
      call,
      {
        identity,
        forks,
        minBucketHosts: this.#opts.bucketMinHosts ?? this.config.bucketMinHosts,
        concurrency: settings.concurrency ?? this.#opts.concurrency ?? this.config.concurrency,
        sessions: this.#sessions,
        transport: this.#transport,
      },
      onResult,
    );
  }

  /** Calls `module.method(args)` on every matched host; resolves to one result per host, keyed and sorted by name. */
  async call(module: string, method: string, args: readonly unknown[] = []): Promise<Record<string, HostResult>> {
    const results: Record<string, HostResult> = {};
    for await (const { host, result } of this.stream(module, method, args)) results[host] = result;
    return Object.fromEntries(Object.entries(results).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }

  /**
   * Yields each host's result as it finishes. The call is checked against its signature first (the built-in
   * table, else the hosts' cached inventories): a bad one is one UsageError, and nothing is sent.
   */
  async *stream(module: string, method: string, args: readonly unknown[] = []): AsyncGenerator<HostEvent> {
    let hosts = this.hosts();
    checkCall(module, method, args, knownSignature(this.paths, hosts, module, method));
    if (this.#opts.filter) {
      const { matched, unknown } = await this.#selectByFacts(hosts, this.#opts.filter);
      this.#selection = { asked: hosts.length, matched: matched.length, unknown: unknown.length };
      yield* unknown;
      hosts = matched;
    }
    const minions = this.addresses(hosts);
    const queue = new EventQueue<HostEvent>();
    const inventory = module === "system" && method === "inventory";
    queue.endWith(
      this.fanOut(minions, this.#call(`${module}.${method}`, args), (host, result) => {
        // every inventory seen is kept: it is what types the words of that minion's own methods
        if (inventory && result.outcome === "ok") storeInventory(this.paths, host, result.value);
        queue.push({ host, result });
      }),
    );
    yield* queue;
  }

  /** After a filtered stream(): how many hosts were asked, matched, and could not be read. */
  get selection(): FactSelection | undefined {
    return this.#selection;
  }

  /** Asks every host for facts.get(); a host whose facts cannot be read keeps that outcome, named as such. */
  async #selectByFacts(hosts: readonly string[], filter: FactFilter): Promise<{ matched: string[]; unknown: HostEvent[] }> {
    const matched: string[] = [];
    const unknown: HostEvent[] = [];
    await this.fanOut(this.addresses(hosts), this.#call("facts.get", []), (host, result) => {
      if (result.outcome === "ok") {
        const v = result.value;
        if (v !== null && typeof v === "object" && !Array.isArray(v) && !Buffer.isBuffer(v)) {
          if (matchFacts(v, filter)) matched.push(host);
          return;
        }
        unknown.push({ host, result: { outcome: "error", error: { code: ERRORS.BadArguments, type: "BadArguments", message: "facts.get did not answer a struct" } } });
        return;
      }
      unknown.push({ host, result: { ...result, error: { ...result.error, message: `facts for --filter: ${result.error.message}` } } });
    });
    return { matched: matched.sort(), unknown: unknown.sort((a, b) => (a.host < b.host ? -1 : 1)) };
  }

  /**
   * The signature of `module.method` on this spec's hosts: the built-in table's, else a cached inventory's.
   * With `fetch`, when none of the hosts has a cached inventory, the first host that answers (of up to
   * FETCH_HOSTS) is asked for `system.inventory` first; undefined when nothing declares the method.
   */
  async signature(module: string, method: string, opts: { fetch?: boolean } = {}): Promise<MethodSignature | undefined> {
    const hosts = this.hosts();
    const known = knownSignature(this.paths, hosts, module, method);
    if (known || !opts.fetch || hasCachedInventory(this.paths, hosts)) return known;
    const asked = hosts.slice(0, FETCH_HOSTS);
    await this.fanOut(this.addresses(asked), this.#call("system.inventory", [], { timeoutMs: Math.min(this.timeoutMs, FETCH_TIMEOUT_MS) }), (host, result) => {
      if (result.outcome === "ok") storeInventory(this.paths, host, result.value);
    });
    return knownSignature(this.paths, asked, module, method);
  }

  /** The job engine over this overlord's store (opened on first use): func-web records and lists jobs with it. */
  jobEngine(): Promise<JobEngine> {
    return this.#jobs();
  }

  #jobs(): Promise<JobEngine> {
    // one engine (one open store) per instance, however many calls race to create it
    this.#engine ??= (async () => {
      // loaded on first use: processes that never touch a job never load the native LMDB module (nor the
      // engine: a plain `func` call starts faster without it)
      const [{ JobEngine }, { JobStore }] = await Promise.all([import("../jobs/job-engine.js"), import("../jobs/job-store.js")]);
      return new JobEngine({
        paths: this.paths,
        store: await JobStore.open(this.paths.jobsDir),
        jobDeadlineS: this.config.jobDeadlineS,
        jobRetentionS: this.config.jobRetentionS,
        pollIntervalMs: this.config.pollIntervalMs,
        timeoutMs: this.timeoutMs,
        addresses: (hosts) => this.addresses(hosts),
        fanOut: (minions, call, onResult, settings) => this.fanOut(minions, call, onResult, settings),
        env: this.#opts.env ?? process.env,
      });
    })();
    return this.#engine;
  }

  /**
   * Starts `module.method(args)` as an async job on every matched host and resolves to the job id at once:
   * the job (with the full host list) is stored before anything is sent, then a detached dispatcher sends
   * `async.module.method` to each host and records each minion job id.
   */
  async callAsync(module: string, method: string, args: readonly unknown[] = []): Promise<string> {
    if (this.#opts.filter) throw new FuncError("UsageError", "a fact filter does not go with async calls yet: run the filtered call without --async");
    const hosts = this.hosts();
    checkCall(module, method, args, knownSignature(this.paths, hosts, module, method));
    const jobs = await this.#jobs();
    return jobs.submit(this.spec, hosts, module, method, args, {
      forks: this.forks,
      concurrency: this.#opts.concurrency ?? this.config.concurrency,
      timeoutMs: this.timeoutMs,
    });
  }

  /**
   * A job's status: `status` RUNNING (still dispatching), PARTIAL (hosts open) or FINISHED, and each host
   * final (`final: true`, a HostResult) or open (`running`, or this poll's `unreachable`/`timeout`). Asks the
   * open hosts (in parallel) unless `poll` is false, and resumes the dispatch if the dispatcher died.
   */
  async jobStatus(id: string, opts: { poll?: boolean } = {}): Promise<JobStatus> {
    return (await this.#jobs()).status(id, opts);
  }

  /** Polls until the job is FINISHED (or `timeoutMs`/`signal`); `onHost` sees each host once, when final. */
  async waitJob(id: string, opts: WaitOptions = {}): Promise<JobStatus> {
    return (await this.#jobs()).wait(id, opts);
  }

  /** Jobs in this overlord's store, newest first (`before`: a job id, to page on to older ones). */
  async listJobs(opts: { limit?: number; before?: string } = {}): Promise<JobSummary[]> {
    return (await this.#jobs()).list(opts);
  }

  /** Deletes jobs finished more than `olderThanS` seconds ago (default: overlord.conf job_retention); never open ones. */
  async purgeJobs(olderThanS: number = this.config.jobRetentionS): Promise<number> {
    return (await this.#jobs()).purge(olderThanS);
  }

  /**
   * Sends the job to its hosts not dispatched yet, then purges expired jobs. The detached dispatcher runs
   * this; running it again is safe (minions answer a repeat with the job they already started).
   */
  async resumeDispatch(id: string): Promise<void> {
    const jobs = await this.#jobs();
    await jobs.dispatch(id);
    await jobs.purgeExpired();
  }

  /**
   * A revocation takes effect on this instance's next call: a changed CRL drops the cached identity, the
   * kept-alive connections and the TLS sessions made under the old one (a resumed session skips the checks
   * the new CRL would make). On the CA host a CRL past half its life is re-signed first, since an expired CRL
   * would make every minion unreachable.
   */
  async #followCrl(): Promise<void> {
    try {
      await refreshCrlIfStale(this.paths);
    } catch {
      // not this user's CA, or read-only: the CRL as it is still applies
    }
    if (this.#identity && fileStamp(this.paths.crl) !== this.#crlStamp) {
      this.#identity = undefined;
      this.#dropConnections();
      this.#sessions = undefined;
    }
  }

  /** Closes kept-alive connections and saves the TLS sessions received, so the next process resumes them. */
  #dropConnections(): void {
    this.#transport?.close();
    this.#transport = undefined;
    this.#sessions?.save();
  }

  /** Closes kept-alive connections and the job store; the instance can still be used (it reopens them). */
  async close(): Promise<void> {
    this.#dropConnections();
    const engine = this.#engine;
    this.#engine = undefined;
    if (engine) await (await engine).store.close();
  }
}

function fileStamp(file: string): string {
  try {
    const st = statSync(file);
    return `${st.mtimeMs}:${st.size}:${st.ino}`;
  } catch {
    return "none";
  }
}
