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

# ---- SIPp's transaction through the proxy, the switch and back -------------------------------
# SIPp sends its REGISTER to a relay socket and waits for the 407. kd-proxy forwards s2 with its own
# Via above SIPp's, kd-switch answers s5 echoing that transaction, and kd-proxy takes its Via off
# and sends s6 back: SIPp ends its scenario only if the 407 is the answer to its own REGISTER.
W=$TMP/sipp-407
new_world "$W"
printf 'SEQUENTIAL\nKD-AES128GCM-SHA256;%s;%s\n' "$n1" "$NOW" >"$W/fields.csv"
python3 - "$W" <<'PY2' &
import os, socket, sys, time
w = sys.argv[1]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
open(w + "/port", "w").write(str(s.getsockname()[1]))
s.settimeout(20)
data, peer = s.recvfrom(65536)
open(w + "/register.sip", "wb").write(data)
for _ in range(400):  # the reply is written by the test once the roles have run
    if os.path.exists(w + "/reply.ready"):
        s.sendto(open(w + "/reply.sip", "rb").read(), peer)
        break
    time.sleep(0.05)
PY2
relay=$!
for _ in $(seq 50); do [ -s "$W/port" ] && break; sleep 0.1; done
port=$(cat "$W/port")
(cd "$W" && timeout 30 sipp -sf "$KD_ROOT/tests/e2e/sipp/s1-challenge.xml" -inf "$W/fields.csv" -m 1 \
   -i 127.0.0.1 -p 0 -nostdin -trace_err "127.0.0.1:$port" >"$W/sipp.out" 2>&1) &
sipp_pid=$!
for _ in $(seq 100); do [ -s "$W/register.sip" ] && break; sleep 0.1; done
check "sipp-407: the relay received SIPp's REGISTER" test -s "$W/register.sip"
hex=$(od -An -v -tx1 "$W/register.sip" | tr -d ' \n')
printf '{"binding":"sip","wire":"%s"}\n' "$hex" >"$W/s1.line"
wire_of() {  # FILE: the wire bytes of its first line, a wire line
  python3 -c 'import json, sys; sys.stdout.buffer.write(bytes.fromhex(json.loads(open(sys.argv[1]).readline())["wire"]))' "$1"
}
run proxy "$W/proxy.state" "$W/s1.line" --binding sip
cp "$OUT" "$W/s2.line"
wire_of "$W/s2.line" >"$W/s2.sip"
sipp_via=$(grep -i '^Via:' "$W/register.sip" | tr -d '\r')
check "sipp-407: s2 carries the proxy's Via above SIPp's" \
  eq "$(grep -i '^Via:' "$W/s2.sip" | tr -d '\r' | sed -n 2p):$(grep -ci '^Via:' "$W/s2.sip")" "$sipp_via:2"
check "sipp-407: s2 keeps SIPp's Call-ID" \
  eq "$(grep -i '^Call-ID:' "$W/s2.sip" | tr -d '\r')" "$(grep -i '^Call-ID:' "$W/register.sip" | tr -d '\r')"
check "sipp-407: s2 counts down Max-Forwards" eq "$(grep -i '^Max-Forwards:' "$W/s2.sip" | tr -d '\r')" "Max-Forwards: 69"
run switch "$W/switch.state" "$W/s2.line" --binding sip --auc-link json
cp "$OUT" "$W/s3.line"
check "sipp-407: the switch keeps s2 for its answer" eq "$(jq -r '.requests | length' "$W/switch.state")" 1
run auc "$W/auc.state" "$W/s3.line"
jq -c 'select(.step == "s4")' "$OUT" >"$W/s4.line"
run switch "$W/switch.state" "$W/s4.line" --binding sip --auc-link json
cp "$OUT" "$W/s5.line"
wire_of "$W/s5.line" >"$W/s5.sip"
check "sipp-407: s5 answers the proxy's Via and SIPp's, in order" \
  eq "$(grep -i '^Via:' "$W/s5.sip" | tr -d '\r')" "$(grep -i '^Via:' "$W/s2.sip" | tr -d '\r')"
run proxy "$W/proxy.state" "$W/s5.line" --binding sip
wire_of "$OUT" >"$W/reply.sip"
check "sipp-407: s6 is a 407 with SIPp's Via alone" \
  eq "$(head -1 "$W/reply.sip" | tr -d '\r'):$(grep -i '^Via:' "$W/reply.sip" | tr -d '\r')" \
     "SIP/2.0 407 Proxy Authentication Required:$sipp_via"
touch "$W/reply.ready"
wait $sipp_pid
check "sipp-407: SIPp takes the 407 as the answer to its REGISTER" eq "$?" 0
wait $relay

finish
