// A small INI reader/writer for overlord.conf, minion.conf and the groups file: `[section]`, `key = value`,
// `#` and `;` comments. Keys are lowercased; values are kept as strings and typed by the config loader.

export type Ini = Record<string, Record<string, string>>;

export function parseIni(text: string, source = "ini"): Ini {
  const out: Ini = {};
  let section = "main";
  const lines = text.split(/\r?\n/);
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n]!.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const head = /^\[([^\]]+)\]$/.exec(line);
    if (head) {
      section = head[1]!.trim().toLowerCase();
      out[section] ??= {};
      continue;
    }
    const eq = line.search(/[=:]/);
    if (eq <= 0) throw new Error(`${source}:${n + 1}: expected "key = value", got "${line}"`);
    const key = line.slice(0, eq).trim().toLowerCase();
    (out[section] ??= {})[key] = line.slice(eq + 1).trim();
  }
  return out;
}

export function formatIni(ini: Ini): string {
  const chunks: string[] = [];
  for (const [section, entries] of Object.entries(ini)) {
    chunks.push(`[${section}]`);
    for (const [k, v] of Object.entries(entries)) chunks.push(`${k} = ${v}`);
    chunks.push("");
  }
  return chunks.join("\n");
}

/** Splits a list value on commas and white space: `a, b c` -> [a, b, c]. */
export function splitList(value: string | undefined): string[] {
  return (value ?? "").split(/[\s,]+/).filter((s) => s !== "");
}
