// func-transmit (Func's name): one JSON request in, one JSON answer out, for scripts in any language.
// `{"clients": "*", "module": "test", "method": "add", "parameters": [1, 2], "async": false}` calls a method;
// `{"method": "job_status", "parameters": "<id>"}` asks for a job; errors answer `{"error": {code, type, message}}`.

import { EXIT, FuncError, exitCodeForResults, summarize, type HostResult } from "@func/shared";
import { Overlord, type OverlordOptions } from "../call/overlord.js";

/** Largest request func-transmit reads: a request names a method and its arguments, not a payload. */
export const MAX_TRANSMIT_BYTES = 1024 * 1024;

const NAME_RE = /^[a-z_][a-z0-9_]*$/;
const KEYS = new Set(["clients", "module", "method", "parameters", "async", "timeout", "exclude", "forks"]);

export interface TransmitAnswer {
  answer: unknown;
  code: number;
}

function bad(message: string): never {
  throw new FuncError("UsageError", message);
}

/** The request, checked field by field: anything unexpected is named. */
function parseRequest(text: string): Record<string, unknown> {
  if (Buffer.byteLength(text) > MAX_TRANSMIT_BYTES) bad(`request larger than ${MAX_TRANSMIT_BYTES} bytes`);
  let req: unknown;
  try {
    req = JSON.parse(text);
  } catch (err) {
    bad(`the request is not JSON: ${(err as Error).message}`);
  }
  if (!req || typeof req !== "object" || Array.isArray(req)) bad('the request must be a JSON object, e.g. {"clients": "*", "module": "test", "method": "ping"}');
  const r = req as Record<string, unknown>;
  const unknown = Object.keys(r).filter((k) => !KEYS.has(k));
  if (unknown.length) bad(`unknown field ${unknown.map((k) => JSON.stringify(k)).join(", ")} (fields: ${[...KEYS].join(", ")})`);
  if (typeof r.method !== "string" || !NAME_RE.test(r.method)) bad('"method" must be a method name such as "ping" or "job_status"');
  return r;
}

function options(r: Record<string, unknown>, env: NodeJS.ProcessEnv): OverlordOptions {
  const num = (k: string) => {
    const v = r[k];
    if (v === undefined) return undefined;
    if (typeof v !== "number" || !(v > 0)) bad(`"${k}" must be a number > 0`);
    return v;
  };
  if (r.exclude !== undefined && typeof r.exclude !== "string") bad('"exclude" must be a target spec (a string)');
  const timeout = num("timeout");
  const forks = num("forks");
  return {
    env,
    ...(timeout !== undefined ? { timeout } : {}),
    ...(forks !== undefined ? { forks: Math.floor(forks) } : {}),
    ...(typeof r.exclude === "string" ? { exclude: r.exclude } : {}),
  };
}

/** Runs one request; throws FuncError for a bad request or a whole-run failure (the bin answers it as JSON). */
export async function transmit(text: string, env: NodeJS.ProcessEnv): Promise<TransmitAnswer> {
  const r = parseRequest(text);
  const opts = options(r, env);
  if (r.method === "job_status") {
    const id = Array.isArray(r.parameters) ? r.parameters[0] : r.parameters;
    if (typeof id !== "string") bad('job_status takes the job id: {"method": "job_status", "parameters": "<id>"}');
    const overlord = new Overlord("*", opts);
    try {
      const st = await overlord.jobStatus(id);
      const finals = Object.values(st.hosts).flatMap((h) => (h.outcome === "running" ? [] : [h as HostResult]));
      return { answer: st, code: exitCodeForResults(finals) };
    } finally {
      await overlord.close();
    }
  }
  if (typeof r.clients !== "string" || r.clients.trim() === "") bad('"clients" must be a target spec such as "*" or "web[01-03]"');
  const overlord = new Overlord(r.clients, { ...opts, keepAlive: false });
  try {
    if (r.method === "list_minions" && r.module === undefined) return { answer: { hosts: overlord.hosts() }, code: EXIT.OK };
    if (typeof r.module !== "string" || !NAME_RE.test(r.module)) bad('"module" must be a module name such as "test" or "command"');
    const params = r.parameters === undefined ? [] : r.parameters;
    if (!Array.isArray(params)) bad('"parameters" must be a JSON array of the arguments, e.g. [1, 2]');
    if (r.async !== undefined && typeof r.async !== "boolean") bad('"async" must be true or false');
    if (r.async) return { answer: { job: await overlord.callAsync(r.module, r.method as string, params) }, code: EXIT.OK };
    const hosts = await overlord.call(r.module, r.method as string, params);
    const results = Object.values(hosts);
    return { answer: { job: null, hosts, summary: summarize(results.map((h) => h.outcome)) }, code: exitCodeForResults(results) };
  } finally {
    await overlord.close();
  }
}
