#!/usr/bin/env bash
# What each output option does with a symbolic link and with a directory, as its page says (trial 4):
# --pcap-out (role tools, kd-decode --encode) refuses both, a link never followed; kd-decode
# --ladder-svg refuses both, and any other file that is not a regular one; kd-vectors
# generate replaces a link among its files and refuses a DIR that is not a directory, in kd's words.
. "$(dirname "$0")/lib.sh"
[ -x "$KD_BIN/kd-decode" ] && [ -x "$KD_BIN/kd-vectors" ] || { echo "kd-decode or kd-vectors is missing"; exit 1; }

check "proxied run completes" world_run "$TMP/p" proxied KD-AES128GCM-SHA256
P=$W
O=$TMP/out
mkdir -p "$O/dir"
printf 'keep\n' >"$O/target"
untouched() { eq "$(cat "$O/target")" keep; }

# --pcap-out of a role tool and of kd-decode --encode.
ln -s target "$O/link.pcap"
runx "$KD_BIN/kd-proxy" --id sbc1 --keys "$P/sbc1.keys" --now "$NOW" --binding sip --pcap-out "$O/link.pcap" "$P/s1.json"
check "kd-proxy --pcap-out LINK: exit 3, refused" eval 'exit_is 3 && grep -qF "a symbolic link: name the file itself" "$ERR"'
check "... the link's target untouched" untouched
runx "$KD_BIN/kd-proxy" --id sbc1 --keys "$P/sbc1.keys" --now "$NOW" --binding sip --pcap-out "$O/dir" "$P/s1.json"
check "kd-proxy --pcap-out DIR: exit 3" eval 'exit_is 3 && [ -d "$O/dir" ] && [ -z "$(ls -A "$O/dir")" ]'
runx "$KD_BIN/kd-decode" --encode sip --pcap-out "$O/link.pcap" "$P/s1.json"
check "kd-decode --encode --pcap-out LINK: exit 3, refused, target untouched" eval 'exit_is 3 && untouched'
runx "$KD_BIN/kd-decode" --encode sip --pcap-out "$O/dir" "$P/s1.json"
check "kd-decode --encode --pcap-out DIR: exit 3" exit_is 3

# kd-decode --ladder-svg: written beside FILE and renamed over it, so FILE must be a regular file or
# absent. A symbolic link (such as /dev/stdout), a FIFO (or a device, such as /dev/null), a directory
# would be replaced: refused before anything is read, and left as they were.
ln -s target "$O/link.svg"
mkfifo "$O/fifo.svg"
for c in "link.svg:a symbolic link" "fifo.svg:not a regular file" "dir:Is a directory"; do
  f=$O/${c%%:*}
  runx "$KD_BIN/kd-decode" --ladder-svg "$f" "$P/transcript"
  check "kd-decode --ladder-svg ${c%%:*}: exit 3, nothing printed, one line that names the option" \
    eval 'file_error_reported && eq "$(head -c 60 "$ERR")" "$(head -c 60 <<<"kd-decode: --ladder-svg: cannot replace $f")" && grep -qF "${c#*:}" "$ERR"'
done
check "... the link kept, its target untouched" eval '[ -L "$O/link.svg" ] && untouched'
check "... the FIFO kept" test -p "$O/fifo.svg"
runx "$KD_BIN/kd-decode" --ladder-svg "$O/no-such-dir/x.svg" "$P/transcript"
check "kd-decode --ladder-svg in a directory that does not exist: exit 3 before anything is printed" \
  eval 'file_error_reported && eq "$(cat "$ERR")" "kd-decode: --ladder-svg: cannot create $O/no-such-dir/x.svg: $O/no-such-dir is not a directory"'
check "... the directory kept" test -d "$O/dir"
runx "$KD_BIN/kd-decode" --ladder-svg "$O/plain.svg" "$P/transcript"
check "kd-decode --ladder-svg FILE: a picture" eval 'exit_is 0 && [ -f "$O/plain.svg" ] && grep -q "<svg" "$O/plain.svg"'

# kd-vectors generate: a link among the files it writes is replaced; a DIR that is a file is
# refused in kd's words, not the C++ library's.
G=$TMP/gen
mkdir -p "$G/positive" "$G/pcap"
ln -s ../../out/target "$G/positive/KD-AES128GCM-SHA256-direct-json.json"
ln -s ../../out/target "$G/pcap/KD-AES128GCM-SHA256-direct-sip.pcap"
runx "$KD_BIN/kd-vectors" generate "$G"
check "kd-vectors generate over links: exit 0" exit_is 0
check "... each link replaced by the file" eval '[ ! -L "$G/positive/KD-AES128GCM-SHA256-direct-json.json" ] && [ ! -L "$G/pcap/KD-AES128GCM-SHA256-direct-sip.pcap" ]'
check "... their target untouched" untouched
runx "$KD_BIN/kd-vectors" generate "$O/target"
check "kd-vectors generate FILE: exit 3, in kd's words" \
  eval 'exit_is 3 && eq "$(cat "$ERR")" "kd-vectors: cannot create directory $O/target/positive: Not a directory"'
check "... the file untouched" untouched

