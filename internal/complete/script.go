package complete

import (
	"fmt"
	"strings"
)

// Shells Script writes for.
var Shells = []string{"bash", "zsh", "fish"}

// Script returns the completion script for shell ("bash", "zsh" or "fish")
// that completes each of progs ("acmectl", "certbot"). The script runs only
// "BIN __complete WORDS...", and only when BIN — the command typed, looked
// up in PATH and with symlinks resolved — is a file named binName or
// binName-*: a certbot that is Python's certbot is never run, and one that
// is a symlink to acmectl completes as acmectl.
func Script(shell, binName string, progs []string) (string, error) {
	fn := "_" + strings.NewReplacer("-", "_", ".", "_").Replace(binName) + "_complete"
	r := strings.NewReplacer("@FN@", fn, "@BIN@", binName, "@CMD@", Command,
		"@PROGS@", strings.Join(progs, " "))
	switch shell {
	case "bash":
		return r.Replace(bashScript), nil
	case "zsh":
		return r.Replace(zshScript), nil
	case "fish":
		var b strings.Builder
		b.WriteString(r.Replace(fishScript))
		for _, p := range progs {
			fmt.Fprintf(&b, "complete -c %s -e\ncomplete -c %s -f -a '(%s)'\n", p, p, fn)
		}
		return b.String(), nil
	}
	return "", fmt.Errorf("completion: unknown shell %q (want bash, zsh or fish)", shell)
}

const bashScript = `# bash completion for @BIN@ (@PROGS@); it runs only "@BIN@ @CMD@ WORDS...".
@FN@() {
  local line=${COMP_LINE:0:COMP_POINT} bin real cur out last rlword prefix i c
  local -a words cands
  read -r -a words <<<"$line"
  [[ $line == *[[:space:]] || ${#words[@]} -eq 0 ]] && words+=("")
  cur=${words[${#words[@]}-1]}
  bin=$(type -P -- "${words[0]}") || return 0
  real=$(readlink -f -- "$bin" 2>/dev/null) || real=$bin
  case ${real##*/} in
    @BIN@ | @BIN@-*) ;;
    *) return 0 ;;
  esac
  out=$("$bin" @CMD@ "${words[@]:1}" 2>/dev/null) || return 0
  last=${out##*$'\n'}
  while IFS= read -r c; do
    [[ $c == :* ]] && continue
    cands+=("${c%%$'\t'*}")
  done <<<"$out"
  local val=$cur vprefix=
  if [[ $cur == -*=* ]]; then vprefix=${cur%%=*}=; val=${cur#*=}; fi
  case $last in
    :file*) compopt -o filenames 2>/dev/null; while IFS= read -r c; do cands+=("$vprefix$c"); done < <(compgen -f -- "$val") ;;
    :dir*) compopt -o filenames 2>/dev/null; while IFS= read -r c; do cands+=("$vprefix$c"); done < <(compgen -d -- "$val") ;;
    :command*) while IFS= read -r c; do cands+=("$vprefix$c"); done < <(compgen -c -- "$val") ;;
  esac
  [[ $last == *nospace* ]] && compopt -o nospace 2>/dev/null
  # bash replaces only the text after the last COMP_WORDBREAKS character.
  rlword=$cur
  for ((i = ${#cur} - 1; i >= 0; i--)); do
    c=${cur:i:1}
    if [[ $COMP_WORDBREAKS == *"$c"* ]]; then rlword=${cur:i+1}; break; fi
  done
  prefix=${cur:0:${#cur}-${#rlword}}
  COMPREPLY=()
  for c in "${cands[@]}"; do
    [[ $c == "$prefix"* ]] && COMPREPLY+=("${c#"$prefix"}")
  done
  return 0
}
complete -o default -F @FN@ @PROGS@
`

const zshScript = `#compdef @PROGS@
# zsh completion for @BIN@ (@PROGS@); it runs only "@BIN@ @CMD@ WORDS...".
@FN@() {
  local bin real out last line
  local -a cands descs
  bin=${words[1]:c}
  [[ -x $bin ]] || return 1
  real=${bin:A}
  case ${real:t} in
    @BIN@ | @BIN@-*) ;;
    *) return 1 ;;
  esac
  out=$("$bin" @CMD@ "${(@)words[2,CURRENT]}" 2>/dev/null) || return 1
  last=${out##*$'\n'}
  for line in "${(@f)out}"; do
    [[ $line == :* ]] && continue
    cands+=("${line%%$'\t'*}")
    if [[ $line == *$'\t'* ]]; then
      descs+=("${${line%%$'\t'*}//:/\\:}:${line#*$'\t'}")
    else
      descs+=("${line//:/\\:}")
    fi
  done
  local cur=${words[CURRENT]}
  if [[ $cur == -*=* ]]; then
    compset -P '*='
    cands=("${(@)cands#*=}")
    descs=("${(@)descs#*=}")
  fi
  local ret=1
  (( ${#descs} )) && _describe -t values 'values' descs -Q && ret=0
  case $last in
    :file*) _files && ret=0 ;;
    :dir*) _files -/ && ret=0 ;;
    :command*) _command_names -e && ret=0 ;;
  esac
  return ret
}
compdef @FN@ @PROGS@
`

const fishScript = `# fish completion for @BIN@ (@PROGS@); it runs only "@BIN@ @CMD@ WORDS...".
function @FN@
    set -l tokens (commandline -opc)
    set -l cur (commandline -ct)
    set -l bin (command -s -- $tokens[1])
    or return
    set -l real (path resolve -- $bin)
    switch (path basename -- $real)
        case @BIN@ '@BIN@-*'
        case '*'
            return
    end
    set -l out ($bin @CMD@ $tokens[2..-1] $cur 2>/dev/null)
    or return
    set -l last $out[-1]
    if test (count $out) -gt 1
        printf '%s\n' $out[1..-2]
    end
    set -l vprefix ''
    set -l val $cur
    if string match -q -- '-*=*' $cur
        set vprefix (string replace -r '=.*' '=' -- $cur)
        set val (string replace -r '^[^=]*=' '' -- $cur)
    end
    switch $last
        case ':file*'
            for p in (__fish_complete_path $val)
                printf '%s%s\n' $vprefix $p
            end
        case ':dir*'
            for p in (__fish_complete_directories $val)
                printf '%s%s\n' $vprefix $p
            end
        case ':command*'
            for p in (complete -C "$val")
                printf '%s%s\n' $vprefix $p
            end
    end
end
`
