// Starting a minion from its home: read minion.conf and the PKI files once, then serve. Used by the
// funcd binary (one home, or several for a large local fleet) and by tests that start real minions.

import { existsSync, readFileSync } from "node:fs";
import { FuncError, loadMinionConfig, type HomePaths, type MinionConfig } from "@func/shared";
import { AsyncJobs } from "./async-jobs.js";
import { MinionServer, type AsyncStarter } from "./server.js";

export interface StartedMinion {
  name: string;
  address: string;
  port: number;
  server: MinionServer;
  config: MinionConfig;
  close(): Promise<void>;
}

function readPki(paths: HomePaths): { key: string; cert: string; ca: string; crl?: string } {
  for (const f of [paths.minionKey, paths.minionCert, paths.minionCa]) {
    if (!existsSync(f)) {
      throw new FuncError(
        "ConfigError",
        `missing ${f}: this minion is not enrolled yet (run: funcd --enroll <overlord-host> --ca-fingerprint SHA256:...)`,
      );
    }
  }
  return {
    key: readFileSync(paths.minionKey, "utf8"),
    cert: readFileSync(paths.minionCert, "utf8"),
    ca: readFileSync(paths.minionCa, "utf8"),
    ...(existsSync(paths.minionCrl) ? { crl: readFileSync(paths.minionCrl, "utf8") } : {}),
  };
}

export async function startMinion(
  paths: HomePaths,
  overrides: Partial<MinionConfig> = {},
  extra: { jobs?: (config: MinionConfig) => AsyncStarter; log?: (message: string) => void } = {},
): Promise<StartedMinion> {
  const config = { ...loadMinionConfig(paths), ...overrides };
  const tls = readPki(paths);
  // async jobs are on unless the caller brings its own; their store opens on first use, so a broken store
  // fails job calls with a fault and never keeps funcd from serving
  const own = extra.jobs ? undefined : new AsyncJobs(paths, config, extra.log ? { log: extra.log } : {});
  const server = new MinionServer({
    config,
    paths,
    tls,
    jobs: extra.jobs ? extra.jobs(config) : own!,
    ...(extra.log ? { log: extra.log } : {}),
  });
  const { address, port } = await server.listen(config.listenPort, config.listenAddr);
  own?.startRetention();
  const close = async () => {
    await server.close();
    await own?.close();
  };
  return { name: config.minionName, address, port, server, config, close };
}
