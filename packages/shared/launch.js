// Starts an installed func command: every bin shim calls launch() before anything else is imported, so an
// unsupported Node stops with one line instead of a syntax or import error. Plain JavaScript, not compiled,
// written so that old Node versions can still parse it; a test keeps MIN_NODE equal to package.json's engines.

import module from "node:module";

/** The oldest Node that runs func (package.json "engines": ">=20.19"). */
export const MIN_NODE = "20.19.0";

function older(version, min) {
  const a = version.split(".").map(Number);
  const b = min.split(".").map(Number);
  for (let i = 0; i < 3; i++) if ((a[i] || 0) !== (b[i] || 0)) return (a[i] || 0) < (b[i] || 0);
  return false;
}

/**
 * Checks the Node version, turns on Node's module compile cache where it has one (Node >= 22.1; a no-op on
 * Node 20), then imports the command's compiled entry point (a URL relative to the shim).
 */
export async function launch(name, entry) {
  if (older(process.versions.node, MIN_NODE)) {
    process.stderr.write(`${name}: needs Node.js >= ${MIN_NODE}, this is ${process.versions.node} (${process.execPath}): install a newer Node.js\n`);
    process.exit(1);
  }
  if (typeof module.enableCompileCache === "function") module.enableCompileCache();
  try {
    await import(entry.href);
  } catch (err) {
    // the shim exists before the build: a checkout that was never built says so instead of a stack trace
    if (err && err.code === "ERR_MODULE_NOT_FOUND" && String(err.message).includes(entry.pathname)) {
      process.stderr.write(`${name}: ${entry.pathname} is missing: run "npm install && npm run build" in the func checkout\n`);
      process.exit(1);
    }
    throw err;
  }
}
