#!/usr/bin/env bash
# kd-term register --state (kd-live(7), REGISTER: it takes kd-term's own --state): the terminal's
# state goes through the journal as a service's does (DURABILITY), saved before anything that
# depends on it is sent. It used to end at once, before s1 was sent, with exit status 3 and "cannot
# write journal ...: Bad file descriptor": the registration's first batch was written to the journal
# before the journal file had been opened. Here: two registrations in a row on one state file, in
# both flows, the second run folding in what the first left.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/live-lib.sh"

live_world "$TMP/w"
for flow in proxied direct; do
  chain json json "$flow" || fail "$flow: services start"
  for run in 1 2; do
    register json "$flow" --state "$W/term-$flow.st"
    check "$flow: register --state, run $run: registered" eq "$RC" 0
    check "$flow: ... run $run: its transcript is whole" transcript_ok "$flow"
    check "$flow: ... run $run: nothing on stderr" eq "$(head -c 300 "$ERR")" ""
  done
  check "$flow: the state file holds alice's registration" \
    jq -e '.registrations.alice | type == "object"' "$W/term-$flow.st" >/dev/null
  [ "$flow" = proxied ] && stop proxy
  stop_all switch auc
done

finish
