#!/usr/bin/env node
// Installed entry point: runs the bundled func (scripts/bundle.mjs, part of `npm run build`); npm links this
// file, which exists before the build.
import "../dist/bundle/bin/func.js";
