// func-web workload: a func-web service (its long-lived Overlord) in this process, and ROUNDS warm calls of
// test.ping on SPEC through its JSON API: POST /api/calls, then the job's event stream read to its summary.
// Usage: node web-api.mjs HOME SPEC ROUNDS; prints {"hosts","rounds":[ms...],"ok"} (ok: hosts ok, all rounds).

import { request } from "node:https";
import { homePaths } from "@func/shared";
import { TokenStore, loadWebConfig, startWebServer } from "@func/web";

const [home, spec, rounds = "5"] = process.argv.slice(2);
const paths = homePaths(home);
const web = await startWebServer(paths, loadWebConfig(paths), { listenAddr: "127.0.0.1", port: 0, probe: false });
const name = `bench-${process.pid}`;
const { token } = new TokenStore(paths).create(name, "admin", 3600);

function send(path, body) {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, web.url), {
      method: body ? "POST" : "GET",
      ca: web.caCert,
      headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) },
    }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c) => (text += c));
      res.on("end", () => resolve({ status: res.statusCode, text }));
    });
    req.on("error", reject);
    if (body) req.write(JSON.stringify(body));
    req.end();
  });
}

/** One call: the job id back, then every host and the summary from the event stream. */
async function call() {
  const posted = await send("/api/calls", { spec, module: "test", method: "ping" });
  if (posted.status !== 202) throw new Error(`POST /api/calls: ${posted.status} ${posted.text}`);
  const { job } = JSON.parse(posted.text);
  const stream = await send(`/api/jobs/${job}/events`);
  const summary = stream.text.split("\n\n").find((b) => b.includes("event: summary"));
  const data = JSON.parse(summary.split("\n").find((l) => l.startsWith("data: ")).slice(6));
  return { hosts: data.total, ok: data.summary.ok };
}

try {
  const first = await call(); // connects to every minion, as a running func-web already has
  process.stdout.write("connected\n");
  const times = [];
  let ok = 0;
  for (let r = 0; r < Number(rounds); r++) {
    const t0 = performance.now();
    ok += (await call()).ok;
    times.push(performance.now() - t0);
  }
  process.stdout.write(JSON.stringify({ hosts: first.hosts, rounds: times, ok }) + "\n");
} finally {
  new TokenStore(paths).revoke(name);
  await web.close();
}
