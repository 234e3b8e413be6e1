#!/bin/bash
# --decode-as (issue 10 item 17): a KD message on a port no binding registers (SIP on 5080, RADIUS on
# 11812), over UDP or TCP, is read by kd-decode and the role tools when the user says which binding
# the port carries; the mapping beats the registered ports; bad mappings are usage errors (exit 2).
# The captures are built by text2pcap (Wireshark), not by kd.
source "$(dirname "$0")/lib.sh"
[ -x "$KD_BIN/kd-decode" ] || { echo "$KD_BIN/kd-decode is missing: build first"; exit 1; }
command -v text2pcap >/dev/null || { echo "FAIL: text2pcap is required (Debian: wireshark-common)"; exit 1; }
DECODE=$KD_BIN/kd-decode

# pcap_of OUT TEXT2PCAP-ARGS HEX...: a capture, one frame (UDP datagram or TCP segment) per HEX.
pcap_of() {
  local out=$1 args=$2; shift 2
  local h
  for h in "$@"; do xxd -r -p <<<"$h" | od -Ax -tx1 -v; echo; done >"$out.txt"
  text2pcap -q $args "$out.txt" "$out" >/dev/null 2>&1
}
# summary FILE: kd-decode's summary as [messages, errors, skipped].
summary() { jq -c 'select(.summary) | .summary | [.messages, .errors, .skipped]' "$1"; }

W=$TMP/w
new_world "$W" >/dev/null 2>&1
printf 'test-secret\n' >"$W/secret"

# s1 in SIP, and the s3 the switch sends for it in RADIUS, as hex.
XTERM=(--binding sip) XPROXY=(--binding sip) XSWITCH=(--binding sip --radius-secret-file "$W/secret")
run term "$W/term.state" "" start --id "$TERM_ID" --via "$PROXY_ID" --switch "$SWITCH_ID"
s1=$(jq -r .wire "$OUT")
cp "$OUT" "$W/s1.line"
run proxy "$W/proxy.state" "$W/s1.line"
cp "$OUT" "$W/s2.line"
run switch "$W/switch.state" "$W/s2.line"
s3=$(jq -r 'select(.step == "s3") | .wire' "$OUT")
check "setup: s1 in SIP and s3 in RADIUS" eq "${#s1}:${#s3}" "${#s1}:${#s3}"
[ -n "$s1" ] && [ -n "$s3" ] || { fail "setup: no s1 or s3"; finish; exit 1; }

