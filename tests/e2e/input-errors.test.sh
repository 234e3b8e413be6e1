#!/usr/bin/env bash
# Bad input lines are refused with their reason code (never a crash), with the state untouched;
# bad command lines exit 2; unreadable or damaged files (keystore, state, input) exit 3 with a
# message and leave the state untouched.
. "$(dirname "$0")/lib.sh"

check "proxied run to take messages and states from completes" world_run "$TMP/p" proxied KD-AES128GCM-SHA256
P=$W
L=$TMP/line.json
s1=$(<"$P/s1.json")

# bad DESCRIPTION ROLE STEP CODE [WANT-STEP]: the line in $L fed to ROLE with its state from before
# STEP (an existing state file); WANT-STEP is the "step" the error line must name (default: none
# checked).
bad() {
  local desc=$1 role=$2 step=$3 code=$4
  refeed "$role" "$step" "$L"
  if [ $# -ge 5 ]; then
    want_step=$5
    check "$desc -> $code (step $5), state unchanged" eval 'rejects "$code" && eq "$(err_step)" "$want_step"'
  else
    check "$desc -> $code, state unchanged" rejects "$code"
  fi
}
put() { printf '%s\n' "$1" >"$L"; }

# The envelope.
put '{"step":"s1",';                       bad "text that is not JSON" proxy s5 malformed null
put '[1,2,3]';                             bad "a JSON array" proxy s5 malformed null
put '"s1"';                                bad "a JSON string" proxy s5 malformed null
put '{}';                                  bad "an empty object" proxy s5 missing_field null
del_field "$P/s1.json" to >"$L";           bad "s1 without \"to\"" proxy s5 missing_field
set_field "$P/s1.json" step 1 >"$L";       bad "a step that is a number" proxy s5 malformed
set_field "$P/s1.json" step '"s12"' >"$L"; bad "an unknown step s12" proxy s5 unknown_step s12
set_field "$P/s1.json" flow '"sideways"' >"$L"; bad "an unknown flow" proxy s5 unknown_step
set_field "$P/s1.json" step '"d1"' >"$L";  bad "step d1 in the proxied flow" proxy s5 unknown_step
set_field "$P/s1.json" to '"switch"' >"$L"; bad "s1 addressed to the switch" proxy s5 malformed
bad_recipient() { cp "$P/s6.json" "$L"; bad "s6 (for the terminal) fed to kd-proxy" proxy s5 wrong_recipient s6; }
bad_recipient
cp "$P/s1.json" "$L";                      bad "s1 (for the proxy) fed to kd-term" term s6 wrong_recipient s1
cp "$P/s3.json" "$L";                      bad "s3 (for the AuC) fed to kd-switch" switch s4 wrong_recipient s3
cp "$P/s4.json" "$L";                      bad "s4 (for the switch) fed to kd-auc" auc s11 wrong_recipient s4

# Fields.
del_field "$P/s1.json" N1 >"$L";           bad "s1 without N1" proxy s5 missing_field s1
put "${s1/\"IDc\":\"alice\"/\"IDc\":\"alice\",\"IDc\":\"alice\"}"; bad "s1 with IDc twice" proxy s5 malformed
put "${s1/\"step\":\"s1\"/\"step\":\"s1\",\"step\":\"s1\"}";      bad "s1 with step twice" proxy s5 malformed
set_field "$P/s1.json" N3 '"00"' >"$L";    bad "s1 with an unexpected field N3" proxy s5 malformed
set_field "$P/s1.json" Rand '"00112233445566778899aabbccddeeff"' >"$L"; bad "s1 with Rand (a field of another step)" proxy s5 malformed
set_field "$P/s1.json" N1 '"zz112233445566778899aabbccddeeff"' >"$L"; bad "N1 not hex" proxy s5 malformed
set_field "$P/s1.json" N1 '"00112233445566778899AABBCCDDEEFF"' >"$L"; bad "N1 in uppercase hex" proxy s5 malformed
set_field "$P/s1.json" N1 '"00112233445566778899aabbccddeef"' >"$L";  bad "N1 with an odd number of digits" proxy s5 malformed
set_field "$P/s1.json" N1 '"00112233445566778899aabbccddee"' >"$L";   bad "N1 of 15 bytes" proxy s5 bad_length
set_field "$P/s1.json" N1 '"00112233445566778899aabbccddeeff00"' >"$L"; bad "N1 of 17 bytes" proxy s5 bad_length
set_field "$P/s1.json" N1 123 >"$L";       bad "N1 that is a number" proxy s5 malformed
set_field "$P/s1.json" TS1 -1 >"$L";       bad "TS1 negative" proxy s5 malformed
set_field "$P/s1.json" TS1 1.5 >"$L";      bad "TS1 not an integer" proxy s5 malformed
set_field "$P/s1.json" TS1 '"1700000000"' >"$L"; bad "TS1 as a string" proxy s5 malformed
set_field "$P/s1.json" IDc '"ali ce"' >"$L"; bad "IDc with a space" proxy s5 malformed
set_field "$P/s1.json" IDc "\"$(printf 'a%.0s' {1..65})\"" >"$L"; bad "IDc of 65 characters" proxy s5 bad_length
set_field "$P/s1.json" IPc '"example.org"' >"$L"; bad "IPc that is not an address" proxy s5 malformed
set_field "$P/s1.json" suite '"KD-NOPE"' >"$L"; bad "s1 with an unknown suite" proxy s5 unknown_suite s1
set_field "$P/s6.json" suite '"KD-NOPE"' >"$L"; bad "s6 with an unknown suite, to the terminal" term s6 unknown_suite s6
set_field "$P/s6.json" SecMechReq false >"$L"; bad "s6 with SecMechReq false" term s6 malformed
set_field "$P/s10.json" MAC '"00112233"' >"$L"; bad "s10 with a 4-byte MAC" term s10 bad_length
set_field "$P/s4.json" EKc '"00"' >"$L";   bad "s4 with a 1-byte EKc" switch s4 bad_length
jq -c '.SecMechList[0].q = 1001' "$P/s7.json" >"$L"; bad "s7 with q 1001" proxy s7 bad_length
jq -c '.SecMechList = [range(17) | {name: "m\(.)", q: 1}]' "$P/s7.json" >"$L"; bad "s7 with 17 mechanisms" proxy s7 bad_length
jq -c '.SecMechList[0] |= del(.q)' "$P/s7.json" >"$L"; bad "s7 with a mechanism without q" proxy s7 malformed
jq -c '.SecMechList = {}' "$P/s7.json" >"$L"; bad "s7 whose SecMechList is not an array" proxy s7 malformed
jq -c '.SecMechList = []' "$P/s7.json" >"$L"; bad "s7 with an empty SecMechList" proxy s7 bad_length
jq -c --arg x "$(head -c 70000 /dev/zero | tr '\0' x)" '.IDc = $x' "$P/s1.json" >"$L"
bad "a line of $(wc -c <"$L") bytes" proxy s5 oversized

# The size limit is 65536 bytes, newline not counted: s1 padded with spaces (valid JSON) to the limit.
printf '%s%*s\n' "$s1" $((65536 - ${#s1})) "" >"$L"
refeed proxy s1 "$L"
check "s1 padded to a line of exactly 65536 bytes: accepted" eval 'accepted && out_has_step s2'
printf '%s%*s\n' "$s1" $((65537 - ${#s1})) "" >"$L"
bad "s1 padded to a line of 65537 bytes" proxy s5 oversized null
printf '{"step":"s1"\0}\n' >"$L";              bad "a line with a NUL byte" proxy s5 malformed
# A line of NUL bytes only, to every role in every binding, on the standard input and as INPUT: one
# malformed line, exit 1 (a trial saw exit 0 and no output: its bash here-string, <<< $'\0\0\0',
# had sent a blank line, since bash strings cannot hold a NUL; printf sends the bytes).
printf '\0\0\0\n' >"$TMP/nul.in"
printf 'nul-test-secret\n' >"$TMP/nul.secret"
nul_ok=1 nul_why=""
for role in term proxy switch auc; do
  for b in json sip mgcp h248 h323; do
    for how in stdin file; do
      extra=(--binding "$b")
      case $role in switch|auc) extra+=(--radius-secret-file "$TMP/nul.secret") ;; esac
      if [ "$how" = stdin ]; then kd "$role" "" "${extra[@]}" <"$TMP/nul.in" >"$OUT" 2>"$ERR"; RC=$?
      else kd "$role" "" "${extra[@]}" "$TMP/nul.in" </dev/null >"$OUT" 2>"$ERR"; RC=$?; fi
      if [ "$RC" != 1 ] || ! grep -qF 'malformed' "$OUT" || ! grep -qF 'not valid JSON: a NUL byte' "$ERR"; then
        nul_ok=0 nul_why+="$role $b $how: exit $RC, $(head -c 120 "$ERR"); "
      fi
    done
  done
done
check "a line of NUL bytes: malformed, exit 1, in every role, binding and input" eval '[ $nul_ok = 1 ] || { WHY=$nul_why; false; }'
printf '{"step":"s1\377","flow":"proxied","to":"proxy"}\n' >"$L"; bad "a line that is not UTF-8" proxy s5 malformed
printf '%s' "$(printf '[%.0s' {1..30000})$(printf ']%.0s' {1..30000})" >"$L"; bad "arrays nested 30000 deep" proxy s5 malformed

# Lines, not only messages.
: >"$L"
refeed proxy s5 "$L"
check "empty input: exit 0, no output, state unchanged" eval 'exit_is 0 && [ ! -s "$OUT" ] && [ ! -s "$ERR" ] && state_unchanged'
printf '\n  \n\t\n' >"$L"
refeed proxy s5 "$L"
check "blank lines only: exit 0, no output" eval 'exit_is 0 && [ ! -s "$OUT" ] && state_unchanged'
printf '%s\r\n' "$s1" >"$L"
refeed proxy s1 "$L"
check "s1 ending in CR LF: accepted" eval 'accepted && out_has_step s2'
{ echo '{"step":'; cat "$P/s1.json"; } >"$L"
refeed proxy s1 "$L"
check "a bad line then a good one: the good one is still handled (s2), exit 1" \
  eval 'exit_is 1 && out_has_step s2 && [ "$(err_code)" = malformed ] && [ -e "$AFTER" ]'

# Messages from a file argument instead of standard input.
W=$P
runx "$KD_BIN/kd-proxy" --id "$PROXY_ID" --keys "$P/$PROXY_ID.keys" --seed "$SEED" --now "$NOW" "$P/s1.json"
check "kd-proxy reads its input from a file argument" eval 'accepted && same_file "$OUT" "$P/s2.json"'

# A role without its own key in its keystore refuses the step that needs it, state unchanged.
nokey() {  # DESCRIPTION ROLE-TOOL STEP SNAPSHOT-ROLE ARGS...
  local desc=$1 tool=$2 step=$3 role=$4; shift 4
  BEFORE=$P/snap/$step/$role.state AFTER=$TMP/nokey.$role.state
  [ -e "$BEFORE" ] && cp -p "$BEFORE" "$AFTER"
  runx "$KD_BIN/$tool" --state "$AFTER" --seed "$SEED" --now "$NOW" "$@" "$P/$step.json"
  check "$desc -> unknown_identity, state unchanged" rejects unknown_identity
}
nokey "kd-proxy without a keystore, given s9" kd-proxy s9 proxy --id "$PROXY_ID"
nokey "kd-proxy with the terminal's keystore, given s9" kd-proxy s9 proxy --id "$PROXY_ID" --keys "$P/$TERM_ID.keys"
nokey "kd-auc without a keystore, given s3" kd-auc s3 auc

# --help.
for t in kd-term kd-proxy kd-switch kd-auc; do
  runx "$KD_BIN/$t" --help
  check "$t --help: exit 0 with a summary on stdout" eval 'exit_is 0 && grep -q -- "--seed" "$OUT"'
done

# kd-term start.
W=$P
run term "$TMP/start.state" "" start --id "$TERM_ID" --via "$PROXY_ID" --switch "$SWITCH_ID" --suite KD-NOPE
check "kd-term start --suite KD-NOPE -> unknown_suite, exit 1" refused unknown_suite
check "kd-term start --suite KD-NOPE: no state file is created" eval '[ ! -e "$TMP/start.state" ]'
run term "$TMP/start.state" "" start --id "bad id" --via "$PROXY_ID" --switch "$SWITCH_ID"
check "kd-term start --id 'bad id' -> malformed, no state file" eval 'refused malformed && [ ! -e "$TMP/start.state" ]'
run term "$TMP/start.state" "" start --id bob --via "$PROXY_ID" --switch "$SWITCH_ID"
check "kd-term start --id bob (not in its keystore) -> unknown_identity, no state file" \
  eval 'refused unknown_identity && [ ! -e "$TMP/start.state" ]'

# Bad command lines: exit 2, nothing written.
S=$TMP/usage.state
usage() {  # DESCRIPTION COMMAND...
  local desc=$1; shift
  runx "$@" <"$P/s1.json"
  check "$desc -> exit 2, a message on stderr, no state file" eval 'exit_is 2 && [ -s "$ERR" ] && [ ! -e "$S" ]'
}
usage "kd-proxy with an unknown option" "$KD_BIN/kd-proxy" --id sbc1 --state "$S" --bogus
usage "kd-proxy without --id" "$KD_BIN/kd-proxy" --state "$S"
usage "kd-proxy --id 'bad id'" "$KD_BIN/kd-proxy" --id "bad id" --state "$S"
usage "kd-proxy --seed zz" "$KD_BIN/kd-proxy" --id sbc1 --state "$S" --seed zz
usage "kd-proxy --seed abc (odd digits)" "$KD_BIN/kd-proxy" --id sbc1 --state "$S" --seed abc
usage "kd-proxy --seed of 65 bytes" "$KD_BIN/kd-proxy" --id sbc1 --state "$S" --seed "$(printf '01%.0s' {1..65})"
usage "kd-proxy --now abc" "$KD_BIN/kd-proxy" --id sbc1 --state "$S" --now abc
usage "kd-proxy --source 'not an address'" "$KD_BIN/kd-proxy" --id sbc1 --state "$S" --source "not an address"
usage "kd-term with an unknown option" "$KD_BIN/kd-term" --state "$S" --bogus
usage "kd-term --seed zz" "$KD_BIN/kd-term" --state "$S" --seed zz
usage "kd-term start without --switch" "$KD_BIN/kd-term" --state "$S" start --id alice
usage "kd-switch --max-attempts 0" "$KD_BIN/kd-switch" --id ss1 --state "$S" --max-attempts 0
usage "kd-switch --max-attempts 101" "$KD_BIN/kd-switch" --id ss1 --state "$S" --max-attempts 101
usage "kd-switch with an unknown option" "$KD_BIN/kd-switch" --id ss1 --state "$S" --bogus
usage "kd-auc with an unknown option" "$KD_BIN/kd-auc" --state "$S" --bogus
usage "kd-auc keys with an unknown subcommand" "$KD_BIN/kd-auc" keys bogus "$S"

# File errors: exit 3, a message on stderr, nothing on stdout, the state untouched.
cp -p "$P/snap/s5/proxy.state" "$TMP/proxy.state"
cp -p "$P/snap/s5/proxy.state" "$TMP/proxy.state.orig"
filerr() {  # DESCRIPTION COMMAND...
  local desc=$1; shift
  runx "$@" <"$P/s5.json"
  check "$desc -> exit 3 with a message, state unchanged" \
    eval 'file_error_reported && cmp -s "$TMP/proxy.state" "$TMP/proxy.state.orig" || { WHY="${WHY:-the state changed}"; false; }'
}
mkdir "$TMP/a-directory"
echo 'not json' >"$TMP/junk.keys"
jq '.entities[0].key = "0011"' "$P/$PROXY_ID.keys" >"$TMP/short.keys"
filerr "a keystore that does not exist" "$KD_BIN/kd-proxy" --id sbc1 --state "$TMP/proxy.state" --keys "$TMP/none.keys"
filerr "a keystore that cannot be read (a directory)" "$KD_BIN/kd-proxy" --id sbc1 --state "$TMP/proxy.state" --keys "$TMP/a-directory"
filerr "a keystore that is not JSON" "$KD_BIN/kd-proxy" --id sbc1 --state "$TMP/proxy.state" --keys "$TMP/junk.keys"
filerr "a keystore with a 2-byte key" "$KD_BIN/kd-proxy" --id sbc1 --state "$TMP/proxy.state" --keys "$TMP/short.keys"
if [ "$(id -u)" != 0 ]; then
  cp -p "$P/$PROXY_ID.keys" "$TMP/noread.keys" && chmod 000 "$TMP/noread.keys"
  filerr "a keystore without read permission" "$KD_BIN/kd-proxy" --id sbc1 --state "$TMP/proxy.state" --keys "$TMP/noread.keys"
fi
filerr "an input file that does not exist" "$KD_BIN/kd-proxy" --id sbc1 --state "$TMP/proxy.state" "$TMP/none.json"
# The state file itself.
statefile() {  # DESCRIPTION FILE-CONTENT-MAKER
  local desc=$1
  "$2" >"$TMP/bad.state"
  cp -p "$TMP/bad.state" "$TMP/bad.state.orig"
  runx "$KD_BIN/kd-proxy" --id sbc1 --keys "$P/$PROXY_ID.keys" --state "$TMP/bad.state" --now "$NOW" --seed "$SEED" "$P/s5.json"
  check "$desc -> exit 3 with a message, file unchanged" \
    eval 'file_error_reported && cmp -s "$TMP/bad.state" "$TMP/bad.state.orig" || { WHY="${WHY:-the file changed}"; false; }'
}
half() { head -c $(($(wc -c <"$P/snap/s5/proxy.state") / 2)) "$P/snap/s5/proxy.state"; }
other_role() { cat "$P/snap/s6/term.state"; }
not_json() { echo 'garbage'; }
bad_phase() { jq '.exchanges.alice.phase = 7' "$P/snap/s5/proxy.state"; }
bad_hex() { jq '.exchanges.alice.term_n1 = "xyz"' "$P/snap/s5/proxy.state"; }
statefile "a state file cut in half" half
statefile "the terminal's state file given to kd-proxy" other_role
statefile "a state file that is not JSON" not_json
statefile "a state file with an impossible phase" bad_phase
statefile "a state file with bad hex" bad_hex
runx "$KD_BIN/kd-proxy" --id sbc1 --state "$TMP/a-directory" "$P/s1.json"
check "a state path that is a directory -> exit 3 with a message" file_error_reported
runx "$KD_BIN/kd-proxy" --id sbc1 --state "$TMP/no/such/dir/proxy.state" "$P/s1.json"
check "a state file in a directory that does not exist -> exit 3 with a message" file_error_reported

finish
