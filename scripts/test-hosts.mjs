#!/usr/bin/env node
// `npm run test:hosts`: func on three "real hosts". Three network namespaces (fh-a, fh-b, fh-c) joined by veth
// pairs to a bridge in the root namespace (10.251.0.0/24, nothing routed anywhere else); func installed from the
// packed tarballs into a prefix; every host (and the overlord) in its own mount and UTS namespace with /etc and
// /var/lib overlaid, so each has its own /etc/func and /var/lib/func as root would, with no FUNC_HOME. Then:
// enrollment through `func-ca serve` with the CA fingerprint, calls, an async job across a link that goes down,
// a funcd killed and restarted mid-job, an upgrade in place with a job running, and a revoked host refused at TLS
// both ways. Needs root with `ip` and `unshare`; says so and exits 0 elsewhere. Everything it made is removed at
// the end, also on failure or SIGINT.

import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { connect } from "node:tls";
import { setTimeout as sleep } from "node:timers/promises";

const SUBNET = "10.251.0";
const BRIDGE = "fh-br0";
const OVERLORD_ADDR = `${SUBNET}.1`;
const HOSTS = ["fh-a", "fh-b", "fh-c"].map((name, i) => ({ name, ns: name, veth: `${name}-0`, peer: `${name}-1`, addr: `${SUBNET}.${11 + i}` }));
/** The guide's overlord (docs/guide.md): a namespace of its own, so its services may listen on 0.0.0.0. */
const GUIDE_OVERLORD = { name: "fh-o", ns: "fh-o", veth: "fh-o-0", peer: "fh-o-1", addr: `${SUBNET}.2` };
const MINION_PORT = 51234;
const START = Date.now();

const say = (m) => process.stdout.write(`test:hosts [${((Date.now() - START) / 1000).toFixed(1)}s] ${m}\n`);

function missing() {
  if (process.getuid?.() !== 0) return "not root";
  for (const tool of ["ip", "unshare", "nsenter", "mount"]) if (spawnSync("sh", ["-c", `command -v ${tool}`]).status !== 0) return `no ${tool} on PATH`;
  if (!readFileSync("/proc/filesystems", "utf8").includes("overlay")) return "the kernel has no overlay filesystem";
  return null;
}
const why = missing();
if (why) {
  say(`skipped: needs root with ip, unshare, nsenter and overlayfs (${why})`);
  process.exit(0);
}

// ---- teardown: everything made is registered here and undone in reverse, once ----
const undo = [];
let tornDown = false;
function teardown() {
  if (tornDown) return;
  tornDown = true;
  for (const fn of undo.reverse()) {
    try {
      fn();
    } catch {
      // keep undoing the rest
    }
  }
}
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(sig, () => {
    say(`${sig}: tearing down`);
    teardown();
    process.exit(130);
  });
}
process.on("exit", teardown);

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: "utf8", timeout: opts.timeoutMs ?? 120_000, env: opts.env ?? process.env, input: opts.input });
  const out = { code: r.status ?? 128, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
  if (opts.check !== false && out.code !== 0) throw new Error(`${cmd} ${args.join(" ")} exited ${out.code}: ${out.stderr.trim() || out.stdout.trim()}`);
  return out;
}
const ip = (...args) => run("ip", args);

function assert(cond, message) {
  if (!cond) throw new Error(`assertion failed: ${message}`);
}

async function until(what, fn, timeoutMs = 60_000, everyMs = 250) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

