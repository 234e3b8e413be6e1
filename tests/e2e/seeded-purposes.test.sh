#!/usr/bin/env bash
# Under --seed each purpose (Rand, session key, seal nonce, N1/N2) has its own stream: a draw of
# one purpose never reappears as a draw of another. A Rand travels in clear, so a later challenge
# must never carry an earlier session key (issue 10 item 2: a second s3 for the same identities
# drew the previous K as its Rand).
. "$(dirname "$0")/lib.sh"

for suite in "${SUITES[@]}"; do
  for flow in "${FLOWS[@]}"; do
    if [ "$flow" = proxied ]; then req=s3 vec=s4; else req=d2 vec=d3; fi
    check "$suite $flow: a seeded registration completes" world_run "$TMP/$suite-$flow" "$flow" "$suite"
    key=$(field "$W/ev-term.json" session_key)
    check "$suite $flow: the terminal printed its session key" is_hex_len "$key" $((2 * $(key_len "$suite")))
    rands=$(field "$W/$vec.json" Rand)
    # The same request again, twice, to the AuC that holds the completed registration's challenge.
    for i in 1 2; do
      run auc "$W/auc.state" "$W/$req.json"
      check "$suite $flow: request $req again (#$i) is answered" eval 'accepted && out_has_step '"$vec"
      rand=$(out_step "$vec" | { IFS= read -r l; [[ $l =~ \"Rand\":\"([0-9a-f]+)\" ]] && echo "${BASH_REMATCH[1]}"; })
      check "$suite $flow: the new Rand (#$i) is not the established session key" eval '[ -n "$rand" ] && [[ $key != *"$rand"* ]] && [[ $rand != *"$key"* ]]'
      check "$suite $flow: the new Rand (#$i) is not an earlier Rand" eval '[[ " $rands " != *" $rand "* ]]'
      rands="$rands $rand"
    done
  done
done

finish
