#!/bin/bash
# tshark judges the H.248 / MEGACO text binding: captures of complete proxied and direct
# registrations (every suite) must decode with no malformed packet and no expert error, every frame
# must decode as MEGACO, and each must show the command its step maps to (kd-protocol(7),
# "H.248 / MEGACO text"): ServiceChange for s1 s2 d1, Modify for s5 s6 s9 s10 d4 d6, Notify for s7 s8 d5.
set -u
capture_tool=$1
work=$2

if ! command -v tshark >/dev/null 2>&1; then
  echo "FAIL: tshark is not installed; this test needs it (Debian: apt-get install tshark)" >&2
  exit 1
fi

rm -rf "$work" && mkdir -p "$work" || exit 1
"$capture_tool" h248 "$work" || { echo "FAIL: $capture_tool could not write the captures" >&2; exit 1; }
# tshark wants to write a profile under HOME; keep it inside the work directory.
export HOME=$work

command_of() {
  case $1 in
    s1|s2|d1) echo "ServiceChange" ;;
    s5|s6|s9|s10|d4|d6) echo "Modify" ;;
    s7|s8|d5) echo "Notify" ;;
    *) echo "?$1" ;;
  esac
}

status=0
for flow in proxied direct; do
  pcap=$work/h248-$flow.pcap
  steps=$work/h248-$flow.steps
  fail=0
  if [ ! -s "$steps" ]; then
    echo "FAIL: $steps is missing or empty" >&2
    status=1
    continue
  fi
  bad=$(tshark -n -r "$pcap" -Y '_ws.malformed || _ws.expert.severity >= error' 2>"$work/stderr") ||
    { echo "FAIL: tshark could not read $pcap:" >&2; cat "$work/stderr" >&2; fail=1; }
  if [ -n "$bad" ]; then
    echo "FAIL: tshark finds malformed packets or expert errors in $pcap:" >&2
    echo "$bad" >&2
    fail=1
  fi
  want=$(while read -r step; do command_of "$step"; done <"$steps")
  got=$(tshark -n -r "$pcap" -T fields -e megaco.command 2>"$work/stderr")
  if [ "$got" != "$want" ]; then
    echo "FAIL: tshark does not decode every frame of $pcap as the MEGACO command kd meant to send" >&2
    diff <(echo "$want") <(echo "$got") >&2
    fail=1
  fi
  frames=$(wc -l <"$steps")
  megaco=$(tshark -n -r "$pcap" -Y megaco 2>/dev/null | wc -l)
  if [ "$megaco" != "$frames" ]; then
    echo "FAIL: $pcap: $frames frames, $megaco decoded as MEGACO" >&2
    fail=1
  fi
  # The MEGACO version and transaction id of every frame, as the dissector reads them.
  txn=$(tshark -n -r "$pcap" -Y 'megaco.version == "1" && megaco.transid' 2>/dev/null | wc -l)
  if [ "$txn" != "$frames" ]; then
    echo "FAIL: $pcap: $frames frames, $txn with MEGACO version 1 and a transaction id" >&2
    fail=1
  fi
  [ $fail = 0 ] && echo "ok: $flow: $frames MEGACO frames, tshark finds nothing wrong"
  [ $fail = 0 ] || status=1
done
exit $status