const work = mkdtempSync(join(tmpdir(), "fh-hosts-"));
undo.push(() => {
  // the processes killed just before may still be exiting: give them a moment, then retry
  spawnSync("sleep", ["0.5"]);
  rmSync(work, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
});
const prefix = join(work, "prefix");
const PATH = `${join(prefix, "bin")}:${dirname(process.execPath)}:/usr/sbin:/usr/bin:/sbin:/bin`;

// ---- the network: a bridge in the root namespace, one veth pair per host namespace ----
function network() {
  for (const h of [...HOSTS, GUIDE_OVERLORD]) run("ip", ["netns", "del", h.ns], { check: false });
  run("ip", ["link", "del", BRIDGE], { check: false });
  ip("link", "add", BRIDGE, "type", "bridge");
  undo.push(() => run("ip", ["link", "del", BRIDGE], { check: false }));
  ip("addr", "add", `${OVERLORD_ADDR}/24`, "dev", BRIDGE);
  ip("link", "set", BRIDGE, "up");
  for (const h of [...HOSTS, GUIDE_OVERLORD]) {
    ip("netns", "add", h.ns);
    undo.push(() => run("ip", ["netns", "del", h.ns], { check: false }));
    ip("link", "add", h.veth, "type", "veth", "peer", "name", h.peer);
    undo.push(() => run("ip", ["link", "del", h.veth], { check: false }));
    ip("link", "set", h.peer, "netns", h.ns);
    ip("link", "set", h.veth, "master", BRIDGE);
    ip("link", "set", h.veth, "up");
    ip("-n", h.ns, "link", "set", "lo", "up");
    ip("-n", h.ns, "addr", "add", `${h.addr}/24`, "dev", h.peer);
    ip("-n", h.ns, "link", "set", h.peer, "up");
  }
  say(`network: bridge ${BRIDGE} ${OVERLORD_ADDR}/24; ${[...HOSTS, GUIDE_OVERLORD].map((h) => `${h.ns} ${h.addr}`).join(", ")}`);
}

// ---- install: npm pack --workspaces, npm install -g into the prefix ----
function install(why, into = prefix) {
  const packs = join(work, "packs");
  mkdirSync(packs, { recursive: true });
  const packed = JSON.parse(run("npm", ["pack", "--workspaces", "--json", "--pack-destination", packs], { env: { ...process.env } }).stdout).map((p) => join(packs, p.filename));
  const flags = ["install", "-g", "--ignore-scripts", "--no-audit", "--no-fund", "--prefix", into];
  let r = run("npm", [...flags, "--offline", ...packed], { check: false, timeoutMs: 300_000 });
  if (r.code !== 0 && /ENOTCACHED/.test(r.stderr)) r = run("npm", [...flags, "--prefer-offline", ...packed], { check: false, timeoutMs: 300_000 });
  if (r.code !== 0) throw new Error(`npm install -g failed: ${r.stderr.trim()}`);
  assert(!/warn/i.test(r.stdout + r.stderr), `npm install printed warnings: ${r.stdout}${r.stderr}`);
  say(`${why}: ${packed.map((p) => p.slice(packs.length + 1)).join(", ")} into ${into}`);
  return packs;
}

// ---- a "host": one mount and UTS namespace per host, kept by a holder process, with /etc and /var/lib
// overlaid by the host's own layer; every process of the host enters it (one overlay mount per layer: two mounts
// sharing an upper directory do not see each other's changes) ----
const holders = new Map();
function hostRoot(name) {
  const root = join(work, "hosts", name);
  for (const d of ["etc", "etc-work", "var", "var-work"]) mkdirSync(join(root, d), { recursive: true });
  return root;
}
async function startHolder(name, ns, hostname = name, hosts = null) {
  const root = hostRoot(name);
  // name resolution as the host would have it (the guide's overlord.example.com)
  if (hosts) writeFileSync(join(root, "etc", "hosts"), `${readFileSync("/etc/hosts", "utf8")}\n${hosts}\n`);
  const script = [
    `mount -t overlay overlay -o lowerdir=/etc,upperdir=${root}/etc,workdir=${root}/etc-work /etc`,
    `mount -t overlay overlay -o lowerdir=/var/lib,upperdir=${root}/var,workdir=${root}/var-work /var/lib`,
    `hostname ${hostname}`,
    `touch ${root}/ready`,
    "exec sleep infinity",
  ].join(" && ");
  const inner = ["unshare", "--mount", "--uts", "--propagation", "private", "sh", "-c", script];
  const [c, ...a] = ns ? ["ip", "netns", "exec", ns, ...inner] : inner;
  const child = spawn(c, a, { stdio: "ignore", detached: true });
  undo.push(() => child.exitCode === null && child.kill("SIGKILL"));
  await until(`${name}'s namespaces`, () => existsSync(join(root, "ready")) || child.exitCode !== null, 30_000, 100);
  if (child.exitCode !== null) throw new Error(`cannot make ${name}'s mount namespace (unshare and overlay mounts)`);
  holders.set(name, { pid: child.pid, mnt: run("readlink", [`/proc/${child.pid}/ns/mnt`]).stdout.trim() });
}
/** argv that runs `cmd` inside host `name`: its network, mount and UTS namespaces. */
function inHost(name, cmd, args) {
  return ["nsenter", "-t", String(holders.get(name).pid), "-m", "-u", "-n", "--", cmd, ...args];
}
/** Every process in a host's mount namespace (funcd, job runners, dispatchers), the holder included. */
function processesOf(name) {
  const h = holders.get(name);
  if (!h) return [];
  const pids = [];
  for (const pid of run("ls", ["/proc"]).stdout.split(/\s+/).filter((x) => /^\d+$/.test(x))) {
    const mnt = run("readlink", [`/proc/${pid}/ns/mnt`], { check: false }).stdout.trim();
    if (mnt === h.mnt) pids.push(pid);
  }
  return pids;
}
const env = { ...process.env, PATH, NO_COLOR: "1" };
// as root with no FUNC_HOME: the homes are /etc/func and /var/lib/func
delete env.FUNC_HOME;

/** Runs a func command on the overlord host (root network namespace, its own /etc/func). */
function overlord(cmd, args, opts = {}) {
  const [c, ...a] = inHost("overlord", cmd, args);
  return run(c, a, { env, ...opts });
}
const func = (args, opts) => overlord("func", args, opts);
/** `func ... --json`'s document; no document (no minion matched yet, exit 16) reads as no hosts. */
function funcJson(args) {
  const r = func([...args, "--json"], { check: false });
  return r.stdout.trim() ? JSON.parse(r.stdout) : { hosts: {}, summary: {}, exit: r.code, stderr: r.stderr };
}

const daemons = new Map();
function startFuncd(h, args = []) {
  const log = join(work, `${h.name}-funcd.log`);
  const [c, ...a] = inHost(h.name, "funcd", args);
  const child = spawn(c, a, { env, stdio: ["ignore", "ignore", openSync(log, "a")], detached: true });
  daemons.set(h.name, child);
  return child;
}
function stopFuncd(h, signal) {
  const child = daemons.get(h.name);
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once("exit", () => resolve());
    // as systemd's KillMode=process does: only funcd itself gets the signal, its job runners keep running
    child.kill(signal);
  });
}
undo.push(() => {
  for (const child of daemons.values()) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  // job runners and dispatchers are detached children in the hosts' namespaces: nothing of ours may outlive the test
  for (const name of holders.keys()) for (const pid of processesOf(name)) run("kill", ["-9", pid], { check: false });
});

