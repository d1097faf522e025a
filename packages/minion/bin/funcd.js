#!/usr/bin/env -S node --max-semi-space-size=2
// Installed entry point: runs the compiled funcd (npm links this file, which exists before the build).
import "../dist/bin/funcd.js";
