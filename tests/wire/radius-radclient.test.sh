#!/bin/bash
# A third-party RADIUS stack writes packets kd reads: radclient (FreeRADIUS) loads kd's dictionary
# (scripts/radius/dictionary.kd) on top of FreeRADIUS's own, sends an s3 Access-Request built from
# the KD attribute names with a Message-Authenticator it computes, a tiny UDP listener catches the
# datagram, and kd's codec (the gtest RadiusExternal.DecodesAPacketFromAnotherStack) decodes it.
# The other way round, radsniff (FreeRADIUS) reads kd's captures of complete registrations with the
# same dictionary and must find every KD attribute, and undo the hiding of KD-Authenticator-C to a
# value of the suite's auth_len (16, 24, 16 bytes) under the right secret and not under another.
# Usage: radius-radclient.test.sh KD-WIRE-TESTS WORKDIR KD-WIRE-CAPTURE
set -u
tests_bin=$1
work=$2
capture_tool=$3
here=$(cd "$(dirname "$0")" && pwd)
dictionary=$here/../../scripts/radius/dictionary.kd

if ! command -v radclient >/dev/null 2>&1; then
  echo "FAIL: radclient is not installed; this test needs it (Debian: apt-get install freeradius-utils)" >&2
  exit 1
fi
if ! command -v radsniff >/dev/null 2>&1; then
  echo "FAIL: radsniff is not installed; this test needs it (Debian: apt-get install freeradius-utils)" >&2
  exit 1
fi
if ! command -v python3 >/dev/null 2>&1; then
  echo "FAIL: python3 is not installed; this test needs it for its UDP listener" >&2
  exit 1
fi
main_dict=/usr/share/freeradius/dictionary
[ -r "$main_dict" ] || { echo "FAIL: $main_dict is missing (freeradius-common)" >&2; exit 1; }
[ -r "$dictionary" ] || { echo "FAIL: $dictionary is missing" >&2; exit 1; }

rm -rf "$work" && mkdir -p "$work/raddb" || exit 1
# shellcheck disable=SC2016  # $INCLUDE is dictionary syntax, not a shell expansion
printf '$INCLUDE %s\n$INCLUDE %s\n' "$main_dict" "$dictionary" >"$work/raddb/dictionary"
secret=kd-radclient-secret
printf '%s\n' "$secret" >"$work/secret"
cat >"$work/request" <<'REQ'
User-Name = "carol+2@example.org"
NAS-Identifier = "ss9.example.net"
Service-Type = Authenticate-Only
KD-Suite = "KD-AES256GCM-SHA384"
KD-IDsp = "sbc7.example.net"
Message-Authenticator = 0x00
REQ

# The listener: binds an ephemeral port on 127.0.0.1, publishes it, writes the first datagram.
cat >"$work/listen.py" <<'PY'
import os, socket, sys
port_file, packet_file = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
with open(port_file + ".tmp", "w") as f:
    f.write(str(s.getsockname()[1]))
os.rename(port_file + ".tmp", port_file)
s.settimeout(20)
try:
    data, _ = s.recvfrom(65536)
except socket.timeout:
    sys.exit("listener: no datagram within 20 s")
with open(packet_file + ".tmp", "wb") as f:
    f.write(data)
os.rename(packet_file + ".tmp", packet_file)
PY
python3 "$work/listen.py" "$work/port" "$work/packet" 2>"$work/listener.err" &
listener=$!
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.1; done
if [ ! -s "$work/port" ]; then
  echo "FAIL: the UDP listener did not start:" >&2
  cat "$work/listener.err" >&2
  kill "$listener" 2>/dev/null
  exit 1
fi
port=$(cat "$work/port")

# No server answers: radclient sends once, waits a second and gives up (its exit status is 1 then).
radclient -d "$work/raddb" -S "$work/secret" -r 1 -t 1 -f "$work/request" "127.0.0.1:$port" auth \
  >"$work/radclient.out" 2>&1
wait "$listener"
if [ ! -s "$work/packet" ]; then
  echo "FAIL: radclient sent nothing (does the dictionary load?):" >&2
  cat "$work/radclient.out" "$work/listener.err" >&2
  exit 1
fi
if ! grep -q 'Sent Access-Request' "$work/radclient.out"; then
  echo "FAIL: radclient did not report sending an Access-Request:" >&2
  cat "$work/radclient.out" >&2
  exit 1
fi

KD_RADIUS_PACKET=$work/packet KD_RADIUS_SECRET=$secret \
  "$tests_bin" --gtest_filter=RadiusExternal.DecodesAPacketFromAnotherStack --gtest_brief=1 \
  >"$work/decode.out" 2>&1
status=$?
if [ $status != 0 ] || grep -q SKIPPED "$work/decode.out"; then
  echo "FAIL: kd does not decode radclient's Access-Request:" >&2
  cat "$work/decode.out" >&2
  exit 1
