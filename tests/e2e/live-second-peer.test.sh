#!/usr/bin/env bash
# A second implementation against kd's services (issue 12): tests/e2e/second_peer.py, a terminal,
# an AuC and a proxy written in python from kd-protocol(7) and kd-live(7) alone (hashlib, hmac,
# json; AES-GCM from python3-cryptography), registers through kd-proxy, kd-switch and kd-auc
# serve over UDP in JSON, checking every byte the pages define (s6, the s7 it builds with its
# verification word and mechanism list, s10's MAC and sealed key); retransmits s1 (the answer
# must be byte for byte the first), replays s7 from another port (no answer; the proxy's error
# line names the code kd-protocol(7), THREAT MODEL gives), and plays the switch's AuC (JSON link;
# its s4 sent first from another port is refused) and its proxy for one registration. When the
# pages and the services part, this test fails.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/live-lib.sh"

PEER="$(dirname "$0")/second_peer.py"
peer() { timeout --foreground -k 5 60 python3 "$PEER" "$@" >"$TMP/peer.out" 2>"$TMP/peer.err"; RC=$?; }
all_ok() {  # the peer's own checks: exit 0, no FAIL line, at least N ok lines
  [ "$RC" = 0 ] && ! grep -q '^FAIL' "$TMP/peer.out" && [ "$(grep -c '^ok ' "$TMP/peer.out")" -ge "$1" ] ||
    { WHY="exit $RC; $(grep '^FAIL' "$TMP/peer.out" | head -3) $(head -c 300 "$TMP/peer.err")"; return 1; }
}

peer selftest
check "the peer recomputes kd-protocol(7)'s worked example" all_ok 5

live_world "$TMP/w"
chain json json proxied || fail "services start"
peer register --peer "${TARGET#proxy=}" --keys "$W/$TERM_ID.keys" --id "$TERM_ID" --via "$PROXY_ID"
check "register: every check of the second terminal passes" all_ok 29
check "register: the peer says it registered" grep -q "^registered $TERM_ID SecMech tls" "$TMP/peer.out"
wait_lines "$TMP/auc.out" '"event":"registration-recorded"' 1 5
check "register: the AuC recorded the registration" \
  count_lines "$TMP/auc.out" '"event":"registration-recorded".*"IDc":"'"$TERM_ID"'"' 1
check "register: the proxy established the key once (the copies came from the cache)" \
  count_lines "$TMP/proxy.out" '"event":"key-established"' 1
# kd-protocol(7), THREAT MODEL: an old s7 once the exchange is over is unexpected_message.
check "replay: the proxy refused the s7 from another port" \
  count_lines "$TMP/proxy.out" '"event":"error","code":"unexpected_message","step":"s7"' 1
check "replay: no other error at the proxy" count_lines "$TMP/proxy.out" '"event":"error"' 1
check "no error at the switch or the AuC" no_errors switch auc
stop_all proxy switch auc

peer auc --switch-tool "$KD_BIN/kd-switch" --id "$TERM_ID" --via "$PROXY_ID" --switch "$SWITCH_ID" \
  --keys "$W/auc.keys" --switch-keys "$W/$SWITCH_ID.keys"
check "auc: the switch takes the second AuC's s4 and reports to it" all_ok 21

finish
