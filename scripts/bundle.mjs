// Bundles the `func` CLI (and the processes it starts: forked bucket workers, the async dispatcher) into a
// few files under packages/overlord/dist/bundle/, after `tsc -b`. Why: a fresh `func` process resolved and
// loaded its ES modules one by one; bundled, it starts ~10 ms sooner (~140 instead of ~150 ms for
// `func "*" ping` on 10 minions, bench/README.md). Code that only some runs need (the full yargs for --help,
// async jobs, file transfer) stays in chunks loaded on first use; LMDB, x509 and xmlrpc stay external. The
// Overlord API (`import "@func/overlord"`) is the unbundled tsc output, as before.
//
// Worker and dispatcher paths are computed from `import.meta.url` of the module that spawns them
// (dist/call/fan-out.js: "./bucket-worker.js"; dist/jobs/job-engine.js: "../bin/func-dispatcher.js"), which
// ends up in a chunk under the bundle's lib/: the entry points below are named so that the same relative paths
// land on them, and the tests run `func` from here, so a broken path fails them.

import { build } from "esbuild";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const dist = `${root}packages/overlord/dist`;

await build({
  entryPoints: [
    { in: `${dist}/bin/func.js`, out: "bin/func" },
    { in: `${dist}/bin/func-dispatcher.js`, out: "bin/func-dispatcher" },
    { in: `${dist}/call/bucket-worker.js`, out: "lib/bucket-worker" },
  ],
  outdir: `${dist}/bundle`,
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  // native or lazily required: resolved at run time from node_modules, as in the unbundled code
  external: ["lmdb", "@peculiar/x509", "xmlrpc"],
  chunkNames: "lib/chunk-[hash]",
  sourcemap: false,
  legalComments: "none",
  logLevel: "warning",
});
