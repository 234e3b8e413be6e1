#!/usr/bin/env bash
# Bash completion (README.md, "Install"): each tool's script, printed by `TOOL --bash-completion`,
# is loaded into a bash and asked to complete command lines, as bash does on TAB (COMP_WORDS,
# COMP_CWORD). The expected words come from the tools' --help output and the pages, not from the
# generator: every option --help lists is offered in its context, and the enumerated values are
# the ones --help names.
source "$(dirname "$0")/lib.sh"
KD_FLOW=$KD_ROOT/scripts/kd-flow
COMPLETION_KD_FLOW=$KD_ROOT/scripts/completion/kd-flow

# complete TOOL WORD... : what the completion offers for the last WORD (empty string: a new
# word), sorted, one line.
complete_words() {
  local tool=$1; shift
  local script
  if [ "$tool" = kd-flow ]; then script=$(cat "$COMPLETION_KD_FLOW"); else script=$("$KD_BIN/$tool" --bash-completion); fi
  bash -c '
    compopt() { :; }  # only inside a completion bash has it
    eval "$1"; shift
    fn=$(complete -p "$1" | sed -n "s/.*-F \([^ ]*\) .*/\1/p")
    COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
    "$fn"
    printf "%s\n" "${COMPREPLY[@]}" | sort -u | tr "\n" " "
  ' bash "$script" "$tool" "$@"
}
offers() {  # offers TOOL WORDS... -- EXPECTED...: the completion offers exactly EXPECTED
  local args=() tool=$1; shift
  while [ "$1" != -- ]; do args+=("$1"); shift; done; shift
  local want got
  want=$(printf "%s\n" "$@" | sort -u | tr '\n' ' ')
  got=$(complete_words "$tool" "$tool" "${args[@]}")
  [ "$got" = "$want" ] || { WHY="got '$got', expected '$want'"; return 1; }
}
includes() {  # includes TOOL WORDS... -- EXPECTED...: the completion offers at least EXPECTED
  local args=() tool=$1; shift
  while [ "$1" != -- ]; do args+=("$1"); shift; done; shift
  local got w missing=""
  got=" $(complete_words "$tool" "$tool" "${args[@]}")"
  for w in "$@"; do [[ $got == *" $w "* ]] || missing+=" $w"; done
  [ -z "$missing" ] || { WHY="missing:$missing in '$got'"; return 1; }
}
# The long options a --help lists (CLI11's "  --name TYPE  help" lines; kd-flow's usage lines).
help_options() { "$@" --help 2>&1 | grep -oE '^ +(-[a-z], ?)?--[a-z][a-z0-9-]*' | grep -oE -- '--[a-z0-9-]+' | sort -u; }

for tool in kd-term kd-proxy kd-switch kd-auc kd-decode kd-vectors; do
  check "$tool --bash-completion is a bash script that parses" bash -n <("$KD_BIN/$tool" --bash-completion)
  # shellcheck disable=SC2046
  check "$tool: every option of --help is offered" includes "$tool" "-" -- $(help_options "$KD_BIN/$tool")
done
for sub in "keys add" "keys export" "keys init" "keys list"; do
  # shellcheck disable=SC2046,SC2086
  check "kd-auc $sub: every option of its --help is offered" includes kd-auc $sub "-" -- $(help_options "$KD_BIN/kd-auc" $sub)
done
# shellcheck disable=SC2046
check "kd-term start: every option of its --help is offered" includes kd-term start "-" -- $(help_options "$KD_BIN/kd-term" start)
for sub in run generate; do
  # shellcheck disable=SC2046
  check "kd-vectors $sub: every option of its --help is offered" includes kd-vectors "$sub" "-" -- $(help_options "$KD_BIN/kd-vectors" $sub)
done
# shellcheck disable=SC2046
check "kd-flow: every option of --help is offered" includes kd-flow "-" -- $(help_options "$KD_FLOW")

check "kd-auc keys: the four subcommands" offers kd-auc keys "" -- init add export list --help
check "kd-vectors: its subcommands" includes kd-vectors "" -- run generate
check "kd-term: start" includes kd-term "" -- start
check "kd-term start --su: --suite" offers kd-term start --su -- --suite
check "kd-proxy --s: --seed --show-key --skew --source --state --support" \
  offers kd-proxy --s -- --seed --show-key --skew --source --state --support

# Enumerated values: the ones --help names for the option.
help_values() {  # TOOL OPTION: the values on the option's --help line after its first ':' or 'one of'
  "$KD_BIN/$1" --help | grep -E "^ +$2 " | sed -E 's/.*: //; s/\(default[^)]*\)//g; s/ or /, /g' |
    tr ',' '\n' | sed 's/ //g' | grep -E '^[a-z0-9]+$' | sort -u | tr '\n' ' '
}
for tool in kd-term kd-proxy kd-switch; do
  # shellcheck disable=SC2046
  check "$tool --binding: the bindings --help names" offers "$tool" --binding "" -- $(help_values "$tool" --binding)
done
check "kd-switch --binding values are json sip mgcp h248 h323" offers kd-switch --binding "" -- json sip mgcp h248 h323
check "kd-auc --binding: json radius" offers kd-auc --binding "" -- json radius
check "kd-switch --auc-link: radius json" offers kd-switch --auc-link "" -- radius json
check "kd-decode --encode: the wire bindings" offers kd-decode --encode "" -- sip mgcp h248 h323 radius
check "kd-term start --suite: the three suites" offers kd-term start --suite "" -- "${SUITES[@]}"
check "kd-term start --suite KD-S: the SM4 suite" offers kd-term start --suite KD-S -- KD-SM4GCM-SM3
check "kd-auc keys add --role: term proxy switch" offers kd-auc keys add --role "" -- term proxy switch
check "kd-term --binding=s (bash splits at =): sip" offers kd-term --binding = s -- sip
check "kd-flow --flow: proxied direct" offers kd-flow --flow "" -- proxied direct
check "kd-flow --binding: as kd-term's" offers kd-flow --binding "" -- json sip mgcp h248 h323

# File names where a file is expected; none where an identity is.
mkdir -p "$TMP/files" && touch "$TMP/files/keys.json" "$TMP/files/kd.state"
check "kd-auc --keys: file names" offers kd-auc --keys "$TMP/files/ke" -- "$TMP/files/keys.json"
check "kd-term --state: file names" offers kd-term --state "$TMP/files/" -- "$TMP/files/keys.json" "$TMP/files/kd.state"
check "kd-auc keys list FILE: file names" offers kd-auc keys list "$TMP/files/kd" -- "$TMP/files/kd.state"
check "kd-auc keys add --id: no guess" offers kd-auc keys add --id "" --
# A value that looks like a subcommand is a value: after --keys keys, the context is still kd-auc's.
check "kd-auc --keys keys <TAB>: still kd-auc's words" includes kd-auc --keys keys "" -- keys --state

finish
