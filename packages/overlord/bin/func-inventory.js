#!/usr/bin/env node
// Installed entry point: runs the compiled func-inventory (npm links this file, which exists before the build).
import "../dist/bin/func-inventory.js";
