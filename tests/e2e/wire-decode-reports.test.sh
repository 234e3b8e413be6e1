#!/bin/bash
# What kd-decode reports from a good proxied SIP registration: a whole kd-flow transcript passes
# --check with its events skipped, frame times hold in a zero --skew window, the session key only
# with --show-key, and the ladder as text and as SVG.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/wire-lib.sh"
command -v python3 >/dev/null || { echo "FAIL: python3 is required"; exit 1; }

sip_proxied_capture
d=$TMP/sip-proxied

# A whole kd-flow transcript (messages and events) is read; the events are skipped, not errors.
runx "$KD_BIN/kd-decode" --check --radius-secret-file "$d/radius-secret" "$d/out"
check "decode: a transcript with events passes --check" eq "$RC" 0
check "decode: its events are counted as skipped" \
  eq "$(jq -c 'select(.summary) | .summary | [.messages, .skipped, .errors]' "$OUT")" "[11,$(grep -c '"event"' "$d/out"),0]"
# Timestamps against the capture's clock: frames claim NOW; a window of 0 still holds them.
runx "$KD_BIN/kd-decode" --check --skew 0 --radius-secret-file "$d/radius-secret" "$d/flow.pcap"
check "decode: timestamps equal to the frame time are inside a zero window" eq "$RC" 0
# Session keys: only with --show-key.
key=$(jq -r 'select(.event == "registered") | .session_key' "$d/out")
runx "$KD_BIN/kd-decode" --keys "$d/auc-keys.json" --radius-secret-file "$d/radius-secret" "$d/flow.pcap"
check "decode: no session key without --show-key" not_contains "$OUT" "$key"
runx "$KD_BIN/kd-decode" --show-key --keys "$d/auc-keys.json" --radius-secret-file "$d/radius-secret" "$d/flow.pcap"
check "decode: --show-key prints the session key both ends hold" \
  eq "$(jq -r 'select(.registration) | .registration.session_key' "$OUT")" "$key"
# The ladder, as text and as SVG.
runx "$KD_BIN/kd-decode" --ladder --radius-secret-file "$d/radius-secret" "$d/flow.pcap"
check "decode-ladder: one arrow per message" eq "$(grep -cE '^ +\|.*(-->|>\||<-|\|<)' "$OUT")" 11
check "decode-ladder: the registration is reported complete" eq "$(grep -c '== alice (proxied): completed' "$OUT")" 1
runx "$KD_BIN/kd-decode" --ladder-svg "$TMP/l.svg" --radius-secret-file "$d/radius-secret" "$d/flow.pcap"
check "decode-ladder-svg: an SVG with 11 arrows" \
  eq "$(python3 -c 'import sys,xml.etree.ElementTree as E; r=E.parse(sys.argv[1]).getroot(); print(sum(1 for l in r.iter("{http://www.w3.org/2000/svg}line") if l.get("marker-end")))' "$TMP/l.svg" 2>&1)" 11

finish
