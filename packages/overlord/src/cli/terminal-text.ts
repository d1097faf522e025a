// Text from minions made safe for the operator's terminal (issue 10 item 12): control characters (ESC, BEL,
// CR, the C1 set, DEL) and the bidirectional overrides are shown as visible escapes (`\x1b`, `\u202e`), so a
// minion cannot retitle the window, set the clipboard, clear the screen or forge another host's line.

/** What a terminal acts on: C0 except tab and newline, DEL, C1, and the bidi embeddings, overrides and isolates. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const TERMINAL_CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
// eslint-disable-next-line no-control-regex -- the same, newline included: for text that must stay one line
const TERMINAL_CONTROL_OR_NEWLINE = /[\x00-\x08\x0a-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

function escapeChar(c: string): string {
  const code = c.charCodeAt(0);
  return code < 0x100 ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`;
}

/** `text` with every terminal control character shown as an escape; newlines (and tabs) kept. */
export function visibleText(text: string): string {
  return text.replace(TERMINAL_CONTROL, escapeChar);
}

/** `text` as one visible line: newlines escaped too (host names, error reasons). */
export function visibleLine(text: string): string {
  return text.replace(TERMINAL_CONTROL_OR_NEWLINE, escapeChar);
}
