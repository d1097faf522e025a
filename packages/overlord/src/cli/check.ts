// `func check [spec]` (Func's doctor) and `func dump_config`: what this overlord's home holds and whether it
// works: config, certs and their expiry, the CA's enrollment service, the CRL's age, the job store, and a
// test.ping of the targets; every problem comes with the fix to try.

import { existsSync, readFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { EXIT, FuncError, certInfo, checkLmdbFile, crlNextUpdate, loadOverlordConfig, type HomePaths } from "@func/shared";
import { Overlord, type OverlordOptions } from "../call/overlord.js";
import type { Io, OutputOptions } from "./call.js";
import { toJson } from "./render.js";

/** A cert this close to its end is a warning: renew it before the fleet stops answering. */
const EXPIRY_WARN_DAYS = 30;
/** How long `check` waits for the enrollment service to accept a connection. */
const CA_CONNECT_MS = 3000;

export interface CheckItem {
  what: string;
  ok: boolean;
  detail: string;
  /** what to do about it (problems only) */
  fix?: string;
}

const DAY_MS = 86_400_000;

function certCheck(what: string, file: string, fix: string): CheckItem {
  if (!existsSync(file)) return { what, ok: false, detail: `missing ${file}`, fix };
  try {
    const info = certInfo(readFileSync(file, "utf8"));
    const days = Math.floor((info.notAfter.getTime() - Date.now()) / DAY_MS);
    if (days < 0) return { what, ok: false, detail: `${info.commonName}: expired ${-days} days ago (${info.notAfter.toISOString()})`, fix };
    if (days < EXPIRY_WARN_DAYS) return { what, ok: false, detail: `${info.commonName}: expires in ${days} days`, fix };
    return { what, ok: true, detail: `${info.commonName}, valid ${days} more days` };
  } catch (err) {
    return { what, ok: false, detail: `${file}: ${(err as Error).message}`, fix };
  }
}

function reachable(host: string, port: number): Promise<string | null> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: CA_CONNECT_MS });
    const done = (why: string | null) => {
      socket.destroy();
      resolve(why);
    };
    socket.once("connect", () => done(null));
    socket.once("timeout", () => done(`no answer within ${CA_CONNECT_MS / 1000} s`));
    socket.once("error", (err) => done(err.message));
  });
}

