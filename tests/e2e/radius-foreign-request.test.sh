#!/usr/bin/env bash
# kd-auc as a filter answers the RADIUS Access-Request it reads, not the one kd would derive:
# another client's s3 (kd-switch's, re-signed here with that client's own Identifier and Request
# Authenticator) as a wire line and as a captured packet gets an s4 Access-Challenge whose
# Identifier, Response Authenticator and Message-Authenticator are the ones RFC 2865 section 3 and
# RFC 3579 section 3.2 compute over that request, checked here with Python's MD5 and HMAC-MD5.
# kd's own s3 still gets the s4 kd-switch verifies.
. "$(dirname "$0")/lib.sh"

new_world "$TMP/w"
printf 'kd-filter-secret\n' >"$W/secret"
link=(--auc-link radius --radius-secret-file "$W/secret")
kd term "$W/term.state" start --id "$TERM_ID" --via "$PROXY_ID" --switch "$SWITCH_ID" >"$W/s1.json"
kd proxy "$W/proxy.state" <"$W/s1.json" >"$W/s2.json"
kd switch "$W/switch.state" "${link[@]}" <"$W/s2.json" >"$W/s3.line"
cp -p "$W/switch.state" "$W/switch.before-s4"
check "kd-switch sent s3 as RADIUS" eq "$(jq -r '.binding + " " + .step' "$W/s3.line")" "radius s3"

# The same s3 as another client sends it: Identifier 0x2a, Request Authenticator 00..0f, the
# Message-Authenticator computed again (RFC 3579 section 3.2); as a wire line and in a pcap.
python3 - "$W/s3.line" "$W/secret" "$W/foreign.line" "$W/foreign.pcap" <<'PY'
import hmac, hashlib, json, struct, sys
line = json.loads(open(sys.argv[1]).read())
secret = open(sys.argv[2], "rb").read().split(b"\n")[0]
p = bytearray(bytes.fromhex(line["wire"]))
assert p[20] == 80 and p[21] == 18, "Message-Authenticator first"
p[1] = 0x2a
p[4:20] = bytes(range(16))
p[22:38] = bytes(16)
p[22:38] = hmac.new(secret, bytes(p), hashlib.md5).digest()
line["wire"] = p.hex()
open(sys.argv[3], "w").write(json.dumps(line, separators=(",", ":")) + "\n")
udp = struct.pack(">HHHH", 49152, 1812, 8 + len(p), 0) + bytes(p)
ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0, bytes([192, 0, 2, 30]), bytes([192, 0, 2, 40]))
frame = b"\x02\0\0\0\0\x28\x02\0\0\0\0\x1e\x08\x00" + ip + udp
out = struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1)
out += struct.pack("<IIII", 1700000000, 0, len(frame), len(frame)) + frame
open(sys.argv[4], "wb").write(out)
PY

# answers REQUEST_LINE ANSWER_LINE: the answer's code, Identifier and both authenticators are
# those of a server answering that request.
answers() {
  local q
  q=$(jq -r .wire "$1")
  python3 - "$q" "$2" "$W/secret" >"$TMP/why" 2>&1 <<'PY' || { WHY=$(cat "$TMP/why"); return 1; }
import hashlib, hmac, json, sys
q = bytes.fromhex(sys.argv[1])
a = bytearray(bytes.fromhex(json.loads(open(sys.argv[2]).read())["wire"]))
secret = open(sys.argv[3], "rb").read().split(b"\n")[0]
why = []
if a[0] != 11: why.append("code %d, not Access-Challenge" % a[0])
if a[1] != q[1]: why.append("Identifier %d, the request's is %d" % (a[1], q[1]))
z = bytearray(a); z[4:20] = q[4:20]
if hashlib.md5(bytes(z) + secret).digest() != bytes(a[4:20]): why.append("the Response Authenticator is not over the request's")
z[22:38] = bytes(16)
if hmac.new(secret, bytes(z), hashlib.md5).digest() != bytes(a[22:38]): why.append("the Message-Authenticator is not over the request's")
print("; ".join(why))
sys.exit(1 if why else 0)
PY
}

run auc "$W/auc.state" "$W/foreign.line" "${link[@]}"
check "kd-auc takes the foreign s3 (wire line)" eq "$RC" 0
grep '"step":"s4"' "$OUT" >"$W/s4-foreign.line"
check "its s4 answers the foreign request (wire line)" answers "$W/foreign.line" "$W/s4-foreign.line"

rm -f "$W/auc.state"
run auc "$W/auc.state" "$W/foreign.pcap" "${link[@]}"
check "kd-auc takes the foreign s3 (pcap)" eq "$RC" 0
grep '"step":"s4"' "$OUT" >"$W/s4-pcap.line"
check "its s4 answers the foreign request (pcap)" answers "$W/foreign.line" "$W/s4-pcap.line"

rm -f "$W/auc.state"
run auc "$W/auc.state" "$W/s3.line" "${link[@]}"
grep '"step":"s4"' "$OUT" >"$W/s4-own.line"
check "kd's own s3 gets an s4 over its own (derived) request too" answers "$W/s3.line" "$W/s4-own.line"
run switch "$W/switch.state" "$W/s4-own.line" "${link[@]}"
check "kd-switch takes the s4 answering its own s3" eq "$RC" 0
check "and goes on with s5" grep -q '"step":"s5"' "$OUT"
cp -p "$W/switch.before-s4" "$W/switch.state"
run switch "$W/switch.state" "$W/s4-foreign.line" "${link[@]}"
check "kd-switch refuses the s4 of another request (bad_mac)" grep -q '"code":"bad_mac"' "$OUT"
finish
