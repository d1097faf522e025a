// Human and machine output for per-host results: one line per host (sorted) with the outcome visible at a
// glance, `--json` as one document, `--jsonl` as one line per host as it finishes plus a summary line.

import { OUTCOMES, commandRc, type HostResult, type Outcome, type Summary } from "@func/shared";
import { visibleLine, visibleText } from "./terminal-text.js";

/** Buffers (bytes that were not valid UTF-8) are shown as UTF-8 text, as DESIGN section 5 says. */
export function jsonReplacer(_key: string, value: unknown): unknown {
  if (value && typeof value === "object" && (value as { type?: unknown }).type === "Buffer" && Array.isArray((value as { data?: unknown }).data)) {
    return Buffer.from((value as { data: number[] }).data).toString("utf8");
  }
  return value;
}

export function toJson(value: unknown, indent?: number): string {
  return JSON.stringify(value, jsonReplacer, indent);
}

function isCommandResult(v: unknown): v is { rc: number; stdout: string; stderr: string } {
  return !!v && typeof v === "object" && !Array.isArray(v) && "rc" in v && "stdout" in v && "stderr" in v;
}

function text(v: unknown): string {
  if (typeof v === "string") return v;
  if (Buffer.isBuffer(v)) return v.toString("utf8");
  return toJson(v);
}

/**
 * The lines that show one host's value: command output unwrapped, strings as they are, the rest as JSON;
 * control characters shown escaped (human output only: --json and --jsonl keep the bytes as they came).
 */
export function valueLines(value: unknown): string[] {
  return rawValueLines(value).map(visibleText);
}

function rawValueLines(value: unknown): string[] {
  if (isCommandResult(value)) {
    const out = text(value.stdout).replace(/\n$/, "");
    const err = text(value.stderr).replace(/\n$/, "");
    const lines = out === "" ? [] : out.split("\n");
    if (err !== "") lines.push(...err.split("\n").map((l) => `stderr: ${l}`));
    return lines.length ? lines : [""];
  }
  const s = text(value).replace(/\n$/, "");
  return s.split("\n");
}

export function resultLines(result: HostResult): string[] {
  if (result.outcome === "ok") return valueLines(result.value);
  return [visibleLine(`${result.error.type}: ${result.error.message}`)];
}

const PAD_OUTCOME = Math.max(...OUTCOMES.map((o) => o.length));

/**
 * What the outcome column shows: the outcome, or `rc=N` (colored as an error) for a command that ran and
 * exited non-zero, so a failed command never reads as `ok` (DESIGN section 7, exit bit 32).
 */
export function outcomeMark(result: HostResult): { text: string; tone: Outcome } {
  const rc = result.outcome === "ok" ? commandRc(result.value) : null;
  return rc !== null && rc !== 0 ? { text: `rc=${rc}`, tone: "error" } : { text: result.outcome, tone: result.outcome };
}

/** `host  outcome  first line`, further lines indented under it. */
export function formatHost(host: string, result: HostResult, hostWidth: number, color: boolean): string {
  const lines = resultLines(result);
  const { text: markText, tone } = outcomeMark(result);
  const mark = colorize(markText.padEnd(PAD_OUTCOME), tone, color);
  const head = `${visibleLine(host).padEnd(hostWidth)}  ${mark}  ${lines[0] ?? ""}`;
  if (lines.length <= 1) return head;
  const indent = " ".repeat(hostWidth + PAD_OUTCOME + 4);
  return [head, ...lines.slice(1).map((l) => indent + l)].join("\n");
}

const COLORS: Record<Outcome, string> = { ok: "32", error: "31", denied: "35", unreachable: "33", timeout: "33", lost: "33", skipped: "36" };

function colorize(s: string, outcome: Outcome, color: boolean): string {
  return color ? `\x1b[${COLORS[outcome]}m${s}\x1b[0m` : s;
}

/** `12 hosts: 11 ok (1 exited non-zero), 1 unreachable in 0.42s` */
export function formatSummary(summary: Summary, ms?: number, nonZero = 0): string {
  const total = Object.values(summary).reduce((a, b) => a + b, 0);
  const parts = OUTCOMES.filter((o) => summary[o] > 0).map((o) => `${summary[o]} ${o}${o === "ok" && nonZero > 0 ? ` (${nonZero} exited non-zero)` : ""}`);
  return `${total} host${total === 1 ? "" : "s"}: ${parts.join(", ") || "none"}${ms !== undefined ? ` in ${(ms / 1000).toFixed(2)}s` : ""}`;
}

/** `host  running  <note>`: a host whose async job is still open. */
export function formatOpenHost(host: string, note: string, hostWidth: number, color: boolean): string {
  const mark = "running".padEnd(PAD_OUTCOME);
  return `${visibleLine(host).padEnd(hostWidth)}  ${color ? `\x1b[36m${mark}\x1b[0m` : mark}  ${visibleLine(note)}`;
}