async function checks(paths: HomePaths, spec: string, opts: OverlordOptions): Promise<CheckItem[]> {
  const items: CheckItem[] = [];
  let config;
  try {
    config = loadOverlordConfig(paths);
    items.push({ what: "config", ok: true, detail: existsSync(paths.overlordConf) ? paths.overlordConf : `${paths.overlordConf} absent: the defaults apply` });
  } catch (err) {
    items.push({ what: "config", ok: false, detail: (err as Error).message, fix: `fix the line it names in ${paths.overlordConf}` });
  }
  items.push(certCheck("CA cert", paths.caCert, `on the CA host: func-ca init (a new CA means enrolling every minion again)`));
  items.push(certCheck("overlord cert", paths.overlordCert, `func-ca init creates it on the CA host; elsewhere: func-ca issue --overlord NAME, and copy the key and cert here`));
  if (existsSync(paths.crl)) {
    try {
      const next = crlNextUpdate(readFileSync(paths.crl, "utf8"));
      const left = next ? Math.floor((next.getTime() - Date.now()) / DAY_MS) : null;
      items.push(
        left !== null && left < 0
          ? { what: "CRL", ok: false, detail: `expired ${-left} days ago: minions refuse this overlord`, fix: "on the CA host, any func-ca command re-signs it (e.g. func-ca list-signed)" }
          : { what: "CRL", ok: true, detail: left === null ? "no next update" : `next update in ${left} days` },
      );
    } catch (err) {
      items.push({ what: "CRL", ok: false, detail: (err as Error).message, fix: "on the CA host: func-ca list-signed re-signs it" });
    }
  } else items.push({ what: "CRL", ok: existsSync(paths.caKey) === false, detail: `no ${paths.crl}`, ...(existsSync(paths.caKey) ? { fix: "func-ca list-signed writes it" } : {}) });
  if (config) {
    const host = config.enrollListenAddr === "0.0.0.0" ? "127.0.0.1" : config.enrollListenAddr;
    const why = await reachable(host, config.enrollPort);
    items.push(
      why === null
        ? { what: "CA service", ok: true, detail: `${host}:${config.enrollPort} accepts connections` }
        : { what: "CA service", ok: false, detail: `${host}:${config.enrollPort}: ${why} (only needed to enroll minions and hand out CRLs)`, fix: "start it: func-ca serve" },
    );
  }
  const store = join(paths.jobsDir, "data.mdb");
  if (existsSync(store)) {
    try {
      checkLmdbFile(store);
      items.push({ what: "job store", ok: true, detail: paths.jobsDir });
    } catch (err) {
      items.push({ what: "job store", ok: false, detail: (err as Error).message, fix: `move ${paths.jobsDir} aside (its jobs are lost) and run again` });
    }
  } else items.push({ what: "job store", ok: true, detail: "none yet (made by the first async job)" });
  const overlord = new Overlord(spec, { ...opts, keepAlive: false });
  try {
    const results = await overlord.call("test", "ping");
    const bad = Object.entries(results).filter(([, r]) => r.outcome !== "ok");
    items.push(
      bad.length === 0
        ? { what: "test.ping", ok: true, detail: `${Object.keys(results).length} of ${Object.keys(results).length} hosts answer` }
        : {
            what: "test.ping",
            ok: false,
            detail: `${bad.length} of ${Object.keys(results).length} hosts fail: ${bad.slice(0, 5).map(([h, r]) => `${h} ${r.outcome}`).join(", ")}${bad.length > 5 ? ", ..." : ""}`,
            fix: `see each: func "${spec}" ping; unreachable hosts: is funcd running there (systemctl status funcd)?`,
          },
    );
  } catch (err) {
    if (!(err instanceof FuncError)) throw err;
    items.push({ what: "test.ping", ok: false, detail: err.message, fix: err.type === "NoMatch" ? "enroll minions (funcd --enroll) and sign them (func-ca sign)" : "fix the problems above first" });
  } finally {
    await overlord.close();
  }
  return items;
}

/** `func check [spec]`: exit 0 when everything is fine, 2 when something is not. */
export async function checkCommand(paths: HomePaths, spec: string, opts: OverlordOptions, out: Pick<OutputOptions, "format">, io: Io): Promise<number> {
  const items = await checks(paths, spec, opts);
  if (out.format === "json") io.out(toJson({ home: paths.configDir, checks: items }, 2) + "\n");
  else {
    const width = Math.max(...items.map((i) => i.what.length));
    for (const i of items) io.out(`${i.ok ? "ok  " : "FAIL"}  ${i.what.padEnd(width)}  ${i.detail}${i.fix ? `\n      ${" ".repeat(width)}  fix: ${i.fix}` : ""}\n`);
  }
  return items.every((i) => i.ok) ? EXIT.OK : EXIT.ERROR;
}

/** `func dump_config`: the home's paths and the settings in effect (defaults filled in). */
export function dumpConfigCommand(paths: HomePaths, out: Pick<OutputOptions, "format">, io: Io): number {
  const config = loadOverlordConfig(paths);
  const where = { configDir: paths.configDir, stateDir: paths.stateDir, overlordConf: paths.overlordConf, groupsFile: paths.groupsFile, jobsDir: paths.jobsDir };
  if (out.format === "json") io.out(toJson({ paths: where, config }, 2) + "\n");
  else io.out([...Object.entries(where), ...Object.entries(config)].map(([k, v]) => `${k} = ${Array.isArray(v) ? v.join(", ") : String(v)}\n`).join(""));
  return EXIT.OK;
}
