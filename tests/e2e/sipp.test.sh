#!/bin/bash
# A third-party SIP stack: SIPp writes the terminal's first REGISTER (its own Via, branch, tags,
# Call-ID, header order) and sends it over UDP; kd-decode reads the datagram, and kd-proxy accepts it
# and relays s2, as it would a REGISTER from kd-term.
source "$(dirname "$0")/lib.sh"
command -v sipp >/dev/null || { echo "FAIL: sipp is required (Debian: apt-get install sip-tester)"; exit 1; }
command -v python3 >/dev/null || { echo "FAIL: python3 is required"; exit 1; }

W=$TMP/sipp
new_world "$W"
n1=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
printf 'SEQUENTIAL\nKD-AES128GCM-SHA256;%s;%s\n' "$n1" "$NOW" >"$W/fields.csv"

# A one-shot UDP listener on a free port: the first datagram goes to a file.
python3 - "$W" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
open(sys.argv[1] + "/port", "w").write(str(s.getsockname()[1]))
s.settimeout(20)
data, _ = s.recvfrom(65536)
open(sys.argv[1] + "/register.sip", "wb").write(data)
PY
listener=$!
for _ in $(seq 50); do [ -s "$W/port" ] && break; sleep 0.1; done
port=$(cat "$W/port")
(cd "$W" && timeout 20 sipp -sf "$KD_ROOT/tests/e2e/sipp/s1.xml" -inf "$W/fields.csv" -m 1 -i 127.0.0.1 \
   -p 0 -nostdin -trace_err "127.0.0.1:$port" >"$W/sipp.out" 2>&1)
check "sipp: sent the REGISTER" eq "$?" 0
wait $listener
check "sipp: the listener received a datagram" test -s "$W/register.sip"
check "sipp: it is SIPp's own REGISTER" grep -q "SIPpTag00" "$W/register.sip"

runx "$KD_BIN/kd-decode" "$W/register.sip"
check "sipp: kd-decode reads it as s1 in SIP" \
  eq "$(jq -r 'select(.step) | [.binding, .step, .fields.IDc, .fields.N1] | join(" ")' "$OUT")" "sip s1 alice $n1"

hex=$(od -An -v -tx1 "$W/register.sip" | tr -d ' \n')
printf '{"binding":"sip","wire":"%s"}\n' "$hex" >"$W/s1.line"
run proxy "$W/proxy.state" "$W/s1.line" --binding sip
check "sipp: kd-proxy accepts SIPp's REGISTER" eq "$RC" 0
check "sipp: and relays s2 in SIP" eq "$(jq -r '[.binding, .step] | join(" ")' "$OUT")" "sip s2"
run proxy "$W/proxy.state" "$W/s1.line" --binding sip
check "sipp: the same REGISTER again is a replay" eq "$RC:$(grep -o 'replayed_nonce' "$ERR")" "1:replayed_nonce"

finish
