// Warm API workload: one Overlord (the public API) calling test.ping on every host of SPEC in rounds, its
// connections kept alive between calls. Usage: node warm-api.mjs HOME SPEC ROUNDS; prints {"calls","ms","cpuMs","ok"}.

import { Overlord } from "@func/overlord";

const [home, spec, rounds = "50"] = process.argv.slice(2);
const overlord = new Overlord(spec, { home });
const round = async () => Object.values(await overlord.call("test", "ping")).filter((r) => r.outcome === "ok").length;
const hosts = await round(); // connect first, as the floor does
process.stdout.write("connected\n"); // the harness counts the minions' CPU from here
let ok = 0;
const cpu = process.cpuUsage();
const started = performance.now();
for (let r = 0; r < Number(rounds); r++) ok += await round();
const ms = performance.now() - started;
const used = process.cpuUsage(cpu);
await overlord.close();
process.stdout.write(JSON.stringify({ calls: hosts * Number(rounds), ms, cpuMs: (used.user + used.system) / 1000, ok }) + "\n");
