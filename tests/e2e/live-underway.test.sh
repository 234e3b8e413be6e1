#!/usr/bin/env bash
# Requests under way when a service is killed (kd-live(7), DURABILITY, "Requests under way"),
# made to happen for sure: the switch's link to the AuC goes through tests/tools/impair.py
# dropping everything, so the switch's request to the AuC is under way when it is killed with
# SIGKILL; then the switch restarts on its port with its state, and the relay (same port) lets
# everything through. The registration under way completes: the switch sends its request to the
# AuC again, and the terminal's retransmission is waited on, not refused as a replay of the nonce
# the switch had saved. In the direct flow (d1 waits on d2) and the proxied flow (s2 waits on s3),
# with the AuC link over RADIUS (the switch resends from the port it used before: the journal
# keeps it) and in JSON. And the switch's accounting (s11, d7) lost in flight when it is killed:
# the relay drops only the Accounting-Requests, then lets everything through once it restarted.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/live-lib.sh"

IMPAIR=$KD_ROOT/tests/tools/impair.py
# count=100: over RADIUS (which counts, 5 resends by default: some 2 s at these intervals) the
# switch resends for the whole timeout, however long a loaded machine takes to bring the relay back.
SERVE_X=(--retransmit initial=200,max=400,count=100,timeout=20000)

# relay NAME DROP TARGET [LISTEN]: the relay in the background (RELAY_X: more of its options); RELAY
# its address (udp:IP:PORT).
RELAY_X=()
relay() {
  local name=$1 drop=$2 target=$3 listen=${4:-127.0.0.1:0}
  timeout --foreground -k 5 60 python3 "$IMPAIR" --target "${target#udp:}" --listen "$listen" --drop "$drop" \
    --seed 1 --max-seconds 50 "${RELAY_X[@]}" >"$TMP/$name.relay" 2>&1 &
  LIVE_PID[$name]=$!
  local i
  for i in $(seq 50); do
    RELAY=$(jq -r 'select(.event == "listening") | .addr' "$TMP/$name.relay" 2>/dev/null | head -n 1)
    [ -n "$RELAY" ] && return 0
    sleep 0.1
  done
  return 1
}

# case FLOW LINK: one registration with the switch killed while its request to the AuC is under way.
case_() {
  local flow=$1 link=$2 name="$1/$2"
  live_world "$TMP/$flow-$link" || { fail "$name: world"; return; }
  local sec=(--radius-secret-file "$W/secret") auc_bind=()
  [ "$link" = radius ] && auc_bind=(--binding radius "${sec[@]}")
  serve auc auc "${auc_bind[@]}" || { fail "$name: the AuC starts"; return; }
  local auc=$ADDR
  relay hole 1 "$auc" || { fail "$name: the relay starts"; return; }
  local hole=$RELAY
  SW_ARGS=(switch switch --binding sip --auc-link "$link" "${sec[@]}" --peer "auc=$hole")
  serve "${SW_ARGS[@]}" || { fail "$name: the switch starts"; return; }
  TARGET="switch=$ADDR"
  if [ "$flow" = proxied ]; then
    serve proxy proxy --binding sip --peer "switch=$ADDR" || { fail "$name: the proxy starts"; return; }
    TARGET="proxy=$ADDR"
  fi
  local via=()
  [ "$flow" = proxied ] && via=(--via "$PROXY_ID")
  timeout --foreground -k 10 40 "$KD_BIN/kd-term" register --binding sip --id "$TERM_ID" "${via[@]}" --switch "$SWITCH_ID" \
    --keys "$W/$TERM_ID.keys" --peer "$TARGET" --retransmit initial=200,max=400,timeout=20000 \
    >"$TMP/reg.out" 2>"$TMP/reg.err" &
  LIVE_PID[reg]=$!
  check "$name: the switch's request to the AuC is under way (the relay drops it)" \
    wait_lines "$TMP/hole.relay" . 1 5
  sleep 0.6  # a retransmission or two from the terminal and the switch: all swallowed
  check "$name: the switch restarts on its port" restart "${SW_ARGS[@]}"
  check "$name: ... and says it goes on with the requests under way" \
    grep -q "requests under way at the last stop go on" "$TMP/switch.err"
  kill -TERM "${LIVE_PID[hole]}" 2>/dev/null; wait "${LIVE_PID[hole]}" 2>/dev/null; unset "LIVE_PID[hole]"
  relay hole 0 "$auc" "${hole#udp:}" || { fail "$name: the relay restarts on its port"; return; }
  wait "${LIVE_PID[reg]}"; RC=$?; unset "LIVE_PID[reg]"
  check "$name: the registration under way completes (exit 0)" eq "$RC" 0
  check "$name: ... registered" grep -q '"event":"registered"' "$TMP/reg.out"
  check "$name: the restarted switch refused nothing" count_lines "$TMP/switch.out" '"event":"error"' 0
  check "$name: ... and the AuC neither" count_lines "$TMP/auc.out" '"event":"error"' 0
  check "$name: the AuC recorded the registration" wait_lines "$TMP/auc.out" '"event":"registration-recorded"' 1 5
  stop_all switch auc
  [ "$flow" = proxied ] && stop proxy
  kill -TERM "${LIVE_PID[hole]}" 2>/dev/null; wait "${LIVE_PID[hole]}" 2>/dev/null; unset "LIVE_PID[hole]"
}

