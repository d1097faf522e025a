// A small real world for the identity attacks (issue 10 items 1-3, 9, 10): a CA home, the enrollment service
// over TLS on 127.<subnet>.<block>.1, funcd processes that enroll the real way, the `func` CLI as the overlord,
// and the raw enrollment calls an attacker makes (from a source address of its choosing).

import { mkdirSync, rmSync } from "node:fs";
import { request } from "node:https";
import { join } from "node:path";
import {
  FAULT,
  XmlRpcFault,
  decodeResponse,
  encodeCall,
  homePaths,
  signEnrollClaim,
  type HomePaths,
  type WireValue,
} from "@func/shared";
import { caFingerprint, initCa, startEnrollService, type EnrollService, type EnrollServiceOptions } from "@func/overlord";
import { FUNC_BIN, FUNC_CA_BIN, FUNCD_BIN, runBin, tempHome, type RunResult } from "../helpers/fleet.js";
import { startBin, type Proc } from "../helpers/procs.js";
import { readFileSync } from "node:fs";

/** The port funcd listens on in these worlds (the overlord's default, so recorded records need no port). */
export const WORLD_MINION_PORT = 51234;

/** What a raw `enroll.submit` got: a value, or a fault code and string. */
export type RawAnswer = { ok: WireValue } | { fault: number; message: string };

export class IdentityWorld {
  readonly root: string;
  readonly home: string;
  readonly paths: HomePaths;
  readonly net: string;
  readonly service: EnrollService;
  readonly fingerprint: string;
  readonly caPem: string;
  readonly logs: string[];
  readonly #procs: Proc[] = [];

  private constructor(root: string, net: string, service: EnrollService, logs: string[]) {
    this.root = root;
    this.home = join(root, "overlord");
    this.paths = homePaths(this.home);
    this.net = net;
    this.service = service;
    this.fingerprint = caFingerprint(this.paths);
    this.caPem = readFileSync(this.paths.caCert, "utf8");
    this.logs = logs;
  }

  /** A CA and its enrollment service on 127.<subnet>.<block>.1 (port 0: any free one). */
  static async start(tag: string, subnet: number, block: number, opts: Partial<EnrollServiceOptions> = {}): Promise<IdentityWorld> {
    const root = tempHome(tag);
    const paths = homePaths(join(root, "overlord"));
    await initCa(paths);
    const net = `127.${subnet}.${block}`;
    const logs: string[] = [];
    const service = await startEnrollService(paths, { listenAddr: `${net}.1`, port: 0, rateLimit: null, log: (m) => logs.push(m), ...opts });
    return new IdentityWorld(root, net, service, logs);
  }

  /** 127.<subnet>.<block>.<n> */
  addr(n: number): string {
    return `${this.net}.${n}`;
  }

  /** A funcd process enrolling `name` from its own home and serving on `address` once signed. */
  funcd(name: string, address: string, extra: string[] = []): { proc: Proc; home: string } {
    const home = join(this.root, "minions", name);
    mkdirSync(home, { recursive: true });
    const proc = startBin(FUNCD_BIN, [
      "--home",
      home,
      "--enroll",
      `${this.service.address}:${this.service.port}`,
      "--ca-fingerprint",
      this.fingerprint,
      "--name",
      name,
      "--listen",
      address,
      "--port",
      String(WORLD_MINION_PORT),
      ...extra,
    ]);
    this.#procs.push(proc);
    return { proc, home };
  }

  /** funcd serving a home whose PKI files are already in place (no enrollment). */
  serve(home: string): Proc {
    const proc = startBin(FUNCD_BIN, ["--home", home]);
    this.#procs.push(proc);
    return proc;
  }

  ca(...args: string[]): Promise<RunResult> {
    return runBin(FUNC_CA_BIN, args, { FUNC_HOME: this.home });
  }

  /** The overlord: the real `func` CLI on this CA home. */
  func(...args: string[]): Promise<RunResult> {
    return runBin(FUNC_BIN, args, { FUNC_HOME: this.home });
  }

  /**
   * A raw `enroll.submit` from `source`, as an attacker sends it. With `keyPem` the claim is signed with it;
   * without, the signature is junk. A service that wants the old three arguments gets them (today's main).
   */
  async submit(source: string, csrPem: string, address: string, port: number, name: string, keyPem?: string): Promise<RawAnswer> {
    const at = new Date().toISOString();
    const signature = keyPem ? signEnrollClaim(keyPem, { name, address, port, at }) : Buffer.from("not a signature").toString("base64");
    const first = await this.rawCall(source, "enroll.submit", [csrPem, address, port, at, signature]);
    if ("fault" in first && first.fault === FAULT.BAD_ARGUMENTS && /enroll\.submit\(csrPem: string, address: string, port: int\)$/.test(first.message)) {
      return this.rawCall(source, "enroll.submit", [csrPem, address, port]);
    }
    return first;
  }

  /** One XML-RPC call to the service from `source` over TLS that trusts the CA. */
  rawCall(source: string, method: string, params: unknown[]): Promise<RawAnswer> {
    const body = encodeCall(method, params);
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: this.service.address,
          port: this.service.port,
          localAddress: source,
          method: "POST",
          path: "/",
          ca: this.caPem,
          agent: false,
          checkServerIdentity: () => undefined,
          headers: { "Content-Type": "text/xml", "Content-Length": Buffer.byteLength(body) },
          timeout: 20_000,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => {
            decodeResponse(Buffer.concat(chunks)).then(
              (v) => resolve({ ok: v }),
              (err: unknown) => (err instanceof XmlRpcFault ? resolve({ fault: err.faultCode, message: err.faultString }) : reject(err as Error)),
            );
          });
        },
      );
      req.on("timeout", () => req.destroy(new Error("no answer from the enrollment service")));
      req.on("error", reject);
      req.end(body);
    });
  }

  async stop(): Promise<void> {
    await Promise.all(this.#procs.map((p) => p.stop()));
    await this.service.close();
    rmSync(this.root, { recursive: true, force: true });
  }
}
