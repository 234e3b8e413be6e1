#!/usr/bin/env bash
# kill -9 in the middle of a load run (kd-live(7), DURABILITY): kd-term load drives a few hundred
# terminals through kd-proxy, kd-switch and kd-auc serving SIP with the AuC link over RADIUS, each
# with its --state; during the run kd-switch, later kd-auc, is killed with SIGKILL and restarted
# at once on the same port with the same state. The run ends with at least 95% registered, every
# other registration counted by code or as a timeout, no service refusing anything (a
# retransmission after the restart is answered, never refused), and the restarted services on
# their old ports. Twice: at a moderate rate, and with the services busy (batches in flight).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/live-lib.sh"
shopt -s nullglob  # a service not restarted has no NAME.N.out

# Short timers everywhere, so that what a crash swallowed is resent soon after the restart.
FAST=(--retransmit initial=100,max=400,timeout=10000)
SERVE_X=("${FAST[@]}")

# world N: a world of N terminals and the three services, started; AUC_ARGS, SW_ARGS, PX_ARGS
# their arguments (restart repeats them).
world() {
  live_world "$TMP/w-$1" && users "$2" || return 1
  rm -f "$TMP"/auc.* "$TMP"/switch.* "$TMP"/proxy.*  # the outputs of the run before
  sec=(--radius-secret-file "$W/secret")
  AUC_ARGS=(auc auc --binding radius "${sec[@]}")
  serve "${AUC_ARGS[@]}" || return 1
  SW_ARGS=(switch switch --binding sip "${sec[@]}" --peer "auc=$ADDR")
  serve "${SW_ARGS[@]}" || return 1
  if [ "${LOAD_FLOW:-proxied}" = direct ]; then
    TARGET="switch=$ADDR"
    return 0
  fi
  PX_ARGS=(proxy proxy --binding sip --peer "switch=$ADDR")
  serve "${PX_ARGS[@]}" || return 1
  TARGET="proxy=$ADDR"
}

# All COUNT were attempted, and at least 95% of them registered.
mostly_registered() {
  json_true "$SUM" '.attempted == '"$1"' and .registered * 100 >= .attempted * 95'
}
# Every registration accounted for: registered, refused by code, or timed out; none unfinished.
accounted() {
  json_true "$SUM" '.event == "load-summary" and .unfinished == 0 and
    .attempted == .registered + ([.failed[]] | add // 0) + .timeouts and
    ([.failed | keys[] | test("^[a-z_]+$")] | all)'
}
# no_refusal NAME...: no error or timeout line in any run of the services NAME (crashed or not).
no_refusal() {
  local f
  for f in "$@"; do
    for f in "$TMP/$f".[0-9]*.out "$TMP/$f.out"; do
      ! grep -q '"event":"\(error\|timeout\)"' "$f" ||
        { WHY="$f: $(grep '"event":"\(error\|timeout\)"' "$f" | head -n 2)"; return 1; }
    done
  done
}
# The AuC's state (not its output: the lines of a batch go out after its state is saved, so a
# crash between the two loses them, and the retransmissions after the restart are answered from the
# journal without printing them again) records a registration of every terminal registered, and of
# none other: an s11 the switch had sent when it was killed goes again after its restart (the
# requests under way are journaled).
auc_recorded() {
  local registered recorded
  registered=$(jq -r .registered "$SUM")
  recorded=$(jq '[.registered | keys[] | select(test("^user[0-9]+$"))] | length' "$W/auc.st")
  [ "$recorded" -eq "$registered" ] ||
    { WHY="the AuC's state records $recorded registrations, $registered registered"; return 1; }
}

# settled: waits (10 s at most) until the AuC's registration-recorded lines, over every run of it,
# number the load's registered, or have not grown for a second (a crash loses the lines of the
# batch it cut): the last s11 has come.
settled() {
  local want n last=-1 same=0 i
  want=$(jq -r .registered "$SUM")
  for i in $(seq 100); do
    n=$(cat "$TMP"/auc.[0-9]*.out "$TMP/auc.out" | grep -c '"event":"registration-recorded"')
    [ "$n" -ge "$want" ] && return 0
    if [ "$n" -eq "$last" ]; then
      same=$((same + 1))
      [ "$same" -ge 10 ] && return 0
    else
      same=0 last=$n
    fi
    sleep 0.1
  done
}

# run NAME COUNT SWITCH-AT AUC-AT LOAD-ARGS...: a load run of COUNT terminals; kill -9 and restart
# of the switch once the AuC recorded SWITCH-AT registrations, of the AuC once it recorded AUC-AT.
run() {
  local name=$1 count=$2 sw_at=$3 auc_at=$4 sec; shift 4
  world "$name" "$count" || { fail "$name: services start"; return; }
  load_start sip "$TARGET" --count "$count" "${FAST[@]}" "$@"
  check "$name: the load is under way when the switch is killed" \
    wait_lines "$TMP/auc.out" '"event":"registration-recorded"' "$sw_at"
  check "$name: the switch restarts on its port" restart "${SW_ARGS[@]}"
  check "$name: the load is still under way when the AuC is killed" \
    wait_lines "$TMP/auc.out" '"event":"registration-recorded"' "$auc_at"
  check "$name: the AuC restarts on its port" restart "${AUC_ARGS[@]}"
  load_wait
  check "$name: the load ended (exit 0, 1 or 4)" eval '[ "$RC" -le 1 ] || [ "$RC" -eq 4 ]'
  check "$name: at least 95% registered" mostly_registered "$count"
  check "$name: every registration accounted for by code" accounted
  check "$name: the --stats lines exist" test -s "$STATS"
  # A crash loses the requests under way in the crashed service; their retransmissions after the
  # restart must be answered, never refused as replays.
  check "$name: no service refused anything or gave up (all runs)" no_refusal auc switch proxy
  settled  # the last s11 may still be on its way
  stop switch
  check "$name: SIGTERM stops the restarted switch with status 0" eq "$RC" 0
  stop auc
  check "$name: ... and the restarted AuC" eq "$RC" 0
  # (a running service's state file is its last snapshot; the stop writes it whole)
  check "$name: the AuC's state records every registration" auc_recorded
  [ "${LOAD_FLOW:-proxied}" = direct ] || stop proxy
}

# A moderate rate: 300 terminals at 150/s, the switch killed after 80 registered, the AuC after 180.
run moderate 300 80 180 --rate 150 --concurrency 60
# Busy: 800 at 2000/s, up to 300 in flight; the kills come while batches are in flight (the
# services lag behind the load, and requests wait in their sockets).
run busy 800 100 450 --rate 2000 --concurrency 300
# The direct flow: a d1 under way at the switch when it dies (its N1 saved, the AuC's answer not
# yet in) is waited on again after the restart, so its retransmission is absorbed, not refused as a
# replay.
LOAD_FLOW=direct run direct 300 80 180 --rate 150 --concurrency 60

finish
