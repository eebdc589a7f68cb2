package main

import (
	"fmt"

	"github.com/urfave/cli/v2"
)

const bashCompletion = `# bash completion for acmectl (and a certbot symlink)
_acmectl_complete() {
  local cur opts
  COMPREPLY=()
  cur="${COMP_WORDS[COMP_CWORD]}"
  if [[ "$cur" == "-"* ]]; then
    opts=$( "${COMP_WORDS[0]}" "${COMP_WORDS[@]:1:$COMP_CWORD-1}" "$cur" --generate-bash-completion 2>/dev/null )
  else
    opts=$( "${COMP_WORDS[0]}" "${COMP_WORDS[@]:1:$COMP_CWORD-1}" --generate-bash-completion 2>/dev/null )
  fi
  COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
  return 0
}
complete -o bashdefault -o default -F _acmectl_complete acmectl certbot
`

const zshCompletion = `#compdef acmectl certbot
_acmectl() {
  local -a opts
  opts=("${(@f)$(${words[1]} ${words[@]:1:$((CURRENT-2))} --generate-bash-completion 2>/dev/null)}")
  _describe 'values' opts
}
compdef _acmectl acmectl certbot
`

// completionCommand prints a shell completion script: acmectl completion bash|zsh.
func completionCommand() *cli.Command {
	return &cli.Command{
		Name:      "completion",
		Usage:     "print a shell completion script (bash or zsh)",
		ArgsUsage: "bash|zsh",
		Description: "Load it with:\n   source <(acmectl completion bash)\n" +
			"or save it as /etc/bash_completion.d/acmectl.",
		Action: func(c *cli.Context) error {
			switch c.Args().First() {
			case "", "bash":
				fmt.Fprint(c.App.Writer, bashCompletion)
			case "zsh":
				fmt.Fprint(c.App.Writer, zshCompletion)
			default:
				return usageErrorf("completion: unknown shell %q (want bash or zsh)", c.Args().First())
			}
			return nil
		},
	}
}
