#!/usr/bin/env bash
# kd-term load (kd-term(1), LOAD; kd-live(7), LOAD): a few hundred terminals register through
# kd-proxy, kd-switch and kd-auc serving on the loopback, in JSON and in SIP with the AuC link over
# RADIUS. The summary is checked against itself, against the --stats lines and against the AuC's
# own registration-recorded events; refusals are counted by code and timeouts apart; and through
# the impairment relay (20% loss, 10% duplication on the terminal's and the AuC's links) every
# registration completes and no duplicate is ever refused. Every process runs under timeout.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/live-lib.sh"

IMPAIR=$KD_ROOT/tests/tools/impair.py

# The summary says: attempted registered timeouts.
counts_are() {  # ATTEMPTED REGISTERED TIMEOUTS
  eq "$(jq -r '[.attempted, .registered, .timeouts] | join(" ")' "$SUM")" "$1 $2 $3"
}
# Percentiles are ordered, positive where something was measured, and count what they should.
percentiles_sane() {
  json_true "$SUM" '.latency_ms.count == .registered and
    (.latency_ms | .p50 > 0 and .p50 <= .p90 and .p90 <= .p99 and .p99 <= .p999 and .p999 <= .max) and
    ([.steps_ms[] | .p50 <= .p99 and .p99 <= .max] | all) and
    (.steps_ms | keys) == ["s1->s6", "s7->s10"] and .steps_ms["s7->s10"].count >= .registered'
}
# registered equals the registration-recorded events the AuC printed, counted apart, each of a
# different terminal of the load.
auc_agrees() {
  local recorded distinct
  recorded=$(grep -c '"event":"registration-recorded"' "$TMP/auc.out")
  distinct=$(jq -r 'select(.event == "registration-recorded") | .IDc' "$TMP/auc.out" | grep -c '^user[0-9]*$' )
  eq "$recorded $distinct" "$(jq -r .registered "$SUM") $(jq -r .registered "$SUM")" || return 1
  eq "$(jq -r 'select(.event == "registration-recorded") | .IDc' "$TMP/auc.out" | sort -u | wc -l)" "$recorded"
}
# The --stats lines parse, and their counts add up to the summary's.
stats_add_up() {
  local got want
  jq -e -s 'length >= 1 and all(.event == "load-stats")' "$STATS" >/dev/null || { WHY="$STATS: $(head -c 300 "$STATS")"; return 1; }
  got=$(jq -s -c '{attempted: (map(.attempted) | add), registered: (map(.registered) | add),
                   timeouts: (map(.timeouts) | add), retransmissions: (map(.retransmissions) | add),
                   latencies: (map(.latency_ms.count) | add),
                   failed: (map(.failed | to_entries[]) | group_by(.key) | map({key: .[0].key, value: (map(.value) | add)}) | from_entries)}' "$STATS")
  want=$(jq -c '{attempted, registered, timeouts, retransmissions, latencies: .latency_ms.count, failed}' "$SUM")
  eq "$got" "$want"
}

# ---- command lines refused: exit 2 (3 for --stats), a message naming the fault, nothing on stdout ---
live_world "$TMP/w-usage"
users 3 || fail "usage: keys"
refused() {  # STATUS TEXT ARGS...
  local status=$1 text=$2; shift 2
  timeout --foreground -k 10 20 "$KD_BIN/kd-term" load --keys "$W/users.keys" --switch "$SWITCH_ID" "$@" >"$OUT" 2>"$ERR"
  RC=$?
  exit_is "$status" || return 1
  grep -q '^kd-term: ' "$ERR" && grep -qF -- "$text" "$ERR" || { WHY="stderr: $(head -c 300 "$ERR")"; return 1; }
  [ ! -s "$OUT" ] || { WHY="stdout: $(head -c 300 "$OUT")"; return 1; }
}
P=(--via "$PROXY_ID" --peer proxy=udp:127.0.0.1:9)
check "load: --count is required" refused 2 "--count is required" --id 'user%d' "${P[@]}"
check "load: --count 0" refused 2 "--count: 0 is too small" --id 'user%d' --count 0 "${P[@]}"
check "load: --concurrency 0" refused 2 "--concurrency: 0 is too small" --id 'user%d' --count 3 --concurrency 0 "${P[@]}"
check "load: --rate 1.5" refused 2 '--rate: "1.5" must be a whole number' --id 'user%d' --count 3 --rate 1.5 "${P[@]}"
check "load: a pattern without %d" refused 2 "%d exactly once" --id user --count 3 "${P[@]}"
check "load: an id too long" refused 2 "must be 1 to 64 characters" --id "$(printf 'x%.0s' {1..63})%d" --count 11 "${P[@]}"
check "load: --state" refused 2 "--state does not apply to load" --id 'user%d' --count 3 --state "$W/t.st" "${P[@]}"
check "load: --via with --peer switch=" refused 2 "load --via (the proxied flow) goes through the proxy" \
  --id 'user%d' --count 3 --via "$PROXY_ID" --peer switch=udp:127.0.0.1:9