pcap_of "$W/udp5080.pcap" "-4 192.0.2.10,192.0.2.20 -u 40000,5080" "$s1"
pcap_of "$W/udp5060.pcap" "-4 192.0.2.10,192.0.2.20 -u 40000,5060" "$s1"
# The REGISTER cut in two TCP segments: only a SIP framer puts it back together.
half=$(( ${#s1} / 4 * 2 ))  # a whole number of bytes
pcap_of "$W/tcp5080.pcap" "-4 192.0.2.10,192.0.2.20 -T 40000,5080" "${s1:0:half}" "${s1:half}"
pcap_of "$W/radius11812.pcap" "-4 192.0.2.30,192.0.2.40 -u 40001,11812" "$s3"

# ---- kd-decode ------------------------------------------------------------------------------------

runx "$DECODE" "$W/udp5080.pcap"
check "decode: SIP on udp 5080 is skipped without a mapping" eq "$RC:$(summary "$OUT")" "0:[0,0,1]"
runx "$DECODE" --decode-as udp.port==5080,sip "$W/udp5080.pcap"
check "decode-as udp.port==5080,sip: the REGISTER decodes as s1" eq "$RC:$(summary "$OUT")" "0:[1,0,0]"
check "decode-as udp.port==5080,sip: binding sip, step s1, port 5080" \
  eq "$(jq -r 'select(.step) | [.binding, .step, .dst, .transport] | join(" ")' "$OUT")" "sip s1 192.0.2.20:5080 udp"
runx "$DECODE" --decode-as tcp.port==5080,sip "$W/udp5080.pcap"
check "decode-as tcp.port==5080,sip: does not apply to UDP" eq "$RC:$(summary "$OUT")" "0:[0,0,1]"
runx "$DECODE" --decode-as tcp.port==5080,sip "$W/tcp5080.pcap"
check "decode-as tcp.port==5080,sip: the REGISTER cut in two segments is framed as SIP" \
  eq "$RC:$(summary "$OUT"):$(jq -r 'select(.step) | [.step, .transport] | join(" ")' "$OUT")" "0:[1,0,0]:s1 tcp"
runx "$DECODE" --decode-as udp.port==5060,mgcp "$W/udp5060.pcap"
check "decode-as udp.port==5060,mgcp: a mapping beats the registered port (no SIP message)" \
  eq "$(jq -c 'select(.summary) | .summary.messages' "$OUT")" 0
runx "$DECODE" --decode-as udp.port==5080,sip --decode-as udp.port==11812,radius \
  --radius-secret-file "$W/secret" "$W/radius11812.pcap" "$W/udp5080.pcap"
check "decode-as udp.port==11812,radius: an AuC link on another port decodes (repeatable option)" \
  eq "$RC:$(jq -r 'select(.step) | [.binding, .step] | join(" ")' "$OUT" | tr '\n' ' ')" "0:radius s3 sip s1 "

# ---- the role tools ----------------------------------------------------------------------------

W2=$TMP/w2
new_world "$W2" >/dev/null 2>&1
W=$W2
cp "$TMP/w/secret" "$W/secret"
XTERM=() XPROXY=() XSWITCH=() XAUC=()
run proxy "$W/proxy.state" "$TMP/w/udp5080.pcap" --binding sip
check "kd-proxy: SIP on 5080 is skipped without a mapping (and noted)" \
  eq "$RC:$(wc -c <"$OUT"):$(grep -c '1 packets not KD' "$ERR")" "0:0:1"
run proxy "$W/proxy.state" "$TMP/w/udp5080.pcap" --binding sip --decode-as udp.port==5080,sip
check "kd-proxy --decode-as udp.port==5080,sip: reads s1, sends s2 in SIP" \
  eq "$RC:$(jq -r '[.binding, .step] | join(" ")' "$OUT")" "0:sip s2"
run proxy "$W/proxy.state" "$TMP/w/udp5080.pcap" --decode-as udp.port==5080,sip
check "kd-proxy --binding json --decode-as ...: reads the capture, answers in JSON (replay refused)" \
  eq "$RC:$(grep -c replayed_nonce "$ERR")" "1:1"
run auc "$W/auc.state" "$TMP/w/radius11812.pcap" --binding radius --radius-secret-file "$W/secret" \
  --decode-as udp.port==11812,radius
check "kd-auc --decode-as udp.port==11812,radius: answers s4 in RADIUS" \
  eq "$RC:$(jq -r '[.binding, .step] | join(" ")' "$OUT")" "0:radius s4"
run proxy "$W/proxy2.state" "" --binding sip --addr proxy=192.0.2.2 "$TMP/w/udp5080.pcap" --decode-as udp.port==5080,sip
check "kd-proxy: --addr (repeatable) before INPUT leaves INPUT the input" \
  eq "$RC:$(jq -r '[.binding, .step] | join(" ")' "$OUT")" "0:sip s2"
run term "$W/term.state" "" --decode-as udp.port==5080,sip
check "kd-term accepts --decode-as" eq "$RC" 0
run switch "$W/switch.state" "" --binding sip --radius-secret-file "$W/secret" --decode-as udp.port==11812,radius \
  --decode-as tcp.port==5080,sip
check "kd-switch accepts --decode-as (twice)" eq "$RC" 0

# ---- bad mappings: exit 2, a message that names the fault -----------------------------------------

bad() {  # NAME GREP-PATTERN TOOL ARGS...
  local name=$1 pat=$2; shift 2
  runx "$@"
  check "usage-err-decode-as $name: exit 2, says what is wrong" eq "$RC:$(grep -cE -- "$pat" "$ERR")" "2:1"
}
bad "unknown binding" 'unknown binding "smtp"' "$DECODE" --decode-as udp.port==5080,smtp
bad "json" 'unknown binding "json"' "$DECODE" --decode-as udp.port==5080,json
bad "port 0" 'port must be 1 to 65535' "$DECODE" --decode-as udp.port==0,sip
bad "port 65536" 'port must be 1 to 65535' "$DECODE" --decode-as udp.port==65536,sip
bad "port not a number" 'port must be 1 to 65535' "$DECODE" --decode-as udp.port==50x0,sip
bad "transport" 'udp.port or tcp.port' "$DECODE" --decode-as sctp.port==5080,sip
bad "no ==" 'udp.port==PORT,BINDING' "$DECODE" --decode-as udp.port=5080,sip
bad "no binding" 'udp.port==PORT,BINDING' "$DECODE" --decode-as udp.port==5080
bad "twice" 'udp.port==5080 is mapped twice' "$DECODE" --decode-as udp.port==5080,sip --decode-as udp.port==5080,mgcp
bad "radius over tcp" 'UDP only' "$DECODE" --radius-secret-file "$W/secret" --decode-as tcp.port==1645,radius
bad "h323 over tcp" 'UDP only' "$DECODE" --decode-as tcp.port==1720,h323
bad "radius without a secret (kd-switch)" 'radius-secret-file' "$KD_BIN/kd-switch" --id ss1 --decode-as udp.port==1645,radius
# kd-decode reads RADIUS without the secret, unverified: the mapping is fine there.
runx "$DECODE" --decode-as udp.port==1645,radius /dev/null
check "kd-decode --decode-as udp.port==1645,radius without a secret: accepted (RADIUS read unverified)" eq "$RC" 0
bad "kd-proxy radius" 'kd-proxy does not read radius' "$KD_BIN/kd-proxy" --id sbc1 --decode-as udp.port==1645,radius
bad "kd-proxy another binding" 'kd-proxy does not read mgcp \(--binding sip\)' \
  "$KD_BIN/kd-proxy" --id sbc1 --binding sip --decode-as udp.port==2728,mgcp
bad "kd-decode another binding" 'kd-decode does not read mgcp \(--binding sip\)' \
  "$DECODE" --binding sip --decode-as udp.port==2728,mgcp
bad "kd-term" 'unknown binding' "$KD_BIN/kd-term" --decode-as udp.port==5080,smtp
bad "kd-switch" 'port must be 1 to 65535' "$KD_BIN/kd-switch" --id ss1 --decode-as udp.port==0,sip
bad "kd-auc" 'udp.port or tcp.port' "$KD_BIN/kd-auc" --decode-as ip.port==1,radius
runx "$DECODE" --decode-as 'udp.port==5080,sip' --decode-as "udp.port==5080,$(printf '\033[31m')"
check "usage-err-decode-as: the bad text is made printable" eq "$RC:$(grep -c $'\033' "$ERR")" "2:0"

finish
