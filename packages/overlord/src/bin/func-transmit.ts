#!/usr/bin/env node
// func-transmit: reads one JSON request on stdin, writes one JSON answer on stdout (cli/transmit.ts); every
// error is a JSON answer too, `{"error": {"code", "type", "message"}}`, with the func exit code.

import { EXIT, FUNC_VERSION, FuncError } from "@func/shared";
import { MAX_TRANSMIT_BYTES, transmit } from "../cli/transmit.js";
import { toJson } from "../cli/render.js";

const HELP = `func-transmit: one JSON request on stdin, one JSON answer on stdout

  echo '{"clients": "*", "module": "test", "method": "add", "parameters": [1, 2]}' | func-transmit
  echo '{"clients": "web*", "module": "command", "method": "run", "parameters": ["uptime"], "async": true}' | func-transmit
  echo '{"method": "job_status", "parameters": "20261122T201233-5f2a9c01b7"}' | func-transmit
  echo '{"clients": "web[01-03]", "method": "list_minions"}' | func-transmit

Fields: clients, module, method, parameters, async, timeout, exclude, forks. The answer is the document
func --json prints ({job, hosts, summary}), {job} for async, or {error: {code, type, message}}; the exit
code is func's (bits: 2 error/denied, 4 unreachable, 8 timeout/lost, 16 no match, 32 rc != 0; 1 bad request).
`;

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) {
    size += chunk.length;
    // read one byte past the limit at most: transmit() names the limit
    if (size > MAX_TRANSMIT_BYTES + 1) break;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

async function main(): Promise<number> {
  const arg = process.argv[2];
  if (arg === "--version" || arg === "-V") {
    process.stdout.write(`func-transmit ${FUNC_VERSION}\n`);
    return EXIT.OK;
  }
  if (arg === "--help" || arg === "-h") {
    process.stdout.write(HELP);
    return EXIT.OK;
  }
  if (arg !== undefined) throw new FuncError("UsageError", `func-transmit takes no arguments, got "${arg}": the request comes on stdin (see func-transmit --help)`);
  const { answer, code } = await transmit(await readStdin(), process.env);
  process.stdout.write(toJson(answer) + "\n");
  return code;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    const e = err instanceof FuncError ? err : new FuncError("UsageError", `internal error: ${(err as Error).message}`);
    process.stdout.write(JSON.stringify({ error: { code: e.code, type: e.type, message: e.message } }) + "\n");
    process.exitCode = e.type === "NoMatch" ? EXIT.NO_MATCH : EXIT.USAGE;
  },
);