# lost FLOW: the switch's accounting (s11 in the proxied flow, d7 in the direct one), a RADIUS
# Accounting-Request, lost in flight: the relay drops every Accounting-Request (code 4) and lets the
# rest through, so the terminal registers while the switch's request waits, unanswered, in its
# journal. The switch is killed then and restarted on its port and state; the relay lets
# everything through (SIGUSR1): the restarted switch sends its accounting again and the AuC records
# the registration. Without the journal's records of requests sent, it would never know.
lost() {
  local flow=$1 step=s11
  [ "$flow" = direct ] && step=d7
  local name="$step lost"
  live_world "$TMP/lost-$flow" || { fail "$name: world"; return; }
  local sec=(--radius-secret-file "$W/secret")
  serve auc auc --binding radius "${sec[@]}" || { fail "$name: the AuC starts"; return; }
  local auc=$ADDR
  RELAY_X=(--match '^\x04' --log "$TMP/hole.log")
  relay hole 1 "$auc" || { fail "$name: the relay starts"; return; }
  RELAY_X=()
  SW_ARGS=(switch switch --binding sip --auc-link radius "${sec[@]}" --peer "auc=$RELAY")
  serve "${SW_ARGS[@]}" || { fail "$name: the switch starts"; return; }
  TARGET="switch=$ADDR"
  if [ "$flow" = proxied ]; then
    serve proxy proxy --binding sip --peer "switch=$ADDR" || { fail "$name: the proxy starts"; return; }
    TARGET="proxy=$ADDR"
  fi
  register sip "$flow" --retransmit initial=200,max=400,timeout=20000
  check "$name: the terminal registers (only the accounting is lost)" exit_is 0
  check "$name: the relay dropped the switch's $step" wait_lines "$TMP/hole.log" '"drop": true' 1 5
  sleep 0.5  # a resend or two of it, dropped as well
  check "$name: ... and the AuC has not recorded the registration" \
    count_lines "$TMP/auc.out" '"event":"registration-recorded"' 0
  check "$name: the switch restarts on its port" restart "${SW_ARGS[@]}"
  check "$name: ... and says it goes on with the request under way" \
    grep -q "1 requests under way at the last stop go on" "$TMP/switch.err"
  kill -USR1 $(ps -o pid= --ppid "${LIVE_PID[hole]}")  # the relay (not its timeout(1)) lets all through
  check "$name: the AuC records the registration" wait_lines "$TMP/auc.out" '"event":"registration-recorded"' 1 10
  sleep 0.3
  check "$name: ... once" count_lines "$TMP/auc.out" '"event":"registration-recorded"' 1
  check "$name: no service printed an error or a timeout" no_errors auc switch
  stop_all switch auc
  [ "$flow" = proxied ] && stop proxy
  kill -TERM "${LIVE_PID[hole]}" 2>/dev/null; wait "${LIVE_PID[hole]}" 2>/dev/null; unset "LIVE_PID[hole]"
}

case_ direct radius
case_ proxied radius
case_ direct json
lost proxied
lost direct
finish
