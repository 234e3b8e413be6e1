#!/usr/bin/env bash
# Live mode's server transactions (kd-live(7), TRANSACTIONS): a retransmitted request (the same
# bytes from the same address) gets the cached answer byte for byte and never reaches the role
# again, so it is never refused as a replay; the same bytes from another address are a replay,
# which the protocol's own checks refuse.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/live-lib.sh"

SERVE_X=(--now "$NOW" --seed "$SEED")
same_nonempty() {  # FILE FILE
  [ -s "$1" ] || { WHY="no answer in $1"; return 1; }
  cmp -s "$1" "$2" || { WHY="$1 and $2 differ"; return 1; }
}
no_answer() { [ ! -s "$1" ] || { WHY="$1 holds an answer: $(head -c 200 "$1")"; return 1; }; }

# At the AuC, in JSON: s3 (made by the filters) sent three times from one socket.
live_world "$TMP/json"
SHOW_KEY=0
kd term "" start --id "$TERM_ID" --via "$PROXY_ID" --switch "$SWITCH_ID" >"$TMP/s1.json"
kd proxy "$W/p.st" <"$TMP/s1.json" >"$TMP/s2.json"
kd switch "$W/s.st" <"$TMP/s2.json" | grep '"step":"s3"' | tr -d '\n' >"$TMP/s3.json"
check "json: the filters made s3" grep -q '"step":"s3"' "$TMP/s3.json"
serve auc auc || fail "json: kd-auc serve starts"
send_udp "$ADDR" "$TMP/s3.json" 3
check "json: the first s3 is answered with s4" grep -q '"step":"s4"' "$TMP/answer.1"
check "json: the second send gets the same bytes" same_nonempty "$TMP/answer.2" "$TMP/answer.1"
check "json: the third send gets the same bytes" same_nonempty "$TMP/answer.3" "$TMP/answer.1"
check "json: the retransmissions reached no role (no error)" count_lines "$TMP/auc.out" '"event":"error"' 0
stop auc  # a running service's state file is its last snapshot; a stop writes it whole (kd-live(7))
check "json: kd-auc serve stops with status 0" eq "$RC" 0
check "json: the AuC ran once (one challenge issued)" json_true "$W/auc.st" '.issued | length == 1'

# In SIP, through the proxy, the switch and the AuC (RADIUS): s1 twice from one socket; the second
# is answered from the proxy's cache with the s6 the first got.
live_world "$TMP/sip"
kd term "" --binding sip start --id "$TERM_ID" --via "$PROXY_ID" --switch "$SWITCH_ID" |
  jq -r .wire | xxd -r -p >"$TMP/s1.sip"
check "sip: the filter made s1" grep -q '^REGISTER' "$TMP/s1.sip"
chain sip radius proxied || fail "sip: services start"
send_udp "${TARGET#proxy=}" "$TMP/s1.sip" 2
check "sip: s1 is answered (407 with the challenge)" grep -q '^SIP/2.0 407' "$TMP/answer.1"
check "sip: the retransmitted s1 gets the same bytes" same_nonempty "$TMP/answer.2" "$TMP/answer.1"
check "sip: the proxy printed no error" count_lines "$TMP/proxy.out" '"event":"error"' 0
check "sip: the switch printed no error" count_lines "$TMP/switch.out" '"event":"error"' 0
# The same bytes from another socket are no retransmission but a replay: the proxy refuses its N1.
send_udp "${TARGET#proxy=}" "$TMP/s1.sip" 1
check "sip: a replay from elsewhere gets no answer" no_answer "$TMP/answer.1"
check "sip: ... the proxy refuses it as a replay" count_lines "$TMP/proxy.out" '"event":"error".*"replayed_nonce"' 1
stop auc
check "sip: the AuC saw one s3 (one challenge issued)" json_true "$W/auc.st" '.issued | length == 1'

finish
