// The JSON API of func-web (docs/web.md has a request and response for each route): login and session,
// calls, jobs and their event streams, minions (list, sign, revoke), the method table, target previews.
// Every route checks the caller's role; every change needs CSRF (cookie or cert callers) and is audited.

import type { IncomingMessage, ServerResponse } from "node:http";
import { FuncError, MAX_SPEC_LENGTH, isJobId, isValidMinionName, loadGroups, parseFactFilter, resolveTargets, type HomePaths } from "@func/shared";
import { listMinionNames, revokeName, signWaiting, type JobEngine, type Overlord } from "@func/overlord";
import type { WebConfig } from "../config.js";
import { checkCallAcl } from "../auth/acl.js";
import type { Authenticator, Principal } from "../auth/authenticate.js";
import type { RateLimiter } from "../auth/rate-limit.js";
import { allows, type Right } from "../auth/roles.js";
import { clearedCookie, sessionCookie, type SessionStore } from "../auth/sessions.js";
import type { TokenStore } from "../auth/tokens.js";
import type { AuditLog } from "./audit.js";
import { streamRun } from "./events.js";
import { HttpError, readJson, sendJson, sourceAddress } from "./http.js";
import { fleetView } from "./minions.js";
import type { ModuleTableSource } from "./modules.js";
import type { FactSource } from "./facts.js";
import type { CallRequest, Runs } from "./runs.js";

/** Module and method names: lower-case snake_case (DESIGN section 5). */
const NAME_RE = /^[a-z_][a-z0-9_]{0,63}$/;
/** Nesting allowed in call arguments. */
const MAX_ARG_DEPTH = 32;
/** Hosts in flight at once a `batch` may ask for. */
const MAX_BATCH = 10_000;
/** Jobs one GET /api/jobs may list. */
const MAX_LIST = 500;
/** Hosts a target preview lists unless it asks for more (the count is always exact), and the most it may ask for. */
const PREVIEW_HOSTS = 500;
const PREVIEW_MAX = 100_000;

export interface ApiContext {
  paths: HomePaths;
  config: WebConfig;
  overlord: Overlord;
  engine: JobEngine;
  runs: Runs;
  tokens: TokenStore;
  sessions: SessionStore;
  auth: Authenticator;
  loginLimiter: RateLimiter;
  audit: AuditLog;
  modules: ModuleTableSource;
  facts: FactSource;
}

interface Route {
  method: "GET" | "POST";
  pattern: RegExp;
  right: Right | null;
  handle(c: ApiContext, r: RouteCall): Promise<void> | void;
}

interface RouteCall {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  params: string[];
  who: Principal | null;
  address: string;
}

function audit(c: ApiContext, r: RouteCall, action: string, outcome: "ok" | "denied" | "error", detail: Record<string, unknown> = {}): void {
  c.audit.write({ identity: r.who?.identity ?? "-", role: r.who?.role ?? null, via: r.who?.via ?? "-", address: r.address, action, outcome, ...detail });
}

function universe(c: ApiContext): { names: string[]; groups: Record<string, string[]> } {
  return { names: listMinionNames(c.paths), groups: loadGroups(c.paths) };
}

function resolveSpec(c: ApiContext, spec: string, u = universe(c)): string[] {
  return resolveTargets(spec, u);
}

function checkDepth(value: unknown, depth: number): void {
  if (depth > MAX_ARG_DEPTH) throw new HttpError(400, "BadArguments", `arguments nest deeper than ${MAX_ARG_DEPTH}`);
  if (Array.isArray(value)) for (const v of value) checkDepth(v, depth + 1);
  else if (typeof value === "object" && value !== null) for (const v of Object.values(value)) checkDepth(v, depth + 1);
}