# Over TCP in sip, h248 and json (tests/e2e/live-load-tcp.test.sh); not in a binding over UDP only.
check "load: a tcp: peer in mgcp" refused 2 "--peer switch=tcp:127.0.0.1:9: mgcp travels over UDP only" \
  --binding mgcp --id 'user%d' --count 3 --peer switch=tcp:127.0.0.1:9
check "load: an input file" refused 2 "was not expected" --id 'user%d' --count 3 "${P[@]}" "$W/users.keys"
check "load: --stats in a missing directory: exit 3" refused 3 "--stats $TMP/none/s.jsonl: cannot write it" \
  --id 'user%d' --count 3 "${P[@]}" --stats "$TMP/none/s.jsonl"
# --stats replaces its file: never the file a symbolic link names (kd-term runs as root in labs).
printf 'keep\n' >"$TMP/victim"
ln -s "$TMP/victim" "$TMP/stats-link"
check "load: --stats a symbolic link: exit 3" refused 3 "--stats $TMP/stats-link: a symbolic link: name the file itself" \
  --id 'user%d' --count 3 "${P[@]}" --stats "$TMP/stats-link"
check "load: --stats a symbolic link: the file it names is untouched" eq "$(cat "$TMP/victim")" keep
check "load: --stats a directory: exit 3" refused 3 "--stats $TMP: a directory" \
  --id 'user%d' --count 3 "${P[@]}" --stats "$TMP"
check "load: --retransmit '': exit 2, not taken for no SPEC (issue 12)" refused 2 "--retransmit: must not be empty" \
  --id 'user%d' --count 3 "${P[@]}" --retransmit ''
# A --stats write failing mid-run (here a file size limit of 0, SIGXFSZ ignored: EFBIG) says why.
stats_fail() {
  ( trap '' XFSZ; ulimit -f 0
    exec timeout --foreground -k 10 20 "$KD_BIN/kd-term" load --keys "$W/users.keys" --switch "$SWITCH_ID" \
      --id 'user%d' --count 3 "${P[@]}" --stats "$TMP/full.jsonl" ) 2>&1 >/dev/null | cat >"$ERR"
  RC=${PIPESTATUS[0]}
  exit_is 3 && grep -qF -- "--stats $TMP/full.jsonl: cannot write it: File too large" "$ERR" ||
    { WHY="exit $RC, stderr: $(head -c 300 "$ERR")"; return 1; }
}
check "load: a --stats write failing mid-run: exit 3, and why (issue 12)" stats_fail

# ---- JSON: 300 terminals, 40 in flight at most --------------------------------------------------
live_world "$TMP/w-json"
users 300 || fail "json: keys"
chain json json proxied || fail "json: services start"
load json "$TARGET" --count 300 --concurrency 40
check "json: every terminal registered, exit 0" eval 'exit_is 0 && counts_are 300 300 0'
check "json: the summary adds up" adds_up
check "json: nothing refused, nothing retransmitted on a clean loopback" \
  json_true "$SUM" '.failed == {} and .unfinished == 0 and .elapsed_s > 0 and .rate > 0'
check "json: percentiles end to end and per exchange" percentiles_sane
wait_lines "$TMP/auc.out" '"event":"registration-recorded"' "$(jq -r .registered "$SUM")" 10  # s11 may be on its way
check "json: registered equals the AuC's registration-recorded events" auc_agrees
check "json: the --stats lines add up to the summary" stats_add_up
check "json: the progress lines go to stderr" grep -q '^kd-term: load: .* 300 registered' "$ERR"
check "json: no service printed an error" no_errors auc switch proxy
stop_all proxy switch auc

# ---- SIP with RADIUS, paced at 300 a second ------------------------------------------------------
live_world "$TMP/w-sip"
users 200 || fail "sip: keys"
chain sip radius proxied || fail "sip: services start"
load sip "$TARGET" --count 200 --rate 300 --concurrency 100
check "sip: every terminal registered, exit 0" eval 'exit_is 0 && counts_are 200 200 0'
check "sip: the summary adds up" adds_up
check "sip: percentiles end to end and per exchange" percentiles_sane
# 200 at 300/s take at least 2/3 s to start.
check "sip: --rate paces the starts" json_true "$SUM" '.elapsed_s >= 0.6'
wait_lines "$TMP/auc.out" '"event":"registration-recorded"' "$(jq -r .registered "$SUM")" 10
check "sip: registered equals the AuC's registration-recorded events" auc_agrees
check "sip: the --stats lines add up to the summary" stats_add_up
check "sip: no service printed an error" no_errors auc switch proxy
stop_all proxy switch auc

