// The identity attacks of issue 10 (items 1, 2, 3, 9, 10), each a real script against a real world (enrollment
// service over TLS, funcd processes enrolled the real way, the `func` CLI as overlord): each case states its rule
// and reports the claims that broke. test/identity-attacks.test.ts runs them; `npm run campaign` shows the rows.

import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { certInfo, createCrl, createKeyAndCsr, homePaths, minionAddressFile, type CertPair, type TlsMaterial } from "@func/shared";
import { MinionTransport, listSignedInfo, listWaiting, loadCa } from "@func/overlord";
import type { Row } from "./case.js";
import { IdentityWorld, WORLD_MINION_PORT } from "./identity-world.js";

export interface IdentityEnv {
  /** second octet of the loopback addresses; each case takes one third octet (its `block`) */
  subnet: number;
}

export interface IdentityResult {
  tries: number;
  outcome: string;
  problems: string[];
}

export interface IdentityCase {
  name: string;
  /** the rule the case enforces (docs/security.md has a section per rule) */
  rule: string;
  block: number;
  run(world: IdentityWorld): Promise<IdentityResult>;
  /** options of the world's enrollment service */
  service?: Parameters<typeof IdentityWorld.start>[3];
}

const LISTENING = (name: string) => new RegExp(`${name.replace(/\./g, "\\.")} listening on`);

/** Whether `func <name> ping` printed an ok line for it. */
function pinged(stdout: string, name: string): boolean {
  return new RegExp(`^${name.replace(/\./g, "\\.")}\\s+ok\\b`, "m").test(stdout);
}

function identityOf(dir: string, base: string, caPem: string): TlsMaterial {
  return { key: readFileSync(join(dir, `${base}.key`), "utf8"), cert: readFileSync(join(dir, `${base}.crt`), "utf8"), ca: caPem };
}

async function callAs(identity: TlsMaterial, name: string, host: string, method: string, params: unknown[] = []) {
  const t = new MinionTransport(identity, { keepAlive: false });
  try {
    return await t.call({ name, host, port: WORLD_MINION_PORT }, method, params, { timeoutMs: 15_000 });
  } finally {
    t.close();
  }
}