/** The call a POST /api/calls body asks for, checked field by field; hosts are resolved later. */
export function parseCallBody(body: Record<string, unknown>): Omit<CallRequest, "hosts"> {
  const known = new Set(["spec", "module", "method", "args", "async", "batch"]);
  const extra = Object.keys(body).filter((k) => !known.has(k));
  if (extra.length > 0) throw new HttpError(400, "BadRequest", `unknown field ${extra[0]!.slice(0, 40)}: a call has spec, module, method, args, async, batch`);
  const { spec, module, method, args = [], async = false, batch } = body;
  if (typeof spec !== "string" || spec.trim() === "" || spec.length > MAX_SPEC_LENGTH) throw new HttpError(400, "BadRequest", `spec must be a non-empty string of at most ${MAX_SPEC_LENGTH} characters (e.g. "web*")`);
  if (typeof module !== "string" || !NAME_RE.test(module) || module === "async") throw new HttpError(400, "BadRequest", 'module must be a module name such as "test" (lower case, snake_case)');
  if (typeof method !== "string" || !NAME_RE.test(method)) throw new HttpError(400, "BadRequest", 'method must be a method name such as "ping" (lower case, snake_case)');
  if (!Array.isArray(args)) throw new HttpError(400, "BadArguments", "args must be a JSON array of the method's arguments");
  checkDepth(args, 0);
  if (typeof async !== "boolean") throw new HttpError(400, "BadRequest", "async must be true or false");
  if (batch !== undefined && (typeof batch !== "number" || !Number.isInteger(batch) || batch < 1 || batch > MAX_BATCH)) throw new HttpError(400, "BadRequest", `batch must be a whole number from 1 to ${MAX_BATCH} (hosts in flight at once)`);
  return { spec, module, method, args, async, ...(batch !== undefined ? { batch } : {}) };
}

async function login(c: ApiContext, r: RouteCall): Promise<void> {
  if (!c.loginLimiter.take(r.address)) {
    audit(c, r, "login", "denied", { reason: "rate limited" });
    const wait = c.loginLimiter.retryAfterS(r.address);
    throw new HttpError(429, "LimitExceeded", `too many login attempts from ${r.address}: try again in ${wait} s`, { "retry-after": String(wait) });
  }
  const body = await readJson(r.req, c.config.maxBodyBytes);
  let who: Principal;
  if (body.token !== undefined) {
    if (typeof body.token !== "string") throw new HttpError(400, "BadRequest", "token must be a string");
    const rec = c.tokens.verify(body.token);
    if (!rec) {
      audit(c, r, "login", "denied", { reason: "bad token" });
      throw new HttpError(401, "Unauthorized", 'the token is unknown, expired or revoked: make a new one with "func-web token create"');
    }
    who = { identity: rec.name, role: rec.role, via: "token", csrf: null, origin: { via: "token", tokenHash: rec.hash } };
  } else {
    const byCert = c.auth.fromCert(r.req);
    if (!byCert) throw new HttpError(400, "BadRequest", 'send {"token": "..."} or log in with a func-CA client certificate');
    who = byCert;
  }
  const origin = who.origin ?? { via: "cert" as const };
  const { id, session } = c.sessions.create({ identity: who.identity, role: who.role, via: origin.via, ...(origin.tokenHash ? { tokenHash: origin.tokenHash } : {}) });
  r.who = { identity: who.identity, role: who.role, via: "session", csrf: session.csrf };
  audit(c, r, "login", "ok", { with: origin.via });
  sendJson(r.res, 200, { identity: who.identity, role: who.role, csrf: session.csrf }, { "set-cookie": sessionCookie(id, c.config.sessionIdleS) });
}

async function postCall(c: ApiContext, r: RouteCall): Promise<void> {
  const body = await readJson(r.req, c.config.maxBodyBytes);
  const call = parseCallBody(body);
  const u = universe(c);
  const hosts = resolveSpec(c, call.spec, u);
  const full = `${call.module}.${call.method}`;
  try {
    checkCallAcl(c.config.acl, r.who!.identity, r.who!.role, full, hosts, (spec) => {
      try {
        return resolveTargets(spec, u);
      } catch {
        return [];
      }
    });
  } catch (err) {
    audit(c, r, "call", "denied", { spec: call.spec, method: full, reason: (err as Error).message });
    throw err;
  }
  const run = await c.runs.start({ ...call, hosts });
  audit(c, r, "call", "ok", { job: run.id, spec: call.spec, method: full, args: call.args, hosts: hosts.length, async: call.async });
  sendJson(r.res, 202, { job: run.id, hosts: hosts.length, async: call.async, events: `/api/jobs/${run.id}/events` });
}

