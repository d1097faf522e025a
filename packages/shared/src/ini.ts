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

/**
 * `text` with some sections changed and everything else kept as written (comments, blank lines, order):
 * `null` drops a section (its header and lines), entries set those keys (the first line of each key is
 * replaced in place, repeats of it dropped, missing keys added after the section's last line). Sections the
 * text does not have are appended.
 */
export function rewriteIni(text: string, changes: Readonly<Record<string, Readonly<Record<string, string>> | null>>): string {
  const lines = text === "" ? [] : text.replace(/\r?\n$/, "").split(/\r?\n/);
  const out: string[] = [];
  const seen = new Set<string>();
  let i = 0;
  // the lines before the first section belong to "main"
  const sectionEnd = (from: number): number => {
    let j = from;
    while (j < lines.length && !/^\s*\[[^\]]+\]\s*$/.test(lines[j]!)) j++;
    return j;
  };
  const emit = (name: string, body: string[]): void => {
    const change = Object.hasOwn(changes, name) ? changes[name] : undefined;
    if (change === undefined) return void out.push(...body);
    const done = new Set<string>();
    const kept: string[] = [];
    for (const line of body) {
      const m = /^\s*([^#;=:\s][^=:]*?)\s*[=:]/.exec(line);
      const key = m?.[1]?.toLowerCase();
      if (key !== undefined && Object.hasOwn(change!, key)) {
        if (!done.has(key)) kept.push(`${key} = ${change![key]}`);
        done.add(key);
      } else kept.push(line);
    }
    let last = kept.length;
    while (last > 0 && kept[last - 1]!.trim() === "") last--;
    const missing = Object.entries(change!).filter(([k]) => !done.has(k)).map(([k, v]) => `${k} = ${v}`);
    out.push(...kept.slice(0, last), ...missing, ...kept.slice(last));
  };
  const preamble = sectionEnd(0);
  emit("main", lines.slice(0, preamble));
  seen.add("main");
  i = preamble;
  while (i < lines.length) {
    const name = /^\s*\[([^\]]+)\]\s*$/.exec(lines[i]!)![1]!.trim().toLowerCase();
    const end = sectionEnd(i + 1);
    seen.add(name);
    if (changes[name] !== null) {
      out.push(lines[i]!);
      emit(name, lines.slice(i + 1, end));
    }
    i = end;
  }
  for (const [name, entries] of Object.entries(changes)) {
    if (seen.has(name) || entries === null) continue;
    if (out.length > 0 && out[out.length - 1]!.trim() !== "") out.push("");
    out.push(`[${name}]`, ...Object.entries(entries).map(([k, v]) => `${k} = ${v}`));
  }
  return out.length === 0 ? "" : `${out.join("\n")}\n`;
}
