#!/usr/bin/env bash
# The endpoints of live mode's command lines refused, each with its whole message (kd-live(7),
# ENDPOINTS; kd-term(1)): a --peer that does not fit the flow (register and load), a --peer at port
# 0 (which names no peer: a service binds to port 0, a datagram cannot go to it), a tcp: endpoint
# in a binding over UDP only, a malformed one. Exit 2, the one line on stderr, nothing on stdout,
# no state file; and port 0 where a service listens is taken.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/live-lib.sh"

live_world "$TMP/w"
users 2 || fail "keys"

# refused_with NAME LINE TOOL ARGS...: exit 2, stderr exactly LINE (and the pointer to --help),
# stdout empty, no $W/u.st (nor its journal, nor its lock file: the command line is checked before
# the state file is taken).
refused_with() {
  local name=$1 line=$2 tool=$3; shift 3
  rm -f "$W/u.st" "$W/u.st.journal" "$W/u.st.lock"
  timeout --foreground -k 10 20 "$KD_BIN/$tool" "$@" >"$OUT" 2>"$ERR"
  RC=$?
  check "$name: exit 2" exit_is 2
  check "$name: says so" eq "$(cat "$ERR")" "$tool: $line"$'\n'"$(help_pointer "$tool")"
  check "$name: nothing on stdout" test ! -s "$OUT"
  check "$name: no state written" test ! -e "$W/u.st" -a ! -e "$W/u.st.journal" -a ! -e "$W/u.st.lock"
}

term=(--id "$TERM_ID" --switch "$SWITCH_ID" --keys "$W/$TERM_ID.keys" --state "$W/u.st")
load=(load --id 'user%d' --count 2 --switch "$SWITCH_ID" --keys "$W/users.keys")
sw=(serve --id "$SWITCH_ID" --keys "$W/$SWITCH_ID.keys" --state "$W/u.st" --listen udp:127.0.0.1:0)

refused_with "register --via to a switch" \
  "register --via (the proxied flow) goes through the proxy: give --peer proxy=ENDPOINT" \
  kd-term register "${term[@]}" --via "$PROXY_ID" --peer switch=udp:127.0.0.1:9
refused_with "register without --via to a proxy" \
  "register without --via (the direct flow) goes to the switch: give --peer switch=ENDPOINT" \
  kd-term register "${term[@]}" --peer proxy=udp:127.0.0.1:9
refused_with "register with two peers" \
  "--peer switch= is given twice: register takes one --peer (without --via, switch=ENDPOINT)" \
  kd-term register "${term[@]}" --peer switch=udp:127.0.0.1:9 --peer switch=udp:127.0.0.1:10
refused_with "load --via to a switch" \
  "load --via (the proxied flow) goes through the proxy: give --peer proxy=ENDPOINT" \
  kd-term "${load[@]}" --via "$PROXY_ID" --peer switch=udp:127.0.0.1:9
refused_with "load without --via to a proxy" \
  "load without --via (the direct flow) goes to the switch: give --peer switch=ENDPOINT" \
  kd-term "${load[@]}" --peer proxy=udp:127.0.0.1:9

port0() { echo "--peer $1: port 0 names no peer; give the port it listens on"; }  # PEER
refused_with "register to port 0" \
  "$(port0 switch=udp:127.0.0.1:0)" \
  kd-term register "${term[@]}" --peer switch=udp:127.0.0.1:0
refused_with "register to port 0 over TCP, IPv6" \
  "$(port0 'proxy=tcp:[::1]:0')" \
  kd-term register "${term[@]}" --binding sip --via "$PROXY_ID" --peer 'proxy=tcp:[::1]:0'
refused_with "load to port 0" \
  "$(port0 proxy=udp:127.0.0.1:0)" \
  kd-term "${load[@]}" --via "$PROXY_ID" --peer proxy=udp:127.0.0.1:0
refused_with "a switch's auc at port 0" \
  "$(port0 auc=udp:127.0.0.1:0)" \
  kd-switch "${sw[@]}" --peer auc=udp:127.0.0.1:0
refused_with "a switch's auc-acct at port 0" \
  "$(port0 auc-acct=udp:127.0.0.1:0)" \
  kd-switch "${sw[@]}" --peer auc=udp:127.0.0.1:9 --peer auc-acct=udp:127.0.0.1:0
refused_with "a proxy's switch at port 0" \
  "$(port0 switch=udp:127.0.0.1:0)" \
  kd-proxy serve --id "$PROXY_ID" --keys "$W/$PROXY_ID.keys" --state "$W/u.st" --listen udp:127.0.0.1:0 \
  --peer switch=udp:127.0.0.1:0

refused_with "a malformed peer" \
  '--peer auc=: endpoint "udp:127.0.0.1": no :PORT after the host' \
  kd-switch "${sw[@]}" --peer auc=udp:127.0.0.1
refused_with "a malformed listen" \
  '--listen: endpoint "127.0.0.1:0": must be udp:HOST:PORT or tcp:HOST:PORT' \
  kd-switch serve --id "$SWITCH_ID" --keys "$W/$SWITCH_ID.keys" --state "$W/u.st" --listen 127.0.0.1:0 \
  --peer auc=udp:127.0.0.1:9
refused_with "a tcp: listen in mgcp" \
  "--listen tcp:127.0.0.1:0: mgcp travels over UDP only (over TCP: sip, h248, json)" \
  kd-switch serve --id "$SWITCH_ID" --keys "$W/$SWITCH_ID.keys" --state "$W/u.st" --binding mgcp --auc-link json \
  --listen tcp:127.0.0.1:0 --peer auc=udp:127.0.0.1:9
refused_with "a tcp: peer at port 0 in mgcp (the port first)" \
  "$(port0 switch=tcp:127.0.0.1:0)" \
  kd-term register "${term[@]}" --binding mgcp --peer switch=tcp:127.0.0.1:0

# Port 0 where a service listens: any free port, which its listening line names.
live_world "$TMP/w2"
serve auc auc || fail "listen at port 0: the AuC starts"
check "listen at port 0: a port of its own" json_true "$TMP/auc.out" \
  'select(.event == "listening") | .addr | test("^udp:127\\.0\\.0\\.1:[1-9][0-9]*$")'
stop auc
check "listen at port 0: stopped, exit 0" exit_is 0

finish