/** A TLS handshake from `client` (key, cert, CA, CRL files) to addr:port: "ok", or the error. */
function handshake(addr, port, client) {
  return new Promise((resolve) => {
    const s = connect({ host: addr, port, key: readFileSync(client.key), cert: readFileSync(client.cert), ca: readFileSync(client.ca), ...(client.crl ? { crl: readFileSync(client.crl) } : {}), checkServerIdentity: () => undefined, minVersion: "TLSv1.2" });
    const done = (v) => {
      s.destroy();
      resolve(v);
    };
    s.setTimeout(10_000, () => done("timeout"));
    // TLS 1.3: the server's verdict on our cert arrives after the handshake, with the first read
    s.on("secureConnect", () => {
      s.write("POST / HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    });
    s.on("data", () => done("ok"));
    s.on("error", (err) => done(err.code ?? err.message));
    s.on("end", () => done("closed"));
  });
}

function hostsOf(doc) {
  return doc.hosts ?? {};
}

async function main() {
  network();
  install("installed");
  await startHolder("overlord", null);
  for (const h of HOSTS) await startHolder(h.name, h.ns);

  // ---- the overlord: func-ca init with no FUNC_HOME, as root: /etc/func + /var/lib/func ----
  overlord("func-ca", ["init", "--service-ip", OVERLORD_ADDR]);
  const fp = overlord("func-ca", ["fingerprint"]).stdout.trim();
  const ov = hostRoot("overlord");
  const caKey = join(ov, "etc/func/pki/ca/ca.key");
  assert(existsSync(caKey), `func-ca init made ${caKey} (the overlord's /etc/func/pki/ca/ca.key)`);
  assert((statSync(caKey).mode & 0o777) === 0o600, "ca.key is 0600");
  assert((statSync(join(ov, "etc/func/pki")).mode & 0o077) === 0, "pki/ is private");
  say(`overlord: func-ca init in /etc/func (ca.key 0600), CA ${fp.slice(0, 30)}...`);
  const serveLog = join(work, "func-ca-serve.log");
  const [sc, ...sa] = inHost("overlord", "func-ca", ["serve", "--listen", OVERLORD_ADDR, "--autosign", "fh-*"]);
  const serve = spawn(sc, sa, { env, stdio: ["ignore", openSync(serveLog, "a"), openSync(serveLog, "a")], detached: true });
  undo.push(() => serve.exitCode === null && serve.kill("SIGKILL"));
  await until("func-ca serve", () => readFileSync(serveLog, "utf8").includes("listening on"), 30_000);

  // ---- each host: funcd --enroll with the fingerprint, no FUNC_HOME: /etc/func + /var/lib/func of its own ----
  for (const h of HOSTS) {
    const conf = join(hostRoot(h.name), "etc/func");
    mkdirSync(conf, { recursive: true, mode: 0o700 });
    // the operator's minion.conf: the enrollment service, and a short CRL refresh so revocation shows quickly
    writeFileSync(join(conf, "minion.conf"), `[main]\ncertmaster = ${OVERLORD_ADDR}\nca_fingerprint = ${fp}\ncrl_refresh = 2\n`);
    startFuncd(h, h.name === "fh-a" ? ["--enroll", OVERLORD_ADDR, "--ca-fingerprint", fp] : []);
  }
  await until("every host enrolled and answering", () => {
    const r = funcJson(["*", "ping"]);
    return Object.keys(hostsOf(r)).length === HOSTS.length && Object.values(hostsOf(r)).every((x) => x.outcome === "ok");
  }, 90_000, 1000);
  for (const h of HOSTS) {
    const key = join(hostRoot(h.name), "etc/func/pki/minion.key");
    assert((statSync(key).mode & 0o777) === 0o600, `${h.name}: /etc/func/pki/minion.key is 0600`);
  }
  say(`enrolled through func-ca serve (fingerprint checked, autosign fh-*): func "*" ping: ${HOSTS.map((h) => `${h.name} ok`).join(", ")}`);

  // ---- each answer comes from its own namespace ----
  const addrs = funcJson(["*", "call", "command", "run", "ip -brief addr"]);
  for (const h of HOSTS) {
    const v = hostsOf(addrs)[h.name];
    assert(v?.outcome === "ok" && v.value.stdout.includes(h.addr), `${h.name} shows its own address ${h.addr}: ${JSON.stringify(v)}`);
    for (const o of HOSTS) if (o !== h) assert(!v.value.stdout.includes(`${o.addr}/`), `${h.name} does not show ${o.addr}`);
  }
  say(`command run "ip -brief addr": each host shows its own address (${HOSTS.map((h) => h.addr).join(", ")})`);

  // ---- async job, one link down mid-job ----
  const submit = () => func(["*", "call", "--async", "--nopoll", "test", "sleep", "5"]).stdout.trim();
  const running = (id, name) => until(`${name} running job ${id}`, () => {
    const st = funcJson(["job", "status", id]);
    // dispatched: the minion answered with its job id
    return st.hosts?.[name]?.outcome === "running" && st.hosts[name].minionJobId && st;
  }, 30_000);
  const b = HOSTS[1];
  let id = submit();
  await running(id, b.name);
  ip("link", "set", b.veth, "down");
  say(`job ${id} (test.sleep 5) running; link ${b.veth} of ${b.name} set down`);
  const whileDown = await until("the other hosts finished with the link down", () => {
    const st = funcJson(["job", "status", id, "--timeout", "3"]);
    return HOSTS.filter((h) => h !== b).every((h) => st.hosts?.[h.name]?.outcome === "ok") && st;
  }, 60_000, 1000);
  assert(whileDown.hosts[b.name].outcome === "unreachable" && whileDown.hosts[b.name].final === false, `${b.name} is unreachable while down and still open: ${JSON.stringify(whileDown.hosts[b.name])}`);
  assert(whileDown.status !== "FINISHED", "the job is not finished while a host is open");
  ip("link", "set", b.veth, "up");
  let waited = JSON.parse(func(["job", "wait", id, "--timeout", "60", "--json"]).stdout);
  assert(waited.summary.ok === HOSTS.length, `every host ok after the link is back: ${JSON.stringify(waited.summary)}`);
  assert(funcJson(["job", "status", id]).status === "FINISHED", "FINISHED");
  say(`${b.name} was unreachable while down (job still open), then FINISHED with every host ok once the link was back`);

  // ---- funcd killed and restarted mid-job (KillMode=process: its runner lives on) ----
  const c = HOSTS[2];
  id = submit();
  await running(id, c.name);
  await stopFuncd(c, "SIGKILL");
  startFuncd(c);
  waited = JSON.parse(func(["job", "wait", id, "--timeout", "60", "--json"]).stdout);
  assert(waited.summary.ok === HOSTS.length && Object.keys(waited.hosts).length === HOSTS.length, `every host reported once, ok: ${JSON.stringify(waited.summary)}`);
  const minionJobs = funcJson([c.name, "call", "jobs", "list"]).hosts[c.name].value;
  const records = JSON.stringify(minionJobs).split(id).length - 1;
  assert(records === 1, `${c.name} holds one record of job ${id} (found ${records})`);
  say(`funcd on ${c.name} killed (SIGKILL, funcd only) and restarted mid-job: its job finished, reported once`);

  // ---- upgrade in place with a job running ----
  const a = HOSTS[0];
  id = submit();
  await running(id, a.name);
  await stopFuncd(a, "SIGTERM");
  install("upgrade: reinstalled");
  startFuncd(a);
  waited = JSON.parse(func(["job", "wait", id, "--timeout", "60", "--json"]).stdout);
  assert(waited.summary.ok === HOSTS.length, `nothing lost across the upgrade: ${JSON.stringify(waited.summary)}`);
  say(`funcd on ${a.name} stopped, install replaced, started again with job ${id} running: nothing lost`);

  // ---- revocation: refused at TLS both ways once the CRL reaches the hosts ----
  const cp = join(hostRoot(c.name), "etc/func/pki");
  const op = join(ov, "etc/func/pki");
  const asC = { key: join(cp, "minion.key"), cert: join(cp, "minion.crt"), ca: join(cp, "ca.crt") };
  assert((await handshake(a.addr, MINION_PORT, asC)) === "ok", `${c.name}'s cert is accepted by ${a.name} before the revocation`);
  overlord("func-ca", ["revoke", c.name]);
  const asOverlord = { key: join(op, "overlord.key"), cert: join(op, "overlord.crt"), ca: join(op, "ca/ca.crt"), crl: join(op, "ca/crl.pem") };
  const toC = await handshake(c.addr, MINION_PORT, asOverlord);
  assert(toC === "CERT_REVOKED", `the overlord refuses ${c.name}'s cert: ${toC}`);
  const fromC = await until(`${a.name} to refuse ${c.name}'s cert (CRL refresh)`, async () => {
    const r = await handshake(a.addr, MINION_PORT, asC);
    return r !== "ok" && r;
  }, 30_000, 500);
  const off = func([c.name, "ping"], { check: false });
  assert(off.code === 16, `${c.name} left the universe: func ${c.name} ping exits 16 (got ${off.code})`);
  say(`${c.name} revoked: the overlord refuses its cert (${toC}), ${a.name} refuses it as a client once its CRL refreshed (${fromC})`);
  const rest = funcJson(["*", "ping"]);
  assert(Object.keys(rest.hosts).length === 2 && rest.summary.ok === 2, `the others still answer: ${JSON.stringify(rest.summary)}`);

  await guide();
}


// ---- the guide: every command block of docs/guide.md, in order, on the host its heading names ----
/** systemctl for hosts without systemd: runs a unit's ExecStart (detached), ExecReload, and stops the main process only (KillMode=process). */
const SYSTEMCTL = `#!/bin/sh
# test:hosts' stand-in for systemctl (network namespaces have no systemd): start runs the unit's ExecStart,
# reload its ExecReload with $MAINPID, stop signals the main process only, as KillMode=process does.
set -e
dir=/var/lib/fh-systemctl
mkdir -p "$dir"
line() { sed -n "s/^$2=//p" "/etc/systemd/system/$1.service" | head -1; }
start() { cmd=$(line "$1" ExecStart); sh -c "exec $cmd" >>"$dir/$1.log" 2>&1 </dev/null & echo $! >"$dir/$1.pid"; }
stop() {
  [ -f "$dir/$1.pid" ] || return 0
  pid=$(cat "$dir/$1.pid"); kill -TERM "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  rm -f "$dir/$1.pid"
}
reload() { pid=$(cat "$dir/$1.pid"); cmd=$(line "$1" ExecReload | sed "s/\\$MAINPID/$pid/"); sh -c "$cmd"; }
case "$1" in
  daemon-reload) ;;
  enable) [ "$2" = --now ] && start "$3" ;;
  disable) [ "$2" = --now ] && stop "$3" ;;
  start) start "$2" ;;
  stop) stop "$2" ;;
  restart) stop "$2"; start "$2" ;;
  reload) reload "$2" ;;
  *) echo "systemctl stand-in: $1 is not supported" >&2; exit 1 ;;
esac
`;

/** The guide's blocks: [{ where, lines }], where is "overlord", "web1", "web2" or "every host". */
function guideBlocks() {
  const text = readFileSync(new URL("../docs/guide.md", import.meta.url), "utf8");
  const blocks = [];
  for (const m of text.matchAll(/^```sh ([^\n]+)\n([\s\S]*?)^```$/gm)) {
    blocks.push({ where: m[1].trim(), lines: m[2].split("\n").filter((l) => l.trim() && !l.trim().startsWith("#")) });
  }
  return blocks;
}

async function guide() {
  // the main phases' processes and namespaces go first: the guide starts from bare hosts
  for (const name of [...holders.keys()]) {
    for (const pid of processesOf(name)) run("kill", ["-9", pid], { check: false });
    holders.delete(name);
  }
  const gprefix = join(work, "guide-prefix");
  const bin = join(work, "guide-bin");
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, "systemctl"), SYSTEMCTL, { mode: 0o755 });
  const hostsLine = `${GUIDE_OVERLORD.addr} overlord.example.com`;
  const where = { overlord: "g-overlord", web1: "g-web1", web2: "g-web2" };
  await startHolder("g-overlord", GUIDE_OVERLORD.ns, "overlord", hostsLine);
  await startHolder("g-web1", HOSTS[0].ns, "web1", hostsLine);
  await startHolder("g-web2", HOSTS[1].ns, "web2", hostsLine);
  const packs = join(work, "packs");
  const genv = {
    ...env,
    PATH: `${join(gprefix, "bin")}:${bin}:${dirname(process.execPath)}:/usr/sbin:/usr/bin:/sbin:/bin`,
    // where `npm install -g` puts things on these hosts, and npm's cache only (the namespaces have no registry)
    npm_config_prefix: gprefix,
    npm_config_offline: "true",
  };
  let count = 0;
  for (const block of guideBlocks()) {
    // the hosts of this test share one filesystem: "every host" is installed once
    const host = block.where === "every host" ? "overlord" : block.where;
    if (!where[host]) throw new Error(`docs/guide.md: a block for "${block.where}": say overlord, web1, web2 or every host`);
    for (const line of block.lines) {
      const expect = Number(/#\s*exits (\d+)\s*$/.exec(line)?.[1] ?? 0);
      const [c, ...a] = inHost(where[host], "sh", ["-c", `cd ${packs} && ${line}`]);
      const last = await until(`${host}: ${line} (exit ${expect})`, () => {
        const r = run(c, a, { env: genv, check: false, timeoutMs: 300_000 });
        return r.code === expect ? r : false;
      }, 90_000, 1000).catch((err) => {
        const r = run(c, a, { env: genv, check: false });
        throw new Error(`${err.message}: exit ${r.code}: ${(r.stderr || r.stdout).trim().split("\n").slice(-3).join(" / ")}`);
      });
      if (/^func-ca fingerprint\s*$/.test(line)) genv.FINGERPRINT = last.stdout.trim();
      count++;
    }
  }
  say(`docs/guide.md: ${count} commands run on the overlord, web1 and web2, each with its expected exit code`);
}

main().then(
  () => {
    say(`passed in ${((Date.now() - START) / 1000).toFixed(0)} s; tearing down`);
    teardown();
    process.exit(0);
  },
  (err) => {
    say(`FAILED: ${err.message}`);
    for (const f of [join(work, "func-ca-serve.log"), ...HOSTS.map((h) => join(work, `${h.name}-funcd.log`))]) {
      if (existsSync(f)) process.stdout.write(`--- ${f.slice(work.length + 1)} (last lines)\n${readFileSync(f, "utf8").split("\n").slice(-15).join("\n")}\n`);
    }
    teardown();
    process.exit(1);
  },
);
