// @func/shared: what the minion and the overlord both need, and nothing else. Everything below is public to
// the func packages; for scripts (`import ... from "@func/shared"`) the stable part is the first group: the
// vocabulary a caller of the Overlord API sees in its results. Light entry for the async runner: ./core.

// The vocabulary of results: errors and fault codes, per-host outcomes and exit bits, job ids and statuses.
export * from "./errors.js";
export * from "./outcomes.js";
export * from "./job-status.js";

// Targets: specs, globs, names in their one canonical form.
export * from "./glob.js";
export * from "./node-set.js";
export * from "./targets.js";
export * from "./names.js";

// Configuration and where files live: INI files, DEFAULTS (every default in one object), homes.
export * from "./ini.js";
export * from "./home.js";
export * from "./config.js";

// The wire and identity: the XML-RPC codec, HTTP replies, the pre-TLS connection guard, PKI (CA, certs, CRLs), the enrollment protocol.
export * from "./codec.js";
export * from "./http-reply.js";
export * from "./bytes-answer.js";
export * from "./connection-guard.js";
export * from "./pki.js";
export * from "./enroll-wire.js";
export * from "./enroll-proof.js";

// Host mechanisms: atomic files, descriptor paths, streamed hashing, the host lock, detached children,
// process liveness, LMDB damage checks, store format versions.
export * from "./files.js";
export * from "./fd-paths.js";
export * from "./file-hash.js";
export * from "./host-lock.js";
export * from "./detached-spawn.js";
export * from "./process-check.js";
export * from "./lmdb-check.js";
export * from "./store-format.js";
export * from "./format-file.js";

// Delegation through sub-overlords: relay headers, share lines and pages, path and map checks.
export * from "./delegation-wire.js";
// Method signatures: the table of the built-in modules (one file of declarations each), the checks both sides
// run, CLI-word typing, minions' inventories; fact filters.
export * from "./signatures/index.js";
export * from "./fact-filter.js";