function jobId(raw: string): string {
  const id = decodeURIComponent(raw);
  if (!isJobId(id)) throw new HttpError(400, "BadRequest", `"${raw.slice(0, 80)}" is not a job id (e.g. 20261122T201233-5f2a9c01b7)`);
  return id;
}

function minionName(raw: string): string {
  const name = decodeURIComponent(raw);
  if (!isValidMinionName(name)) throw new HttpError(400, "BadRequest", `"${raw.slice(0, 80)}" is not a minion name`);
  return name;
}

async function minionChange(c: ApiContext, r: RouteCall, action: "sign" | "revoke"): Promise<void> {
  const name = minionName(r.params[0]!);
  try {
    if (action === "sign") await signWaiting(c.paths, name);
    else await revokeName(c.paths, name);
  } catch (err) {
    audit(c, r, action, err instanceof FuncError && err.type === "NotFound" ? "denied" : "error", { minion: name, reason: (err as Error).message });
    throw err;
  }
  audit(c, r, action, "ok", { minion: name });
  sendJson(r.res, 200, { minion: name, [action === "sign" ? "signed" : "revoked"]: true });
}

const ROUTES: Route[] = [
  { method: "POST", pattern: /^\/api\/login$/, right: null, handle: login },
  {
    method: "POST",
    pattern: /^\/api\/logout$/,
    right: "read",
    handle: (c, r) => {
      if (r.who?.sessionId) c.sessions.delete(r.who.sessionId);
      audit(c, r, "logout", "ok");
      sendJson(r.res, 200, { loggedOut: true }, { "set-cookie": clearedCookie() });
    },
  },
  {
    method: "GET",
    pattern: /^\/api\/session$/,
    right: "read",
    handle: (_c, r) => sendJson(r.res, 200, { identity: r.who!.identity, role: r.who!.role, via: r.who!.via, csrf: r.who!.csrf }),
  },
  { method: "POST", pattern: /^\/api\/calls$/, right: "call", handle: postCall },
  {
    method: "GET",
    pattern: /^\/api\/jobs$/,
    right: "read",
    handle: async (c, r) => {
      const limitRaw = r.url.searchParams.get("limit") ?? "50";
      const limit = Number(limitRaw);
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST) throw new HttpError(400, "BadRequest", `limit must be a whole number from 1 to ${MAX_LIST}`);
      const before = r.url.searchParams.get("before");
      const jobs = c.engine.list({ limit, ...(before ? { before: jobId(before) } : {}) });
      sendJson(r.res, 200, { jobs });
    },
  },
  {
    method: "GET",
    pattern: /^\/api\/jobs\/([^/]+)$/,
    right: "read",
    handle: async (c, r) => {
      const poll = r.url.searchParams.get("poll") === "1";
      sendJson(r.res, 200, await c.engine.status(jobId(r.params[0]!), { poll }));
    },
  },
  {
    method: "GET",
    pattern: /^\/api\/jobs\/([^/]+)\/events$/,
    right: "read",
    handle: async (c, r) => streamRun(r.req, r.res, r.url, await c.runs.get(jobId(r.params[0]!))),
  },
  { method: "GET", pattern: /^\/api\/minions$/, right: "read", handle: (c, r) => sendJson(r.res, 200, fleetView(c.paths, c.runs.health)) },
  {
    method: "POST",
    pattern: /^\/api\/minions\/ping$/,
    right: "read",
    handle: async (c, r) => {
      // a fleet check anyone who can read may start: test.ping, which changes nothing on the minions
      const hosts = listMinionNames(c.paths);
      if (hosts.length === 0) throw new FuncError("NoMatch", "no minions are enrolled");
      const run = await c.runs.start({ spec: "*", hosts, module: "test", method: "ping", args: [], async: false });
      audit(c, r, "ping", "ok", { job: run.id, hosts: hosts.length });
      sendJson(r.res, 202, { job: run.id, hosts: hosts.length, async: false, events: `/api/jobs/${run.id}/events` });
    },
  },
  { method: "POST", pattern: /^\/api\/minions\/([^/]+)\/sign$/, right: "admin", handle: (c, r) => minionChange(c, r, "sign") },
  { method: "POST", pattern: /^\/api\/minions\/([^/]+)\/revoke$/, right: "admin", handle: (c, r) => minionChange(c, r, "revoke") },
  {
    method: "GET",
    pattern: /^\/api\/modules$/,
    right: "read",
    handle: (c, r) => sendJson(r.res, 200, c.modules.get()),
  },
  {
    method: "GET",
    pattern: /^\/api\/targets$/,
    right: "read",
    handle: (c, r) => {
      const spec = r.url.searchParams.get("spec") ?? "";
      if (spec.trim() === "" || spec.length > MAX_SPEC_LENGTH) throw new HttpError(400, "BadRequest", "spec must be a non-empty target spec (e.g. web*)");
      const limit = Number(r.url.searchParams.get("limit") ?? PREVIEW_HOSTS);
      if (!Number.isInteger(limit) || limit < 1 || limit > PREVIEW_MAX) throw new HttpError(400, "BadRequest", `limit must be a whole number from 1 to ${PREVIEW_MAX}`);
      let hosts: string[];
      try {
        hosts = resolveSpec(c, spec);
      } catch (err) {
        if (err instanceof FuncError && err.type === "NoMatch") hosts = [];
        else throw err;
      }
      sendJson(r.res, 200, { spec, count: hosts.length, hosts: hosts.slice(0, limit) });
    },
  },
  {
    method: "GET",
    pattern: /^\/api\/facts$/,
    right: "read",
    handle: async (c, r) => {
      // facts.get changes nothing on the minions: anyone who can read may filter the fleet by facts
      const spec = r.url.searchParams.get("spec") ?? "*";
      if (spec.trim() === "" || spec.length > MAX_SPEC_LENGTH) throw new HttpError(400, "BadRequest", "spec must be a non-empty target spec (e.g. web*)");
      const text = r.url.searchParams.get("filter") ?? "";
      if (text.trim() === "" || text.length > MAX_SPEC_LENGTH) throw new HttpError(400, "BadRequest", 'filter must be fact clauses, e.g. "os=debian,cpus>=4"');
      const mode = r.url.searchParams.get("mode") ?? "all";
      if (mode !== "all" && mode !== "any") throw new HttpError(400, "BadRequest", 'mode must be "all" (--filter) or "any" (--filteror)');
      const filter = parseFactFilter(text, mode);
      const hosts = resolveSpec(c, spec);
      sendJson(r.res, 200, { spec, filter: text, mode, ...(await c.facts.match(hosts, filter)) });
    },
  },
];

