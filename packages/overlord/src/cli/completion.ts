// `func completion bash|zsh`: a shell completion script derived from func's own tables (commands, actions,
// options, and `call <module> <method>` from the signature table), completing host names from the certs
// through `func <spec> --list-targets` (no network).

import { FuncError } from "@func/shared";

export const SHELLS = ["bash", "zsh"] as const;
export type Shell = (typeof SHELLS)[number];

export interface CompletionTables {
  /** words after the target: call, ping, ... */
  actions: readonly string[];
  /** first words that are commands: job, group, completion */
  commands: Readonly<Record<string, readonly string[]>>;
  /** long option names, without dashes */
  options: readonly string[];
  /** `call <module> <method>`: each module's method names */
  methods: Readonly<Record<string, readonly string[]>>;
}

const words = (list: readonly string[]) => list.join(" ");

/** One `case` line per module (module and method names are plain identifiers: nothing to quote). */
function methodCases(t: CompletionTables, line: (entry: [string, readonly string[]]) => string): string {
  return Object.entries(t.methods).map(line).join("\n");
}

function bash(t: CompletionTables): string {
  const commandCases = Object.entries(t.commands)
    .map(([c, subs]) => `    ${c}) [ "$COMP_CWORD" -eq 2 ] && COMPREPLY=($(compgen -W "${words(subs)}" -- "$cur")); return ;;`)
    .join("\n");
  return `# func completion for bash: source <(func completion bash), or save it in /etc/bash_completion.d/func
_func() {
  local cur="\${COMP_WORDS[COMP_CWORD]}"
  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "${words(t.options.map((o) => `--${o}`))}" -- "$cur")); return
  fi
  case "\${COMP_WORDS[1]}" in
${commandCases}
  esac
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W "${words(Object.keys(t.commands))} $(func '*' --list-targets 2>/dev/null)" -- "$cur")); return
  fi
  if [ "$COMP_CWORD" -eq 2 ]; then
    COMPREPLY=($(compgen -W "${words(t.actions)}" -- "$cur")); return
  fi
  if [ "\${COMP_WORDS[2]}" = call ] && [ "$COMP_CWORD" -eq 3 ]; then
    COMPREPLY=($(compgen -W "${words(Object.keys(t.methods))}" -- "$cur")); return
  fi
  if [ "\${COMP_WORDS[2]}" = call ] && [ "$COMP_CWORD" -eq 4 ]; then
    case "\${COMP_WORDS[3]}" in
${methodCases(t, (m) => `      ${m[0]}) COMPREPLY=($(compgen -W "${words(m[1])}" -- "$cur")) ;;`)}
    esac
    return
  fi
}
complete -o default -F _func func
`;
}

function zsh(t: CompletionTables): string {
  const commandCases = Object.entries(t.commands)
    .map(([c, subs]) => `    ${c}) (( CURRENT == 3 )) && compadd -- ${words(subs)}; return ;;`)
    .join("\n");
  return `#compdef func
# func completion for zsh: source <(func completion zsh), or save it as _func in a directory on $fpath
_func() {
  if [[ "$PREFIX" == -* ]]; then
    compadd -- ${words(t.options.map((o) => `--${o}`))}; return
  fi
  case "$words[2]" in
${commandCases}
  esac
  if (( CURRENT == 2 )); then
    compadd -- ${words(Object.keys(t.commands))} \${(f)"$(func '*' --list-targets 2>/dev/null)"}; return
  fi
  if (( CURRENT == 3 )); then
    compadd -- ${words(t.actions)}; return
  fi
  if [[ "$words[3]" == call ]] && (( CURRENT == 4 )); then
    compadd -- ${words(Object.keys(t.methods))}; return
  fi
  if [[ "$words[3]" == call ]] && (( CURRENT == 5 )); then
    case "$words[4]" in
${methodCases(t, (m) => `      ${m[0]}) compadd -- ${words(m[1])} ;;`)}
    esac
    return
  fi
  _files
}
compdef _func func
`;
}

export function completionScript(shell: string | undefined, tables: CompletionTables): string {
  if (shell === "bash") return bash(tables);
  if (shell === "zsh") return zsh(tables);
  throw new FuncError("UsageError", `func completion takes ${SHELLS.join(" or ")}${shell === undefined ? "" : `, got "${shell}"`}`);
}
