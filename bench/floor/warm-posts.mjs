// The floor for warm API calls: raw keep-alive mutual-TLS POSTs of a fixed XML-RPC body to every minion in
// rounds (all minions at once, wait for all), the same pattern as Overlord.call. Plain node:https, no func
// code. Usage: node warm-posts.mjs HOME LIST.json ROUNDS; prints {"calls","ms","cpuMs","ok"} as one JSON line.

import { readFileSync } from "node:fs";
import { Agent, request } from "node:https";
import { createSecureContext } from "node:tls";

const [home, listFile, rounds = "50"] = process.argv.slice(2);
const BODY = '<?xml version="1.0"?><methodCall><methodName>test.ping</methodName><params></params></methodCall>';

const context = createSecureContext({
  key: readFileSync(`${home}/pki/overlord.key`),
  cert: readFileSync(`${home}/pki/overlord.crt`),
  ca: readFileSync(`${home}/pki/ca/ca.crt`),
});
const agent = new Agent({ keepAlive: true, maxSockets: Infinity, scheduling: "lifo" });
/** [{name, address, port}] */
const minions = JSON.parse(readFileSync(listFile, "utf8"));

function post(m) {
  return new Promise((resolve) => {
    const req = request(
      {
        host: m.address,
        port: m.port,
        servername: m.name,
        method: "POST",
        path: "/",
        agent,
        secureContext: context,
        headers: { "Content-Type": "text/xml", "Content-Length": BODY.length },
      },
      (res) => {
        const chunks = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => resolve(res.statusCode === 200 && !Buffer.concat(chunks).includes("<fault>")));
        res.on("error", () => resolve(false));
      },
    );
    req.on("error", () => resolve(false));
    req.end(BODY);
  });
}

const round = async () => (await Promise.all(minions.map(post))).filter(Boolean).length;
await round(); // connect: the handshakes are the cold workload's business, not this one's
process.stdout.write("connected\n"); // the harness counts the minions' CPU from here
let ok = 0;
const cpu = process.cpuUsage();
const started = performance.now();
for (let r = 0; r < Number(rounds); r++) ok += await round();
const ms = performance.now() - started;
const used = process.cpuUsage(cpu);
agent.destroy();
process.stdout.write(JSON.stringify({ calls: minions.length * Number(rounds), ms, cpuMs: (used.user + used.system) / 1000, ok }) + "\n");
