// Signatures of the `process` module: list, find and signal processes.

import { defineModule, optional, param, t } from "./schema.js";

/** The signals process.kill and pkill send (case-insensitive, SIG prefix optional). */
export const SIGNALS = ["HUP", "INT", "QUIT", "KILL", "USR1", "USR2", "TERM", "CONT", "STOP"] as const;
const SIGNAL = t.string({ pattern: `(?:[Ss][Ii][Gg])?(?:${SIGNALS.map((s) => [...s].map((c) => (/[A-Z]/.test(c) ? `[${c}${c.toLowerCase()}]` : c)).join("")).join("|")})` });

export const PROCESS = defineModule({
  name: "process",
  description: "Processes: list, find, signal",
  methods: {
    info: { doc: "Every process: {pid, ppid, state, uid, rss, name, command} (at most 5000).", example: 'func "*" call process info', params: [] },
    grep: {
      doc: "Processes whose command line contains the text.",
      example: 'func "*" call process grep nginx',
      params: [param("text", t.string())],
    },
    kill: {
      doc: "Sends a signal (default TERM) to a pid; returns true when it was sent.",
      example: 'func "web1" call process kill 1234 HUP',
      params: [param("pid", t.int({ min: 2 })), optional("signal", SIGNAL, SIGNALS.join(", "))],
    },
    pkill: {
      doc: "Sends a signal (default TERM) to every process with this exact name; returns the pids signalled.",
      example: 'func "web*" call process pkill nginx HUP',
      params: [param("name", t.string({ min_length: 1, max_length: 255 })), optional("signal", SIGNAL, SIGNALS.join(", "))],
    },
    loadavg: { doc: "1, 5 and 15 minute load averages.", example: 'func "*" call process loadavg', params: [] },
    whoami: { doc: "The user funcd runs as.", example: 'func "*" call process whoami', params: [] },
  },
});
