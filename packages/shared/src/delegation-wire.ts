// Delegation through sub-overlords (DESIGN section 12), the parts both sides speak: the relay headers, the
// share's result lines (one line per set of hosts with an identical result: folded near the leaves), the
// paging of those lines, and the checks on names and paths. Pure; the minion's delegation module and the
// overlord's func-delegate and share runner use it.

import { join } from "node:path";
import type { WireValue } from "./codec.js";
import { ERRORS, FuncError, type ErrorType } from "./errors.js";
import type { HomePaths } from "./home.js";
import { isValidMinionName } from "./names.js";
import { hostError, isOutcome, type HostResult } from "./outcomes.js";

/** Header naming the original caller; trusted only from a peer with the overlord role. */
export const CALLER_HEADER = "x-func-caller";
/** Header naming the sub-overlords a call came through, `>`-separated, top first; trusted as CALLER_HEADER. */
export const PATH_HEADER = "x-func-path";
/** Most sub-overlords a call may pass through: a longer path is refused (a loop, or a mistake). */
export const MAX_DELEGATION_DEPTH = 8;
/** Most leaves one share may name. */
export const MAX_SHARE_LEAVES = 100_000;
/** Most result lines one poll answers. */
export const PAGE_MAX_LINES = 2000;
/** Most bytes of result lines (as JSON) one poll answers, beyond the first line. */
export const PAGE_MAX_BYTES = 2 * 1024 * 1024;
/** Longest a poll waits on the sub-overlord for a new line before answering an empty page, ms. */
export const POLL_WAIT_MAX_MS = 2000;

/** What delegation.run writes for func-delegate (run/delegation/<id>.req.json): the file is the contract. */
export interface ShareRequest {
  id: string;
  module: string;
  method: string;
  args: WireValue[];
  leaves: string[];
  timeoutMs: number;
  async: boolean;
  /** identical results go in one line with their hosts */
  fold: boolean;
  /** who the share runs for, and the path down to this host (this host last) */
  caller: string;
  path: string[];
  /** the peer that started it: only it (or an overlord-role peer) may poll */
  peerCn: string;
  created: number;
}

/** One line of a share's results: these hosts, this result (`via` inside it: the path below the answering tier). */
export interface ShareLine {
  hosts: string[];
  result: HostResult;
}

/** What `delegation.poll` answers. */
export interface SharePage {
  lines: ShareLine[];
  /** where the next poll starts: lines so far */
  cursor: number;
  /** every line is written: the share is over */
  done: boolean;
  /** the process running the share is alive (or the share is done) */
  alive: boolean;
}

/** A sub-overlord's tree as `delegation.map` answers and the map file stores it. */
export interface MapNode {
  /** the sub-overlord's name (its minion name at the tier above) */
  name: string;
  /** leaves it calls itself (not through another sub-overlord) */
  leaves: string[];
  /** sub-overlords under it */
  subs: MapNode[];
}

/** The overlord's delegation map: the sub-overlords among its direct minions, each with its tree. */
export interface DelegationMap {
  built: string;
  subs: MapNode[];
}

/** The share's files on the sub-overlord: the request the minion wrote, and the result lines func-delegate appends. */
export function shareFiles(paths: HomePaths, id: string): { dir: string; request: string; lines: string; pid: string } {
  const dir = join(paths.runDir, "delegation");
  return { dir, request: join(dir, `${id}.req.json`), lines: join(dir, `${id}.jsonl`), pid: join(dir, `${id}.pid`) };
}

/** The line func-delegate writes last. */
export const END_LINE = '{"end":true}';

/**
 * One page of result lines from `cursor` on: at most PAGE_MAX_LINES lines, and no more than PAGE_MAX_BYTES
 * of them beyond the first (a single huge line still goes out, alone). `texts` are the file's lines.
 */
