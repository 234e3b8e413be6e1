#!/bin/bash
# Captures written by tcpdump: a live capture on every interface (Linux cooked v2, as
# `tcpdump -i any` writes it) of a whole SIP registration sent over UDP on the loopback, and
# tcpdump's rewrite of a test-vector capture in both timestamp resolutions. kd-decode must find
# every message of the registration in each, with the same fields as in the vector.
# The live part needs the right to capture (root or CAP_NET_RAW); without it the test reports
# itself skipped (exit 77), never passed.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/live-lib.sh"
command -v tcpdump >/dev/null || { echo "FAIL: tcpdump is required (Debian: apt-get install tcpdump)"; exit 1; }
command -v python3 >/dev/null || { echo "FAIL: python3 is required"; exit 1; }

V=$KD_ROOT/testvectors/pcap/KD-AES128GCM-SHA256-proxied-sip.pcap
D=$TMP/tcpdump
mkdir -p "$D"
# The steps and KD fields of the SIP messages kd-decode finds in a capture, one line per message
# (without the secret it shows the RADIUS link too, which the live part does not send).
fields_of() { "$KD_BIN/kd-decode" "$1" | jq -c 'select(.step and .binding == "sip") | [.step, .fields]'; }
fields_of "$V" >"$D/want"
check "the vector capture holds the 8 SIP messages of a proxied registration" \
  eq "$(jq -r '.[0]' "$D/want" | tr '\n' ' ')" "s1 s2 s5 s6 s7 s8 s9 s10 "

# ---- tcpdump's rewrite of a capture ---------------------------------------------------------------
for precision in micro nano; do
  tcpdump -r "$V" -w "$D/rewrite-$precision.pcap" --time-stamp-precision "$precision" 2>/dev/null
  check "tcpdump -w ($precision): kd-decode finds the same messages" \
    eq "$(fields_of "$D/rewrite-$precision.pcap")" "$(cat "$D/want")"
done

# ---- a live capture on every interface ----------------------------------------------------------
# The payloads of the vector's SIP frames, sent in order to the SIP port on the loopback.
# Addresses of the loopback drawn for this run, so that tests running beside this one (and other
# runs of this one) stay out.
loopback_hosts 2
DST=${HOSTS[0]} SRC=${HOSTS[1]}
tcpdump -i any -U --immediate-mode -n -w "$D/live.pcap" "udp and src host $SRC and dst host $DST" \
  2>"$D/tcpdump.err" &
td=$!
for _ in $(seq 100); do grep -q listening "$D/tcpdump.err" && break; kill -0 $td 2>/dev/null || break; sleep 0.05; done
if ! grep -q listening "$D/tcpdump.err"; then
  wait $td 2>/dev/null
  echo "SKIP: tcpdump cannot capture here: $(head -c 200 "$D/tcpdump.err")"
  [ "$FAILED" -eq 0 ] && exit 77
  finish
  exit 1
fi
python3 - "$V" "$D/live.pcap" "$SRC" "$DST" <<'PY'
import os, socket, struct, sys, time
data = open(sys.argv[1], "rb").read()
off, payloads = 24, []
while off + 16 <= len(data):
    incl = struct.unpack("<I", data[off + 8:off + 12])[0]
    frame = data[off + 16:off + 16 + incl]
    if struct.unpack(">H", frame[36:38])[0] == 5060:  # the SIP messages, not the RADIUS link
        payloads.append(frame[14 + 20 + 8:])  # Ethernet, IPv4 without options, UDP
    off += 16 + incl
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[3], 0))
# tcpdump says it listens a little before its filter is in place: probe (to a port kd-decode does
# not read) until a probe is in the file.
for _ in range(100):
    s.sendto(b"probe", (sys.argv[4], 5061))
    time.sleep(0.05)
    if os.path.getsize(sys.argv[2]) > 24:
        break
for p in payloads:
    s.sendto(p, (sys.argv[4], 5060))
    time.sleep(0.01)
PY
sleep 0.5
kill -INT $td
wait $td 2>/dev/null
check "tcpdump -i any writes Linux cooked v2 (SLL2)" eq "$(od -An -j20 -N4 -tu4 "$D/live.pcap" | tr -d ' ')" 276
runx "$KD_BIN/kd-decode" "$D/live.pcap"
check "tcpdump -i any: kd-decode finds the same messages" \
  eq "$(jq -c 'select(.step) | [.step, .fields]' "$OUT")" "$(cat "$D/want")"
check "tcpdump -i any: they come from the loopback over UDP" \
  eq "$(jq -r 'select(.step) | [.src, .dst, .transport] | join(" ")' "$OUT" | sort -u | sed 's/:[0-9]* / /' )" "$SRC $DST:5060 udp"
finish
