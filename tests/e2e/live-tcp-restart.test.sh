#!/usr/bin/env bash
# Live mode over TCP, a peer that goes away (kd-live(7), TRANSPORTS, "Connections"): the client side
# learns that its connection broke or could not be opened (RFC 3261 18.1.1, 17.1.2.2's "transport
# error") and sends the requests waiting on it again on a new connection, after a backoff, a
# bounded number of times, within the transaction's own timeout.
#  - kd-switch is killed (SIGKILL) while the proxy's s2 waits on its connection, and restarted on
#    its port and state: kd-term register through the proxy completes.
#  - kd-term register towards a proxy that is not listening yet: it keeps trying, and registers
#    once the proxy is up.
#  - towards a port nobody ever listens on: it gives up after its attempts, exit 4, saying why.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/live-lib.sh"

sec() { echo --radius-secret-file "$W/secret"; }
# The terminal's own timeout: long enough for the restarts below, far below the default 32 s.
TERM_TIMERS=(--retransmit timeout=15000)

# register_bg ARGS...: register (live-lib.sh) in the background; register_wait sets RC.
register_bg() {
  ( register "$@"; echo "$RC" >"$TMP/register.rc" ) &
  REG_PID=$!
}
register_wait() {
  wait "$REG_PID"
  RC=$(cat "$TMP/register.rc" 2>/dev/null || echo none)
}

# udp_stand_in PORTFILE GOTFILE: a UDP socket on a free port (written to PORTFILE) that waits for
# one datagram (then writes GOTFILE) and exits, freeing the port for the real service.
udp_stand_in() {
  timeout 30 python3 - "$1" "$2" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
open(sys.argv[1] + ".tmp", "w").write(str(s.getsockname()[1]))
import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
s.settimeout(25)
try:
    s.recvfrom(65536)
    open(sys.argv[2], "w").write("got\n")
except socket.timeout:
    pass
PY
  LIVE_PID[stand_in]=$!
  local i
  for i in $(seq 100); do [ -s "$1" ] && return 0; sleep 0.05; done
  return 1
}
# free_tcp_port: a TCP port nobody listens on (bound then released).
free_tcp_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# some_line FILE FILTER: a line of FILE satisfies FILTER (jq -e alone passes an empty file).
some_line() {
  [ -n "$(jq -c "select($2)" "$1" 2>/dev/null)" ] || { WHY="$1: no line where $2: $(head -c 300 "$1")"; return 1; }
}
wait_file() {  # FILE [SECONDS]
  local i
  for i in $(seq $((${2:-10} * 20))); do [ -e "$1" ] && return 0; sleep 0.05; done
  WHY="$1 did not appear"
  return 1
}

# ---- the switch restarted under a waiting s2 --------------------------------------------------
# The AuC's port first holds a stand-in that tells when s3 came (the switch then holds the proxy's
# s2, unanswered) and answers nothing; the switch is killed then, and restarted; the AuC starts on
# the stand-in's port.
live_world "$TMP/w-switch"
udp_stand_in "$TMP/auc.port" "$TMP/auc.got" || fail "switch: the AuC's stand-in starts"
AUC_ADDR=udp:127.0.0.1:$(cat "$TMP/auc.port")
SW_ARGS=(switch switch --binding sip --auc-link radius $(sec) --peer "auc=$AUC_ADDR")
LIVE_LISTEN=tcp:127.0.0.1:0 serve "${SW_ARGS[@]}" || fail "switch: the switch starts"
LIVE_LISTEN=tcp:127.0.0.1:0 serve proxy proxy --binding sip --peer "switch=$ADDR" || fail "switch: the proxy starts"
TARGET="proxy=$ADDR"
register_bg sip proxied "${TERM_TIMERS[@]}"
check "switch: s3 reached the AuC's port (s2 waits at the switch)" wait_file "$TMP/auc.got"
wait "${LIVE_PID[stand_in]}"; unset 'LIVE_PID[stand_in]'
restart "${SW_ARGS[@]}" || fail "switch: the switch restarts on its port"
LISTEN_AT=$AUC_ADDR serve auc auc --binding radius $(sec) || fail "switch: the AuC starts on its port"
start=$(date +%s)
register_wait
check "switch restarted: the registration completes, exit 0 (took $(($(date +%s) - start))s more)" exit_is 0
check "switch restarted: the terminal's transcript" transcript_ok proxied
check "switch restarted: the proxy noted the broken connection" grep -q '^kd-proxy: note: .*tcp:127.0.0.1:' "$TMP/proxy.err"
sleep 0.3
check "switch restarted: no service printed an error or a timeout" no_errors auc switch proxy
stop_all auc switch proxy

# ---- a proxy that is not listening yet ---------------------------------------------------------
live_world "$TMP/w-late"
serve auc auc --binding radius $(sec) || fail "late: the AuC starts"
serve switch switch --binding sip --auc-link radius $(sec) --peer "auc=$ADDR" || fail "late: the switch starts"
SWITCH_ADDR=$ADDR
PORT=$(free_tcp_port)
TARGET="proxy=tcp:127.0.0.1:$PORT"
register_bg sip proxied "${TERM_TIMERS[@]}"
sleep 0.3  # the terminal's first connection is refused
LISTEN_AT=tcp:127.0.0.1:$PORT serve proxy proxy --binding sip --peer "switch=$SWITCH_ADDR" || fail "late: the proxy starts"
register_wait
check "late proxy: the registration completes, exit 0" exit_is 0
check "late proxy: the terminal's transcript" transcript_ok proxied
check "late proxy: the terminal noted the refused connection" grep -q '^kd-term: note: tcp:127.0.0.1:'"$PORT"': cannot connect' "$ERR"
stop_all auc switch proxy

# ---- nobody there, ever ------------------------------------------------------------------------
TARGET="proxy=tcp:127.0.0.1:$(free_tcp_port)"
start=$(date +%s)
register sip proxied "${TERM_TIMERS[@]}"
took=$(($(date +%s) - start))
check "nobody: exit 4" exit_is 4
check "nobody: stderr says the connection failed each time" \
  grep -q '^kd-term: no answer to s1 from tcp:127.0.0.1:[0-9]*: its connection failed 9 times (the last: .*cannot connect' "$ERR"
check "nobody: gave up after the backoff, before the timeout (took ${took}s)" test "$took" -ge 7 -a "$took" -le 13
check "nobody: a timeout line counting the sends" some_line "$OUT" '.event == "timeout" and .step == "s1" and .sends == 9'

finish
