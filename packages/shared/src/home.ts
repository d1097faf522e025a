// Where every file lives (DESIGN section 4). FUNC_HOME puts everything under one directory; without it
// root uses /etc/func + /var/lib/func and other users ~/.func. The caller passes the environment in.

import { homedir } from "node:os";
import { join } from "node:path";

/** The version every func command prints with --version (a test keeps it equal to the packages' versions). */
export const FUNC_VERSION = "0.1.0";

/**
 * Node flags funcd runs with (its shebang, func-fleet, the systemd unit through the shebang): V8 otherwise
 * grows its young generation to 2 x 16 MiB under load and keeps it, so a busy funcd sat at ~110-120 MiB of RSS
 * with ~13 MiB of live heap, its RSS swinging by 20-30% (the soak, issue 6). 2 MiB semi-spaces cost more
 * frequent (cheap) scavenges: see bench/README.md for the warm-call rate with them.
 */
export const FUNCD_NODE_FLAGS: readonly string[] = ["--max-semi-space-size=2"];

/** The port funcd listens on (Func's listen_port). */
export const MINION_PORT = 51234;
/** The port of the enrollment service, `func-ca serve` (Func's certmaster port). */
export const ENROLL_PORT = 51235;

export interface HomePaths {
  /** config and PKI */
  configDir: string;
  /** job stores and logs */
  stateDir: string;
  overlordConf: string;
  minionConf: string;
  groupsFile: string;
  pkiDir: string;
  caDir: string;
  caKey: string;
  caCert: string;
  crl: string;
  /** signed minion certs: this set is the universe that globs match */
  signedDir: string;
  csrDir: string;
  /** revoked certs kept for the record */
  revokedDir: string;
  overlordKey: string;
  overlordCert: string;
  serviceKey: string;
  serviceCert: string;
  minionKey: string;
  minionCert: string;
  minionCsr: string;
  /** the CA cert a minion trusts, beside its own */
  minionCa: string;
  /** the last good CRL a minion fetched */
  minionCrl: string;
  aclDir: string;
  jobsDir: string;
  minionJobsDir: string;
  logDir: string;
  auditLog: string;
  /** spool for async runners: stdout/stderr files and args */
  runDir: string;
  /** the overlord's saved TLS sessions, one per minion, so the next `func` resumes instead of a full handshake */
  tlsSessions: string;
  /** the overlord's delegation map: which leaves sit under which sub-overlord (`func map build`) */
  delegationMap: string;
}

export function homePaths(configDir: string, stateDir: string = configDir): HomePaths {
  const pki = join(configDir, "pki");
  const ca = join(pki, "ca");
  return {
    configDir,
    stateDir,
    overlordConf: join(configDir, "overlord.conf"),
    minionConf: join(configDir, "minion.conf"),
    groupsFile: join(configDir, "groups"),
    pkiDir: pki,
    caDir: ca,
    caKey: join(ca, "ca.key"),
    caCert: join(ca, "ca.crt"),
    crl: join(ca, "crl.pem"),
    signedDir: join(ca, "certs"),
    csrDir: join(ca, "csrs"),
    revokedDir: join(ca, "revoked"),
    overlordKey: join(pki, "overlord.key"),
    overlordCert: join(pki, "overlord.crt"),
    serviceKey: join(ca, "service.key"),
    serviceCert: join(ca, "service.crt"),
    minionKey: join(pki, "minion.key"),
    minionCert: join(pki, "minion.crt"),
    minionCsr: join(pki, "minion.csr"),
    minionCa: join(pki, "ca.crt"),
    minionCrl: join(pki, "crl.pem"),
    aclDir: join(configDir, "acl.d"),
    jobsDir: join(stateDir, "jobs"),
    minionJobsDir: join(stateDir, "minion-jobs"),
    logDir: join(stateDir, "log"),
    auditLog: join(stateDir, "log", "audit.log"),
    runDir: join(stateDir, "run"),
    tlsSessions: join(stateDir, "tls-sessions"),
    delegationMap: join(stateDir, "map.json"),
  };
}

/** The home for this process: FUNC_HOME, else /etc/func + /var/lib/func for root, else ~/.func. */
export function resolveHome(env: Readonly<Record<string, string | undefined>>, uid: number | undefined): HomePaths {
  const explicit = env.FUNC_HOME;
  if (explicit !== undefined && explicit !== "") return homePaths(explicit);
  if (uid === 0) return homePaths("/etc/func", "/var/lib/func");
  return homePaths(join(env.HOME || homedir(), ".func"));
}

/** Where the overlord records a minion's address (written at enrollment, beside its cert). */
export function minionAddressFile(paths: HomePaths, name: string): string {
  return join(paths.signedDir, `${name}.json`);
}

export function signedCertFile(paths: HomePaths, name: string): string {
  return join(paths.signedDir, `${name}.crt`);
}

export function csrFile(paths: HomePaths, name: string): string {
  return join(paths.csrDir, `${name}.csr`);
}
