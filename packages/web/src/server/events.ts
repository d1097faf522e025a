// GET /api/jobs/{id}/events: a run as Server-Sent Events. First the hosts already finished, then one `host`
// event per host as it finishes, then a `summary` event; every event has an id, so a client that reconnects
// with Last-Event-ID gets exactly what it had not seen. After the summary a reconnect gets 204 (EventSource
// stops there).

import type { IncomingMessage, ServerResponse } from "node:http";
import { SECURITY_HEADERS } from "./http.js";
import type { Run, RunEvent, RunSummary } from "./runs.js";

/** A comment line this often keeps proxies and idle timers from closing a quiet stream, ms. */
const HEARTBEAT_MS = 15_000;
/** What a browser waits before it reconnects, ms. */
const RETRY_MS = 2000;

function lastEventId(req: IncomingMessage, url: URL): number {
  const raw = req.headers["last-event-id"] ?? url.searchParams.get("lastEventId") ?? "0";
  const n = Number(Array.isArray(raw) ? raw[0] : raw);
  return Number.isInteger(n) && n >= 0 ? n : 0;
}

export function streamRun(req: IncomingMessage, res: ServerResponse, url: URL, run: Run): void {
  const after = lastEventId(req, url);
  if (run.done && after > run.events.length) {
    res.writeHead(204, { ...SECURITY_HEADERS, "cache-control": "no-store" });
    res.end();
    return;
  }
  res.writeHead(200, { ...SECURITY_HEADERS, "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-store", "x-accel-buffering": "no" });
  res.write(`retry: ${RETRY_MS}\n\n`);
  const host = (e: RunEvent) => res.write(`id: ${e.seq}\nevent: host\ndata: ${JSON.stringify({ host: e.host, result: e.result, at: e.at })}\n\n`);
  const summary = (s: RunSummary) => {
    res.write(`id: ${s.done + 1}\nevent: summary\ndata: ${JSON.stringify(s)}\n\n`);
    res.end();
  };
  // what happened before this request, then what happens next: `listen` is registered in the same tick, so
  // nothing falls between the two
  const backlog = run.events.slice(after);
  const done = run.done;
  let stop = () => {};
  if (!done) {
    stop = run.listen((e) => ("seq" in e ? host(e) : summary(e)));
  }
  for (const e of backlog) host(e);
  if (done) return summary(run.summary());
  const beat = setInterval(() => res.write(": keep-alive\n\n"), HEARTBEAT_MS);
  const end = () => {
    clearInterval(beat);
    stop();
  };
  res.on("close", end);
  res.on("finish", end);
}
