#!/bin/bash
# One ladder: kd-decode draws it (text and SVG alike: identities, no empty proxy column in the direct
# flow, failures, events and results) and kd-flow --ladder draws the same; text from the input is
# escaped before it reaches the terminal or the SVG; an empty ladder says so; the frames that
# successive runs append to one --pcap-out never go back in time (issue 10 items 6 and 19).
source "$(dirname "$0")/lib.sh"
[ -x "$KD_BIN/kd-decode" ] || { echo "$KD_BIN/kd-decode is missing: build first"; exit 1; }
command -v python3 >/dev/null || { echo "FAIL: python3 is required"; exit 1; }
FLOW=$KD_ROOT/scripts/kd-flow

for f in proxied direct; do
  "$FLOW" --bin "$KD_BIN" --dir "$TMP/$f" --binding sip --flow "$f" --seed "$SEED" --now "$NOW" \
    --pcap-out "$TMP/$f/flow.pcap" >"$TMP/$f.out" 2>/dev/null
  check "$f-setup: kd-flow records a registration" test -s "$TMP/$f/flow.pcap"
done
SECRET=(--radius-secret-file "$TMP/proxied/radius-secret")

# ---- the layout --------------------------------------------------------------------------------

runx "$KD_BIN/kd-decode" --ladder --radius-secret-file "$TMP/direct/radius-secret" "$TMP/direct/flow.pcap"
check "ladder-direct: the header names the parties, without a proxy column" \
  eq "$(head -1 "$OUT" | tr -s ' ')" " term(alice) switch(ss1) auc"
check "ladder-direct: 7 arrows, each labelled with its step and SIP or RADIUS name" \
  eq "$(grep -cE '\|-+ d[1-7] [A-Za-z0-9 -]+-*>\||\|<-+ d[1-7] [A-Za-z0-9 -]+-+\|' "$OUT")" 7
check "ladder-direct: three columns: the widest row has three bars" \
  eq "$(awk '{ n = gsub(/\|/, "|"); if (n > m) m = n } END { print m }' "$OUT")" 3
check "ladder-direct: the result" grep -q "== alice (direct): completed" "$OUT"
runx "$KD_BIN/kd-decode" --ladder "${SECRET[@]}" "$TMP/proxied/flow.pcap"
check "ladder-proxied: the header names the parties" \
  eq "$(head -1 "$OUT" | tr -s ' ')" " term(alice) proxy(sbc1) switch auc"

# ---- kd-flow draws kd-decode's ladder ------------------------------------------------------------

for f in proxied direct; do
  "$FLOW" --bin "$KD_BIN" --binding sip --flow "$f" --seed "$SEED" --now "$NOW" --ladder >"$TMP/flow-ladder" 2>/dev/null
  sed '1,/^$/d' "$TMP/flow-ladder" >"$TMP/flow-ladder.drawn"   # what follows the blank line
  jq -c 'select(.step or .event)' "$TMP/$f.out" >"$TMP/$f.transcript"
  "$KD_BIN/kd-decode" --ladder --radius-secret-file "$TMP/$f/radius-secret" "$TMP/$f.transcript" >"$TMP/decode-ladder"
  check "flow-ladder-$f: kd-flow --ladder draws what kd-decode --ladder draws of its transcript" \
    same_file "$TMP/flow-ladder.drawn" "$TMP/decode-ladder"
  check "flow-ladder-$f: with the wire names" grep -q " REGISTER " "$TMP/flow-ladder.drawn"
  check "flow-ladder-$f: with the tools' events" grep -q "^ *|  \* registered tls$" "$TMP/flow-ladder.drawn"
  check "flow-ladder-$f: and the result" grep -q "== alice ($f): completed" "$TMP/flow-ladder.drawn"
done
# A refused message: the refusing tool's mark, under its column (the switch, second in the direct flow).
"$FLOW" --bin "$KD_BIN" --flow direct --seed "$SEED" --now "$NOW" --support ipsec-ike --ladder >"$TMP/refused" 2>/dev/null
check "flow-ladder-refused: X and the code under the switch's column" \
  grep -qE "^ {8}\| {21}\|  X no_acceptable_mechanism" "$TMP/refused"
check "flow-ladder-refused: the registration stops at d5" grep -q "== alice (direct): stopped at d5" "$TMP/refused"

# ---- the SVG draws what the text draws ----------------------------------------------------------

pcap_later "$TMP/proxied/flow.pcap" "$TMP/proxied/later.pcap" 100  # a replay, not retransmissions
runx "$KD_BIN/kd-decode" --ladder-svg "$TMP/l.svg" "${SECRET[@]}" "$TMP/proxied/flow.pcap" "$TMP/proxied/later.pcap"
svg_texts() {  # SVG: every text element's content, one a line
  python3 -c 'import sys,xml.etree.ElementTree as E
for t in E.parse(sys.argv[1]).getroot().iter("{http://www.w3.org/2000/svg}text"): print(t.text)' "$1"
}
svg_texts "$TMP/l.svg" >"$TMP/l.texts" 2>&1
check "svg: parses as XML" test -s "$TMP/l.texts"
check "svg: names the parties" grep -q "^proxy(sbc1)$" "$TMP/l.texts"
check "svg: draws the failed checks of the replayed capture" grep -q "^! nonce_fresh: N1 was seen before" "$TMP/l.texts"
check "svg: draws the results" eq "$(grep -c '^== alice (proxied): ' "$TMP/l.texts")" 2
jq -c 'select(.step or .event)' "$TMP/proxied.out" >"$TMP/t.jsonl"
runx "$KD_BIN/kd-decode" --ladder-svg "$TMP/t.svg" "${SECRET[@]}" "$TMP/t.jsonl"
svg_texts "$TMP/t.svg" >"$TMP/t.texts" 2>&1
check "svg: draws the tools' events" grep -q "^\* registered tls$" "$TMP/t.texts"

