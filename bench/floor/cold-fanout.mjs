// The floor for a cold CLI fan-out: a fresh process that opens one mutual-TLS connection to each minion and
// does one XML-RPC POST, at the same concurrency as func. Plain node:https and the same cert files, a fixed
// body, no func code: what any Node client must pay. Usage: node cold-fanout.mjs HOME LIST.json CONCURRENCY

import { readFileSync } from "node:fs";
import { request } from "node:https";
import { createSecureContext } from "node:tls";

const [home, listFile, concurrency = "200"] = process.argv.slice(2);
const BODY = '<?xml version="1.0"?><methodCall><methodName>test.ping</methodName><params></params></methodCall>';

const context = createSecureContext({
  key: readFileSync(`${home}/pki/overlord.key`),
  cert: readFileSync(`${home}/pki/overlord.crt`),
  ca: readFileSync(`${home}/pki/ca/ca.crt`),
});
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
        agent: false,
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

let next = 0;
let ok = 0;
async function lane() {
  while (next < minions.length) if (await post(minions[next++])) ok++;
}
await Promise.all(Array.from({ length: Math.min(Number(concurrency), minions.length) }, lane));
process.stderr.write(`${minions.length} hosts: ${ok} ok\n`);
process.exitCode = ok === minions.length ? 0 : 4;
