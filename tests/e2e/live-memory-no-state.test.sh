#!/usr/bin/env bash
# Services without --state (kd-live(7), MEMORY): the role state's changes are dropped at the end of
# each batch as they are journaled with --state, so memory does not grow with the registrations a
# service has served. Windows of a few seconds (--skew 2, --challenge-ttl 1) and short transactions
# (--retransmit timeout=1000,keep=200) let every nonce, challenge and cached answer expire between rounds:
# after two rounds of warm-up, four more rounds of the same terminals must leave the services'
# resident memory where it was, give or take what the allocator does and the last round's entries
# (seen: 0.3 to 1.7 MB for the three on a busy machine). Before the fix each service kept a copy of
# every entry it ever changed, 200 to 400 bytes per registration: 6.2 to 6.6 MB for the three.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/live-lib.sh"

# ASan keeps freed memory in quarantine; a small one fills during the warm-up and then stays full.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=4

N=2000 ROUNDS=4 LIMIT_KB=${LIMIT_KB:-3500}

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
round() {
  load sip "$TARGET" --count "$N" --concurrency 50
  [ "$RC" -eq 0 ] || fail "a load round registered every terminal (exit $RC): $(tail -c 300 "$ERR")"
  sleep 4  # past every window: the next round's batches prune what this one left
}

live_world "$TMP/w"
users "$N"
export LIVE_NO_STATE=1
SERVE_X=(--events errors --retransmit timeout=1000,keep=200 --skew 2)
serve auc auc --challenge-ttl 1 || fail "kd-auc serve starts"
serve switch switch --binding sip --auc-link json --challenge-ttl 1 --peer "auc=$ADDR" || fail "kd-switch serve starts"
serve proxy proxy --binding sip --peer "switch=$ADDR" || fail "kd-proxy serve starts"
TARGET="proxy=$ADDR"

round
round
declare -A before=() after=()
for n in proxy switch auc; do before[$n]=$(rss_kb "$n"); done
for _ in $(seq "$ROUNDS"); do round; done
for n in proxy switch auc; do after[$n]=$(rss_kb "$n"); done
check "services without --state: memory does not grow with the registrations served" grows_less "$LIMIT_KB"
stop_all proxy switch auc
check "the services stop cleanly (exit 0)" exit_is 0
finish
