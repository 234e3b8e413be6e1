#!/bin/bash
# tshark judges the SIP binding: captures of complete proxied and direct registrations (every suite)
# must decode with no malformed packet and no expert error, and every frame must decode as the SIP
# REGISTER or response kd meant to send.
set -u
capture_tool=$1
work=$2

if ! command -v tshark >/dev/null 2>&1; then
  echo "FAIL: tshark is not installed; this test needs it (Debian: apt-get install tshark)" >&2
  exit 1
fi

rm -rf "$work" && mkdir -p "$work" || exit 1
"$capture_tool" sip "$work" || { echo "FAIL: $capture_tool could not write the captures" >&2; exit 1; }

status=0
for flow in proxied direct; do
  pcap=$work/sip-$flow.pcap
  # tshark wants to write a profile under HOME; keep it inside the work directory.
  export HOME=$work
  bad=$(tshark -n -r "$pcap" -Y '_ws.malformed || _ws.expert.severity >= error' 2>"$work/stderr") ||
    { echo "FAIL: tshark could not read $pcap:" >&2; cat "$work/stderr" >&2; status=1; }
  if [ -n "$bad" ]; then
    echo "FAIL: tshark finds malformed packets or expert errors in $pcap:" >&2
    echo "$bad" >&2
    status=1
  fi
  got=$(tshark -n -r "$pcap" -T fields -e sip.Method -e sip.Status-Code 2>"$work/stderr")
  want=$(cat "$work/sip-$flow.expected")
  if [ "$got" != "$want" ]; then
    echo "FAIL: tshark does not decode every frame of $pcap as the SIP message kd sent" >&2
    diff <(echo "$want") <(echo "$got") >&2
    status=1
  fi
  frames=$(echo "$want" | wc -l)
  sip=$(tshark -n -r "$pcap" -Y sip 2>/dev/null | wc -l)
  if [ "$sip" != "$frames" ]; then
    echo "FAIL: $pcap: $frames frames, $sip decoded as SIP" >&2
    status=1
  fi
  [ $status = 0 ] && echo "ok: $flow: $frames SIP frames, tshark finds nothing wrong"
done
exit $status
