#!/bin/bash
# kd-decode --encode (issue 10 item 18): JSON messages (as the role tools print them, or as kd-decode
# prints them) become wire lines and pcap frames of a binding. A JSON transcript encodes to exactly
# the wire lines the tools print in that binding (same seed, clock and secret); the result decodes
# back to the same messages; each binding's capture is clean for tshark; tampered messages (a
# flipped seal or MAC, a field of the wrong length) still encode, and the SIP-bound tools refuse
# them with the right code; bad input is refused line by line (exit 1), bad options exit 2.
source "$(dirname "$0")/lib.sh"
[ -x "$KD_BIN/kd-decode" ] || { echo "$KD_BIN/kd-decode is missing: build first"; exit 1; }
command -v tshark >/dev/null || { echo "FAIL: tshark is required (scripts/setup installs it)"; exit 1; }
export HOME=$TMP  # tshark keeps a profile under HOME
DECODE=$KD_BIN/kd-decode
FLOW_TOOL=$KD_ROOT/scripts/kd-flow
SECRET=$TMP/secret
printf 'encode-test-secret\n' >"$SECRET"

flow() {  # DIR BINDING FLOW: one seeded registration with the shared secret; transcript in DIR/out
  mkdir -p "$1"
  "$FLOW_TOOL" --bin "$KD_BIN" --dir "$1" --binding "$2" --flow "$3" --seed "$SEED" --now "$NOW" --contact 127.0.0.1:5060 \
    --radius-secret-file "$SECRET" >"$1/out" 2>"$1/err"
}
tshark_clean() {  # PCAP
  local bad
  bad=$(tshark -n -r "$1" -Y '_ws.malformed || _ws.expert.severity >= error' 2>"$TMP/tshark.err") ||
    { WHY="tshark failed: $(cat "$TMP/tshark.err")"; return 1; }
  [ -z "$bad" ] || { WHY="tshark: $bad"; return 1; }
}
logical() { jq -c 'select(.step) | {step, fields}' "$1"; }  # kd-decode output -> messages

declare -A FILTER=([sip]=sip [mgcp]=mgcp [h248]=megaco [h323]=h225)

for f in proxied direct; do
  flow "$TMP/json-$f" json "$f"
  check "json-$f: the JSON registration completes" eq "$?" 0
  jq -c 'select(.to)' "$TMP/json-$f/out" >"$TMP/json-$f/messages"
  "$DECODE" "$TMP/json-$f/messages" | logical /dev/stdin >"$TMP/json-$f/logical"
  n=$(wc -l <"$TMP/json-$f/messages")
  bindings=(sip mgcp h248 h323)
  [ $f = direct ] && bindings=(sip h323)  # the direct flow's other transactions; fewer runs
  for b in "${bindings[@]}"; do
    # Each binding's codec and each flow's transactions once: h323 in the direct flow, sip proxied.
    case $b-$f in h323-proxied|sip-direct) extra_case "$b-$f" || continue ;; esac
    d=$TMP/$b-$f
    flow "$d" "$b" "$f"
    check "$b-$f: kd-flow --binding $b completes" eq "$?" 0
    jq -c 'select(.wire)' "$d/out" >"$d/wire.want"
    # The whole transcript, events included (skipped), in one run.
    runx "$DECODE" --encode "$b" --radius-secret-file "$SECRET" --pcap-out "$d/enc.pcap" --now "$NOW" "$TMP/json-$f/out"
    check "$b-$f: --encode $b exits 0, nothing on stderr" eq "$RC:$(wc -c <"$ERR")" "0:0"
    cp "$OUT" "$d/wire.got"
    check "$b-$f: the wire lines are byte for byte the ones the tools print in $b" same_file "$d/wire.got" "$d/wire.want"
    "$DECODE" --radius-secret-file "$SECRET" "$d/wire.got" | logical /dev/stdin >"$d/logical"
    check "$b-$f: they decode back to the JSON messages" same_file "$d/logical" "$TMP/json-$f/logical"
    check "$b-$f: the capture has one frame per message" eq "$(tshark -n -r "$d/enc.pcap" 2>/dev/null | wc -l)" "$n"
    check "$b-$f: tshark finds no malformed packet and no expert error" tshark_clean "$d/enc.pcap"
    check "$b-$f: tshark reads the signaling as ${FILTER[$b]} and the AuC link as radius" \
      eq "$(tshark -n -r "$d/enc.pcap" -Y "${FILTER[$b]} || radius" 2>/dev/null | wc -l)" "$n"
    runx "$DECODE" --check --keys "$d/auc-keys.json" --radius-secret-file "$SECRET" "$d/enc.pcap"
    check "$b-$f: kd-decode --check verifies the encoded capture" eq "$RC" 0
  done
