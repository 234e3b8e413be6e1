#!/usr/bin/env bash
# kd-decode and provisional answers (kd-decode(1), OUTPUT; kd-protocol(7), BINDINGS): a captured
# MGCP "100", H.248 TransactionPending or H.225.0 RequestInProgress is a transport message of its
# binding, no step: kd-decode prints a line of its own for it (what it is, the transaction it
# names, the step of the request it answers, RAS's delay), counts it apart from the skipped frames,
# draws it in --ladder, and --check still passes. The capture is a seeded kd-flow registration with
# two provisional answers added by the test (from the standard's byte forms, written here): the
# proxy's to the terminal's s1 and the switch's to the proxy's s2, each right after its request.
. "$(dirname "$0")/lib.sh"
[ -x "$KD_BIN/kd-decode" ] || { echo "$KD_BIN/kd-decode is missing: build first"; exit 1; }
for t in python3 tshark; do command -v $t >/dev/null || { echo "FAIL: $t is required (scripts/test installs it)"; exit 1; }; done

# add_provisional BINDING IN OUT: IN with, after each of its first two frames (s1, s2), that
# request's provisional answer from its recipient (addresses and ports swapped). Prints the two
# transaction ids.
add_provisional() {
  python3 - "$@" <<'PY'
import re, struct, sys
binding, src, dst = sys.argv[1:4]
b = open(src, "rb").read()
e = "<" if b[:4] == b"\xd4\xc3\xb2\xa1" else ">"
frames, at = [], 24
while at + 16 <= len(b):
    sec, frac, incl, orig = struct.unpack_from(e + "IIII", b, at)
    frames.append((sec, frac, b[at + 16:at + 16 + incl]))
    at += 16 + incl
def checksum(h):
    s = sum(struct.unpack("!10H", h))
    s = (s & 0xffff) + (s >> 16); s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
def answer(frame, payload):
    eth, ip = frame[:14], frame[14:34]
    assert eth[12:14] == b"\x08\x00" and ip[0] == 0x45 and ip[9] == 17, "Ethernet, IPv4, UDP"
    sport, dport = struct.unpack("!HH", frame[34:38])
    udp = struct.pack("!HHHH", dport, sport, 8 + len(payload), 0)
    h = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp) + len(payload), 0, 0x4000, 64, 17, 0,
                              ip[16:20], ip[12:16]))
    struct.pack_into("!H", h, 10, checksum(bytes(h)))
    return eth[6:12] + eth[0:6] + eth[12:14] + bytes(h) + udp + payload
tids = []
out = bytearray(b[:24])
for i, (sec, frac, data) in enumerate(frames):
    out += struct.pack(e + "IIII", sec, frac, len(data), len(data)) + data
    if i > 1:
        continue
    request = data[42:]
    if binding == "mgcp":  # RFC 3435 3.5.6: "100 <tid> executing"
        tid = int(request.split(b"\r\n")[0].split()[1])
        payload = b"100 %d executing\r\n" % tid
    elif binding == "h248":  # H.248.1 Annex D.1.4: TransactionPending from the responder's mId
        tid = int(re.search(rb"\r\nTransaction = (\d+) \{\r\n", request).group(1))
        payload = b"MEGACO/1 <%s>:2944\r\nPending = %d {\r\n}\r\n" % ([b"sbc1", b"ss1"][i], tid)
    else:  # H.225.0 RequestInProgress: 80 05 00, requestSeqNum - 1, delay - 1 (9000 ms)
        tid = (request[2] << 8 | request[3]) + 1
        payload = bytes([0x80, 0x05, 0x00, request[2], request[3], 0x23, 0x27])
    tids.append(tid)
    out += struct.pack(e + "IIII", sec, frac, 0, 0)  # the lengths, once the frame is built
    frame = answer(data, payload)
    struct.pack_into(e + "II", out, len(out) - 8, len(frame), len(frame))
    out += frame
open(dst, "wb").write(out)
print(*tids)
PY
}

declare -A ELEMENT=([mgcp]=100 [h248]=TransactionPending [h323]=RequestInProgress)
declare -A LABEL=([mgcp]=100 [h248]=Pending [h323]=RIP)
declare -A TSHARK=([mgcp]=mgcp [h248]=megaco [h323]=h225)