fi
echo "ok: radclient built an s3 Access-Request ($(stat -c %s "$work/packet") bytes) from dictionary.kd; kd decodes and verifies it"

# kd's packets through FreeRADIUS's decoder.
"$capture_tool" radius "$work" "$secret" || { echo "FAIL: $capture_tool could not write the captures" >&2; exit 1; }
status=0
for flow in proxied direct; do
  pcap=$work/radius-$flow.pcap
  registrar=KD-IDsp
  [ $flow = direct ] && registrar=KD-IDss
  radsniff -I "$pcap" -s "$secret" -d "$work/raddb" -x >"$work/radsniff-$flow.out" 2>&1
  out=$work/radsniff-$flow.out
  packets=$(grep -c -E '\) (Access-Request|Access-Challenge|Accounting-Request) Id' "$out")
  suites=$(grep -c 'KD-Suite = "KD-' "$out")
  ids=$(grep -c "$registrar = \"" "$out")
  lengths=$(sed -n 's/.*KD-Authenticator-C = 0x\([0-9a-f]*\)$/\1/p' "$out" | awk '{ printf "%d ", length($0) / 2 }')
  if [ "$packets" != 9 ] || [ "$suites" != 9 ] || [ "$ids" != 9 ]; then
    echo "FAIL: $flow: radsniff decodes $packets packets, $suites with KD-Suite, $ids with $registrar (want 9 each):" >&2
    cat "$out" >&2
    status=1
  fi
  if [ "$lengths" != "16 24 16 " ]; then
    echo "FAIL: $flow: radsniff unhides KD-Authenticator-C to lengths \"$lengths\", want \"16 24 16 \"" >&2
    status=1
  fi
  wrong=$(radsniff -I "$pcap" -s not-the-secret -d "$work/raddb" -x 2>&1 |
          sed -n 's/.*KD-Authenticator-C = 0x\([0-9a-f]*\)$/\1/p' | awk '{ printf "%d ", length($0) / 2 }')
  if [ "$wrong" = "16 24 16 " ]; then
    echo "FAIL: $flow: radsniff unhides KD-Authenticator-C under a wrong secret too; the check is not live" >&2
    status=1
  fi
  [ $status = 0 ] && echo "ok: $flow: radsniff decodes kd's 9 packets and unhides KD-Authenticator-C (16, 24, 16 bytes)"
done
# The exact value: the known-answer s3 and s4 of radius_test.cpp (secret kd-kat-secret,
# Authenticator_c a0a1..af), framed into a pcap; radsniff must unhide exactly that.
python3 - "$work/kat.pcap" <<'PY'
import struct, sys
s3 = bytes.fromhex("0100008405894a4ec163014c0f38fab50180b02050126e35487a93ea477855596605abebeaf30113616c696365406578616d706c652e6f72672012736263312e6578616d706c652e6f72670606000000081a1b00007ed901154b442d41455331323847434d2d5348413235361a1800007ed90212736263312e6578616d706c652e6f7267")
s4 = bytes.fromhex("0b0001160f872460b35badd9073a47009601d5225012e6e7b20bd0c9fa697c606dd6983a930a0113616c696365406578616d706c652e6f72671a1b00007ed901154b442d41455331323847434d2d5348413235361a1800007ed90212736263312e6578616d706c652e6f72671a1800007ed90412000102030405060708090a0b0c0d0e0f1a2a00007ed90524e5f1da215cf0799b537e95000bb7b04b3179a02cc746dd93e472dd638fc3dd6e3e361a3400007ed9062e101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b1a3400007ed9072e606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f808182838485868788898a8b")
out = struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1)
for i, (pay, sp, dp, src, dst) in enumerate(((s3, 49152, 1812, 30, 40), (s4, 1812, 49152, 40, 30))):
    udp = struct.pack(">HHHH", sp, dp, 8 + len(pay), 0) + pay
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), i + 1, 0, 64, 17, 0,
                     bytes([192, 0, 2, src]), bytes([192, 0, 2, dst]))
    frame = b"\x02\0\0\0\0" + bytes([dst]) + b"\x02\0\0\0\0" + bytes([src]) + b"\x08\x00" + ip + udp
    out += struct.pack("<IIII", 1700000000, 1000 * i, len(frame), len(frame)) + frame
open(sys.argv[1], "wb").write(out)
PY
got=$(radsniff -I "$work/kat.pcap" -s kd-kat-secret -d "$work/raddb" -x 2>&1 | sed -n 's/.*KD-Authenticator-C = 0x//p')
if [ "$got" != a0a1a2a3a4a5a6a7a8a9aaabacadaeaf ]; then
  echo "FAIL: radsniff unhides the known-answer KD-Authenticator-C to \"$got\", want a0a1..af" >&2
  status=1
else
  echo "ok: radsniff unhides the known-answer KD-Authenticator-C exactly"
fi
exit $status
