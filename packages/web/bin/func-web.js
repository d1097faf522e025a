#!/usr/bin/env node
// Installed entry point: runs the compiled func-web (npm links this file, which exists before the build).
import "../dist/bin/func-web.js";
