#!/usr/bin/env bash
# Text from the input never reaches standard error raw (issue 10, item 6): a step or member name
# with a line end or an escape sequence is printed escaped, on the tool's one error line.
. "$(dirname "$0")/lib.sh"

check "proxied run to take messages from completes" world_run "$TMP/p" proxied KD-AES128GCM-SHA256
P=$W
esc=$'\x1b'
one_clean_line() {  # the run's stderr is one line (a usage error's then the pointer to --help), without ESC or other control bytes
  local n=1
  [ "$RC" = 2 ] && n=2
  [ "$(wc -l <"$ERR")" = $n ] || { WHY="$(wc -l <"$ERR") lines: $(cat -v "$ERR")"; return 1; }
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
# Standard output is for scripts and terminals alike: an error line quoting the input holds no
# control character either, not DEL (0x7f) nor a C1 control (U+0080..U+009F, e.g. CSI U+009B, which
# JSON would let through unescaped): they are written as \u escapes, still the same JSON string.
no_control_out() {  # stdout: JSON lines, no C0/DEL byte but the line ends, no C1 code point
  jq -e . "$OUT" >/dev/null || { WHY="not JSON: $(cat -v "$OUT")"; return 1; }
  python3 -c 'import sys; t = open(sys.argv[1], "rb").read().decode("utf-8"); bad = [hex(ord(c)) for c in t if (ord(c) < 0x20 and c != "\n") or 0x7f <= ord(c) <= 0x9f]; sys.exit("control characters " + " ".join(bad[:5]) if bad else 0)' "$OUT" ||
    { WHY="$(cat -v "$OUT")"; return 1; }
}
printf '{"step":"s1","flow":"proxied","to":"proxy\x7f\x7f\u009b31m"}\n' >"$TMP/l4"
for r in proxy switch; do
  run "$r" "" "$TMP/l4"
  check "kd-$r: DEL and CSI in a quoted value: the stdout error line escapes them" no_control_out
  check "kd-$r: ... as JSON escapes of the same text" \
    eval 'eq "$(jq -r .detail "$OUT" | od -An -tx1 | tr -d " \n")" "$(printf "\"to\" is \"proxy\x7f\x7f\xc2\x9b31m\" but s1 goes to proxy\n" | od -An -tx1 | tr -d " \n")"'
done
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
check "kd-decode: the same message, escaped the same (exit 2)" eval '[ "$RC" = 2 ] && eq "$(head -n 1 "$ERR")" "kd-decode: $want" && eq "$(tail -n +2 "$ERR")" "$(help_pointer kd-decode)"'
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
