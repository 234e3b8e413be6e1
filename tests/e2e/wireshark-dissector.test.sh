#!/usr/bin/env bash
# The Wireshark dissector (kd-dissector(7)): tshark with the generated kd.lua over all 24 vector
# captures. Every kd.* field of every packet equals the vector's logical message: the capture holds
# the positive file's message entries in transcript order (kd-vectors(5), CAPTURES), so packet i is
# message entry i, and the expected values are read from the vector file, not from the dissector.
# Per binding, the display filter kd.step == "s6" (and "d4") selects exactly those packets; SIP as
# other parties write it is read too. A copy of kd.lua with one table element renamed must fail the
# same comparison.
source "$(dirname "$0")/lib.sh"
: "${KD_BUILD:?KD_BUILD must name the build directory}"
command -v tshark >/dev/null || { echo "FAIL: tshark is required (scripts/setup installs it)"; exit 1; }
command -v python3 >/dev/null || { echo "FAIL: python3 is required"; exit 1; }
export HOME=$TMP  # tshark keeps a profile under HOME

LUA=$KD_BUILD/kd.lua
VEC=$KD_ROOT/testvectors
[ -s "$LUA" ] || { echo "FAIL: $LUA is missing: build first"; exit 1; }

# The kd.* fields, each compared below; a field the dissector gains must be added here.
FIELDS=(step flow suite idc idsp idss n1 n2 ts rand authenticator_c ekc eksp ekss secmechreq secmechlist
        secmech ipc mac)

# fields LUA PCAP: one tab-separated line per packet: udp.length, then every kd.* field.
fields() {
  local e=(-e udp.length) f
  for f in "${FIELDS[@]}"; do e+=(-e "kd.$f"); done
  tshark -n -X "lua_script:$1" -r "$2" -T fields "${e[@]}" 2>"$TMP/tshark.err"
}

# compare.py VECTOR TSV [VECTOR TSV ...]: per pair, "NAME<TAB>OK" or "NAME<TAB>what differs".
cat >"$TMP/compare.py" <<'EOF'
import json, sys

FIELDS = sys.argv[1].split()

def q_text(q):  # kd-protocol(7): RFC 3329 decimal as kd writes it
    if q >= 1000:
        return "1"
    if q == 0:
        return "0"
    return ("0.%03d" % q).rstrip("0")

def expected(entry):
    m = entry["message"]
    ts = [str(m[k]) for k in ("TS1", "TS2", "TS3", "TS4") if k in m]
    hidden = entry["binding"] == "radius"  # RADIUS hides Authenticator_c (RFC 2868)
    want = {
        "step": m["step"], "flow": m["flow"], "ts": ts[0] if ts else "",
        "secmechreq": "1" if m.get("SecMechReq") else "",
        "secmechlist": ", ".join("%s;q=%s" % (x["name"], q_text(x["q"])) for x in m.get("SecMechList", [])),
        "authenticator_c": "" if hidden else m.get("Authenticator_c", ""),
    }
    for name in ("suite", "IDc", "IDsp", "IDss", "N1", "N2", "Rand", "EKc", "EKsp", "EKss", "SecMech", "IPc", "MAC"):
        want[name.lower()] = str(m.get(name, ""))
    return want