# ---- an empty ladder ------------------------------------------------------------------------------

runx "$KD_BIN/kd-decode" --ladder --ladder-svg "$TMP/empty.svg" /dev/null
check "ladder-empty: says there was no KD message" grep -q "(no KD message in the input)" "$OUT"
svg_texts "$TMP/empty.svg" >"$TMP/empty.texts" 2>&1
check "ladder-empty: and so does the SVG" grep -q "(no KD message in the input)" "$TMP/empty.texts"

# ---- text from the input is escaped ---------------------------------------------------------------

jq -c 'select(.step == "s1") | .step = "\u001b[31m\nkd-term: error: fake"' "$TMP/proxied.out" >"$TMP/bad.jsonl"
printf '%s\n' '{"binding":"\u001b]0;title\u0007\nkd-term: fake","wire":"00"}' >>"$TMP/bad.jsonl"
runx "$KD_BIN/kd-decode" --ladder --ladder-svg "$TMP/bad.svg" "$TMP/bad.jsonl"
no_raw() {  # FILE: no ESC or BEL byte, no line that passes for a tool's
  ! grep -q $'[\x1b\x07]' "$1" || { WHY="a raw control character in $1"; return 1; }
  ! grep -q '^kd-term:' "$1" || { WHY="a forged line in $1: $(grep '^kd-term:' "$1")"; return 1; }
}
check "escape-ladder: no raw control character, no forged line" no_raw "$OUT"
check "escape-ladder: the two errors, one line each" eq "$(grep -c '! frame [12]: malformed: ' "$OUT")" 2
check "escape-ladder: the step hint is shown escaped" grep -qF 'step \x1b[31m\nkd-term: error: fake' "$OUT"
svg_texts "$TMP/bad.svg" >"$TMP/bad.texts" 2>&1
check "escape-svg: the SVG parses as XML" grep -q "^! frame 1: malformed" "$TMP/bad.texts"
check "escape-svg: with the text escaped" grep -qF '\x1b]0;title\x07\nkd-term: fake' "$TMP/bad.texts"
runx "$KD_BIN/kd-decode" $'/no/such\nkd-term: error: fake\x1b[2J'
check "escape-stderr: a file error is one line" eq "$(wc -l <"$ERR")" 1
check "escape-stderr: with the name escaped" no_raw "$ERR"
odd=$TMP/$'secret\nkd-term: error: fake'
printf 'x\n' >"$odd" && chmod 644 "$odd"
runx "$KD_BIN/kd-decode" --radius-secret-file "$odd" /dev/null
check "escape-stderr: the warning about an open secret file is one line" eq "$(wc -l <"$ERR")" 1
check "escape-stderr: with the name escaped" no_raw "$ERR"

# ---- --pcap-out never goes back in time ------------------------------------------------------------

times() {  # PCAP: the records' timestamps in nanoseconds, one a line (python: not kd's reader)
  python3 - "$1" <<'PY'
import struct, sys
b = open(sys.argv[1], 'rb').read()
e = '<' if b[:4] in (b'\xd4\xc3\xb2\xa1', b'\x4d\x3c\xb2\xa1') else '>'
nano = b[:4] in (b'\x4d\x3c\xb2\xa1', b'\xa1\xb2\x3c\x4d')
at = 24
while at + 16 <= len(b):
    sec, frac, incl, _ = struct.unpack_from(e + 'IIII', b, at)
    print(sec * 10**9 + frac * (1 if nano else 1000))
    at += 16 + incl
PY
}
increasing() {  # PCAP: each record later than the one before
  local prev=-1 t n=0
  while read -r t; do
    n=$((n + 1))
    [ "$t" -gt "$prev" ] || { WHY="record $n at $t ns, not after $prev"; return 1; }
    prev=$t
  done < <(times "$1")
  [ $n -gt 1 ] || { WHY="$n records"; return 1; }
}
check "pcap-out-order: kd-flow's capture (one run per tool, one --now) goes forward" increasing "$TMP/proxied/flow.pcap"
W=$TMP/w
new_world "$W" >/dev/null 2>&1
XTERM=(--binding sip)
for i in 1 2 3; do
  rm -f "$W/term.state"
  run term "$W/term.state" "" start --id "$TERM_ID" --via "$PROXY_ID" --switch "$SWITCH_ID" --pcap-out "$W/t.pcap"
done
check "pcap-out-order: three runs with the same --now append frames that go forward" increasing "$W/t.pcap"
check "pcap-out-order: the first frame keeps the clock's time" eq "$(times "$W/t.pcap" | sed -n 1p)" "$((NOW * 1000000000 + 1000))"

finish
