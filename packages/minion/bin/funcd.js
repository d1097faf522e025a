#!/usr/bin/env node
// Installed entry point: runs the compiled funcd (npm links this file, which exists before the build).
import "../dist/bin/funcd.js";