for b in mgcp h248 h323; do
  D=$TMP/$b
  "$KD_ROOT/scripts/kd-flow" --bin "$KD_BIN" --dir "$D" --binding "$b" --seed "$SEED" --now "$NOW" \
    --pcap-out "$D/flow.pcap" >/dev/null 2>"$TMP/flow.err"
  check "$b: kd-flow records a registration" test -s "$D/flow.pcap"
  read -r T1 T2 < <(add_provisional "$b" "$D/flow.pcap" "$D/prov.pcap")
  check "$b: the test wrote two provisional answers" test -n "${T2:-}"
  runx "$KD_BIN/kd-decode" --check --keys "$D/auc-keys.json" --radius-secret-file "$D/radius-secret" "$D/prov.pcap"
  check "$b: kd-decode --check passes" exit_is 0
  check "$b: one registration, completed, nothing skipped, two provisional answers" \
    eq "$(jq -c 'select(.summary) | .summary | [.registrations, .completed, .failed_checks, .skipped, .provisional, .frames]' "$OUT")" \
    "[1,1,0,0,2,13]"
  delay=null
  [ "$b" = h323 ] && delay=9000
  want=$(jq -n -c --arg b "$b" --arg e "${ELEMENT[$b]}" --argjson t1 "$T1" --argjson t2 "$T2" --argjson d "$delay" '
    [{frame: 2, binding: $b, provisional: $e, transaction: $t1, answers: "s1", delay_ms: $d},
     {frame: 4, binding: $b, provisional: $e, transaction: $t2, answers: "s2", delay_ms: $d}]')
  check "$b: a line for each: its frame, what it is, the transaction, the request it answers" \
    eq "$(jq -c -s '[.[] | select(.provisional) | {frame, binding, provisional, transaction, answers, delay_ms}]' "$OUT")" "$want"
  check "$b: ... from the request's recipient back to its sender" \
    eq "$(jq -r -s '[.[] | select(.frame == 1 or .frame == 2)] | "\(.[0].src) \(.[0].dst) \(.[1].dst) \(.[1].src) \(.[1].transport)"' "$OUT" |
          awk '{ print ($1 == $3 && $2 == $4) ? "swapped " $5 : "not " $0 }')" "swapped udp"
  check "$b: ... and no step, error or check in it" \
    eq "$(jq -c 'select(.provisional) | [has("step"), has("error"), has("checks"), has("fields")]' "$OUT" | sort -u)" "[false,false,false,false]"
  runx "$KD_BIN/kd-decode" --ladder --keys "$D/auc-keys.json" --radius-secret-file "$D/radius-secret" "$D/prov.pcap"
  check "$b: --ladder draws the proxy's answer to s1 back to the terminal" grep -q "^ *|<-* (s1) ${LABEL[$b]} -*|" "$OUT"
  check "$b: ... and the switch's to s2 back to the proxy" grep -q "^ *| *|<-* (s2) ${LABEL[$b]} -*|" "$OUT"
  check "$b: ... the registration completed" grep -q "== alice (proxied): completed" "$OUT"
  if [ "$b" = mgcp ]; then
    # Without its request in the capture: no "answers", and a note in the ladder.
    python3 - "$D/prov.pcap" "$D/alone.pcap" <<'PY'
import struct, sys
b = open(sys.argv[1], "rb").read()
e = "<" if b[:4] == b"\xd4\xc3\xb2\xa1" else ">"
incl = struct.unpack_from(e + "I", b, 24 + 8)[0]
open(sys.argv[2], "wb").write(b[:24] + b[24 + 16 + incl:])  # all but the first frame (s1)
PY
    runx "$KD_BIN/kd-decode" "$D/alone.pcap"
    check "$b: a provisional answer whose request is not in the capture: no \"answers\"" \
      eq "$(jq -c 'select(.provisional) | [.frame, .transaction, has("answers")]' "$OUT" | head -n 1)" "[1,$T1,false]"
    runx "$KD_BIN/kd-decode" --ladder "$D/alone.pcap"
    check "$b: ... a note in the ladder" grep -q "^    ~ frame 1: 100 (provisional)$" "$OUT"
  fi
  n=$(tshark -r "$D/prov.pcap" -V 2>/dev/null | grep -ci malformed)
  check "$b: tshark finds no malformed packet" eq "$n" 0
  check "$b: tshark dissects 10 packets as ${TSHARK[$b]} (8 steps, 2 provisional)" \
    eq "$(tshark -r "$D/prov.pcap" -Y "${TSHARK[$b]}" 2>/dev/null | wc -l)" 10
done

finish
