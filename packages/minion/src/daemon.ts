// Starting a minion from its home: read minion.conf and the PKI files once (enrolling first when the home has
// no cert and an enrollment service is configured), then serve, keeping the CRL fresh from that service. Used
// by the funcd binary (one home, or several for a large local fleet) and by tests that start real minions.

import { existsSync, readFileSync } from "node:fs";
import { FuncError, crlNextUpdate, fingerprint, loadMinionConfig, normalizeFingerprint, parseHostPort, type HomePaths, type MinionConfig, type TlsMaterial } from "@func/shared";
import { AsyncJobs } from "./jobs/job-launcher.js";
import { CrlRefresher } from "./enroll/crl-refresh.js";
import { EnrollClientPool, type EnrollClient } from "./enroll/enroll-client.js";
import { enrollMinion } from "./enroll/enroll.js";
import { sweepStale } from "./modules/file-upload.js";
import { MinionServer, type AsyncStarter } from "./server.js";
import { MODULES } from "./modules/index.js";
import { Registry, type FuncModule } from "./registry.js";

export interface StartedMinion {
  name: string;
  address: string;
  port: number;
  server: MinionServer;
  config: MinionConfig;
  /** fetches the CRL from the enrollment service now (null when none is configured) */
  crlRefresher: CrlRefresher | null;
  /**
   * Re-reads minion.conf, the ACL files, the PKI files (CRL, cert) and reopens the audit log, keeping every
   * connection (funcd's SIGHUP, the systemd unit's ExecReload); then fetches the CRL from the enrollment service.
   * Returns what it could not apply; a minion.conf or CRL that does not read throws and changes nothing.
   */
  reload(): Promise<string[]>;
  close(): Promise<void>;
}

export interface StartMinionExtra {
  jobs?: (config: MinionConfig) => AsyncStarter;
  log?: (message: string) => void;
  /** shared by the homes of one process (funcd --multi): one pinned connection pool per enrollment service */
  enrollClients?: EnrollClientPool;
  /** stops waiting for enrollment */
  signal?: AbortSignal;
  /** first and longest wait between enrollment polls, ms (tests shorten them) */
  enrollPollMs?: { start: number; max: number };
  /** modules this minion serves besides the built-in ones (system.inventory lists them too) */
  modules?: readonly FuncModule[];
}

function readPki(paths: HomePaths, log: (m: string) => void): TlsMaterial {
  for (const f of [paths.minionKey, paths.minionCert, paths.minionCa]) {
    if (!existsSync(f)) {
      throw new FuncError(
        "ConfigError",
        `missing ${f}: this minion is not enrolled yet (run: funcd --enroll <overlord-host> --ca-fingerprint SHA256:...)`,
      );
    }
  }
  let crl: string | undefined;
  if (existsSync(paths.minionCrl)) {
    crl = readFileSync(paths.minionCrl, "utf8");
    try {
      const next = crlNextUpdate(crl);
      // an expired CRL is not given to TLS (it would refuse everyone): the server serves the overlord role only
      if (next && next.getTime() < Date.now()) log(`CRL ${paths.minionCrl} expired at ${next.toISOString()}: only the overlord identity may call until a fresh one is fetched`);
    } catch {
      throw new FuncError("ConfigError", `${paths.minionCrl} is not a readable CRL: remove it, or fetch a fresh one from the enrollment service`);
    }
  }
  return {
    key: readFileSync(paths.minionKey, "utf8"),
    cert: readFileSync(paths.minionCert, "utf8"),
    ca: readFileSync(paths.minionCa, "utf8"),
    ...(crl ? { crl } : {}),
  };
}

function enrollClient(paths: HomePaths, config: MinionConfig, pool: EnrollClientPool): EnrollClient | null {
  if (!config.enrollHost) return null;
  const target = parseHostPort(config.enrollHost, config.enrollPort);
  const caPem = existsSync(paths.minionCa) ? readFileSync(paths.minionCa, "utf8") : undefined;
  if (caPem && config.caFingerprint && fingerprint(caPem) !== normalizeFingerprint(config.caFingerprint)) {
    throw new FuncError(
      "ConfigError",
      `${paths.minionCa} is CA ${fingerprint(caPem)}, but ca_fingerprint says ${normalizeFingerprint(config.caFingerprint)}: remove the pki files to enroll with the new CA`,
    );
  }
  return pool.get(target, { ...(caPem ? { caPem } : {}), ...(config.caFingerprint ? { fingerprint: config.caFingerprint } : {}) });
}

export async function startMinion(paths: HomePaths, overrides: Partial<MinionConfig> = {}, extra: StartMinionExtra = {}): Promise<StartedMinion> {
  const config = { ...loadMinionConfig(paths), ...overrides };
  const log = extra.log ?? (() => {});
  const ownPool = extra.enrollClients ? null : new EnrollClientPool();
  const pool = extra.enrollClients ?? ownPool!;
  let ownJobs: AsyncJobs | undefined;
  try {
    const client = enrollClient(paths, config, pool);
    if (client && !existsSync(paths.minionCert)) {
      await enrollMinion(paths, config, {
        client,
        log,
        ...(extra.signal ? { signal: extra.signal } : {}),
        ...(extra.enrollPollMs ? { pollStartMs: extra.enrollPollMs.start, pollMaxMs: extra.enrollPollMs.max } : {}),
      });
    }
    const tls = readPki(paths, log);
    // temp files of uploads a previous funcd of this home left behind (it died mid-upload)
    await sweepStale(paths, config);
    // async jobs are on unless the caller brings its own; their store opens on first use, so a broken store
    // fails job calls with a fault and never keeps funcd from serving; one in a newer format stops funcd here
    ownJobs = extra.jobs ? undefined : new AsyncJobs(paths, config, { log });
    ownJobs?.openExisting();
    const server = new MinionServer({
      config,
      paths,
      tls,
      jobs: extra.jobs ? extra.jobs(config) : ownJobs!,
      log,
      ...(extra.modules?.length ? { registry: new Registry([...MODULES, ...extra.modules]) } : {}),
    });
    const { address, port } = await server.listen(config.listenPort, config.listenAddr);
    ownJobs?.startRetention();
    const crlRefresher =
      client && config.crlRefreshS > 0
        ? new CrlRefresher({
            client,
            caPem: tls.ca,
            file: paths.minionCrl,
            intervalS: config.crlRefreshS,
            apply: (crl) => server.updateTls({ crl }),
            log: (m) => log(`${config.minionName}: ${m}`),
          })
        : null;
    crlRefresher?.start();
    return {
      name: config.minionName,
      address,
      port,
      server,
      config,
      crlRefresher,
      reload: async () => {
        const fresh = { ...loadMinionConfig(paths), ...overrides };
        const pki = readPki(paths, log);
        const { aclErrors, needRestart } = server.reload({ cert: pki.cert, key: pki.key, ...(pki.crl ? { crl: pki.crl } : {}) }, fresh);
        if (crlRefresher) await crlRefresher.refresh();
        return [...aclErrors.map((e) => `acl: ${e}`), ...needRestart.map((k) => `${k} changed in ${paths.minionConf}: restart funcd to apply it`)];
      },
      close: async () => {
        crlRefresher?.stop();
        ownPool?.close();
        await server.close();
        await ownJobs?.close();
      },
    };
  } catch (err) {
    ownPool?.close();
    await ownJobs?.close();
    throw err;
  }
}
