#!/bin/bash
# What the capture reader gives up is reported, by kd-decode and by the role tools alike: an IP
# datagram whose fragments never all came, a TCP hole, a SIP header block over 64 KiB, a
# Content-Length that is not a number (issue 10 item 11).
source "$(dirname "$0")/lib.sh"
[ -x "$KD_BIN/kd-decode" ] || { echo "$KD_BIN/kd-decode is missing: build first"; exit 1; }
command -v python3 >/dev/null || { echo "FAIL: python3 is required"; exit 1; }

# A capture built by python (not by kd's writer): Ethernet, IPv4, then UDP or TCP to port 5060.
python3 - "$TMP/lossy.pcap" <<'PY'
import struct, sys
def ip(proto, payload, ident=1, frag=0):
    return struct.pack('>BBHHHBBH4s4s', 0x45, 0, 20 + len(payload), ident, frag, 64, proto, 0,
                       bytes([192, 0, 2, 10]), bytes([192, 0, 2, 20])) + payload
def eth(p): return b'\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x08\x00' + p
def tcp(sport, seq, flags, data=b''):
    return struct.pack('>HHIIBBHHH', sport, 5060, seq, 0, 0x50, flags, 65535, 0, 0) + data
SYN, ACK = 2, 16
frames = [
    # the first fragment of a UDP datagram whose second fragment never comes
    eth(ip(17, struct.pack('>HHHH', 5060, 5060, 8 + 64, 0) + b'R' * 32, ident=7, frag=0x2000)),
    # a stream with a hole: the data after the first 50 bytes, which were never captured
    eth(ip(6, tcp(40000, 1000, SYN))),
    eth(ip(6, tcp(40000, 1001 + 50, ACK, b'REGISTER sip:ss1 SIP/2.0\r\nContent-Length: 0\r\n\r\n'))),
    # a Content-Length that is not a number
    eth(ip(6, tcp(40001, 5000, SYN))),
    eth(ip(6, tcp(40001, 5001, ACK, b'REGISTER sip:ss1 SIP/2.0\r\nContent-Length: abc\r\n\r\n'))),
    # a header block that never ends within 64 KiB
    eth(ip(6, tcp(40002, 9000, SYN))),
    eth(ip(6, tcp(40002, 9001, ACK, b'REGISTER sip:ss1 SIP/2.0\r\nX: ' + b'x' * 64000))),
    eth(ip(6, tcp(40002, 9001 + 64029, ACK, b'y' * 2000))),
]
out = struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 262144, 1)
for i, f in enumerate(frames):
    out += struct.pack('<IIII', 1700000000, i, len(f), len(f)) + f
open(sys.argv[1], 'wb').write(out)
PY
check "setup: the lossy capture is written" test -s "$TMP/lossy.pcap"

names_losses() {  # FILE: the note names each loss with its count
  local want
  for want in "1 IP datagram never reassembled" "1 TCP hole given up" "2 TCP stream framing errors"; do
    grep -q "$want" "$1" || { WHY="no '$want' in: $(head -c 400 "$1")"; return 1; }
  done
}

runx "$KD_BIN/kd-decode" "$TMP/lossy.pcap"
check "losses-decode: kd-decode exits 0" exit_is 0
check "losses-decode: a note on stderr names the counts" names_losses "$ERR"
check "losses-decode: the note is kd-decode's and names the input" \
  grep -q "^kd-decode: note: $TMP/lossy.pcap: " "$ERR"

W=$TMP/w
new_world "$W" >/dev/null 2>&1
XPROXY=(--binding sip)
run proxy "$W/proxy.state" "$TMP/lossy.pcap"
check "losses-role: kd-proxy exits 0" exit_is 0
check "losses-role: its note names the counts" names_losses "$ERR"

# A capture that loses nothing gets no loss note.
"$KD_ROOT/scripts/kd-flow" --bin "$KD_BIN" --dir "$TMP/run" --binding sip --seed "$SEED" --now "$NOW" \
  --pcap-out "$TMP/run/flow.pcap" >/dev/null 2>&1
runx "$KD_BIN/kd-decode" --radius-secret-file "$TMP/run/radius-secret" "$TMP/run/flow.pcap"
check "losses-none: a clean capture prints nothing on stderr" eq "$(wc -c <"$ERR")" 0

finish