done

# kd-decode's own output (decode, tamper with jq, encode) is input too.
d=$TMP/sip-proxied
"$DECODE" --radius-secret-file "$SECRET" "$d/wire.want" >"$d/records"
runx "$DECODE" --encode sip --radius-secret-file "$SECRET" "$d/records"
check "records: kd-decode's lines encode to the same wire lines" eq "$RC:$(cmp -s "$OUT" "$d/wire.want" && echo same)" "0:same"
# RADIUS alone.
jq -c 'select(.to == "auc" or .step == "s4" or .step == "d3")' "$TMP/json-proxied/messages" >"$TMP/auc-link"
runx "$DECODE" --encode radius --radius-secret-file "$SECRET" "$TMP/auc-link"
check "radius: --encode radius gives the tools' RADIUS lines" \
  eq "$RC:$(cmp -s "$OUT" <(jq -c 'select(.binding == "radius")' "$d/wire.want") && echo same)" "0:same"

# A response on its own: a transaction of its own, still decodable and clean.
jq -c 'select(.step == "s6")' "$TMP/json-proxied/messages" >"$TMP/s6.json"
runx "$DECODE" --encode sip --pcap-out "$TMP/s6.pcap" --now "$NOW" "$TMP/s6.json"
check "lone s6: encodes (exit 0)" eq "$RC" 0
check "lone s6: a 407 with the KD challenge" eq "$(jq -r .wire "$OUT" | xxd -r -p | head -1 | tr -d '\r')" \
  "SIP/2.0 407 Proxy Authentication Required"
check "lone s6: decodes back to the same message" \
  eq "$("$DECODE" "$OUT" | logical /dev/stdin)" "$("$DECODE" "$TMP/s6.json" | logical /dev/stdin)"
check "lone s6: tshark-clean" tshark_clean "$TMP/s6.pcap"

# ---- tampered messages to SIP-bound tools ------------------------------------------------------

check "a JSON registration to tamper with completes" world_run "$TMP/p" proxied KD-AES128GCM-SHA256
P=$W
enc() { "$DECODE" --encode sip "$1" >"$2"; }  # JSON FILE -> wire line FILE
XPROXY=(--binding sip) XSWITCH=(--binding sip --auc-link json) XTERM=(--binding sip)

enc "$P/s9.json" "$TMP/s9.wire"
refeed proxy s9 "$TMP/s9.wire"
check "control: s9 encoded in SIP is accepted by kd-proxy --binding sip, which sends s10 in SIP" \
  eq "$RC:$(jq -r 'select(.wire) | .step' "$OUT")" "0:s10"
flip "$P/s9.json" EKsp >"$TMP/s9-bad.json"
runx "$DECODE" --encode sip "$TMP/s9-bad.json"
check "tamper: s9 with EKsp flipped encodes" eq "$RC" 0
cp "$OUT" "$TMP/s9-bad.wire"
refeed proxy s9 "$TMP/s9-bad.wire"
check "tamper: kd-proxy --binding sip refuses it -> bad_seal, state unchanged" rejects bad_seal

enc "$P/s8.json" "$TMP/s8.wire"
refeed switch s8 "$TMP/s8.wire"
check "control: s8 encoded in SIP is accepted by kd-switch --binding sip" accepted
rand=$(field "$P/s8.json" Rand)
set_field "$P/s8.json" Rand "\"${rand:0:30}\"" >"$TMP/s8-short.json"
runx "$DECODE" --encode sip "$TMP/s8-short.json"
check "tamper: s8 with a 15-byte Rand still encodes" eq "$RC" 0
cp "$OUT" "$TMP/s8-short.wire"
refeed switch s8 "$TMP/s8-short.wire"
check "tamper: kd-switch --binding sip refuses it -> bad_length, state unchanged" rejects bad_length

