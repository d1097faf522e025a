// What changed between two inventory runs, per host and module: a package upgraded, a user added, a tracked
// file changed. Pure over two snapshots; the git side (which files, at which commit) is in inventory-run.

/** Most change lines shown for one module of one host; more are counted. */
const MAX_LINES = 200;

/** `+ key`, `- key` and `~ key: before -> now` lines between two snapshots of one module. */
export function snapshotChanges(before: unknown, now: unknown, prefix = ""): string[] {
  const out: string[] = [];
  const show = (v: unknown) => (typeof v === "string" ? v : JSON.stringify(v));
  const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);
  if (isObj(before) && isObj(now)) {
    for (const k of [...new Set([...Object.keys(before), ...Object.keys(now)])].sort()) {
      const key = prefix ? `${prefix}.${k}` : k;
      if (!Object.hasOwn(now, k)) out.push(`- ${key}`);
      else if (!Object.hasOwn(before, k)) out.push(`+ ${key}${isObj(now[k]) ? "" : ` ${show(now[k])}`}`);
      else out.push(...snapshotChanges(before[k], now[k], key));
    }
  } else if (JSON.stringify(before) !== JSON.stringify(now)) {
    out.push(`~ ${prefix || "value"}: ${show(before)} -> ${show(now)}`);
  }
  return out;
}

/** The lines of one module's changes, capped. */
export function changeLines(before: unknown, now: unknown): string[] {
  const lines = snapshotChanges(before, now);
  return lines.length > MAX_LINES ? [...lines.slice(0, MAX_LINES), `... and ${lines.length - MAX_LINES} more`] : lines;
}