export function pageOf(texts: readonly string[], cursor: number, alive: boolean, limits = { lines: PAGE_MAX_LINES, bytes: PAGE_MAX_BYTES }): { texts: string[]; cursor: number; done: boolean; alive: boolean } {
  const ended = texts.length > 0 && texts[texts.length - 1] === END_LINE;
  const body = ended ? texts.length - 1 : texts.length;
  const from = Math.max(0, Math.min(Math.floor(cursor), body));
  const out: string[] = [];
  let bytes = 0;
  let i = from;
  for (; i < body && out.length < limits.lines; i++) {
    const size = Buffer.byteLength(texts[i]!);
    if (out.length > 0 && bytes + size > limits.bytes) break;
    out.push(texts[i]!);
    bytes += size;
  }
  const done = ended && i === body;
  return { texts: out, cursor: i, done, alive: alive || ended };
}

/** Splits a path header (`sub1>sub1a`); anything malformed is refused, not guessed. */
export function parsePath(header: string | undefined): string[] {
  if (header === undefined || header === "") return [];
  const parts = header.split(">");
  if (parts.length > MAX_DELEGATION_DEPTH || !parts.every(isValidMinionName)) {
    throw new FuncError("BadArguments", `${PATH_HEADER}: not a path of at most ${MAX_DELEGATION_DEPTH} minion names`);
  }
  return parts;
}

export function formatPath(path: readonly string[]): string {
  return path.join(">");
}

/** Checks a list of leaf names from the network: host-name syntax, no repeats, at most MAX_SHARE_LEAVES. */
export function checkLeaves(value: unknown): string[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_SHARE_LEAVES) {
    throw new FuncError("BadArguments", `leaves must be a list of 1 to ${MAX_SHARE_LEAVES} minion names`);
  }
  const seen = new Set<string>();
  for (const v of value) {
    if (!isValidMinionName(v)) throw new FuncError("BadArguments", `leaves: ${JSON.stringify(String(v).slice(0, 80))} is not a minion name`);
    if (seen.has(v)) throw new FuncError("BadArguments", `leaves: ${v} is named twice`);
    seen.add(v);
  }
  return [...seen];
}

/** A result read back from the network or a file: exactly one outcome, with a value or an error; else null. */
export function readHostResult(value: unknown): HostResult | null {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return null;
  const r = value as Record<string, unknown>;
  if (!isOutcome(r.outcome)) return null;
  const via = r.via === undefined ? undefined : Array.isArray(r.via) && r.via.length <= MAX_DELEGATION_DEPTH && r.via.every(isValidMinionName) ? (r.via) : null;
  if (via === null) return null;
  const ms = typeof r.ms === "number" && Number.isFinite(r.ms) ? { ms: r.ms } : {};
  const viaPart = via ? { via } : {};
  if (r.outcome === "ok") return "value" in r ? { outcome: "ok", value: r.value as WireValue, ...ms, ...viaPart } : null;
  const e = r.error as Record<string, unknown> | null | undefined;
  if (!e || typeof e !== "object" || typeof e.type !== "string" || typeof e.message !== "string") return null;
  const code = typeof e.code === "number" ? e.code : 0;
  // a type the table does not know is the peer's word, not ours: MethodError, with its name kept in the message
  const known = Object.hasOwn(ERRORS, e.type);
  const error = known ? hostError(e.type as ErrorType, e.message, code) : hostError("MethodError", `${e.type.slice(0, 200)}: ${e.message}`, code);
  return { outcome: r.outcome, error, ...ms, ...viaPart };
}

/** Checks a map node from the network (recursively, bounded in depth); throws BadArguments on anything else. */
export function readMapNode(value: unknown, depth = 0): MapNode {
  const bad = (why: string) => new FuncError("BadArguments", `delegation map: ${why}`);
  if (depth >= MAX_DELEGATION_DEPTH) throw bad(`deeper than ${MAX_DELEGATION_DEPTH} tiers`);
  if (value === null || typeof value !== "object" || Array.isArray(value)) throw bad("a node is not a struct");
  const v = value as Record<string, unknown>;
  if (!isValidMinionName(v.name)) throw bad("a node has no valid name");
  if (!Array.isArray(v.leaves) || !v.leaves.every(isValidMinionName)) throw bad(`${v.name}: leaves is not a list of names`);
  if (!Array.isArray(v.subs)) throw bad(`${v.name}: subs is not a list`);
  return { name: v.name, leaves: [...(v.leaves)], subs: v.subs.map((s) => readMapNode(s, depth + 1)) };
}
