#!/usr/bin/env bash
# Live mode end to end (kd-live(7)): kd-auc, kd-switch and kd-proxy serve on the loopback and
# `kd-term register` registers through them, in every binding, with the AuC link over RADIUS and
# over JSON, proxied and direct; SIGTERM stops a service with its state saved and status 0.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/live-lib.sh"

has_event() {  # NAME EVENT
  grep -q "\"event\":\"$2\"" "$TMP/$1.out" || { WHY="$1 printed no $2 event: $(head -c 300 "$TMP/$1.out")"; return 1; }
}
stops_clean() {  # NAME...: SIGTERM, status 0
  local n
  for n in "$@"; do
    stop "$n"
    [ "$RC" -eq 0 ] || { WHY="$n exited $RC after SIGTERM: $(head -c 300 "$TMP/$n.err")"; return 1; }
  done
}

run_case() {  # BINDING LINK FLOW
  local binding=$1 link=$2 flow=$3 name="$1/$2/$3"
  live_world "$TMP/w-$binding-$link-$flow"
  chain "$binding" "$link" "$flow" || { fail "$name: services start"; return; }
  register "$binding" "$flow"
  check "$name: registered, exit 0" exit_is 0
  check "$name: the terminal's transcript" transcript_ok "$flow"
  if [ "$binding" != json ]; then
    check "$name: messages travel as $binding wire lines" eq "$(jq -r 'select(.to) | .binding' "$OUT" | sort -u)" "$binding"
  fi
  # The last messages (s10 or d6, s11 or d7) may still be on their way when register returns.
  wait_lines "$TMP/auc.out" '"event":"registration-recorded"' 1 5
  check "$name: the AuC recorded the registration" has_event auc registration-recorded
  if [ "$flow" = proxied ]; then check "$name: the proxy holds the key" has_event proxy key-established; fi
  local names=(auc switch)
  [ "$flow" = proxied ] && names+=(proxy)
  check "$name: no service printed an error" no_errors "${names[@]}"
  check "$name: SIGTERM stops every service with status 0" stops_clean "${names[@]}"
  check "$name: the AuC's state was saved" json_true "$W/auc.st" ".registered.$TERM_ID"
  check "$name: the switch's state was saved" json_true "$W/switch.st" '.used_rands | length == 1'
}

for b in sip mgcp h248 h323; do run_case "$b" radius proxied; done
run_case json json proxied
run_case sip json proxied
run_case json json direct
run_case sip radius direct

# The AuC answers s11 with an Accounting-Response: with a 1.5 s transaction timeout the switch's
# s11 would time out (a "timeout" line) if nothing had stopped its retransmissions.
live_world "$TMP/w-acct"
SWITCH_X=(--retransmit initial=100,timeout=1500)
chain sip radius proxied || fail "accounting: services start"
register sip proxied
check "accounting: registered" exit_is 0
sleep 2
check "accounting: the Accounting-Response ended the switch's s11" no_errors switch
stops_clean auc switch proxy >/dev/null
SWITCH_X=()

finish
