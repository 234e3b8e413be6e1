#!/usr/bin/env bash
# kd-decode and retransmissions (kd-decode(1), OUTPUT; kd-live(7), TRANSACTIONS): a capture of live
# traffic holds datagrams sent again, byte for byte, from the same source to the same destination
# (a client's request on its timer, a server's answer from its cache, a copy the network made).
# kd-decode prints each as a retransmission of its original, never verifies it again (its nonces
# would pass for a replay) and --check passes. A copy that differs in one byte, or the same bytes
# from another port, is a new message: checked, and refused as before (issue 12).
# The captures are a seeded kd-flow registration rewritten here, in python (not kd's capture code).
. "$(dirname "$0")/lib.sh"
[ -x "$KD_BIN/kd-decode" ] || { echo "$KD_BIN/kd-decode is missing: build first"; exit 1; }
for t in python3 tshark jq; do command -v $t >/dev/null || { echo "FAIL: $t is required (scripts/test installs it)"; exit 1; }; done

# rewrite IN OUT MODE [ARG]: IN with each frame followed by a copy of itself 0.4 s later, and
#   MODE same:      nothing else changed
#   MODE extra N:   frame N of IN (1-based) copied once more at the end, 2 s after the last frame
#   MODE byte HEX:  in the copy of frame 1, the first occurrence of HEX (ASCII) has its last digit changed
#   MODE port:      the copy of frame 1 comes from the next UDP source port
#   MODE late S:    the copy of frame 1 comes S seconds after it, not 0.4
# Each copy's UDP checksum is left as is when its bytes are, else set to 0 (none, RFC 768).
rewrite() {
  python3 - "$@" <<'PY'
import struct, sys
src, dst, mode = sys.argv[1:4]
arg = sys.argv[4] if len(sys.argv) > 4 else None
b = open(src, "rb").read()
e = "<" if b[:4] == b"\xd4\xc3\xb2\xa1" else ">"
nano = b[:4] in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
unit = 10**9 if nano else 10**6
frames, at = [], 24
while at + 16 <= len(b):
    sec, frac, incl, orig = struct.unpack_from(e + "IIII", b, at)
    frames.append((sec * unit + frac, b[at + 16:at + 16 + incl]))
    at += 16 + incl
def record(t, data):
    return struct.pack(e + "IIII", t // unit, t % unit, len(data), len(data)) + data
def udp(data):
    assert data[12:14] == b"\x08\x00" and data[14] == 0x45 and data[23] == 17, "Ethernet, IPv4, UDP"
    return bytearray(data)
out = bytearray(b[:24])
for i, (t, data) in enumerate(frames):
    out += record(t, data)
    copy = udp(data)
    if i == 0 and mode == "byte":
        k = copy.index(arg.encode(), 42) + len(arg) - 1
        copy[k] = ord("1") if copy[k] != ord("1") else ord("2")
        copy[40:42] = b"\0\0"
    if i == 0 and mode == "port":
        sport = struct.unpack_from("!H", copy, 34)[0]
        struct.pack_into("!H", copy, 34, sport + 1)
        copy[40:42] = b"\0\0"
    later = int(arg) * unit if i == 0 and mode == "late" else 4 * unit // 10
    out += record(t + later, bytes(copy))
if mode == "extra":
    out += record(frames[-1][0] + 2 * unit, frames[int(arg) - 1][1])
open(dst, "wb").write(out)
PY
}

D=$TMP/run
"$KD_ROOT/scripts/kd-flow" --bin "$KD_BIN" --dir "$D" --binding sip --seed "$SEED" --now "$NOW" \
  --pcap-out "$D/flow.pcap" >/dev/null 2>"$TMP/flow.err"
check "setup: kd-flow records a SIP registration" test -s "$D/flow.pcap"
DEC=("$KD_BIN/kd-decode" --keys "$D/auc-keys.json" --radius-secret-file "$D/radius-secret")
runx "${DEC[@]}" --check "$D/flow.pcap"
check "setup: the original capture passes --check" exit_is 0
N=$(jq -s '[.[] | select(.step)] | length' "$OUT")
STEPS=$(jq -c -s '[.[] | select(.step) | .step]' "$OUT")
A=$(jq -s '[.[] | select(.step == "s4")][0].frame' "$OUT")  # an answer: the AuC's Access-Challenge
check "setup: $N messages, s4 at frame $A" eq "$N $A" "11 4"

# ---- every datagram twice, and an answer three times: --check passes ---------------------------

rewrite "$D/flow.pcap" "$D/dup.pcap" extra "$A"
runx "${DEC[@]}" --check "$D/dup.pcap"
check "duplicated: kd-decode --check passes" exit_is 0
check "duplicated: one registration, completed, no failed check, no error" \
  eq "$(jq -c 'select(.summary) | .summary | [.registrations, .completed, .failed_checks, .errors, .messages, .frames]' "$OUT")" \
  "[1,1,0,0,$N,$((2 * N + 1))]"
check "duplicated: the summary counts $((N + 1)) retransmissions" \
  eq "$(jq -c 'select(.summary) | .summary.retransmissions' "$OUT")" "$((N + 1))"
# The lines expected, from the rewrite alone: frame 2k repeats frame 2k-1, the last frame repeats
# the answer's first frame (2A-1).
want=$(jq -n -c --argjson n "$N" --argjson a "$A" --argjson steps "$STEPS" '
  [range(0; $n) | {frame: (2 * . + 2), retransmission: (2 * . + 1), repeats: $steps[.]}]
  + [{frame: (2 * $n + 1), retransmission: (2 * $a - 1), repeats: "s4"}]')
check "duplicated: a retransmission line for each copy, naming its original and step" \
  eq "$(jq -c -s '[.[] | select(has("retransmission")) | {frame, retransmission, repeats}]' "$OUT")" "$want"
check "duplicated: ... the messages are the originals, frames 1, 3, 5..." \
  eq "$(jq -c -s '[.[] | select(.step) | .frame]' "$OUT")" "$(jq -n -c --argjson n "$N" '[range(0; $n) | 2 * . + 1]')"
check "duplicated: ... a copy's line has its capture details, and no step, fields, checks or error" \
  eq "$(jq -c 'select(.retransmission) | [has("time"), has("src"), has("dst"), .transport, has("step"), has("fields"), has("checks"), has("error")]' "$OUT" | sort -u)" \
  '[true,true,true,"udp",false,false,false,false]'
check "duplicated: ... from the original's source to its destination, in its binding" \
  eq "$(jq -r -s 'map(select(.frame)) | INDEX(.frame | tostring) as $by | [.[] | select(.retransmission)
        | $by[.retransmission | tostring] as $o | (.src == $o.src and .dst == $o.dst and .binding == $o.binding)] | unique | @text' "$OUT")" "[true]"
runx "${DEC[@]}" --check --ladder "$D/dup.pcap"
check "duplicated: --ladder passes and draws the registration completed" grep -q "== alice (proxied): completed" "$OUT"
check "duplicated: ... with an arrow for each copy" eq "$(grep -c 'again)' "$OUT")" "$((N + 1))"
check "duplicated: ... s1's copy drawn from the terminal to the proxy" grep -q "^ *|-* (s1 again) -*>|" "$OUT"
check "duplicated: tshark reads it, no malformed packet" \
  eq "$(tshark -r "$D/dup.pcap" -V 2>/dev/null | grep -ci malformed)/$(tshark -r "$D/dup.pcap" 2>/dev/null | wc -l)" "0/$((2 * N + 1))"

# ---- not a retransmission: still checked, still refused -----------------------------------------

runx "${DEC[@]}" "$D/flow.pcap"
N1=$(jq -r 'select(.step == "s1") | .fields.N1' "$OUT")
check "setup: N1 of s1 is hex" is_hex_len "$N1" 32
if grep -qai "$N1" "$D/flow.pcap"; then hexcase=$N1; else hexcase=${N1^^}; fi
rewrite "$D/flow.pcap" "$D/byte.pcap" byte "$hexcase"
runx "${DEC[@]}" --check "$D/byte.pcap"
check "one byte of N1 changed in s1's copy: --check refuses it" exit_is 1
check "... the copy is a message of its own, s1, not a retransmission" \
  eq "$(jq -c 'select(.frame == 2 and (has("summary") | not)) | [.step, has("retransmission")]' "$OUT")" '["s1",false]'
check "... its N1 differs from the original's" \
  eq "$(jq -r 'select(.frame == 2 and .step == "s1") | .fields.N1 != "'"$N1"'"' "$OUT")" true
check "... the other copies are still retransmissions" \
  eq "$(jq -c 'select(.summary) | .summary.retransmissions' "$OUT")" "$((N - 1))"

rewrite "$D/flow.pcap" "$D/port.pcap" port
runx "${DEC[@]}" --check "$D/port.pcap"
check "s1's bytes again from another source port: --check refuses it" exit_is 1
check "... as a replay of N1" \
  grep -q '"check":"nonce_fresh","ok":false,"detail":"N1 was seen before: a replay"' "$OUT"
check "... at frame 2, a message of its own" \
  eq "$(jq -c 'select(.frame == 2 and (has("summary") | not)) | [.step, has("retransmission")]' "$OUT")" '["s1",false]'

# SIP's window is its client's timeout plus its server's keep (kd-live(7), TIMERS): 32 + 32 s.
rewrite "$D/flow.pcap" "$D/late.pcap" late 64
runx "${DEC[@]}" --check "$D/late.pcap"
check "s1's bytes again 64 s later: still a retransmission" exit_is 0
rewrite "$D/flow.pcap" "$D/late.pcap" late 65
runx "${DEC[@]}" --check "$D/late.pcap"
check "s1's bytes again 65 s later: a replay, refused" exit_is 1
check "... as a replay of N1, at frame 2" \
  eq "$(jq -c 'select(.frame == 2 and (has("summary") | not)) | [.step, (.checks[] | select(.ok | not) | .detail)]' "$OUT")" \
  '["s1","N1 was seen before: a replay"]'

finish
