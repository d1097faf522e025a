#!/usr/bin/env node
// The `func` entry point: the one error boundary that prints and picks the exit code.

import { EXIT, FuncError, errorLine } from "@func/shared";
import { main } from "../cli/main.js";

const io = {
  out: (s: string) => void process.stdout.write(s),
  err: (s: string) => void process.stderr.write(s),
};

main(process.argv.slice(2), process.env, io, { stdout: !!process.stdout.isTTY, stderr: !!process.stderr.isTTY }).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof FuncError) {
      io.err(`func: ${err.message}\n`);
      process.exitCode = err.type === "NoMatch" ? EXIT.NO_MATCH : EXIT.USAGE;
    } else {
      // never a stack trace: one line, what to do or where to report it
      io.err(`func: ${errorLine(err)}\n`);
      process.exitCode = EXIT.USAGE;
    }
  },
);
