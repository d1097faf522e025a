// The page's files, shipped in the package and read into memory at start: static/ (HTML, CSS, the
// screenshot-free icon) and the compiled page scripts in dist/page/. Nothing is fetched from elsewhere.

import { existsSync, readFileSync, readdirSync } from "node:fs";
import { extname, join } from "node:path";
import { fileURLToPath } from "node:url";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".svg": "image/svg+xml",
};

export interface Asset {
  type: string;
  body: Buffer;
}

/** URL path -> asset; "/" is the page. */
export function loadAssets(root = fileURLToPath(new URL("../../", import.meta.url))): Map<string, Asset> {
  const out = new Map<string, Asset>();
  const add = (dir: string, prefix: string) => {
    if (!existsSync(dir)) return;
    for (const f of readdirSync(dir)) {
      const type = TYPES[extname(f)];
      if (type) out.set(`${prefix}${f}`, { type, body: readFileSync(join(dir, f)) });
    }
  };
  add(join(root, "static"), "/");
  add(join(root, "dist", "page"), "/js/");
  const index = out.get("/index.html");
  if (index) out.set("/", index);
  return out;
}
