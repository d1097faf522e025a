// Test helper for func-web: HTTPS requests to a real func-web (the func CA trusted, an optional client
// cert, an optional source address), JSON bodies, and Server-Sent Events read until the stream ends.

import { request, type Agent } from "node:https";

export interface WebReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: unknown;
}

export interface WebRequest {
  method?: string;
  headers?: Record<string, string>;
  /** an object is sent as JSON; a string as it is */
  body?: unknown;
  cert?: string;
  key?: string;
  localAddress?: string;
  timeoutMs?: number;
  /** a keep-alive agent to reuse connections (default: a new connection per request) */
  agent?: Agent;
}

export function webRequest(base: string, ca: string, path: string, opts: WebRequest = {}): Promise<WebReply> {
  const url = new URL(path, base);
  const body = opts.body === undefined ? undefined : typeof opts.body === "string" ? opts.body : JSON.stringify(opts.body);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: opts.method ?? (body !== undefined ? "POST" : "GET"),
        ca,
        ...(opts.cert ? { cert: opts.cert, key: opts.key } : {}),
        ...(opts.localAddress ? { localAddress: opts.localAddress } : {}),
        agent: opts.agent ?? false,
        headers: { ...(body !== undefined && typeof opts.body !== "string" ? { "content-type": "application/json" } : {}), ...opts.headers },
        timeout: opts.timeoutMs ?? 30_000,
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (text += c));
        res.on("end", () => {
          let json: unknown = null;
          try {
            json = text ? JSON.parse(text) : null;
          } catch {
            // an event stream or a page
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
      },
    );
    req.on("timeout", () => req.destroy(new Error(`no answer to ${path} in time`)));
    req.on("error", reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

export interface SseEvent {
  id: string | null;
  event: string;
  data: string;
}

/** Parses a whole event-stream text into its events (comments and `retry` lines skipped). */
export function parseSse(text: string): SseEvent[] {
  const out: SseEvent[] = [];
  for (const block of text.split("\n\n")) {
    let id: string | null = null;
    let event = "message";
    const data: string[] = [];
    for (const line of block.split("\n")) {
      if (line.startsWith("id: ")) id = line.slice(4);
      else if (line.startsWith("event: ")) event = line.slice(7);
      else if (line.startsWith("data: ")) data.push(line.slice(6));
    }
    if (data.length > 0) out.push({ id, event, data: data.join("\n") });
  }
  return out;
}

/** The error type of a JSON error reply. */
export function errorType(reply: WebReply): string | undefined {
  return (reply.json as { error?: { type?: string } } | null)?.error?.type;
}
