// Test helper: hostile fake minions. Each is a real HTTPS server with mutual TLS and a func-signed minion
// cert (CN = its name, role minion), entered in an overlord home's universe like an enrolled minion, that
// answers the overlord with garbage of one kind: the overlord must give that host an `error` and nothing more.

import { createServer, type Server } from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { homePaths, issueCert, minionAddressFile, newJobId, signedCertFile } from "@func/shared";

/** How one hostile minion answers a call (`method` as the overlord sent it, e.g. "async.test.ping"). */
export type HostileAnswer = (method: string, res: ServerResponse) => void;

const HEAD = '<?xml version="1.0"?>';
const response = (value: string) => `${HEAD}<methodResponse><params><param><value>${value}</value></param></params></methodResponse>`;
const fault = (code: string, text: string) =>
  `${HEAD}<methodResponse><fault><value><struct><member><name>faultCode</name><value>${code}</value></member>` +
  `<member><name>faultString</name><value><string>${text}</string></value></member></struct></value></fault></methodResponse>`;

function send(res: ServerResponse, body: string | Buffer, status = 200): void {
  res.writeHead(status, { "Content-Type": "text/xml", "Content-Length": Buffer.byteLength(body) });
  res.end(body);
}

const LAUGHS =
  `${HEAD}<!DOCTYPE lolz [<!ENTITY lol "lol">` +
  Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i || ""};`.repeat(10)}">`).join("") +
  "]>" +
  response("<string>&lol9;</string>");

/** Bytes in the answers meant to pass the overlord's response cap (tests set max_response_bytes below this). */
export const HUGE_ANSWER_BYTES = 3 * 1024 * 1024;

/** Every kind of garbage, by the fake minion's name suffix. */
export const HOSTILE_ANSWERS: Readonly<Record<string, HostileAnswer>> = {
  "not-xml": (_m, res) => send(res, "hello, overlord: this is not XML-RPC\n"),
  empty: (_m, res) => send(res, ""),
  html: (_m, res) => send(res, "<html><body><h1>It works!</h1></body></html>"),
  doctype: (_m, res) => send(res, `${HEAD}<!DOCTYPE methodResponse>${response("<string>x</string>")}`),
  entities: (_m, res) => send(res, LAUGHS),
  xxe: (_m, res) => send(res, `${HEAD}<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>${response("<string>&e;</string>")}`),
  "deep-nesting": (_m, res) => send(res, response(`${"<array><data><value>".repeat(10_000)}${"</value></data></array>".repeat(10_000)}`)),
  "huge-declared": (_m, res) => send(res, response(`<string>${"x".repeat(HUGE_ANSWER_BYTES)}</string>`)),
  "huge-chunked": (_m, res) => {
    res.writeHead(200, { "Content-Type": "text/xml" });
    const chunk = "y".repeat(64 * 1024);
    res.write(`${HEAD}<methodResponse><params><param><value><string>`);
    for (let sent = 0; sent < HUGE_ANSWER_BYTES; sent += chunk.length) res.write(chunk);
    res.end("</string></value></param></params></methodResponse>");
  },
  truncated: (_m, res) => send(res, response("<struct><member><name>a</name><value><int>1</int></value></member>").slice(0, -20)),
  "cut-off": (_m, res) => {
    res.writeHead(200, { "Content-Type": "text/xml", "Content-Length": 5000 });
    res.write(response("<string>").slice(0, 60));
    setTimeout(() => res.socket?.destroy(), 50);
  },
  "fault-string-code": (_m, res) => send(res, fault("<string>oops</string>", "MethodError: a fault whose code is a string")),
  "fault-double-code": (_m, res) => send(res, fault("<double>1.5</double>", "MethodError: a fault whose code is a double")),
  "fault-no-string": (_m, res) =>
    send(res, `${HEAD}<methodResponse><fault><value><struct><member><name>faultCode</name><value><int>1</int></value></member></struct></value></fault></methodResponse>`),
  "fault-multiline": (_m, res) => send(res, fault("<int>1</int>", `Evil: line one\nline two\r\n${"z".repeat(5000)}`)),
  "wrong-types": (_m, res) => send(res, response("<int>2147483648</int>")),
  "bad-base64": (_m, res) => send(res, response("<base64>!!!not base64!!!</base64>")),
  "two-values": (_m, res) =>
    send(res, `${HEAD}<methodResponse><params><param><value><int>1</int></value></param><param><value><int>2</int></value></param></params></methodResponse>`),
  "http-500": (_m, res) => send(res, "Internal Server Error\n", 500),
  "http-redirect": (_m, res) => {
    res.writeHead(302, { Location: "https://127.0.0.1:1/" });
    res.end();
  },
  "invalid-utf8": (_m, res) => send(res, Buffer.concat([Buffer.from(response("<string>")), Buffer.from([0xff, 0xfe, 0xc0]), Buffer.from("</string></value></param></params></methodResponse>")])),
};

