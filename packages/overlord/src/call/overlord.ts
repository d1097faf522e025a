// The Overlord client API: a target spec resolved against the signed certs (and the leaves of the
// delegation map), calls fanned out to the matching minions, or in one share per sub-overlord for mapped
// leaves; one HostResult per host as data. The CLI is a thin layer over this class.

import { existsSync, readFileSync, statSync } from "node:fs";
import {
  CALLER_HEADER,
  FuncError,
  checkCall,
  checkJobId,
  factVerdict,
  PATH_HEADER,
  formatPath,
  homePaths,
  newJobId,
  loadGroups,
  loadOverlordConfig,
  resolveHome,
  resolveTargets,
  type HomePaths,
  type DelegationMap,
  type FactFilter,
  type HostResult,
  type MethodSignature,
  type ModuleSignature,
  type OverlordConfig,
} from "@func/shared";
import { ShareLedger, describeAnomaly, planRoutes } from "../delegation/accounting.js";
import { loadMap, routeTable } from "../delegation/map.js";
import { runShare, type SendToSub } from "../delegation/share.js";
import type { JobEngine, JobStatus, JobSummary, WaitOptions } from "../jobs/job-engine.js";
import { refreshCrlIfStale } from "../ca/revocation.js";
import { drainSpool, spoolDir, spoolRun, spoolWaiting } from "../jobs/run-spool.js";
import { EventQueue } from "./event-queue.js";
import { fanOut, type FanOutCall } from "./fan-out.js";
import { listMinionNames, minionAddress, type MinionAddress } from "./universe.js";
import { hasCachedInventory, knownSignature, knownTable, storeInventory } from "./signature-cache.js";
import { TlsSessionStore } from "./tls-sessions.js";
import { MinionTransport, type CallOptions } from "./transport.js";
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
  /**
   * send mapped leaves' shares through their sub-overlords (Func's -d/--delegate); default: when the home
   * has a delegation map (`func map build`). false: call every host directly.
   */
  delegate?: boolean;
  /** exactly these hosts instead of resolving `spec` (a sub-overlord's share) */
  hosts?: readonly string[];
  /** calls are relayed for `caller` down `path` (a sub-overlord running a share): sent as headers on every call */
  relay?: { caller: string; path: readonly string[] };
  /** what a sub-overlord answered that was not trusted (one line each); the CLI prints them as warnings */
  onNotice?: (message: string) => void;
  /** sub-overlords send identical results once with their hosts (default true); false: one line per host */
  foldShares?: boolean;
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
  /** for the sub-overlords' shares: always kept alive (a share polls its sub-overlord page after page) */
  #subTransport: MinionTransport | undefined;
  #universe: Universe | undefined;
  #sessions: TlsSessionStore | undefined;
  #engine: Promise<JobEngine> | undefined;
  #map: { map: DelegationMap | null; route: Map<string, string> } | undefined;
  #receivedBefore = 0;
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

  /** The sorted host names the spec matches (direct minions and mapped leaves); throws NoMatch (exit 16) when none do. */
  hosts(): string[] {
    if (this.#opts.hosts) return [...this.#opts.hosts].sort();
    const universe = this.#currentUniverse();
    universe.hosts ??= resolveTargets(this.spec, { names: this.knownNames(), groups: loadGroups(this.paths), source: this.paths.signedDir }, this.#opts.exclude);
    return [...universe.hosts];
  }

  /** The names of the signed minion certs: the minions this overlord calls itself. */
  directNames(): string[] {
    return listMinionNames(this.paths);
  }

  /** Every name a spec can match: the direct minions, and the leaves of the delegation map when delegating. */
  knownNames(): string[] {
    const direct = this.directNames();
    const route = this.delegation().route;
    if (route.size === 0) return direct;
    const all = new Set(direct);
    for (const leaf of route.keys()) all.add(leaf);
    return [...all].sort();
  }

  /**
   * The delegation map in use (null: calling every host directly) and each mapped leaf's top-level
   * sub-overlord. Read once per instance.
   */
  delegation(): { map: DelegationMap | null; route: Map<string, string> } {
    if (this.#map) return this.#map;
    const map = this.#opts.delegate === false ? null : loadMap(this.paths);
    if (this.#opts.delegate === true && !map) throw new FuncError("ConfigError", `--delegate: no delegation map in ${this.paths.delegationMap} (run "func map build" first)`);
    this.#map = { map, route: map ? routeTable(map) : new Map() };
    return this.#map;
  }

  /** Headers that carry the relay (caller and path) on every call this instance makes. */
  #relayHeaders(): Record<string, string> | undefined {
    const relay = this.#opts.relay;
    if (!relay) return undefined;
    return { [CALLER_HEADER]: relay.caller, ...(relay.path.length ? { [PATH_HEADER]: formatPath(relay.path) } : {}) };
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
    const headers = this.#relayHeaders();
    return { method, params: args, timeoutMs: this.timeoutMs, ...(headers ? { headers } : {}), ...extra };
  }

  #ensureTransport(identity: TlsMaterial): MinionTransport {
    this.#sessions ??= new TlsSessionStore(this.paths.tlsSessions, identity);
    this.#transport ??= new MinionTransport(identity, {
      sessions: this.#sessions,
      keepAlive: this.#opts.keepAlive ?? true,
      maxResponseBytes: this.config.maxResponseBytes,
    });
    return this.#transport;
  }

  /** Fans `module.method(args)` out to the given minions; `onResult` sees each host once, as it finishes. */
  async fanOut(
    minions: readonly MinionAddress[],
    call: FanOutCall,
    onResult: (host: string, result: HostResult) => void,
    settings: { forks?: number; concurrency?: number } = {},
  ): Promise<void> {
    if (minions.length === 0) return;
    await this.#followCrl();
    const identity = this.identity();
    const forks = settings.forks ?? this.forks;
    // the first bucket always runs in this process, on this overlord's own (possibly kept-alive) connections
    this.#ensureTransport(identity);
    await fanOut(
      minions,
      call,
      {
        identity,
        forks,
        minBucketHosts: this.#opts.bucketMinHosts ?? this.config.bucketMinHosts,
        concurrency: settings.concurrency ?? this.#opts.concurrency ?? this.config.concurrency,
        maxResponseBytes: this.config.maxResponseBytes,
        sessions: this.#sessions!,
        transport: this.#transport!,
      },
      onResult,
    );
  }

  /**
   * Posts a ready-made request body (encodeCall's text or bytes) to one minion on this overlord's own
   * connections, within the per-host timeout: file transfer's per-host pipelines encode each chunk's request
   * once and send it to every host that needs it. Never throws: every failure is the host's outcome.
   */
  async send(minion: MinionAddress, body: string | Buffer, opts: Pick<CallOptions, "bytesAsText" | "bytesAnswer"> & { timeoutMs?: number } = {}): Promise<HostResult> {
    await this.#followCrl();
    const headers = this.#relayHeaders();
    const transport = this.#ensureTransport(this.identity());
    return transport.send(minion, body, { timeoutMs: this.timeoutMs, ...(headers ? { headers } : {}), ...opts });
  }

  /** Calls `module.method(args)` on every matched host; resolves to one result per host, keyed and sorted by name. */
  async call(module: string, method: string, args: readonly unknown[] = []): Promise<Record<string, HostResult>> {
    const results: Record<string, HostResult> = {};
    for await (const { host, result } of this.stream(module, method, args)) results[host] = result;
    return Object.fromEntries(Object.entries(results).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }

  /**
   * Yields each host's result as it finishes (of every matched host, or of `hosts`, some of them). The call
   * is checked against its signature first (the built-in table, else the hosts' cached inventories): a bad
   * one is one UsageError, and nothing is sent. With a fact filter, only the hosts whose facts match run it.
   */
  async *stream(module: string, method: string, args: readonly unknown[] = [], hosts?: readonly string[]): AsyncGenerator<HostEvent> {
    let targets = hosts ? [...hosts] : this.hosts();
    checkCall(module, method, args, knownSignature(this.paths, targets, module, method));
    if (this.#opts.filter) {
      const { matched, unknown } = await this.#selectByFacts(targets, this.#opts.filter);
      const before = this.#selection ?? { asked: 0, matched: 0, unknown: 0 };
      this.#selection = { asked: before.asked + targets.length, matched: before.matched + matched.length, unknown: before.unknown + unknown.length };
      yield* unknown;
      targets = matched;
    }
    const inventory = module === "system" && method === "inventory";
    for await (const event of this.#route(module, method, args, targets)) {
      // every inventory seen is kept: it is what types the words of that minion's own methods
      if (inventory && event.result.outcome === "ok") storeInventory(this.paths, event.host, event.result.value);
      yield event;
    }
  }

  /** Direct hosts fanned out here, each sub-overlord's mapped leaves in one share (their results carry `via`). */
  async *#route(module: string, method: string, args: readonly unknown[], hosts: string[]): AsyncGenerator<HostEvent> {
    const { direct, shares } = planRoutes(hosts, this.delegation().route);
    const queue = new EventQueue<HostEvent>();
    const push = (host: string, result: HostResult) => queue.push({ host, result });
    const id = newJobId();
    queue.endWith(
      Promise.all([
        this.fanOut(this.addresses(direct), this.#call(`${module}.${method}`, args), push),
        ...[...shares].map(([sub, leaves]) =>
          this.#share(sub, leaves, { id, module, method, args, timeoutMs: this.timeoutMs, async: false, fold: this.#opts.foldShares ?? true }, push),
        ),
      ]).then(() => undefined),
    );
    yield* queue;
  }

  /** Queries of a home that never ran a job read nothing and create nothing (a mistyped home stays as it was). */
  #haveJobStore(): boolean {
    return this.#engine !== undefined || existsSync(this.paths.jobsDir) || spoolWaiting(spoolDir(this.paths.jobsDir));
  }

  /** A job query where no job store exists: a bad id is named as such, a good one is not here. */
  #noJobStoreFor(id: string): void {
    if (this.#haveJobStore()) return;
    checkJobId(id);
    throw new FuncError("NotFound", `no job ${id} here: ${this.paths.jobsDir} holds no jobs yet`);
  }

  /** A function that calls one sub-overlord, on this instance's connections, with its relay headers. */
  async sendTo(sub: string, headers: Record<string, string> | undefined = this.#relayHeaders()): Promise<SendToSub> {
    await this.#followCrl();
    const identity = this.identity();
    this.#sessions ??= new TlsSessionStore(this.paths.tlsSessions, identity);
    // one connection per sub-overlord for the whole share, even in a one-shot CLI call: a handshake per poll
    // would cost the top a few ms of CPU each, hundreds of times over for a long share
    this.#subTransport ??= new MinionTransport(identity, { sessions: this.#sessions, keepAlive: true, maxResponseBytes: this.config.maxResponseBytes });
    const transport = this.#subTransport;
    const [address] = this.addresses([sub]);
    return (method, params, timeoutMs) => transport.call(address!, method, params, { timeoutMs, ...(headers ? { headers } : {}) });
  }

  /** Reports what a sub-overlord answered that was not trusted. */
  notice(message: string): void {
    this.#opts.onNotice?.(message);
  }

  async #share(sub: string, leaves: string[], call: Parameters<typeof runShare>[2], push: (host: string, result: HostResult) => void): Promise<void> {
    const ledger = new ShareLedger(sub, leaves);
    let send: SendToSub;
    try {
      send = await this.sendTo(sub);
    } catch (err) {
      for (const [h, r] of ledger.finish("error", "ConfigError", (err as Error).message)) push(h, r);
      return;
    }
    await runShare(ledger, leaves, call, send, push, (a) => this.notice(describeAnomaly(a)));
  }

  /** After a filtered stream(): how many hosts were asked, matched, and could not be read. */
  get selection(): FactSelection | undefined {
    return this.#selection;
  }

  /** Asks every host for facts.get(); a host whose facts cannot be read keeps that outcome, named as such. */
  async #selectByFacts(hosts: readonly string[], filter: FactFilter): Promise<{ matched: string[]; unknown: HostEvent[] }> {
    const matched: string[] = [];
    const unknown: HostEvent[] = [];
    // asked by the same routes as the call itself: mapped leaves through their sub-overlords
    for await (const { host, result } of this.#route("facts", "get", [], [...hosts])) {
      const verdict = factVerdict(result, filter);
      if (verdict === true) matched.push(host);
      else if (verdict !== false) unknown.push({ host, result: verdict });
    }
    return { matched: matched.sort(), unknown: unknown.sort((a, b) => (a.host < b.host ? -1 : 1)) };
  }

  /** Every module and method this spec's hosts are known to serve: the built-in table and their cached inventories. */
  signatureTable(): ModuleSignature[] {
    return knownTable(this.paths, this.hosts());
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
      const store = await JobStore.open(this.paths.jobsDir);
      // recorded sync runs waiting in the spool join the store before anything reads it
      await drainSpool(spoolDir(this.paths.jobsDir), store);
      return new JobEngine({
        paths: this.paths,
        store,
        jobDeadlineS: this.config.jobDeadlineS,
        jobRetentionS: this.config.jobRetentionS,
        pollIntervalMs: this.config.pollIntervalMs,
        timeoutMs: this.timeoutMs,
        addresses: (hosts) => this.addresses(hosts),
        fanOut: (minions, call, onResult, settings) => this.fanOut(minions, call, onResult, settings),
        env: this.#opts.env ?? process.env,
        sendTo: (sub, headers) => this.sendTo(sub, headers),
        onNotice: (message) => this.notice(message),
      });
    })();
    return this.#engine;
  }

  /**
   * Starts `module.method(args)` as an async job on every matched host and resolves to the job id at once:
   * the job (with the full host list) is stored before anything is sent, then a detached dispatcher sends
   * `async.module.method` to each host and records each minion job id.
   */
  async callAsync(module: string, method: string, args: readonly unknown[] = [], extra: { id?: string; hosts?: readonly string[] } = {}): Promise<string> {
    let hosts = extra.hosts ? [...extra.hosts] : this.hosts();
    checkCall(module, method, args, knownSignature(this.paths, hosts, module, method));
    // with a fact filter the job is for the matching hosts; those whose facts could not be read are in it
    // too, final from the start with that outcome, so that none is silently dropped
    let finals: { host: string; result: HostResult }[] = [];
    if (this.#opts.filter) {
      const { matched, unknown } = await this.#selectByFacts(hosts, this.#opts.filter);
      this.#selection = { asked: hosts.length, matched: matched.length, unknown: unknown.length };
      finals = unknown;
      hosts = [...matched, ...unknown.map((u) => u.host)];
      if (hosts.length === 0) throw new FuncError("NoMatch", `no host of "${this.spec}" passes the fact filter (${this.#selection.asked} asked)`);
    }
    const final = new Set(finals.map((f) => f.host));
    const { shares } = planRoutes(hosts.filter((h) => !final.has(h)), this.delegation().route);
    const jobs = await this.#jobs();
    const relay = this.#opts.relay;
    return jobs.submit(
      this.spec,
      hosts,
      module,
      method,
      args,
      {
        forks: this.forks,
        concurrency: this.#opts.concurrency ?? this.config.concurrency,
        timeoutMs: this.timeoutMs,
      },
      {
        ...(extra.id ? { id: extra.id } : {}),
        ...(shares.size ? { routes: Object.fromEntries(shares) } : {}),
        ...(relay ? { relay: { caller: relay.caller, path: [...relay.path] } } : {}),
        ...(finals.length ? { finals } : {}),
      },
    );
  }

  /** Records a sync run that is over in the job store (hosts and their results); returns its job id. */
  recordRun(module: string, method: string, args: readonly unknown[], results: Readonly<Record<string, HostResult>>): string {
    // spooled, not written: opening the store would cost a sync run more than its recording is worth (the
    // next process that opens the store imports it)
    const dispatch = { forks: this.forks, concurrency: this.#opts.concurrency ?? this.config.concurrency, timeoutMs: this.timeoutMs };
    return spoolRun(spoolDir(this.paths.jobsDir), { spec: this.spec, module, method, args, results, dispatch });
  }

  /**
   * A job's status: `status` RUNNING (still dispatching), PARTIAL (hosts open) or FINISHED, and each host
   * final (`final: true`, a HostResult) or open (`running`, or this poll's `unreachable`/`timeout`). Asks the
   * open hosts (in parallel) unless `poll` is false, and resumes the dispatch if the dispatcher died.
   */
  async jobStatus(id: string, opts: { poll?: boolean } = {}): Promise<JobStatus> {
    this.#noJobStoreFor(id);
    return (await this.#jobs()).status(id, opts);
  }

  /** Polls until the job is FINISHED (or `timeoutMs`/`signal`); `onHost` sees each host once, when final. */
  async waitJob(id: string, opts: WaitOptions = {}): Promise<JobStatus> {
    this.#noJobStoreFor(id);
    return (await this.#jobs()).wait(id, opts);
  }

  /** Jobs in this overlord's store, newest first (`before`: a job id, to page on to older ones). */
  async listJobs(opts: { limit?: number; before?: string } = {}): Promise<JobSummary[]> {
    if (!this.#haveJobStore()) return [];
    return (await this.#jobs()).list(opts);
  }

  /** Deletes jobs finished more than `olderThanS` seconds ago (default: overlord.conf job_retention); never open ones. */
  async purgeJobs(olderThanS: number = this.config.jobRetentionS): Promise<number> {
    if (!this.#haveJobStore()) return 0;
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

  /** Bytes of answers this instance received on its own connections (forked buckets' not counted). */
  get bytesReceived(): number {
    return this.#receivedBefore + (this.#transport?.bytesReceived ?? 0) + (this.#subTransport?.bytesReceived ?? 0);
  }

  /** Closes kept-alive connections and saves the TLS sessions received, so the next process resumes them. */
  #dropConnections(): void {
    this.#receivedBefore += (this.#transport?.bytesReceived ?? 0) + (this.#subTransport?.bytesReceived ?? 0);
    this.#transport?.close();
    this.#transport = undefined;
    this.#subTransport?.close();
    this.#subTransport = undefined;
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
