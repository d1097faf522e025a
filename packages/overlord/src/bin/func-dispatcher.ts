#!/usr/bin/env node
// The async dispatcher: `func ... call --async` (or Overlord.callAsync) starts it detached with
// `<job id> <config dir> <state dir>` once the job is stored; it sends the job to every host, records each
// minion job id, and exits. The job id on its command line is how status calls tell it from a reused pid.

import { FuncError, homePaths, isJobId } from "@func/shared";
import { Overlord } from "../call/overlord.js";

const [id, configDir, stateDir] = process.argv.slice(2);
const log = (message: string) => process.stderr.write(`${new Date().toISOString()} func-dispatcher[${process.pid}]: ${message}\n`);

async function main(): Promise<number> {
  if (!isJobId(id) || !configDir || !stateDir) {
    log("usage: func-dispatcher <job id> <config dir> <state dir>");
    return 1;
  }
  const overlord = new Overlord("*", { home: homePaths(configDir, stateDir) });
  try {
    await overlord.resumeDispatch(id);
    return 0;
  } finally {
    await overlord.close();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    log(`job ${id}: ${err instanceof FuncError ? err.message : ((err as Error).stack ?? String(err))}`);
    process.exit(1);
  },
);