flip "$P/s10.json" MAC >"$TMP/s10-bad.json"
enc "$TMP/s10-bad.json" "$TMP/s10-bad.wire"
refeed term s10 "$TMP/s10-bad.wire"
check "tamper: s10 with its MAC flipped -> kd-term --binding sip refuses it with bad_mac" rejects bad_mac
mac=$(field "$P/s10.json" MAC)
set_field "$P/s10.json" MAC "\"${mac}00\"" >"$TMP/s10-long.json"
for b in mgcp h248 h323; do
  runx "$DECODE" --encode "$b" "$TMP/s10-long.json"
  check "tamper: a MAC one byte too long encodes in $b too, and kd-decode reports bad_length" \
    eq "$RC:$("$DECODE" "$OUT" | jq -r 'select(.error) | .error.code')" "0:bad_length"
done

# ---- bad input: each line refused on its own (exit 1), the others encoded -------------------------

{
  jq -c 'select(.step == "s1")' "$TMP/json-proxied/messages"
  echo '{"step":"s1","flow":"proxied",'
  jq -c 'select(.step == "s1") | .step = "s12"' "$TMP/json-proxied/messages"
  jq -c 'select(.step == "s3")' "$TMP/json-proxied/messages"
  jq -c 'select(.step == "s2")' "$TMP/json-proxied/messages"
} >"$TMP/mixed"
runx "$DECODE" --encode sip "$TMP/mixed"
check "bad-input: exit 1" eq "$RC" 1
check "bad-input: one output line per message line: wire, error, error, error, wire" \
  eq "$(jq -r 'if .wire then "wire" else .code end' "$OUT" | tr '\n' ' ')" "wire malformed unknown_step unknown_step wire "
check "bad-input: stderr names each line" \
  eq "$(grep -oE '^kd-decode: error: [a-z_]+ \(line [0-9]\)' "$ERR" | tr '\n' ';')" \
  "kd-decode: error: malformed (line 2);kd-decode: error: unknown_step (line 3);kd-decode: error: unknown_step (line 4);"
check "bad-input: an AuC link step without a secret says what to give" grep -q -- "--radius-secret-file" "$ERR"
jq -c 'select(.binding == "mgcp")' "$TMP/mgcp-proxied/wire.want" | head -1 >"$TMP/mgcp.line"
runx "$DECODE" --encode sip "$TMP/mgcp.line"
check "bad-input: a wire line of another binding is refused" eq "$RC:$(grep -c 'does not read mgcp' "$ERR")" "1:1"
runx "$DECODE" --encode sip "$TMP/sip-proxied/enc.pcap"
check "bad-input: a capture is refused (exit 1), naming what to do" eq "$RC:$(grep -c 'reads JSON Lines' "$ERR")" "1:1"
runx "$DECODE" --encode sip "$TMP/no-such-file"
check "file-err: a missing input is a file error (exit 3)" eq "$RC" 3

usage() {  # NAME GREP-PATTERN ARGS...
  local name=$1 pat=$2; shift 2
  runx "$DECODE" "$@" </dev/null
  check "usage-err-encode $name: exit 2, says what is wrong" eq "$RC:$(grep -cE -- "$pat" "$ERR")" "2:1"
}
usage "json" '--encode: unknown binding "json"' --encode json
usage "unknown" '--encode: unknown binding "smtp"' --encode smtp
usage "radius without a secret" 'radius-secret-file' --encode radius
usage "--pcap-out without --encode" '--pcap-out needs --encode' --pcap-out "$TMP/x.pcap"
usage "--addr without --encode" '--addr needs --encode' --addr term=192.0.2.1
usage "--now without --encode" '--now needs --encode' --now 5
usage "--encode --check" '--encode does not combine with --check' --encode sip --check
usage "--encode --ladder" '--encode does not combine with --ladder' --encode sip --ladder
usage "--pcap-out -" 'standard output carries the wire lines' --encode sip --pcap-out -
usage "--addr" 'unknown role' --encode sip --addr nobody=192.0.2.1
jq -c 'select(.step == "s1")' "$TMP/json-proxied/messages" >"$TMP/s1.json"
runx "$DECODE" --encode sip --addr term=2001:db8::10 --addr proxy=2001:db8::20 --pcap-out "$TMP/v6.pcap" "$TMP/s1.json"
check "--addr: repeatable, and the input after it is still read" \
  eq "$RC:$(tshark -n -r "$TMP/v6.pcap" -Y 'ipv6.src == 2001:db8::10' 2>/dev/null | wc -l)" "0:1"

finish
