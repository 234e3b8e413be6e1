#!/usr/bin/env bash
# Role tools and kd-decode on captures with odd records: a RADIUS packet for the other end of the
# AuC link is skipped before its authenticators are checked; a frame that does not decode is named
# in the detail, not as a step; frames of a link type kd does not read are counted in the note; a
# record whose sub-second field holds seconds is carried, not wrapped.
. "$(dirname "$0")/lib.sh"
[ -x "$KD_BIN/kd-decode" ] || { echo "$KD_BIN/kd-decode is missing"; exit 1; }
command -v python3 >/dev/null || { echo "python3 is required"; exit 1; }
D=$TMP/flow
mkdir -p "$D"
"$KD_ROOT/scripts/kd-flow" --bin "$KD_BIN" --dir "$D/w" --binding sip --seed "$SEED" --now "$NOW" \
  --pcap-out "$D/flow.pcap" >/dev/null 2>&1
check "a SIP registration captured" test -s "$D/flow.pcap"
keys=$D/w/auc-keys.json

# kd-auc under another secret: s3 and s11 (the AuC's) are refused, s4 (the switch's) is skipped.
printf 'another-secret\n' >"$TMP/other-secret"
runx "$KD_BIN/kd-auc" --keys "$keys" --now "$NOW" --radius-secret-file "$TMP/other-secret" "$D/flow.pcap"
check "kd-auc, wrong secret: exit 1" eq "$RC" 1
check "kd-auc, wrong secret: two refusals (s3 and s11), none for the s4 it does not receive" \
  eq "$(grep -c '"event":"error"' "$OUT")" 2
check "... each bad_mac" eq "$(grep -c '"code":"bad_mac"' "$OUT")" 2
check "... with no step (the frame is named in the detail)" \
  eq "$(jq -r 'select(.event == "error") | "\(.step) \(.detail | startswith("frame "))"' "$OUT" | sort -u)" "null true"
check "... and the note counts s4 (and the 8 SIP messages) as for other roles" grep -q "; 9 KD messages for other roles" "$ERR"

# A pcap of link type 999 with one frame: the note counts it.
python3 - "$TMP/lt999.pcap" <<'PY'
import struct, sys
with open(sys.argv[1], "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 262144, 999))
    f.write(struct.pack("<IIII", 1700000000, 0, 4, 4) + b"abcd")
PY
runx "$KD_BIN/kd-proxy" --id sbc1 --keys "$D/w/sbc1-keys.json" --now "$NOW" "$TMP/lt999.pcap"
check "kd-proxy on link type 999: exit 0" eq "$RC" 0
check "... and its note counts the frame it could not read" \
  grep -q "1 frames not UDP or TCP over IP or of a link type kd does not read" "$ERR"

# A record whose microseconds field says 0xffffffff: read as libpcap reads it (a signed -1 µs) and
# carried into the seconds, never wrapped into a time of another second.
python3 - "$D/flow.pcap" "$TMP/usec.pcap" <<'PY'
import struct, sys
b = bytearray(open(sys.argv[1], "rb").read())
struct.pack_into("<I", b, 24 + 4, 0xffffffff)  # the first record's ts_usec
open(sys.argv[2], "wb").write(b)
PY
t=$("$KD_BIN/kd-decode" "$TMP/usec.pcap" 2>/dev/null | jq -r 'select(.frame == 1) | .time')
check "a record with ts_usec 0xffffffff: -1 µs carried into the seconds" eq "$t" "$((NOW - 1)).999999000"

# A keystore member name with an escape sequence: escaped once, on stderr.
jq -c '.entities[0] += {"\u001b[2Jx": 1}' "$keys" >"$TMP/bad-keys.json" 2>/dev/null ||
  sed 's/"role"/"\\u001b[2Jx":1,"role"/' "$keys" >"$TMP/bad-keys.json"
runx "$KD_BIN/kd-decode" --keys "$TMP/bad-keys.json" "$D/flow.pcap"
check "a keystore member with ESC: exit 3, named once escaped (\\x1b, not \\\\x1b)" \
  eval 'eq "$RC" 3 && grep -qF "unknown member \"\\x1b[2Jx\"" "$ERR" && ! grep -qF "\\\\x1b" "$ERR"'
# A capture cut inside its file header: one message, naming the file once (trial 4), from a file
# and from standard input, for kd-decode and a role tool.
head -c 10 "$D/flow.pcap" >"$TMP/cut-header.pcap"
header_cut() {  # TOOL NAME: the one line TOOL printed for the capture named NAME
  exit_is 3 || return 1
  [ "$(wc -l <"$ERR")" -eq 1 ] || { WHY="stderr: $(cat "$ERR")"; return 1; }
  [[ $(cat "$ERR") == "$1: capture $2: truncated capture file header (truncated dump file; "*")" ]] ||
    { WHY="stderr: $(cat "$ERR")"; return 1; }
  [ "$(grep -o -F -- "$2" "$ERR" | wc -l)" -eq 1 ] || { WHY="the name appears more than once: $(cat "$ERR")"; return 1; }
}
runx "$KD_BIN/kd-decode" "$TMP/cut-header.pcap"
check "kd-decode on a capture cut in its file header: one clear message" header_cut kd-decode "$TMP/cut-header.pcap"
runx "$KD_BIN/kd-proxy" --id sbc1 --keys "$D/w/sbc1-keys.json" --now "$NOW" "$TMP/cut-header.pcap"
check "kd-proxy on a capture cut in its file header: one clear message" header_cut kd-proxy "$TMP/cut-header.pcap"
runx "$KD_BIN/kd-decode" - <"$TMP/cut-header.pcap"
check "kd-decode on standard input cut in its file header: one clear message" header_cut kd-decode "standard input"
size=$(stat -c %s "$D/flow.pcap")
head -c $((size - 10)) "$D/flow.pcap" | runx "$KD_BIN/kd-decode" -
check "kd-decode on standard input cut in a record: the input called standard input, as above" \
  eval 'exit_is 3 && grep -q "^kd-decode: capture standard input: truncated capture record at frame [0-9]* (truncated dump file; " "$ERR"'

finish
