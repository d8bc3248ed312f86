// `sluice completion bash`: a completion script generated from the command tree, so
// it follows every command and option the CLI has.
import type { Command } from 'commander';

function words(cmd: Command): string[] {
  return [...cmd.commands.flatMap((c) => [c.name(), ...c.aliases()]), ...cmd.options.flatMap((o) => [o.short, o.long].filter((x): x is string => !!x))];
}

export function bashCompletion(program: Command): string {
  const cases: string[] = [];
  const walk = (cmd: Command, path: string[]) => {
    cases.push(`    "${path.join(' ')}") opts="${words(cmd).join(' ')}" ;;`);
    for (const sub of cmd.commands) for (const name of [sub.name(), ...sub.aliases()]) walk(sub, [...path, name]);
  };
  walk(program, []);
  const bin = program.name();
  return `# bash completion for ${bin}; load with: source <(${bin} completion bash)
_${bin.replace(/-/g, '_')}_complete() {
  local cur path="" w opts
  cur="\${COMP_WORDS[COMP_CWORD]}"
  for w in "\${COMP_WORDS[@]:1:COMP_CWORD-1}"; do
    case "$w" in -*) ;; *) if [ -z "$path" ]; then path="$w"; else path="$path $w"; fi ;; esac
  done
  while true; do
    case "$path" in
${cases.join('\n')}
    *) if [ "$path" = "\${path% *}" ]; then path=""; else path="\${path% *}"; fi; continue ;;
    esac
    break
  done
  COMPREPLY=( $(compgen -W "$opts" -- "$cur") )
}
complete -F _${bin.replace(/-/g, '_')}_complete ${bin} kubectl-sluice
`;
}
