#!/usr/bin/env bash
# Text from the input never reaches standard error raw (issue 10, item 6): a step or member name
# with a line end or an escape sequence is printed escaped, on the tool's one error line.
. "$(dirname "$0")/lib.sh"

check "proxied run to take messages from completes" world_run "$TMP/p" proxied KD-AES128GCM-SHA256
P=$W
esc=$'\x1b'
one_clean_line() {  # the run's stderr is one line, without ESC or other control bytes
  [ "$(wc -l <"$ERR")" = 1 ] || { WHY="$(wc -l <"$ERR") lines: $(cat -v "$ERR")"; return 1; }
  ! LC_ALL=C grep -q '[[:cntrl:]]' <(tr -d '\n' <"$ERR") || { WHY="control bytes: $(cat -v "$ERR")"; return 1; }
}
# A step name holding ESC [31m, a line end and a fake tool line.
printf '%s\n' '{"step":"s1\u001b[31m\nkd-term: error: fake","flow":"proxied","to":"proxy"}' >"$TMP/l1"
for r in term proxy switch auc; do
  run "$r" "" "$TMP/l1"
  check "kd-$r: a step name with ESC and a line end: one escaped stderr line" one_clean_line
  check "kd-$r: ... which shows the escapes" grep -qF '\x1b[31m\nkd-term: error: fake' "$ERR"
done
# A member name holding them.
sed 's/"IDc"/"ID\\u001b]0;pwned\\u0007\\nc"/' "$P/s1.json" >"$TMP/l2"
run proxy "" "$TMP/l2"
check "kd-proxy: a member name with OSC and a line end: one escaped stderr line" one_clean_line
# A bad byte sequence that is not UTF-8 (raw in the line).
printf '{"step":"s1\x9b31m","flow":"proxied","to":"proxy"}\n' >"$TMP/l3"
run proxy "" "$TMP/l3"
check "kd-proxy: a C1 CSI byte in the input: one escaped stderr line" one_clean_line
# A file name with an escape sequence in the keystore warning.
n="$TMP/k"$'\x1b]0;x\x07'".json"
cp "$P/alice.keys" "$n"; chmod 644 "$n"
runx "$KD_BIN/kd-term" --keys "$n" start --id alice --switch ss1
check "kd-term: a keystore name with OSC in the permission warning: escaped" \
  eval '! LC_ALL=C grep -q "[[:cntrl:]]" <(tr -d "\n" <"$ERR") && grep -qF "\x1b]0;x\x07" "$ERR"'
# Command-line errors: every tool prints its message once, escaped once (issue 11 part 2: one
# place turns errors into exit codes). A backslash in a --decode-as binding reads \\ in every tool.
want='--decode-as udp.port==5080,s\\ip: unknown binding "s\\ip" (sip, mgcp, h248, h323, radius)'
runx "$KD_BIN/kd-switch" --id ss1 --decode-as 'udp.port==5080,s\ip'
check "kd-switch: a backslash in --decode-as is escaped once (exit 2)" eval '[ "$RC" = 2 ] && eq "$(head -1 "$ERR")" "kd-switch: $want"'
runx "$KD_BIN/kd-decode" --decode-as 'udp.port==5080,s\ip'
check "kd-decode: the same message, escaped the same (exit 2)" eval '[ "$RC" = 2 ] && eq "$(cat "$ERR")" "kd-decode: $want"'
# Control bytes in an option's value reach standard error escaped in kd-decode and kd-vectors too.
runx "$KD_BIN/kd-decode" --binding "s${esc}[31m"
check "kd-decode --binding with ESC: one escaped stderr line (exit 2)" \
  eval '[ "$RC" = 2 ] && one_clean_line && grep -qF "unknown binding \"s\x1b[31m\"" "$ERR"'
runx "$KD_BIN/kd-decode" --encode sip --addr "term=192.0.2.1${esc}[31m"
check "kd-decode --encode --addr with ESC: one escaped stderr line (exit 2)" \
  eval '[ "$RC" = 2 ] && one_clean_line && grep -qF "192.0.2.1\x1b[31m" "$ERR"'
runx "$KD_BIN/kd-decode" --encode sip "$TMP/in${esc}[31m"
check "kd-decode --encode: an input named with ESC that does not exist: escaped (exit 3)" \
  eval '[ "$RC" = 3 ] && one_clean_line && grep -qF "in\x1b[31m" "$ERR"'
runx "$KD_BIN/kd-vectors" run "$TMP/v${esc}[31m.json"
check "kd-vectors run: a file named with ESC that does not exist: escaped (exit 3)" \
  eval '[ "$RC" = 3 ] && ! LC_ALL=C grep -q "[[:cntrl:]]" <(tr -d "\n" <"$ERR") && grep -qF "v\x1b[31m.json" "$ERR"'
# A keystore name with an escape sequence in a keys subcommand's refusal (exit 1).
kn="$TMP/ks"$'\x1b[31m'".json"
"$KD_BIN/kd-auc" keys init "$kn" 2>/dev/null
runx "$KD_BIN/kd-auc" keys init "$kn"
check "kd-auc keys init over an existing keystore with ESC in its name: exit 1, the name escaped" \
  eval 'eq "$RC" 1 && ! LC_ALL=C grep -q "[[:cntrl:]]" <(tr -d "\n" <"$ERR") && grep -qF "\x1b[31m" "$ERR"'
finish