/** Handles a request under /api/; returns after the reply (or the stream) has started. */
export async function handleApi(c: ApiContext, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const path = url.pathname;
  const matching = ROUTES.filter((route) => route.pattern.test(path));
  if (matching.length === 0) throw new HttpError(404, "NotFound", `no route ${path.slice(0, 100)} (see docs/web.md)`);
  const route = matching.find((x) => x.method === req.method);
  if (!route) throw new HttpError(405, "MethodNotAllowed", `${req.method ?? "?"} is not allowed on ${path.slice(0, 100)}`, { allow: matching.map((x) => x.method).join(", ") });
  const params = route.pattern.exec(path)!.slice(1);
  const r: RouteCall = { req, res, url, params, who: null, address: sourceAddress(req) };
  if (route.right !== null) {
    try {
      r.who = c.auth.identify(req);
      if (!allows(r.who.role, route.right)) throw new HttpError(403, "Forbidden", `${r.who.identity} is a ${r.who.role}: this needs the ${route.right === "call" ? "operator" : "admin"} role`);
      if (req.method !== "GET") c.auth.checkCsrf(req, r.who);
    } catch (err) {
      if (req.method !== "GET") audit(c, r, `${req.method} ${path.slice(0, 100)}`, "denied", { reason: (err as Error).message });
      throw err;
    }
  }
  await route.handle(c, r);
}