args = sys.argv[2:]
for vector, tsv in zip(args[0::2], args[1::2]):
    with open(vector) as f:
        entries = [e for e in json.load(f)["transcript"] if "message" in e]
    with open(tsv) as f:
        rows = [line.rstrip("\n").split("\t") for line in f]
    bad = []
    if len(rows) != len(entries):
        bad.append("%d packets, %d messages" % (len(rows), len(entries)))
    for i, (entry, row) in enumerate(zip(entries, rows), 1):
        if row[0] != str(len(entry["wire"]) // 2 + 8):
            bad.append("packet %d is not message %s (udp.length %s)" % (i, entry["step"], row[0]))
            continue
        want = expected(entry)
        for name, got in zip(FIELDS, row[1:] + [""] * len(FIELDS)):
            if got != want[name]:
                bad.append("packet %d (%s) kd.%s = '%s', expected '%s'" % (i, entry["step"], name, got, want[name]))
    print("%s\t%s" % (vector.split("/")[-1], "; ".join(bad[:3]) if bad else "OK"))
EOF

# Every kd field is compared (the list above is the dissector's, no more, no less).
dissector_fields() {
  tshark -G fields -X "lua_script:$LUA" 2>/dev/null |  # FT_NONE: the expert infos
    awk -F'\t' '$1 == "F" && $3 ~ /^kd\./ && $4 != "FT_NONE" {sub(/^kd\./, "", $3); print $3}' | sort | tr '\n' ' '
}
check "the dissector's fields are exactly the ones compared here" \
  eq "$(dissector_fields)" "$(printf '%s\n' "${FIELDS[@]}" | sort | tr '\n' ' ')"

# ---- every field of every packet of the 24 captures --------------------------------------------
pairs=()
for pcap in "$VEC"/pcap/*.pcap; do
  name=$(basename "$pcap" .pcap)
  fields "$LUA" "$pcap" >"$TMP/$name.tsv"
  if [ -s "$TMP/tshark.err" ] && grep -v '^Running as user' "$TMP/tshark.err" | grep -q .; then
    echo "tshark on $name: $(grep -v '^Running as user' "$TMP/tshark.err" | head -3)"
  fi
  pairs+=("$VEC/positive/$name.json" "$TMP/$name.tsv")
done
check "24 vector captures" eq "$((${#pairs[@]} / 2))" 24
python3 "$TMP/compare.py" "${FIELDS[*]}" "${pairs[@]}" >"$TMP/compare.out"
while IFS=$'\t' read -r vector result; do
  check "${vector%.json}: every kd field of every packet equals the vector's message" eq "$result" OK
done <"$TMP/compare.out"

# ---- display filters -----------------------------------------------------------------------------
# filtered PCAP STEP: the frame numbers kd.step == "STEP" selects; expected: those of STEP's messages.
filtered() { tshark -n -X "lua_script:$LUA" -r "$1" -Y "kd.step == \"$2\"" -T fields -e frame.number 2>/dev/null | tr '\n' ' '; }
frames_of() {
  python3 -c 'import json, sys
m = [e for e in json.load(open(sys.argv[1]))["transcript"] if "message" in e]
print(" ".join(str(i) for i, e in enumerate(m, 1) if e["step"] == sys.argv[2]), end=" ")' "$1" "$2"
}
for binding in sip mgcp h248 h323; do
  for flow_step in proxied:s6 direct:d4; do
    flow=${flow_step%:*} step=${flow_step#*:} name=KD-AES128GCM-SHA256-$flow-$binding
    want=$(frames_of "$VEC/positive/$name.json" "$step")
    check "$binding $flow: kd.step == \"$step\" selects exactly its packets ($want)" \
      eq "$(filtered "$VEC/pcap/$name.pcap" "$step")" "$want"
  done
done

# write_pcap(PATH, [(port, payload)]): a classic pcap of Ethernet/IPv4/UDP frames, written by hand.
cat >"$TMP/pcap.py" <<'EOF'
import struct

def write_pcap(path, items):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i, (port, payload) in enumerate(items):
            udp = struct.pack("!HHHH", port, port, 8 + len(payload), 0) + payload
            ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0x4000, 64, 17, 0,
                             bytes([192, 0, 2, 10]), bytes([192, 0, 2, 20])) + udp
            eth = bytes.fromhex("020000000002" "020000000001" "0800") + ip
            f.write(struct.pack("<IIII", 1700000000, i, len(eth), len(eth)) + eth)
EOF

# ---- SIP as other parties write it (kd-dissector(7), PROTOCOLS) ----------------------------------
# The vector's s7, rewritten: compact Contact (m:), a lower-case KD header folded over three lines,
# LF line ends, a Digest header first, kd-ipc standing for IPc, upper-case hex, UTF-8 in a header
# before the KD one; framed by hand.
cat >"$TMP/variants.py" <<'EOF'
import json, sys
from pcap import write_pcap
vector, out = sys.argv[1:]
s7 = next(bytes.fromhex(e["wire"]).decode() for e in json.load(open(vector))["transcript"]
          if e.get("step") == "s7" and "wire" in e)
variants = [
    s7.replace("Contact:", "m:").replace("Proxy-Authorization: KD ", "proxy-authorization: KD\r\n  ")
      .replace(", kd-n1", ",\r\n\tkd-n1"),
    s7.replace("\r\n", "\n"),
    s7.replace("Proxy-Authorization: KD", 'Authorization: Digest username="x", nonce="1"\r\nProxy-Authorization: KD'),
    s7.replace("kd-ts=1700000000", 'kd-ts=1700000000, kd-ipc="2001:db8::1"'),
    s7.replace('nonce="', 'nonce="AB'),
    s7.replace("Proxy-Authorization: KD", "Subject: caf\u00e9 \u00ff\r\nProxy-Authorization: KD"),
]
write_pcap(out, [(5060, v.encode("utf-8")) for v in variants])
EOF
name=KD-SM4GCM-SM3-proxied-sip
PYTHONPATH=$TMP python3 "$TMP/variants.py" "$VEC/positive/$name.json" "$TMP/variants.pcap"
read -r n1 rand ipc < <(python3 -c 'import json, sys
m = next(e["message"] for e in json.load(open(sys.argv[1]))["transcript"] if e.get("step") == "s7")
print(m["N1"], m["Rand"], m["IPc"])' "$VEC/positive/$name.json")
mapfile -t rows < <(tshark -n -X "lua_script:$LUA" -r "$TMP/variants.pcap" -T fields -e kd.step -e kd.n1 \
  -e kd.rand -e kd.ipc -e _ws.expert.message 2>/dev/null)
ok_row=$(printf 's7\t%s\t%s\t%s\t' "$n1" "$rand" "$ipc")
check "SIP: compact Contact, folded lower-case KD header" eq "${rows[0]:-}" "$ok_row"
check "SIP: LF line ends" eq "${rows[1]:-}" "$ok_row"
check "SIP: another scheme's header before the KD one" eq "${rows[2]:-}" "$ok_row"
check "SIP: kd-ipc stands for IPc" eq "${rows[3]:-}" "$(printf 's7\t%s\t%s\t2001:db8::1\t' "$n1" "$rand")"
check "SIP: upper-case hex is shown as text with kd.bad_value" \
  eq "${rows[4]:-}" "$(printf 's7\t%s\t\t%s\tnonce is not lowercase hex' "$n1" "$ipc")"
check "SIP: non-ASCII bytes in another header" eq "${rows[5]:-}" "$ok_row"

# ---- malformed messages ------------------------------------------------------------------------------
# Every wire case of the negative vectors (truncated, garbage, bad hex, oversized, ...) on its
# binding's port: the dissector shows what it can and never fails (no Lua error in any packet).
cat >"$TMP/negative.py" <<'EOF'
import glob, json, sys
from pcap import write_pcap
ports = {"sip": 5060, "mgcp": 2427, "h248": 2944, "h323": 1719, "radius": 1812}
items = []
for path in sorted(glob.glob(sys.argv[1] + "/negative/wire-*.json")):
    for group in json.load(open(path))["testGroups"]:
        for case in group["tests"]:
            if "wire" in case:
                items.append((ports[case["binding"]], bytes.fromhex(case["wire"])[:65000]))
write_pcap(sys.argv[2], items)
print(len(items))
EOF
ncases=$(PYTHONPATH=$TMP python3 "$TMP/negative.py" "$VEC" "$TMP/negative.pcap")
more_than() { [ "${1:-0}" -gt "$2" ] 2>/dev/null || { WHY="'$1' is not more than $2"; return 1; }; }
check "the negative vectors give some 300 malformed messages" more_than "$ncases" 300
lua_errors=$(tshark -n -X "lua_script:$LUA" -r "$TMP/negative.pcap" -V 2>/dev/null | grep -c '^Lua Error')
check "no Lua error on the $ncases malformed messages" eq "$lua_errors" 0

# ---- the comparison can fail ---------------------------------------------------------------------
# A copy of kd.lua whose SIP table names kd-n1 differently: N1 is no longer found, so the steps that
# carry it are not explained either.
sed 's/element = "kd-n1"/element = "kd-nx"/' "$LUA" >"$TMP/broken.lua"
check "the broken copy differs from kd.lua" ne "$(cksum <"$TMP/broken.lua")" "$(cksum <"$LUA")"
name=KD-SM4GCM-SM3-proxied-sip
fields "$TMP/broken.lua" "$VEC/pcap/$name.pcap" >"$TMP/broken.tsv"
result=$(python3 "$TMP/compare.py" "${FIELDS[*]}" "$VEC/positive/$name.json" "$TMP/broken.tsv" | cut -f2)
mentions() { [[ $1 == *"$2"* ]] || { WHY="'$1' does not mention $2"; return 1; }; }
check "a dissector with a renamed element fails the comparison (kd.n1 missing)" mentions "$result" "kd.n1 = ''"

finish
