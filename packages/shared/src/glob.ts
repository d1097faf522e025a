// Shell globs (`*`, `?`, `[...]`) with ClusterShell node sets in brackets (`[01-20,30]`): the one matcher behind
// target specs, groups and ACLs (case-insensitively) and the filetracker's paths (case-sensitively). A pattern
// that cannot compile is a UsageError.

import { FuncError } from "./errors.js";
import { expandNodeSetBody, isNodeSetBody } from "./node-set.js";

const REGEX_SPECIAL = /[\\^$.*+?()[\]{}|/]/g;

/** A glob character class body, checked: a reversed range such as `z-a` is an error, not a RegExp crash. */
function charClass(body: string, glob: string): string {
  for (let k = 0; k + 2 < body.length; k++) {
    if (body[k + 1] === "-" && body[k]! > body[k + 2]!) {
      throw new FuncError("UsageError", `the range ${body.slice(k, k + 3)} in "${glob}" is reversed: write ${body[k + 2]}-${body[k]}`);
    }
  }
  return body.replace(/[\\\]^]/g, "\\$&");
}

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
      if (isNodeSetBody(body)) {
        out += `(?:${expandNodeSetBody(body, `"${glob}"`).join("|")})`;
        i = close;
        continue;
      }
      let negate = false;
      if (body.startsWith("!") || body.startsWith("^")) {
        negate = true;
        body = body.slice(1);
      }
      out += `[${negate ? "^" : ""}${charClass(body, glob)}]`;
      i = close;
    } else out += c.replace(REGEX_SPECIAL, "\\$&");
  }
  try {
    return new RegExp(`^${out}$`, caseSensitive ? "" : "i");
  } catch (err) {
    throw new FuncError("UsageError", `"${glob}" is not a valid pattern: ${(err as Error).message}`);
  }
}

export function isGlob(pattern: string): boolean {
  return /[*?[]/.test(pattern);
}

export function globMatch(glob: string, name: string): boolean {
  return globToRegExp(glob).test(name);
}
