#!/usr/bin/env bash
# kd-term register's exit statuses (kd-term(1)): 4 when no answer comes within the transaction
# timeout, 1 when the terminal refuses the answer; and the command-line errors of live mode (exit 2,
# named on stderr, no state written).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/live-lib.sh"

live_world "$TMP/w"
# A port nobody listens on: the system gives it to a socket that closes at once.
free_port() { python3 -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

TARGET="proxy=udp:127.0.0.1:$(free_port)"
start=$(date +%s)
register json proxied --retransmit initial=100,max=200,timeout=800
took=$(($(date +%s) - start))
check "no answer: exit 4" exit_is 4
check "no answer: stderr says so" grep -q '^kd-term: no answer to s1 from udp:127.0.0.1:' "$ERR"
check "no answer: a timeout line counts the sends" json_true "$OUT" 'select(.event == "timeout") | .step == "s1" and .sends >= 3'
check "no answer: within the timeout (took ${took}s)" test "$took" -le 5

# --retransmit is applied over the binding's own defaults, and over the AuC link's only where there
# is one (the switch, the AuC): max=300 is above MGCP's initial 200 ms, so the terminal and the
# proxy take it (trial 6: both refused it as below the 500 ms of a JSON AuC link they do not have).
register mgcp proxied --retransmit max=300,timeout=600
check "mgcp --retransmit max=300: register runs (no answer: exit 4)" exit_is 4
check "mgcp --retransmit max=300: no command-line error" eval '! grep -q "below initial" "$ERR"'
if serve mgcp-proxy proxy --binding mgcp --peer "switch=udp:127.0.0.1:9" --retransmit max=300; then
  pass "mgcp --retransmit max=300: the proxy serves"
  stop mgcp-proxy
else
  fail "mgcp --retransmit max=300: the proxy serves" "$(head -c 300 "$TMP/mgcp-proxy.err")"
fi

# A fake proxy answers any datagram with an s6 of another registration: the terminal refuses it.
SHOW_KEY=0
kd term "" start --id "$TERM_ID" --via "$PROXY_ID" --switch "$SWITCH_ID" >"$TMP/s1"
kd proxy "$W/p.st" <"$TMP/s1" >"$TMP/s2"
kd switch "$W/s.st" <"$TMP/s2" | grep '"s3"' >"$TMP/s3"
kd auc "$W/a.st" <"$TMP/s3" >"$TMP/s4"
kd switch "$W/s.st" <"$TMP/s4" | grep '"s5"' >"$TMP/s5"
kd proxy "$W/p.st" <"$TMP/s5" | tr -d '\n' >"$TMP/s6"
check "the filters made an s6" grep -q '"step":"s6"' "$TMP/s6"
python3 - "$TMP/s6" "$TMP/fake.port" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
open(sys.argv[2], "w").write(str(s.getsockname()[1]))
s.settimeout(10)
try:
    data, peer = s.recvfrom(65536)
    s.sendto(open(sys.argv[1], "rb").read(), peer)
except socket.timeout:
    pass
PY
LIVE_PID[fake]=$!
for _ in $(seq 50); do [ -s "$TMP/fake.port" ] && break; sleep 0.1; done
TARGET="proxy=udp:127.0.0.1:$(cat "$TMP/fake.port")"
register json proxied --retransmit timeout=5000
check "refused: exit 1" exit_is 1
check "refused: the error line names the step" json_true "$OUT" 'select(.event == "error") | .step == "s6"'
check "refused: stderr names the reason" grep -q '^kd-term: error: [a-z_]* (s6): ' "$ERR"

# Command-line errors: exit 2, the tool's prefix and a specific message, no state file.
sw=(--id "$SWITCH_ID" --keys "$W/$SWITCH_ID.keys" --state "$W/u.st")
usage "tcp listen in mgcp" "mgcp travels over UDP only" kd-switch serve "${sw[@]}" --binding mgcp --auc-link json --listen tcp:127.0.0.1:0 --peer auc=udp:127.0.0.1:9
usage "tcp peer in radius" "radius travels over UDP only" kd-switch serve "${sw[@]}" --binding sip --radius-secret-file "$W/secret" --listen udp:127.0.0.1:0 --peer auc=tcp:127.0.0.1:9
usage "bad port" "the port must be a number from 0 to 65535" kd-switch serve "${sw[@]}" --listen udp:127.0.0.1:65536 --peer auc=udp:127.0.0.1:9
usage "bad endpoint" "must be udp:HOST:PORT or tcp:HOST:PORT" kd-switch serve "${sw[@]}" --listen 127.0.0.1:5060 --peer auc=udp:127.0.0.1:9
usage "IPv6 without brackets" "in brackets" kd-switch serve "${sw[@]}" --listen udp:::1:5060 --peer auc=udp:127.0.0.1:9
usage "a peer at port 0" "--peer auc=udp:127.0.0.1:0: port 0 names no peer" kd-switch serve "${sw[@]}" --listen udp:127.0.0.1:0 --peer auc=udp:127.0.0.1:0
usage "a peer given twice" "--peer auc= is given twice" kd-switch serve "${sw[@]}" --listen udp:127.0.0.1:0 --peer auc=udp:127.0.0.1:9 --peer auc=udp:127.0.0.1:10
usage "no --listen" "listen" kd-switch serve "${sw[@]}" --peer auc=udp:127.0.0.1:9
usage "no auc peer" "--peer auc=ENDPOINT is required" kd-switch serve "${sw[@]}" --listen udp:127.0.0.1:0
usage "a peer the role has not" "ROLE auc, auc-acct" kd-switch serve "${sw[@]}" --listen udp:127.0.0.1:0 --peer proxy=udp:127.0.0.1:9
usage "the AuC has no peer" "has no peer" kd-auc serve --keys "$W/auc.keys" --state "$W/u.st" --listen udp:127.0.0.1:0 --peer switch=udp:127.0.0.1:9
usage "no switch peer" "--peer switch=ENDPOINT is required" kd-proxy serve --id "$PROXY_ID" --keys "$W/$PROXY_ID.keys" --state "$W/u.st" --listen udp:127.0.0.1:0
usage "bad --events" "--events must be all, errors or none" kd-switch serve "${sw[@]}" --listen udp:127.0.0.1:0 --peer auc=udp:127.0.0.1:9 --events loud
usage "bad --retransmit" "--retransmit: unknown key" kd-switch serve "${sw[@]}" --listen udp:127.0.0.1:0 --peer auc=udp:127.0.0.1:9 --retransmit soon=1
# --commit-window is parsed as every numeric option is (e2e-numeric-options), in the same words.
usage "--commit-window too long" "--commit-window: 100001 is too large: must be a whole number from 0 to 100000$" kd-switch serve "${sw[@]}" --listen udp:127.0.0.1:0 --peer auc=udp:127.0.0.1:9 --commit-window 100001
usage "--commit-window not a number" '--commit-window: "soon" must be a whole number from 0 to 100000 (decimal digits only)$' kd-auc serve --keys "$W/auc.keys" --state "$W/u.st" --listen udp:127.0.0.1:0 --commit-window soon
usage "--commit-window negative" '--commit-window: "-1" must be a whole number from 0 to 100000 (decimal digits only)$' kd-auc serve --keys "$W/auc.keys" --state "$W/u.st" --listen udp:127.0.0.1:0 --commit-window -1
usage "--commit-window empty" '--commit-window: no value: must be a whole number from 0 to 100000$' kd-auc serve --keys "$W/auc.keys" --state "$W/u.st" --listen udp:127.0.0.1:0 --commit-window ""
usage "an input file" "serve reads no input file" kd-switch serve "${sw[@]}" --listen udp:127.0.0.1:0 --peer auc=udp:127.0.0.1:9 "$TMP/s1"
usage "--pcap-out" "--pcap-out does not apply to serve" kd-switch serve "${sw[@]}" --binding sip --auc-link json --listen udp:127.0.0.1:0 --peer auc=udp:127.0.0.1:9 --pcap-out "$TMP/x.pcap"
term=(--id "$TERM_ID" --switch "$SWITCH_ID" --keys "$W/$TERM_ID.keys" --state "$W/u.st")
usage "register: proxied flow to a switch" "give --peer proxy=ENDPOINT" kd-term register "${term[@]}" --via "$PROXY_ID" --peer switch=udp:127.0.0.1:9
usage "register: direct flow to a proxy" "give --peer switch=ENDPOINT" kd-term register "${term[@]}" --peer proxy=udp:127.0.0.1:9
usage "register: no peer" "peer" kd-term register "${term[@]}"
usage "register: a peer at port 0" "port 0 names no peer" kd-term register "${term[@]}" --peer switch=udp:127.0.0.1:0
usage "register: the peer given twice" "--peer proxy= is given twice: register takes one --peer" \
  kd-term register "${term[@]}" --via "$PROXY_ID" --peer proxy=udp:127.0.0.1:9 --peer proxy=udp:127.0.0.1:10
usage "load: a proxy and a switch" "--peer: load takes one --peer (2 given): with --via, proxy=ENDPOINT" \
  kd-term load "${term[@]}" --via "$PROXY_ID" --count 1 --peer proxy=udp:127.0.0.1:9 --peer switch=udp:127.0.0.1:10

finish