# ---- refusals by code, timeouts apart ----------------------------------------------------------
# 100 terminals in the AuC's keystore but for user7 and user42 (the AuC refuses them: the terminal
# hears nothing and times out); 105 started, of which kd-term itself holds no key for user100..104
# (refused at once: unknown_identity).
live_world "$TMP/w-refuse"
users 100 7 42 || fail "refuse: keys"
chain json json proxied || fail "refuse: services start"
load json "$TARGET" --count 105 --retransmit initial=100,max=400,timeout=1500
check "refuse: exit 1 (a terminal was refused)" exit_is 1
check "refuse: 105 attempted, 98 registered, 2 timed out" counts_are 105 98 2
check "refuse: five refused as unknown_identity" json_true "$SUM" '.failed == {"unknown_identity": 5}'
check "refuse: the summary adds up" adds_up
wait_lines "$TMP/auc.out" '"event":"registration-recorded"' "$(jq -r .registered "$SUM")" 10
check "refuse: registered equals the AuC's registration-recorded events" auc_agrees
check "refuse: the AuC refused the two it does not know" \
  eq "$(jq -r 'select(.event == "error") | .code' "$TMP/auc.out" | sort | uniq -c | awk '{print $1, $2}')" "2 unknown_identity"
check "refuse: ... and recorded neither of them" \
  eq "$(jq -r 'select(.event == "registration-recorded" and (.IDc == "user7" or .IDc == "user42")) | .IDc' "$TMP/auc.out")" ""
check "refuse: the --stats lines add up to the summary" stats_add_up
stop_all proxy switch auc
# Only timeouts: exit 4.
live_world "$TMP/w-timeout"
users 20 3 || fail "timeout: keys"
chain json json proxied || fail "timeout: services start"
load json "$TARGET" --count 20 --retransmit initial=100,max=400,timeout=1000
check "timeout: exit 4 (no refusal, one got no answer)" eval 'exit_is 4 && counts_are 20 19 1'
stop_all proxy switch auc

# ---- faults: 20% loss and 10% duplication between terminal and proxy and between switch and AuC ---
# relay NAME TARGET-ADDR: the impairment relay in front of udp:HOST:PORT; RELAY its address.
relay() {
  local name=$1 target=${2#udp:} i
  timeout 120 python3 "$IMPAIR" --target "$target" --drop 0.2 --dup 0.1 --seed "$3" --max-seconds 100 \
    >"$TMP/$name.out" 2>"$TMP/$name.err" &
  LIVE_PID[$name]=$!
  RELAY=""
  for i in $(seq 100); do
    RELAY=$(head -n 1 "$TMP/$name.out" 2>/dev/null | jq -r '.addr // empty' 2>/dev/null)
    [ -n "$RELAY" ] && return 0
    sleep 0.05
  done
  return 1
}
relay_impaired() {  # NAME: the relay lost and duplicated datagrams both ways
  json_true "$TMP/$1.out" 'select(.event == "impair-summary") |
    .up.dropped > 0 and .up.duplicated > 0 and .down.dropped > 0 and .down.duplicated > 0'
}
FAST=(--retransmit initial=50,max=400,count=40,timeout=8000)
live_world "$TMP/w-fault"
users 200 || fail "fault: keys"
sec=(--radius-secret-file "$W/secret")
serve auc auc --binding radius "${sec[@]}" || fail "fault: kd-auc serve starts"
relay relay-auc "$ADDR" 11 || fail "fault: the AuC's relay starts"
serve switch switch --binding sip "${sec[@]}" --peer "auc=$RELAY" "${FAST[@]}" || fail "fault: kd-switch serve starts"
serve proxy proxy --binding sip --peer "switch=$ADDR" "${FAST[@]}" || fail "fault: kd-proxy serve starts"
relay relay-term "$ADDR" 12 || fail "fault: the terminal's relay starts"
load sip "proxy=$RELAY" --count 200 --concurrency 50 "${FAST[@]}"
check "fault: every registration completed, exit 0" eval 'exit_is 0 && counts_are 200 200 0'
check "fault: nothing refused (duplicates included)" json_true "$SUM" '.failed == {} and .unfinished == 0'
check "fault: the losses were made up by retransmissions" json_true "$SUM" '.retransmissions > 0'
check "fault: duplicated answers were ignored, not fed to a terminal" json_true "$SUM" '.ignored > 0'
check "fault: the summary adds up" adds_up
check "fault: the --stats lines add up to the summary" stats_add_up
# The AuC's last messages (s11) may still be retransmitted through the relay.
for _ in $(seq 50); do
  [ "$(grep -c '"event":"registration-recorded"' "$TMP/auc.out")" -ge 200 ] && break
  sleep 0.1
done
check "fault: registered equals the AuC's registration-recorded events" auc_agrees
check "fault: no service refused anything (no error or timeout event)" no_errors auc switch proxy
stop relay-term; stop relay-auc
check "fault: the terminal's relay lost and duplicated both ways" relay_impaired relay-term
check "fault: the AuC's relay lost and duplicated both ways" relay_impaired relay-auc
stop_all proxy switch auc

finish
