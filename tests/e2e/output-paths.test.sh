#!/usr/bin/env bash
# What each output option does with a symbolic link and with a directory, as its page says (trial 4):
# --pcap-out (role tools, kd-decode --encode) refuses both, a link never followed; kd-decode
# --ladder-svg replaces a link itself (its target untouched) and refuses a directory; kd-vectors
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

# kd-decode --ladder-svg: written beside and renamed over FILE, so a link is replaced, not followed.
ln -s target "$O/link.svg"
runx "$KD_BIN/kd-decode" --ladder-svg "$O/link.svg" "$P/transcript"
check "kd-decode --ladder-svg LINK: exit 0" exit_is 0
check "... the link replaced by the picture (a regular file)" eval '[ -f "$O/link.svg" ] && [ ! -L "$O/link.svg" ] && grep -q "<svg" "$O/link.svg"'
check "... the link's target untouched" untouched
runx "$KD_BIN/kd-decode" --ladder-svg "$O/dir" "$P/transcript"
check "kd-decode --ladder-svg DIR: exit 3, the directory left" eval 'exit_is 3 && [ -d "$O/dir" ]'
check "... one line that names the option" \
  eval 'eq "$(cat "$ERR")" "kd-decode: --ladder-svg: cannot replace $O/dir: Is a directory"'

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

finish
