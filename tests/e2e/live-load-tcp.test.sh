#!/usr/bin/env bash
# kd-term load over TCP (kd-term(1), LOAD; kd-live(7), TRANSPORTS): every terminal's request on one
# connection to the peer (sipp's -t t1), no retransmission over TCP, the requests waiting on a
# connection that broke sent again on a new one.
#  - 200 terminals through kd-proxy serve to kd-switch serve, SIP over TCP on both links (the AuC
#    link over RADIUS): every one registers, nothing refused, the AuC records them all;
#  - the proxy killed with SIGKILL mid-run and restarted on its port and state: the load's
#    connection broke, its waiting requests go again on a new one (from a new port: the proxy's
#    journal knows them by their bytes and host), and every registration still completes.
# (A tcp: peer in a binding that travels over UDP only: tests/e2e/live-load.test.sh.)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/live-lib.sh"

TCP=tcp:127.0.0.1:0
sec=()
FAST=(--retransmit initial=100,max=400,timeout=15000)
SERVE_X=("${FAST[@]}")

# world NAME N: N terminals, the AuC (RADIUS, UDP), the switch and the proxy listening on TCP; the
# proxy's link to the switch over TCP. PX_ARGS: the proxy's arguments (restart repeats them).
world() {
  live_world "$TMP/w-$1" && users "$2" || return 1
  rm -f "$TMP"/auc.* "$TMP"/switch.* "$TMP"/proxy.*
  sec=(--radius-secret-file "$W/secret")
  serve auc auc --binding radius "${sec[@]}" || return 1
  LIVE_LISTEN=$TCP serve switch switch --binding sip --auc-link radius "${sec[@]}" --peer "auc=$ADDR" || return 1
  PX_ARGS=(proxy proxy --binding sip --peer "switch=$ADDR")
  LIVE_LISTEN=$TCP serve "${PX_ARGS[@]}" || return 1
  TARGET="proxy=$ADDR"
}
# summary_is FILTER: the load's summary holds and satisfies FILTER (jq -e alone passes an empty file).
summary_is() { [ -s "$SUM" ] || { WHY="no summary; stderr: $(head -c 300 "$ERR")"; return 1; }; json_true "$SUM" "$1"; }
all_registered() {  # N
  summary_is '.event == "load-summary" and .attempted == '"$1"' and .registered == '"$1"' and
    .timeouts == 0 and .unfinished == 0 and (.failed | length) == 0'
}
# no_refusal NAME...: no error or timeout line in any run of the services NAME (crashed or not).
no_refusal() {
  local f
  for f in "$@"; do
    for f in "$TMP/$f".[0-9]*.out "$TMP/$f.out"; do
      [ -e "$f" ] || continue
      ! grep -q '"event":"\(error\|timeout\)"' "$f" ||
        { WHY="$f: $(grep '"event":"\(error\|timeout\)"' "$f" | head -n 2)"; return 1; }
    done
  done
}

# ---- 200 terminals over TCP --------------------------------------------------------------------
world plain 200 || fail "plain: services start"
load sip "$TARGET" --count 200 --concurrency 50 "${FAST[@]}"
check "plain: exit 0" exit_is 0
check "plain: all 200 registered, none refused or timed out" all_registered 200
check "plain: no retransmission over TCP" summary_is '.retransmissions == 0'
sleep 0.3
check "plain: no service refused anything" no_refusal auc switch proxy
check "plain: the AuC recorded every registration" wait_lines "$TMP/auc.out" '"event":"registration-recorded"' 200 10
check "plain: the proxy noted nothing (no connection broke)" \
  eq "$(grep -c 'kd-proxy: note' "$TMP/proxy.err")" 0
stop_all proxy switch auc

# ---- the proxy killed mid-run ------------------------------------------------------------------
world crash 300 || fail "crash: services start"
load_start sip "$TARGET" --count 300 --rate 300 --concurrency 100 "${FAST[@]}"
check "crash: the load is under way when the proxy is killed" \
  wait_lines "$TMP/auc.out" '"event":"registration-recorded"' 60
check "crash: the proxy restarts on its port" restart "${PX_ARGS[@]}"
load_wait
check "crash: exit 0" exit_is 0
check "crash: all 300 registered" all_registered 300
check "crash: the load noted the broken connection" grep -q '^kd-term: note: tcp:127.0.0.1:' "$ERR"
check "crash: ... and sent what waited on it again" summary_is '.retransmissions > 0'
sleep 0.3
check "crash: no service refused anything" no_refusal auc switch proxy
stop_all proxy switch auc

finish
