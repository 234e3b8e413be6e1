#!/bin/bash
# The role tools write and read captures: kd-term start --pcap-out writes (and appends) frames,
# kd-proxy reads the terminal's capture and answers in SIP, refuses the same capture again with its
# state unchanged, and a tool with nothing for its role in a capture says so and prints nothing.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/wire-lib.sh"
need_tshark

W=$TMP/pcap-in
new_world "$W"
printf 'test-secret\n' >"$W/secret"
XTERM=(--binding sip) XPROXY=(--binding sip) XSWITCH=(--binding sip --radius-secret-file "$W/secret")
run term "$W/term.state" "" start --id "$TERM_ID" --via "$PROXY_ID" --switch "$SWITCH_ID" --pcap-out "$W/t.pcap"
check "pcap-in: kd-term start --pcap-out writes one frame" eq "$RC:$(tshark -n -r "$W/t.pcap" 2>/dev/null | wc -l)" "0:1"
cp -p "$W/t.pcap" "$W/t-copy.pcap"
run term "$W/term.state" "" start --id "$TERM_ID" --via "$PROXY_ID" --switch "$SWITCH_ID" --pcap-out "$W/t-copy.pcap"
check "pcap-in: --pcap-out appends to an existing capture" eq "$(tshark -n -r "$W/t-copy.pcap" 2>/dev/null | wc -l)" 2
run proxy "$W/proxy.state" "$W/t.pcap"
check "pcap-in: kd-proxy reads the terminal's capture" eq "$RC" 0
check "pcap-in: and sends s2 in SIP" eq "$(jq -r '[.binding, .step] | join(" ")' "$OUT")" "sip s2"
cp -p "$W/proxy.state" "$W/proxy.before"
run proxy "$W/proxy.state" "$W/t.pcap"
check "pcap-in-err-replayed: the same capture again is refused" eq "$RC" 1
check "pcap-in-err-replayed: replayed_nonce" grep -q "replayed_nonce" "$ERR"
check "pcap-in-err-replayed: the state file is unchanged" same_file "$W/proxy.state" "$W/proxy.before"
run switch "$W/switch.state" "$W/t.pcap"
check "pcap-in: a capture with nothing for this role is read and noted" eq "$RC:$(grep -c 'for other roles' "$ERR")" "0:1"
check "pcap-in: and nothing is printed" eq "$(wc -c <"$OUT")" 0

finish
