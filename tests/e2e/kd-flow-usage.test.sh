#!/usr/bin/env bash
# scripts/kd-flow's usage errors are its own (kd-flow(1), EXIT STATUS): exit 2, one line
# "kd-flow: ..." then its own pointer to --help. An option's value that looks like an option is
# not taken as the value, nor is a value left out; and an option kd-flow passes on to a tool that
# refuses it is reported in kd-flow's name, the option as kd-flow spells it, never with a pointer to
# another tool's --help (trial 5: "--seed --dir x" took --dir as the seed, and a bad --mechs
# ended with "kd-term: run 'kd-term --help'").
. "$(dirname "$0")/lib.sh"

FLOW=("$KD_ROOT/scripts/kd-flow" --bin "$KD_BIN")
POINTER=$(help_pointer kd-flow)
S=$TMP/scratch
mkdir -p "$S"

usage() {  # MESSAGE ARGS...: kd-flow ARGS is exit 2 with MESSAGE then the pointer, nothing else
  local msg=$1; shift
  rm -rf "$S/run"
  runx timeout 60 "${FLOW[@]}" --dir "$S/run" "$@"
  check "kd-flow $*: exit 2" exit_is 2
  check "... its own message, then its own pointer to --help" eq "$(cat "$ERR")" "kd-flow: $msg"$'\n'"$POINTER"
  # (--support is first read by the proxy: the transcript then holds s1, which came before)
  [ "${MIDRUN:-0}" = 1 ] || check "... nothing on stdout" eq "$(cat "$OUT")" ""
}

usage "--seed needs a value (--dir is an option)" --seed --dir "$S/x"
check "... --dir was not taken for the seed, nor its value for an option" eval '[ ! -e "$S/x" ]'
usage "--dir needs a value" --dir
usage "--mechs: must not be empty" --mechs ""
usage "unknown option --bogus" --bogus
usage "--flow must be proxied or direct" --flow sideways

# Refused by the tool kd-flow hands the option to.
usage "--mechs: q-value must be 0 to 1" --mechs x:9
usage "--now: \"abc\" must be a whole number from 0 to 9223372036854775807 (decimal digits only)" --now abc
usage "--binding: unknown binding \"foo\" (json, sip, mgcp, h248, h323)" --binding foo
usage "--seed: must be 1 to 64 bytes of hex" --seed zz
usage "--term may hold only letters, digits and ._@+-" --term 'bad!id'
usage "--switch must be 1 to 64 characters" --switch "$(printf 's%.0s' {1..65})"
MIDRUN=1 usage "--support: a mechanism name may hold only a-z, 0-9 and -" --support x:9

# A tool's other failures are its own, as they were: a refused message is exit 1 in its words.
runx timeout 60 "${FLOW[@]}" --dir "$S/run2" --suite nope
check "kd-flow --suite nope: exit 1, kd-term's refusal" \
  eval 'exit_is 1 && grep -qF "kd-term: error: unknown_suite" "$ERR"'

# A DIR kd-flow cannot make (a file of that name, a directory under a file) is a file error, exit 3,
# in kd-flow's words with the name escaped; nothing runs.
printf 'keep\n' >"$S/afile"
for c in "afile:not a directory" "afile/sub:cannot create the directory"; do
  d=$S/${c%%:*}
  runx timeout 60 "${FLOW[@]}" --dir "$d"
  check "kd-flow --dir ${c%%:*}: exit 3, one line in kd-flow's words, nothing run" \
    eval 'exit_is 3 && eq "$(cat "$ERR")" "kd-flow: --dir $d: ${c#*:}" && eq "$(cat "$OUT")" "" && eq "$(cat "$S/afile")" keep'
done
runx timeout 60 "${FLOW[@]}" --dir "$S/afile/$(printf '\e[2J')"
check "kd-flow --dir with a control byte: escaped in the message" \
  eval 'exit_is 3 && not_contains "$ERR" "$(printf "\e")"'

finish