/** Answers that dribble forever: the host must end as `timeout`, within the per-host timeout. */
export const SLOW_ANSWERS: Readonly<Record<string, HostileAnswer>> = {
  "slow-body": (_m, res) => {
    res.writeHead(200, { "Content-Type": "text/xml" });
    res.write(`${HEAD}<methodResponse><params><param><value><string>`);
    const timer = setInterval(() => res.write("."), 200);
    res.once("close", () => clearInterval(timer));
  },
  "no-answer": () => {
    // reads the request and never says a word
  },
};

/** A valid answer with terminal escapes in it: `ok`, but the operator's terminal must see them escaped. */
export const ESCAPE_ANSWER: HostileAnswer = (_m, res) =>
  send(res, response(`<base64>${Buffer.from("\x1b]0;owned\x07\x1b[2J\x1b[1A\x1b[2Kminion01  ok  forged\x1b]52;c;ZXZpbA==\x07").toString("base64")}</base64>`));

export interface HostileMinions {
  /** the fake minions' names, as entered in the home */
  names: string[];
  close(): Promise<void>;
}

function methodOf(body: string): string {
  return /<methodName>([^<]*)<\/methodName>/.exec(body)?.[1] ?? "";
}

/**
 * Starts one fake minion per entry of `answers` on `address` (a port of its own each) and enters it in the
 * overlord home `home`: a cert signed by the home's CA in the CA's certs/ dir, and its address record. With
 * `honestAsync`, `async.*` calls get a real-looking job id, so the garbage comes at polling (`jobs.job_status`).
 */
export async function startHostileMinions(
  home: string,
  address: string,
  answers: Readonly<Record<string, HostileAnswer>>,
  opts: { prefix?: string; honestAsync?: boolean } = {},
): Promise<HostileMinions> {
  const paths = homePaths(home);
  const ca = { keyPem: readFileSync(paths.caKey, "utf8"), certPem: readFileSync(paths.caCert, "utf8") };
  const servers: Server[] = [];
  const names: string[] = [];
  const prefix = opts.prefix ?? "evil-";
  try {
    for (const [kind, answer] of Object.entries(answers)) {
      const name = `${prefix}${kind}`;
      const pair = await issueCert(ca, { commonName: name, role: "minion", dnsNames: [name], ipAddresses: [address] });
      const server = createServer({ key: pair.keyPem, cert: pair.certPem, ca: ca.certPem, requestCert: true, rejectUnauthorized: true }, (req: IncomingMessage, res: ServerResponse) => {
        const chunks: Buffer[] = [];
        req.on("data", (c: Buffer) => chunks.push(c));
        req.on("end", () => {
          const method = methodOf(Buffer.concat(chunks).toString("utf8"));
          if (opts.honestAsync && method.startsWith("async.")) return send(res, response(`<string>${newJobId()}</string>`));
          answer(method, res);
        });
      });
      servers.push(server);
      const port = await new Promise<number>((resolve, reject) => {
        server.once("error", reject);
        server.listen(0, address, () => resolve((server.address() as { port: number }).port));
      });
      writeFileSync(signedCertFile(paths, name), pair.certPem);
      writeFileSync(minionAddressFile(paths, name), JSON.stringify({ address, port }));
      names.push(name);
    }
  } catch (err) {
    for (const s of servers) s.close();
    throw err;
  }
  return {
    names,
    async close() {
      await Promise.all(
        servers.map(
          (s) =>
            new Promise<void>((resolve) => {
              s.close(() => resolve());
              s.closeAllConnections();
            }),
        ),
      );
      for (const name of names) {
        rmSync(signedCertFile(paths, name), { force: true });
        rmSync(minionAddressFile(paths, name), { force: true });
      }
    },
  };
}
