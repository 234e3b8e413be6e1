#!/usr/bin/env bash
# Services without --state (kd-live(7), MEMORY): nothing of the role state's changes outlives a
# batch, so a service's memory does not grow with the registrations it has served. Windows of a few
# seconds (--skew 3, --challenge-ttl 2) and short transactions (--retransmit timeout=2000,keep=2000,
# the terminals' too, so that no retransmission outlives the answer kept for it) make every nonce,
# challenge and cached answer expire within about 5 s. The same 2500 terminals register again and
# again at a steady 500 registrations/s: after two rounds (10 s, the state holding every terminal's
# last registration and 5 s of nonces and challenges) the services' resident memory must stay where
# it is for three more rounds (7500 registrations). Before the fix each service kept a copy of
# every entry it ever changed, a few hundred bytes per registration: the three grew by about 6 MB.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/live-lib.sh"

# ASan keeps freed memory in quarantine; a small one fills early and then stays full.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=4

N=2500 RATE=500 ROUNDS=3 LIMIT_KB=${LIMIT_KB:-2500}

# rss_kb NAME: the service's resident memory in KB (its process is the child of `timeout`).
rss_kb() {
  local pid
  pid=$(ps -o pid= --ppid "${LIVE_PID[$1]}" | tr -d ' ')
  awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status"
}
grows_less() {  # LIMIT
  local n total=0 said=""
  for n in proxy switch auc; do
    total=$((total + after[$n] - before[$n]))
    said+=" kd-$n ${before[$n]} -> ${after[$n]} KB"
  done
  [ "$total" -lt "$1" ] || { WHY="the services grew by $total KB over $((ROUNDS * N)) registrations (limit $1 KB):$said"; return 1; }
}
# A round counts when at least 99% of its terminals registered and none was refused: with 2 s
# transaction timeouts, a machine starved by other work can time one out (exit 4), which says
# nothing about memory.
registered=0
round() {
  load sip "$TARGET" --count "$N" --rate "$RATE" --concurrency 200 --retransmit timeout=2000
  { [ "$RC" -eq 0 ] || [ "$RC" -eq 4 ]; } &&
    json_true "$SUM" '.failed == {} and .registered * 100 >= '"$N"' * 99' && registered=$((registered + 1))
}

live_world "$TMP/w"
users "$N"
export LIVE_NO_STATE=1
SERVE_X=(--events errors --retransmit timeout=2000,keep=2000 --skew 3)
serve auc auc --challenge-ttl 2 || fail "kd-auc serve starts"
serve switch switch --binding sip --auc-link json --challenge-ttl 2 --peer "auc=$ADDR" || fail "kd-switch serve starts"
serve proxy proxy --binding sip --peer "switch=$ADDR" || fail "kd-proxy serve starts"
TARGET="proxy=$ADDR"

declare -A before=() after=()
round
round
for n in proxy switch auc; do before[$n]=$(rss_kb "$n"); done
for _ in $(seq "$ROUNDS"); do round; done
for n in proxy switch auc; do after[$n]=$(rss_kb "$n"); done
check "every round registered (at least 99%, none refused)" test "$registered" -eq $((ROUNDS + 2))
check "services without --state: memory does not grow with the registrations served" grows_less "$LIMIT_KB"
stop_all proxy switch auc
check "the services stop cleanly (exit 0)" exit_is 0
finish