export const IDENTITY_CASES: readonly IdentityCase[] = [
  {
    name: "a stranger's cert cannot pass for another minion",
    rule: "the overlord accepts a minion only with the minion role and a CN equal to the name it dialled; SANs come from the CA's records; names are unique across minions and identities",
    block: 1,
    service: { autosign: ["*"] },
    async run(w) {
      const problems: string[] = [];
      const victim = w.funcd("minion01", w.addr(2));
      await victim.proc.waitFor(LISTENING("minion01"));
      if (!pinged((await w.func("minion01", "ping")).stdout, "minion01")) problems.push("control: the overlord did not reach minion01");
      // the stranger enrolls under its own name, asking to be dialled at "minion01"
      const stranger = w.funcd("san1", w.addr(9), ["--advertise", "minion01"]);
      await stranger.proc.waitFor(LISTENING("san1"));
      const sans = certInfo(readFileSync(homePaths(stranger.home).minionCert, "utf8"));
      if (sans.dnsNames.includes("minion01")) problems.push(`the stranger's cert names minion01 in its SANs (${sans.dnsNames.join(", ")})`);
      // traffic for minion01 now reaches the stranger (its network position: DNS, ARP, an address it took over)
      writeFileSync(minionAddressFile(w.paths, "minion01"), JSON.stringify({ address: w.addr(9), port: WORLD_MINION_PORT }) + "\n");
      const hijacked = await w.func("minion01", "call", "test", "ping");
      if (pinged(hijacked.stdout, "minion01") || /^minion01\s+ok/m.test(hijacked.stdout)) problems.push("the overlord accepted the stranger's cert as minion01");
      const audit = homePaths(stranger.home).auditLog;
      if (existsSync(audit) && /test\.ping/.test(readFileSync(audit, "utf8"))) problems.push("the stranger received the overlord's call meant for minion01");
      // the variant: a user identity with a minion's name
      const out = join(w.root, "issued");
      for (const n of ["minion01", "MINION01"]) {
        const r = await w.ca("issue", n, "--out", out);
        if (r.code === 0) problems.push(`func-ca issue ${n} issued an identity with a minion's name`);
      }
      return { tries: 3, outcome: `hijack: ${hijacked.stdout.trim().split("\n")[0] ?? "-"}`, problems };
    },
  },
  {
    name: "a replayed CSR cannot move a waiting minion",
    rule: "every enrollment submission proves possession of the key (a claim over name, address, port and time signed by it); a signed minion's address changes only by the admin; pki/minion.csr is 0600",
    block: 2,
    async run(w) {
      const problems: string[] = [];
      const victim = w.funcd("web1", w.addr(2));
      await victim.proc.waitFor(/waiting to be signed: on the overlord run/);
      const csrFile = homePaths(victim.home).minionCsr;
      if ((statSync(csrFile).mode & 0o077) !== 0) problems.push(`pki/minion.csr is mode ${(statSync(csrFile).mode & 0o777).toString(8)}, not 0600`);
      const csr = readFileSync(csrFile, "utf8");
      // the attacker has the CSR (not the key) and asks for its own address
      const replay = await w.submit(w.addr(66), csr, w.addr(9), WORLD_MINION_PORT, "web1");
      if ("ok" in replay) problems.push("the replayed CSR was accepted");
      const waiting = listWaiting(w.paths).find((x) => x.name === "web1");
      if (waiting?.address !== w.addr(2)) problems.push(`the waiting request now asks for ${waiting?.address ?? "nothing"}, not ${w.addr(2)}`);
      const sign = await w.ca("sign", "web1");
      if (sign.code !== 0) problems.push(`func-ca sign web1 failed: ${sign.stderr.trim()}`);
      await victim.proc.waitFor(LISTENING("web1"));
      await w.submit(w.addr(66), csr, w.addr(9), WORLD_MINION_PORT, "web1");
      const rec = listSignedInfo(w.paths, "web1")[0];
      if (rec?.address !== w.addr(2)) problems.push(`web1 is recorded at ${rec?.address ?? "nothing"}, not ${w.addr(2)}`);
      if (!pinged((await w.func("web1", "ping")).stdout, "web1")) problems.push("the overlord did not reach web1 at its own address");
      const moved = await w.ca("set-address", "web1", w.addr(3));
      if (moved.code !== 0 || listSignedInfo(w.paths, "web1")[0]?.address !== w.addr(3)) problems.push("func-ca set-address did not move web1");
      return { tries: 2, outcome: "fault" in replay ? `replay: fault ${replay.fault}` : "replay: accepted", problems };
    },
  },
  {
    name: "a minion cannot take an identity's name in another case",
    rule: "one canonical (lower-case) form of every name at issue, enrollment, the CA's clash checks, ACL match and audit",
    block: 3,
    service: { autosign: ["*"] },
    async run(w) {
      const problems: string[] = [];
      const target = w.funcd("minion01", w.addr(2));
      await target.proc.waitFor(LISTENING("minion01"));
      const aclDir = homePaths(target.home).aclDir;
      mkdirSync(aclDir, { recursive: true });
      writeFileSync(join(aclDir, "boss.acl"), "Boss.lab.example.com = command.run, test.*\n");
      const out = join(w.root, "issued");
      const issued = await w.ca("issue", "Boss.lab.example.com", "--out", out);
      if (issued.code !== 0) problems.push(`control: func-ca issue failed: ${issued.stderr.trim()}`);
      else {
        const boss = identityOf(out, "Boss.lab.example.com", w.caPem);
        if (certInfo(boss.cert).commonName !== "boss.lab.example.com") problems.push(`the identity's CN is ${certInfo(boss.cert).commonName}, not its canonical form`);
        // funcd re-reads acl.d at most once a second: ask until the new file is in force
        let r = await callAs(boss, "minion01", w.addr(2), "test.ping");
        for (let i = 0; i < 40 && r.outcome !== "ok"; i++) {
          await sleep(250);
          r = await callAs(boss, "minion01", w.addr(2), "test.ping");
        }
        if (r.outcome !== "ok") problems.push(`control: the identity was refused test.ping (${JSON.stringify(r)})`);
      }
      // the stranger enrolls the identity's name in lower case
      const stranger = w.funcd("boss.lab.example.com", w.addr(9));
      const code = await Promise.race([stranger.proc.exited, stranger.proc.waitFor(LISTENING("boss.lab.example.com")).then(() => -1, () => -2)]);
      const cert = homePaths(stranger.home).minionCert;
      let ran = "refused at enrollment";
      if (existsSync(cert)) {
        problems.push("the CA signed a minion cert for an identity's name");
        const id: TlsMaterial = { key: readFileSync(homePaths(stranger.home).minionKey, "utf8"), cert: readFileSync(cert, "utf8"), ca: w.caPem };
        const r = await callAs(id, "minion01", w.addr(2), "command.run", ["id -u"]);
        ran = r.outcome;
        if (r.outcome === "ok") problems.push("the stranger's minion cert ran command.run with the identity's rights");
      } else if (code !== 3) problems.push(`the stranger's funcd ended with ${code}, not 3 (refused for good)`);
      const clash = await w.ca("issue", "Minion01", "--out", out);
      if (clash.code === 0) problems.push("func-ca issue Minion01 issued an identity with a minion's name in another case");
      return { tries: 2, outcome: `stranger: ${ran}`, problems };
    },
  },
  {
    name: "a minion whose CRL expired serves the overlord only",
    rule: "revocation does not depend on a reachable service: CRLs live CRL_DAYS and are re-signed at half life; past nextUpdate a minion refuses every caller but the overlord role (and still the serials it lists)",
    block: 4,
    service: { autosign: ["*"] },
    async run(w) {
      const problems: string[] = [];
      const m = w.funcd("crl1", w.addr(2));
      await m.proc.waitFor(LISTENING("crl1"));
      await m.proc.stop();
      const out = join(w.root, "issued");
      for (const n of ["ops1", "gone1"]) if ((await w.ca("issue", n, "--out", out)).code !== 0) problems.push(`control: could not issue ${n}`);
      const ops = identityOf(out, "ops1", w.caPem);
      const gone = identityOf(out, "gone1", w.caPem);
      const mp = homePaths(m.home);
      mkdirSync(mp.aclDir, { recursive: true });
      writeFileSync(join(mp.aclDir, "ops.acl"), "ops1 = test.*\ngone1 = test.*\n");
      // the last CRL this minion got lists gone1 and expires in a few seconds; then the service goes away
      const ca: CertPair = loadCa(w.paths);
      const lifeMs = 6000;
      const crl = await createCrl(ca, [{ serial: certInfo(gone.cert).serial, revokedAt: new Date() }], { nextUpdateDays: lifeMs / 86_400_000 });
      writeFileSync(mp.minionCrl, crl);
      const expires = Date.now() + lifeMs;
      await w.service.close();
      const again = w.funcd("crl1", w.addr(2));
      await again.proc.waitFor(LISTENING("crl1"));
      if ((await callAs(ops, "crl1", w.addr(2), "test.ping")).outcome !== "ok") problems.push("control: ops1 was refused while the CRL was fresh");
      if ((await callAs(gone, "crl1", w.addr(2), "test.ping")).outcome === "ok") problems.push("control: revoked gone1 got in while the CRL was fresh");
      while (Date.now() < expires + 1000) await sleep(200);
      let overlordOk = false;
      for (let i = 0; i < 20 && !overlordOk; i++) {
        overlordOk = pinged((await w.func("crl1", "ping")).stdout, "crl1");
        if (!overlordOk) await sleep(500);
      }
      if (!overlordOk) problems.push("the overlord was locked out by the expired CRL");
      const user = await callAs(ops, "crl1", w.addr(2), "test.ping");
      if (user.outcome === "ok") problems.push("ops1 (a user) still got in with the CRL expired");
      if ((await callAs(gone, "crl1", w.addr(2), "test.ping")).outcome === "ok") problems.push("revoked gone1 got in once the CRL expired");
      return { tries: 3, outcome: `stale CRL: overlord ${overlordOk ? "ok" : "refused"}, user ${user.outcome}`, problems };
    },
  },
  {
    name: "idle sockets from one stranger cannot starve CRL fetches",
    rule: "the enrollment service caps sockets per source before TLS and has short handshake and header deadlines",
    block: 5,
    async run(w) {
      const problems: string[] = [];
      const sockets: Socket[] = [];
      let closedByService = 0;
      const opened = Array.from({ length: 300 }, () =>
        new Promise<void>((resolve) => {
          const s = connect({ host: w.service.address, port: w.service.port, localAddress: w.addr(50) });
          sockets.push(s);
          s.on("connect", () => resolve());
          s.on("error", () => resolve());
          s.on("close", () => {
            closedByService++;
            resolve();
          });
        }),
      );
      await Promise.all(opened);
      await sleep(300);
      const crl = await w.rawCall(w.addr(51), "enroll.crl", []).catch((err: unknown) => ({ fault: -1, message: (err as Error).message }));
      if (!("ok" in crl) || typeof crl.ok !== "string" || !crl.ok.includes("BEGIN X509 CRL")) problems.push(`a minion could not fetch the CRL: ${JSON.stringify(crl).slice(0, 200)}`);
      for (const s of sockets) s.destroy();
      if (!w.logs.some((l) => /holds \d+ connections already/.test(l))) problems.push("no log line said a source hit its connection cap");
      return { tries: 300, outcome: `${closedByService} of 300 idle sockets closed by the service; CRL ${"ok" in crl ? "fetched" : "not fetched"}`, problems };
    },
  },
  {
    name: "a flood of waiting requests cannot lock out a legitimate minion",
    rule: "waiting requests expire (csr_ttl), are capped per source (csr_max_per_source) and in all, and the admin is told (a log line, func-ca list shows count and age)",
    block: 6,
    service: { maxWaiting: 12, maxWaitingPerSource: 4 },
    async run(w) {
      const problems: string[] = [];
      const answers: string[] = [];
      for (let i = 0; i < 12; i++) {
        const name = `flood${i}`;
        const { keyPem, csrPem } = await createKeyAndCsr({ commonName: name });
        const r = await w.submit(w.addr(60), csrPem, w.addr(60), WORLD_MINION_PORT, name, keyPem);
        answers.push("ok" in r ? "waiting" : `fault ${r.fault}`);
      }
      const legit = w.funcd("legit1", w.addr(2));
      const waited = await legit.proc.waitFor(/waiting to be signed: on the overlord run/, 20_000).then(() => true, () => false);
      if (!waited) problems.push("the legitimate minion could not get its request queued");
      const flooded = listWaiting(w.paths).filter((x) => x.name.startsWith("flood")).length;
      if (flooded > 4) problems.push(`${flooded} requests from one source are waiting (cap 4)`);
      if (!w.logs.some((l) => /too many requests from .* waiting/.test(l))) problems.push("no log line told the admin the per-source cap was hit");
      const list = await w.ca("list");
      if (!/\d+ waiting .*oldest/.test(list.stdout)) problems.push(`func-ca list does not show the count and age: ${list.stdout.trim().split("\n").pop() ?? ""}`);
      // an hour on, the flood's requests (never repeated) are gone; the polling minion's stays
      const later = listWaiting(w.paths, { ttlS: 3600, now: Date.now() + 3601_000 });
      if (later.some((x) => x.name.startsWith("flood"))) problems.push("requests not repeated for csr_ttl did not expire");
      return { tries: 12, outcome: `flood: ${answers.filter((a) => a === "waiting").length} waiting, ${answers.filter((a) => a !== "waiting").length} refused`, problems };
    },
  },
];

/** Runs one case in its own world on 127.<subnet>.<block>.x; the world is stopped whatever happens. */
export async function runIdentityCase(c: IdentityCase, env: IdentityEnv): Promise<Row> {
  let result: IdentityResult;
  let world: IdentityWorld | null = null;
  try {
    world = await IdentityWorld.start("identity", env.subnet, c.block, c.service ?? {});
    result = await c.run(world);
  } catch (err) {
    result = { tries: 0, outcome: "crashed", problems: [`the case itself threw: ${(err as Error).stack ?? String(err)}`] };
  } finally {
    await world?.stop();
  }
  return {
    group: "identity",
    name: c.name,
    tries: result.tries,
    outcome: result.outcome,
    up: null,
    rssBeforeKib: null,
    rssAfterKib: null,
    rssPeakKib: null,
    held: result.problems.length === 0,
    problems: result.problems,
  };
}
