#!/usr/bin/env bash
# A terminal registers twice in a row through the same services (kd-live(7), TRANSACTIONS): each
# request a live role sends is a new transaction (RADIUS Identifier and Request Authenticator,
# the JSON link's "txn", s2's transaction identity in each signaling binding), so the second
# registration is not taken for a retransmission of the first, within the peers' keep time,
# and both end in "registered".
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/live-lib.sh"

twice() {  # BINDING LINK FLOW
  local binding=$1 link=$2 flow=$3 name="$1/$2/$3" i
  live_world "$TMP/w-$binding-$link-$flow"
  chain "$binding" "$link" "$flow" || { fail "$name: services start"; return; }
  for i in 1 2; do
    # A timeout well below the AuC's keep time: without a new transaction, the second
    # registration gets no answer before it.
    register "$binding" "$flow" --retransmit timeout=6000
    check "$name: registration $i: exit 0" exit_is 0
    check "$name: registration $i: registered" transcript_ok "$flow"
  done
  wait_lines "$TMP/auc.out" '"event":"registration-recorded"' 2 5  # the last s11 may be on its way
  local names=(auc switch)
  [ "$flow" = proxied ] && names+=(proxy)
  check "$name: no service printed an error" no_errors "${names[@]}"
  check "$name: the AuC recorded two registrations" \
    eq "$(grep -c '"event":"registration-recorded"' "$TMP/auc.out")" 2
  local n
  for n in "${names[@]}"; do stop "$n"; done
}

# The JSON transaction member: the AuC's answer carries the request's; a malformed one is refused.
live_world "$TMP/txn"
SHOW_KEY=0
SERVE_X=(--now "$NOW" --seed "$SEED")  # the filters' s3 is of that time
kd term "" start --id "$TERM_ID" --via "$PROXY_ID" --switch "$SWITCH_ID" >"$TMP/s1.json"
kd proxy "$W/p.st" <"$TMP/s1.json" >"$TMP/s2.json"
kd switch "$W/s.st" <"$TMP/s2.json" | grep '"step":"s3"' | tr -d '\n' >"$TMP/s3.json"
jq -c '. + {txn: "t-1.x_Y"}' "$TMP/s3.json" | tr -d '\n' >"$TMP/s3-txn.json"
jq -c '. + {txn: "no spaces"}' "$TMP/s3.json" | tr -d '\n' >"$TMP/s3-bad.json"
serve auc auc || fail "txn: kd-auc serve starts"
send_udp "$ADDR" "$TMP/s3-txn.json" 1
check "txn: s3 with a txn is answered with s4" json_true "$TMP/answer.1" '.step == "s4"'
check "txn: the s4 echoes the request's txn" json_true "$TMP/answer.1" '.txn == "t-1.x_Y"'
send_udp "$ADDR" "$TMP/s3-bad.json" 1
check "txn: a malformed txn is refused" grep -q '"event":"error".*"code":"malformed"' "$TMP/auc.out"
stop auc
SERVE_X=()

twice sip radius proxied
twice sip radius direct
twice json json proxied
twice json json direct
# The other bindings' transactions and the mixed link repeat the paths above (live-register runs
# each binding under the sanitizers).
extra_case "sip/json/proxied" && twice sip json proxied
for b in mgcp h248 h323; do extra_case "$b/radius/proxied" && twice "$b" radius proxied; done

finish
