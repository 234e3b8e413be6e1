#!/usr/bin/env bash
# Where a request is taken (kd-live(7), TRANSACTIONS, "Where a request comes to"): only on a
# --listen socket (or a connection its listener accepted). The socket a service sends its own
# requests from, towards its --peer, takes that peer's answers and nothing else: a request sent
# there (an s1 to the port kd-proxy sends from toward the switch, a d1 or an Access-Request to the
# switch's AuC link port) used to be handled as if it had come to a listener, answered from that
# socket. Now it is refused (an error line, code unexpected_message, naming where it came from and
# the socket) and the role never sees it. kd-term register, which has no listener, discards a
# request the same way instead of ending the registration as a refusal (exit status 1 before).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/live-lib.sh"

# client_port NAME: the UDP port of service NAME that is not its listening one (its socket towards
# its --peer), read from /proc.
client_port() {
  local pid listen=${2##*:}
  pid=$(ps -o pid= --ppid "${LIVE_PID[$1]}" | tr -d ' ')
  python3 - "$pid" "$listen" <<'PY'
import os, sys
pid, listen = sys.argv[1], sys.argv[2]
inodes = set()
for fd in os.listdir("/proc/%s/fd" % pid):
    try:
        link = os.readlink("/proc/%s/fd/%s" % (pid, fd))
    except OSError:
        continue
    if link.startswith("socket:["):
        inodes.add(link[8:-1])
for line in open("/proc/net/udp").read().splitlines()[1:]:
    f = line.split()
    port = int(f[1].split(":")[1], 16)
    if f[9] in inodes and str(port) != listen:
        print(port)
PY
}

# refused_request NAME STEP: NAME's output has exactly one error line, unexpected_message for STEP,
# saying that a request is taken only on a listening socket.
refused_request() {
  count_lines "$TMP/$1.out" '"event":"error"' 1 &&
    jq -s -e 'map(select(.event == "error")) | .[0] | .code == "unexpected_message" and .step == "'"$2"'" and
      (.detail | test("^'"$2"' from udp:127[.]0[.]0[.]1:[0-9]+ on the socket that sends to --peer [a-z]+=udp:.*: a request is taken only on a listening socket$"))' \
      "$TMP/$1.out" >/dev/null ||
    { WHY="$1: $(grep '"event":"error"' "$TMP/$1.out" | head -c 300)"; return 1; }
}

# echo_relay UPSTREAM WHICH: a relay in front of UPSTREAM (udp:HOST:PORT), its port in RELAY_PORT,
# answers going back from the socket its client sent to; it sends a copy of what its client sends
# back to the client, from a socket of its own, before forwarding it: WHICH first-access-request,
# the first RADIUS Access-Request; each-new, every datagram not seen before.
echo_relay() {
  rm -f "$TMP/relay.port"
  timeout 60 python3 - "$TMP/relay.port" "$1" "$2" <<'PY' &
import os, select, socket, sys
port_file, upstream, which = sys.argv[1:4]
host, port = upstream[len("udp:"):].rsplit(":", 1)
down = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); down.bind(("127.0.0.1", 0))
up = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); up.bind(("127.0.0.1", 0))
other = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); other.bind(("127.0.0.1", 0))
open(port_file + ".tmp", "w").write(str(down.getsockname()[1])); os.rename(port_file + ".tmp", port_file)
client, seen = None, set()
while True:
    for s in select.select([down, up], [], [])[0]:
        d, a = s.recvfrom(65536)
        if s is up:
            down.sendto(d, client)
            continue
        client = a
        if d not in seen and (which == "each-new" or (d[0] == 1 and not seen)):
            seen.add(d)
            other.sendto(d, a)
        up.sendto(d, (host, int(port)))
PY
  LIVE_PID[relay]=$!
  local i
  for i in $(seq 50); do [ -s "$TMP/relay.port" ] && break; sleep 0.1; done
  RELAY_PORT=$(cat "$TMP/relay.port")
}
stop_relay() { kill "${LIVE_PID[relay]}" 2>/dev/null; wait "${LIVE_PID[relay]}" 2>/dev/null; unset "LIVE_PID[relay]"; }

