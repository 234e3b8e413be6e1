#!/bin/bash
# tshark judges the MGCP binding: captures of complete proxied and direct registrations (every suite)
# must decode with no malformed packet and no expert error, every frame must decode as the MGCP
# command kd meant to send (the verb each step maps to, on the registered gateway/call-agent ports),
# and Wireshark must read the KD values as extension parameters (X-KDFLOW first among them).
set -u
capture_tool=$1
work=$2

if ! command -v tshark >/dev/null 2>&1; then
  echo "FAIL: tshark is not installed; this test needs it (Debian: apt-get install tshark)" >&2
  exit 1
fi

rm -rf "$work" && mkdir -p "$work" || exit 1
"$capture_tool" mgcp "$work" || { echo "FAIL: $capture_tool could not write the captures" >&2; exit 1; }

# The mapping of kd-protocol(7), "MGCP binding": step -> verb, and who listens (2427 gateway, 2727
# call agent): toward the switch the sender is a gateway, toward the terminal a call agent.
expected() {
  while read -r step; do
    case $step in
      s1|d1) echo "RSIP	2427	2727" ;;
      s2) echo "RSIP	2427	2727" ;;
      s5|s6|d4) echo "RQNT	2727	2427" ;;
      s7|d5|s8) echo "NTFY	2427	2727" ;;
      s9|s10|d6) echo "RQNT	2727	2427" ;;
      *) echo "unexpected step $step" ;;
    esac
  done <"$1"
}

status=0
# tshark wants to write a profile under HOME; keep it inside the work directory.
export HOME=$work
for flow in proxied direct; do
  pcap=$work/mgcp-$flow.pcap
  steps=$work/mgcp-$flow.steps
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
  got=$(tshark -n -r "$pcap" -T fields -e mgcp.req.verb -e udp.srcport -e udp.dstport 2>"$work/stderr")
  want=$(expected "$steps")
  if [ "$got" != "$want" ]; then
    echo "FAIL: tshark does not decode every frame of $pcap as the MGCP command kd meant to send" >&2
    diff <(echo "$want") <(echo "$got") >&2
    fail=1
  fi
  frames=$(wc -l <"$steps")
  mgcp=$(tshark -n -r "$pcap" -Y 'mgcp.req' 2>/dev/null | wc -l)
  if [ "$mgcp" != "$frames" ]; then
    echo "FAIL: $pcap: $frames frames, $mgcp decoded as MGCP commands" >&2
    fail=1
  fi
  kdflow=$(tshark -n -r "$pcap" -Y "mgcp.param.extension == \"X-KDFLOW: $flow\"" 2>/dev/null | wc -l)
  if [ "$kdflow" != "$frames" ]; then
    echo "FAIL: $pcap: $frames frames, $kdflow with the extension parameter X-KDFLOW: $flow" >&2
    fail=1
  fi
  invalid=$(tshark -n -r "$pcap" -Y 'mgcp.param.invalid' 2>/dev/null | wc -l)
  if [ "$invalid" != 0 ]; then
    echo "FAIL: $pcap: $invalid frames with a parameter Wireshark calls invalid" >&2
    fail=1
  fi
  [ $fail = 0 ] && echo "ok: $flow: $frames MGCP frames, tshark finds nothing wrong"
  [ $fail = 0 ] || status=1
done
exit $status