# The standard output is an output too: one that cannot be written (closed, or a full device) is
# exit 3 with one line, never exit 0 with the lines lost; and a closed one is never taken by a file
# the tool opens, so that its lines cannot land in the lock file, a capture or a state file.
S=$TMP/stdout
mkdir -p "$S"
stdout_lost() {  # what was asked of a tool whose standard output is lost: exit 3, said so
  exit_is 3 && grep -qF "cannot write the standard output" "$ERR"
}
"$KD_BIN/kd-proxy" --id sbc1 --keys "$P/sbc1.keys" --now "$NOW" --state "$S/proxy.state" "$P/s1.json" >&- 2>"$ERR"
RC=$?
check "kd-proxy with its standard output closed: exit 3, says so" stdout_lost
check "... its lines not written into the lock file" eval '[ ! -s "$S/proxy.state.lock" ]'
"$KD_BIN/kd-term" --keys "$P/alice.keys" --binding sip --seed 01 --now "$NOW" start --id alice --via sbc1 --switch ss1 >"$S/s1.sip"
"$KD_BIN/kd-proxy" --id sbc1 --keys "$P/sbc1.keys" --now "$NOW" --binding sip --pcap-out "$S/cap.pcap" "$S/s1.sip" >&- 2>"$ERR"
RC=$?
check "kd-proxy --pcap-out with its standard output closed: exit 3, the capture holds frames only" \
  eval 'stdout_lost && { [ ! -e "$S/cap.pcap" ] || ! grep -q "\"step\"" "$S/cap.pcap"; }'
"$KD_BIN/kd-auc" keys export "$P/auc.keys" --id sbc1 >&- 2>"$ERR"
RC=$?
check "kd-auc keys export with its standard output closed: exit 3, says so" stdout_lost
"$KD_BIN/kd-decode" "$P/transcript" >&- 2>"$ERR"
RC=$?
check "kd-decode with its standard output closed: exit 3, says so" stdout_lost
"$KD_BIN/kd-auc" keys add "$P/auc.keys" --id dave --role term >&- 2>"$ERR"
RC=$?
check "kd-auc keys add, which prints nothing, with its standard output closed: exit 0" exit_is 0
rm -f "$S/proxy.state"
"$KD_BIN/kd-proxy" --id sbc1 --keys "$P/sbc1.keys" --now "$NOW" --state "$S/proxy.state" <&- >"$OUT" 2>"$ERR"
RC=$?
check "kd-proxy with its standard input closed: exit 3, a read error, no state" \
  eval 'exit_is 3 && grep -qF "cannot read input (standard input)" "$ERR" && [ ! -e "$S/proxy.state" ]'
if [ -c /dev/full ]; then
  "$KD_BIN/kd-auc" keys list "$P/auc.keys" >/dev/full 2>"$ERR"
  RC=$?
  check "kd-auc keys list to a full device: exit 3, says why" \
    eval 'stdout_lost && grep -qF "No space left on device" "$ERR"'
fi

if [ -c /dev/full ]; then
  "$KD_BIN/kd-decode" "$P/transcript" >/dev/full 2>"$ERR"
  RC=$?
  check "kd-decode to a full device: exit 3, says why as the role tools do (issue 12)" \
    eval 'stdout_lost && grep -qF "cannot write the standard output: No space left on device" "$ERR"'
fi

# --pcap-out naming a file the tool reads or replaces: refused before anything is read (exit 3),
# never the frames lost to the state's rename (issue 12).
C=$TMP/pcap-apart
mkdir -p "$C"
cp "$P/sbc1.keys" "$C/sbc1.keys"
cp "$C/sbc1.keys" "$C/keys.orig"
for pair in "state:$C/p.state" "the lock file of --state:$C/p.state.lock" "the journal of --state:$C/p.state.journal" \
            "state:$C/./sub/../p.state" "keys:$C/sbc1.keys"; do
  what=${pair%%:*} out=${pair#*:}
  mkdir -p "$C/sub"
  [ "$what" = state ] && what=--state
  [ "$what" = keys ] && what=--keys
  rm -f "$C/p.state" "$C/p.state.lock" "$C/p.state.journal"
  runx "$KD_BIN/kd-proxy" --id sbc1 --keys "$C/sbc1.keys" --now "$NOW" --binding sip --state "$C/p.state" \
    --pcap-out "$out" "$S/s1.sip"
  check "kd-proxy --pcap-out the file of $what ($(basename "$out")): exit 3, says which, nothing written" \
    eval 'exit_is 3 && grep -qF -- "--pcap-out $out: the same file as $what " "$ERR" && [ ! -s "$OUT" ] &&
      [ ! -e "$C/p.state" ] && same_file "$C/sbc1.keys" "$C/keys.orig"'
done
ln -s p.state "$C/link"
"$KD_BIN/kd-proxy" --id sbc1 --keys "$C/sbc1.keys" --now "$NOW" --binding sip --state "$C/p.state" "$S/s1.sip" >/dev/null 2>&1
cp "$C/p.state" "$C/state.orig"
runx "$KD_BIN/kd-proxy" --id sbc1 --keys "$C/sbc1.keys" --now "$NOW" --binding sip --state "$C/p.state" \
  --pcap-out "$C/link" "$S/s1.sip"
check "kd-proxy --pcap-out a symbolic link to its state: exit 3, the state as it was" \
  eval 'exit_is 3 && grep -qF -- "the same file as --state" "$ERR" && same_file "$C/p.state" "$C/state.orig"'

finish