# 1. JSON, both flows: a fresh s1 (d1) from kd-term start, sent to the proxy's (switch's) socket
# towards its peer, twice (the copy absorbed): nothing answers, one error line; a registration
# through the listener then succeeds.
live_world "$TMP/w"
chain json json proxied || fail "json: services start"
proxy_at=${TARGET#proxy=}
switch_at=$(jq -r 'select(.event == "listening") | .addr' "$TMP/switch.out")
"$KD_BIN/kd-term" start --id "$TERM_ID" --via "$PROXY_ID" --switch "$SWITCH_ID" --keys "$W/$TERM_ID.keys" \
  --state "$W/t1.st" >"$W/s1.json"
"$KD_BIN/kd-term" start --id "$TERM_ID" --switch "$SWITCH_ID" --keys "$W/$TERM_ID.keys" --state "$W/t2.st" >"$W/d1.json"
port=$(client_port proxy "$proxy_at")
check "json: the proxy has one socket besides its listener" test -n "$port"
send_udp "udp:127.0.0.1:$port" "$W/s1.json" 2
check "json: an s1 to the proxy's socket towards the switch gets no s6" test ! -s "$TMP/answer.1" -a ! -s "$TMP/answer.2"
check "json: ... the proxy refuses it once, naming where it came from and the socket" refused_request proxy s1
port=$(client_port switch "$switch_at")
send_udp "udp:127.0.0.1:$port" "$W/d1.json" 1
check "json: a d1 to the switch's socket towards the AuC gets no d4" test ! -s "$TMP/answer.1"
check "json: ... the switch refuses it, naming where it came from and the socket" refused_request switch d1
register json proxied
check "json: the services go on: a registration through the proxy's listener succeeds" eq "$RC" 0
check "json: ... its transcript whole" transcript_ok proxied
check "json: ... no other error at the services" count_lines "$TMP/proxy.out" '"event":"error"' 1
stop_all proxy switch auc

# 2. The AuC link over RADIUS: a relay between the switch and the AuC sends the switch's first
# Access-Request back to the port it came from (the switch's RADIUS client socket), from a socket of
# its own, then forwards it: the switch refuses it and the registration goes on.
live_world "$TMP/w-radius"
serve auc auc --binding radius --radius-secret-file "$W/secret" || fail "radius: the AuC starts"
echo_relay "$ADDR" first-access-request
serve switch switch --binding json --auc-link radius --radius-secret-file "$W/secret" \
  --peer "auc=udp:127.0.0.1:$RELAY_PORT" || fail "radius: the switch starts"
serve proxy proxy --binding json --peer "switch=$ADDR" || fail "radius: the proxy starts"
TARGET="proxy=$ADDR"
register json proxied
check "radius: an Access-Request to the switch's RADIUS client port: the registration succeeds" eq "$RC" 0
wait_lines "$TMP/switch.out" '"event":"error"' 1 5
check "radius: ... the switch refuses it as a request on its socket towards the AuC" refused_request switch s3
check "radius: ... no error elsewhere" no_errors proxy auc
stop_relay
stop_all proxy switch auc

# 3. kd-term register: a relay in front of the proxy sends each new s1 back to the terminal (from a
# socket of its own), then forwards it. The terminal takes no request: it discards it and
# registers.
live_world "$TMP/w-term"
chain json json proxied || fail "term: services start"
echo_relay "${TARGET#proxy=}" each-new
TARGET="proxy=udp:127.0.0.1:$RELAY_PORT"
register json proxied
check "term: register: its own s1 and s7 sent back to it: registered all the same (exit 1 before)" eq "$RC" 0
check "term: register: an error line for each, saying it was discarded" \
  jq -s -e 'map(select(.event == "error")) | length == 2 and all(.code == "unexpected_message" and
    (.detail | test("on the socket kd-term sends its requests from: kd-term takes only answers [(]discarded")))' \
    "$OUT" >/dev/null
check "term: register: the transcript holds no request received" \
  eq "$(jq -r 'select(.event != "error") | if .event then .event else .step + ">" + .to end' "$OUT" | tr '\n' ' ')" \
  "s1>proxy s6>term s7>proxy s10>term registered "
check "term: no error at the services" no_errors proxy switch auc
stop_relay
stop_all proxy switch auc

finish
