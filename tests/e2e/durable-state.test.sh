#!/usr/bin/env bash
# A message leaves only once the state change it depends on is durable (issue 10, items 4, 5, 7,
# 15): a state file that cannot be written means nothing is printed; a capture cut mid-record
# still saves what the frames before it did, before printing their answers; a symbolic link or a
# second hard link as state file (two locks for one file) is refused; a state file that others
# may read draws a warning; event lines in the input are skipped.
. "$(dirname "$0")/lib.sh"

check "proxied run to take messages and states from completes" world_run "$TMP/p" proxied KD-AES128GCM-SHA256
P=$W
msgs() { grep -c '^{"step"' "$OUT"; }
field_of_line() { [[ $1 =~ \"$2\":\"([^\"]*)\" ]] && echo "${BASH_REMATCH[1]}"; }

# ---- the state cannot be written: nothing is printed ----------------------------------------
# The temporary file beside a state file whose name is 250 bytes long cannot be created (its name
# exceeds NAME_MAX), even as root; reading the state works.
long=$TMP/$(printf 'x%.0s' $(seq 1 250))
cp -p "$P/snap/s8/switch.state" "$long"
cp -p "$long" "$TMP/long.before"
run switch "$long" "$P/s8.json"
check "unwritable state: exit 3" eq "$RC" 3
check "unwritable state: s9 is not printed" eq "$(msgs)" 0
check "unwritable state: the error names the state file" grep -q "cannot create a temporary file" "$ERR"
check "unwritable state: the state is unchanged" same_file "$TMP/long.before" "$long"
run switch "$long" "$P/s8.json"
check "unwritable state, again: still nothing printed" eq "$(msgs)" 0

# ---- --pcap-out: a frame is written only after the state it depends on is saved ------------
rm -f "$TMP/long.pcap"
cp -p "$TMP/long.before" "$long"
XSWITCH=(--binding sip --radius-secret-file "$TMP/secret")
printf 'durable-test-secret\n' >"$TMP/secret"
"$KD_BIN/kd-decode" --encode sip "$P/s8.json" >"$TMP/s8.sip" 2>/dev/null
run switch "$long" "$TMP/s8.sip" --pcap-out "$TMP/long.pcap"
check "unwritable state with --pcap-out: exit 3, nothing printed" eval 'eq "$RC" 3 && eq "$(grep -c wire "$OUT")" 0'
check "unwritable state with --pcap-out: no capture was written" test ! -e "$TMP/long.pcap"
XSWITCH=()
# Options that --pcap-out cannot honour are refused before anything is read or saved.
rm -f "$TMP/mixed.state" "$TMP/mixed.pcap"
XPROXY=(--binding sip)
"$KD_BIN/kd-decode" --encode sip "$P/s1.json" >"$TMP/s1.sip" 2>/dev/null
run proxy "$TMP/mixed.state" "$TMP/s1.sip" --addr proxy=::1 --addr switch=192.0.2.30 --pcap-out "$TMP/mixed.pcap"
check "--addr of two families with --pcap-out: exit 2, no state, no capture" \
  eval 'eq "$RC" 2 && [ ! -e "$TMP/mixed.state" ] && [ ! -e "$TMP/mixed.pcap" ]'
rm -f "$TMP/mixed.state"
run proxy "$TMP/mixed.state" "$TMP/s1.sip" --addr proxy=::1 --pcap-out "$TMP/v6.pcap"
check "IPv6 --addr alone: the other roles default to IPv6 and the frame is written" \
  eval 'eq "$RC" 0 && [ -s "$TMP/v6.pcap" ]'
rm -f "$TMP/mixed.state"
KNOW=5000000000 run proxy "$TMP/mixed.state" "$TMP/s1.sip" --pcap-out "$TMP/late.pcap"
check "a clock beyond a pcap record's seconds with --pcap-out: exit 2, no state, no capture" \
  eval 'eq "$RC" 2 && [ ! -e "$TMP/mixed.state" ] && [ ! -e "$TMP/late.pcap" ]'
XPROXY=()

# ---- a capture cut mid-record: the answers printed are those whose state was saved ------------
mkdir -p "$TMP/cut"
"$KD_BIN/kd-term" --keys "$P/alice.keys" --seed 02 --now "$NOW" start --id alice --via sbc1 --switch ss1 \
  --binding sip --pcap-out "$TMP/cut/s1.pcap" >/dev/null
# A record header that promises 200 bytes, then 10 of them.
{ cat "$TMP/cut/s1.pcap"; printf '\x00\x00\x00\x00\x00\x00\x00\x00\xc8\x00\x00\x00\xc8\x00\x00\x00'; head -c 10 /dev/zero; } \
  >"$TMP/cut/cut.pcap"
rm -f "$TMP/cut/proxy.state"
XPROXY=(--binding sip)
run proxy "$TMP/cut/proxy.state" "$TMP/cut/cut.pcap"
check "cut capture: exit 3" eq "$RC" 3
check "cut capture: s2 was printed" eq "$(grep -c '"step":"s2"' "$OUT")" 1
check "cut capture: ... and the state that sent it was saved" test -s "$TMP/cut/proxy.state"
run proxy "$TMP/cut/proxy.state" "$TMP/cut/s1.pcap"
check "cut capture: the same s1 again is a replay (no second s2)" eval 'eq "$RC" 1 && eq "$(msgs)" 0'
XPROXY=()

# ---- a pipe: each answer is printed, its state saved, before the tool waits for the next line ---
rm -f "$TMP/co.state"
coproc CO { kd proxy "$TMP/co.state" 2>"$TMP/co.err"; }
# bash unsets CO and CO_PID when it reaps the coprocess, which may happen at any moment once the
# coprocess has exited: keep copies (under set -u a late reference to CO_PID was a flaky failure).
co_pid=$CO_PID co_in=${CO[1]} co_out=${CO[0]}
printf '%s\n' "$(<"$P/s1.json")" >&"$co_in"
answer=""
# A generous bound: the answer comes at once, but a loaded machine (or a sanitizer build) may be slow.
IFS= read -r -t 60 answer <&"$co_out"
piped_answer() {
  eq "$(field_of_line "$answer" step)" s2 || { WHY="$WHY; kd-proxy's stderr: $(head -c 300 "$TMP/co.err")"; return 1; }
}
check "a pipe: s2 is printed while the input is still open" piped_answer
check "a pipe: ... and the state that sent it is already on disk" test -s "$TMP/co.state"
exec {co_in}>&-
wait "$co_pid" 2>/dev/null

# ---- symbolic links and hard links ----------------------------------------------------------
cp -p "$P/snap/s8/switch.state" "$TMP/real.state"
cp -p "$TMP/real.state" "$TMP/real.before"
ln -s "$TMP/real.state" "$TMP/link.state"
run switch "$TMP/link.state" "$P/s8.json"
check "symlinked state: exit 3" eq "$RC" 3
check "symlinked state: nothing printed" eq "$(msgs)" 0
check "symlinked state: the error says it is a symbolic link" grep -q "symbolic link" "$ERR"
check "symlinked state: the link is still a link" test -L "$TMP/link.state"
check "symlinked state: the file it points to is unchanged" same_file "$TMP/real.before" "$TMP/real.state"
run switch "$TMP/real.state" "$P/s8.json"
check "the real file accepts s8 once (control)" eval 'eq "$RC" 0 && eq "$(msgs)" 2'
ln "$TMP/real.state" "$TMP/hard.state"
cp -p "$TMP/real.state" "$TMP/real.after"
run switch "$TMP/hard.state" "$P/s8.json"
check "a second hard link as state: exit 3, nothing printed" eval 'eq "$RC" 3 && eq "$(msgs)" 0'
check "a second hard link as state: the error says so" grep -q "hard link" "$ERR"
rm -f "$TMP/hard.state"
cp -p "$P/snap/s8/switch.state" "$TMP/l2.state"
ln -s /dev/null "$TMP/l2.state.lock"
run switch "$TMP/l2.state" "$P/s8.json"
check "a symbolic link as lock file: exit 3, nothing printed" eval 'eq "$RC" 3 && eq "$(msgs)" 0'

# ---- a state file that others may read --------------------------------------------------------
cp -p "$P/snap/s8/switch.state" "$TMP/open.state"
chmod 644 "$TMP/open.state"
run switch "$TMP/open.state" "$P/s8.json"
check "a state file readable by others: accepted with a warning" \
  eval 'eq "$RC" 0 && grep -q "warning: state file .*readable by group or others" "$ERR"'
chmod 600 "$TMP/open.state"
cp -p "$P/snap/s8/switch.state" "$TMP/closed.state"
run switch "$TMP/closed.state" "$P/s8.json"
check "a private state file: no warning" eval 'eq "$RC" 0 && ! grep -q warning "$ERR"'

# ---- event lines are output, and every tool skips them -----------------------------------------
cp -p "$P/snap/s6/term.state" "$TMP/ev.state"
{ echo '{"event":"key-established","step":"s5","flow":"proxied","suite":"KD-AES128GCM-SHA256","IDc":"alice"}'
  cat "$P/s6.json"
  echo '{"event":"error","code":"bad_mac","step":"s10","detail":"x"}'; } >"$TMP/with-events.jsonl"
run term "$TMP/ev.state" "$TMP/with-events.jsonl"
check "kd-term skips event lines around s6: exit 0, s7 sent" eval 'eq "$RC" 0 && eq "$(grep -c "\"step\":\"s7\"" "$OUT")" 1'
check "kd-term skips event lines: no error line" eval '! grep -q "\"event\":\"error\"" "$OUT"'
# A message that merely carries an "event" member is still a message, and is refused as one.
sed 's/^{/{"event":"x",/' "$P/s6.json" >"$TMP/s6-event.json"
cp -p "$P/snap/s6/term.state" "$TMP/ev2.state"
run term "$TMP/ev2.state" "$TMP/s6-event.json"
check "a message with an extra \"event\" member is refused (malformed)" refused malformed
finish
