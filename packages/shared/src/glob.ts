// Shell globs (`*`, `?`, `[...]`): the one matcher behind target specs and ACLs (case-insensitively) and the
// filetracker's paths (case-sensitively).

const REGEX_SPECIAL = /[\\^$.*+?()[\]{}|/]/g;

/**
 * Compiles a shell glob to an anchored RegExp, case-insensitive unless `caseSensitive` (file names).
 * An unclosed `[` is a literal.
 */
export function globToRegExp(glob: string, caseSensitive = false): RegExp {
  let out = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === "*") out += ".*";
    else if (c === "?") out += ".";
    else if (c === "[") {
      const close = glob.indexOf("]", i + 2);
      if (close === -1) {
        out += "\\[";
        continue;
      }
      let body = glob.slice(i + 1, close);
      let negate = false;
      if (body.startsWith("!") || body.startsWith("^")) {
        negate = true;
        body = body.slice(1);
      }
      out += `[${negate ? "^" : ""}${body.replace(/[\\\]^]/g, "\\$&")}]`;
      i = close;
    } else out += c.replace(REGEX_SPECIAL, "\\$&");
  }
  return new RegExp(`^${out}$`, caseSensitive ? "" : "i");
}

export function isGlob(pattern: string): boolean {
  return /[*?[]/.test(pattern);
}

export function globMatch(glob: string, name: string): boolean {
  return globToRegExp(glob).test(name);
}
