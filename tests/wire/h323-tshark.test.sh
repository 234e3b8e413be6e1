#!/bin/bash
# tshark judges the H.323 RAS binding: captures of complete proxied and direct registrations (every
# suite) must decode with no malformed packet and no expert error, every frame must decode as the
# H.225.0 RasMessage kd meant to send (GRQ, GRJ with rejectReason securityDenial, RRQ or RCF, as the
# .steps file names the step), with the KD data under kd's nonStandardIdentifier, and each answer
# must echo its request's requestSeqNum.
set -u
capture_tool=$1
work=$2

if ! command -v tshark >/dev/null 2>&1; then
  echo "FAIL: tshark is not installed; this test needs it (Debian: apt-get install tshark)" >&2
  exit 1
fi

rm -rf "$work" && mkdir -p "$work" || exit 1
"$capture_tool" h323 "$work" || { echo "FAIL: $capture_tool could not write the captures" >&2; exit 1; }

# The RasMessage choice index and rejectReason index (securityDenial is 4) tshark should print.
expected_for() {
  case $1 in
    s1|s2|d1) printf '0\t1.3.6.1.4.1.32473.1\t\n' ;;
    s5|s6|d4) printf '2\t1.3.6.1.4.1.32473.1\t4\n' ;;
    s7|s8|d5) printf '3\t1.3.6.1.4.1.32473.1\t\n' ;;
    s9|s10|d6) printf '4\t1.3.6.1.4.1.32473.1\t\n' ;;
    *) printf 'no RAS message for step %s\n' "$1" ;;
  esac
}

status=0
# tshark wants to write a profile under HOME; keep it inside the work directory.
export HOME=$work
for flow in proxied direct; do
  pcap=$work/h323-$flow.pcap
  fail=0
  bad=$(tshark -n -r "$pcap" -Y '_ws.malformed || _ws.expert.severity >= error' 2>"$work/stderr") ||
    { echo "FAIL: tshark could not read $pcap:" >&2; cat "$work/stderr" >&2; fail=1; }
  if [ -n "$bad" ]; then
    echo "FAIL: tshark finds malformed packets or expert errors in $pcap:" >&2
    echo "$bad" >&2
    fail=1
  fi
  want=$(while read -r step; do expected_for "$step"; done <"$work/h323-$flow.steps")
  got=$(tshark -n -r "$pcap" -T fields -e h225.RasMessage -e h225.object -e h225.rejectReason 2>"$work/stderr")
  if [ "$got" != "$want" ]; then
    echo "FAIL: tshark does not decode every frame of $pcap as the RAS message kd sent" >&2
    diff <(echo "$want") <(echo "$got") >&2
    fail=1
  fi
  frames=$(wc -l <"$work/h323-$flow.steps")
  ras=$(tshark -n -r "$pcap" -Y 'h225.RasMessage' 2>/dev/null | wc -l)
  if [ "$ras" != "$frames" ]; then
    echo "FAIL: $pcap: $frames frames, $ras decoded as H.225.0 RAS" >&2
    fail=1
  fi
  # Requests and answers come in pairs (GRQ/GRJ, RRQ/RCF, on each link): each answer echoes the
  # requestSeqNum of the request it answers.
  seqs=$(tshark -n -r "$pcap" -T fields -e h225.RasMessage -e h225.requestSeqNum 2>/dev/null)
  unpaired=$(echo "$seqs" | awk -F'\t' '
    $1 == 0 || $1 == 3 { open[$1 "/" $2]++ }
    $1 == 2 { if (open["0/" $2]-- <= 0) bad++ }
    $1 == 4 { if (open["3/" $2]-- <= 0) bad++ }
    END { print bad + 0 }')
  if [ "$unpaired" != 0 ]; then
    echo "FAIL: $pcap: $unpaired answers do not echo a request's requestSeqNum" >&2
    fail=1
  fi
  # The verbose tree must show no malformed or unrecognised element; the one "Unknown" allowed is
  # Wireshark's name for the unregistered T.35 manufacturer code 0 of endpointVendor.
  odd=$(tshark -n -r "$pcap" -V 2>/dev/null | grep -i 'malformed\|unknown\|undecoded\|not dissected' |
        grep -v 'H.225 Manufacturer: Unknown (0x00000000)')
  if [ -n "$odd" ]; then
    echo "FAIL: $pcap: the verbose dissection shows:" >&2
    echo "$odd" | sort | uniq -c >&2
    fail=1
  fi
  [ $fail = 0 ] && echo "ok: $flow: $frames RAS frames, tshark finds nothing wrong"
  [ $fail = 0 ] || status=1
done

# The hand-built GRQ of another peer that h323_test.cpp decodes (extension additions, an ip6Address,
# dialledDigits, a gateway, callServices) must be valid H.225.0 to Wireshark as well.
tests=$(dirname "$capture_tool")/kd-wire-tests
if [ -x "$tests" ] && command -v text2pcap >/dev/null 2>&1; then
  hex=$(KD_H323_DUMP=HEX: "$tests" --gtest_filter='H323Decode.AForeignGrq*' | sed -n 's/^HEX://p')
  echo "$hex" | fold -w2 | awk '{ printf "%s%s", (NR % 16 == 1 ? sprintf("%s%06x", NR > 1 ? "\n" : "", NR - 1) : ""), " " $0 } END { print "" }' \
    >"$work/foreign.txt"
  if [ -z "$hex" ] || ! text2pcap -q -u 1719,1719 "$work/foreign.txt" "$work/foreign.pcap" 2>"$work/stderr"; then
    echo "FAIL: could not build the foreign GRQ capture" >&2
    status=1
  else
    odd=$(tshark -n -r "$work/foreign.pcap" -V 2>/dev/null | grep -i 'malformed\|encoding error\|undecoded\|not dissected')
    got=$(tshark -n -r "$work/foreign.pcap" -T fields -e h225.RasMessage -e h225.dialledDigits -e h225.h323_ID -e h225.supportsAltGK_element 2>/dev/null)
    if [ -n "$odd" ] || [ "$got" != "$(printf '0\t12#\tbob\t1')" ]; then
      echo "FAIL: Wireshark does not read the foreign GRQ fixture as written: $got" >&2
      echo "$odd" >&2
      status=1
    else
      echo "ok: the foreign GRQ fixture is clean to tshark"
    fi
  fi
else
  echo "FAIL: $tests or text2pcap (tshark's package) is missing; the foreign GRQ fixture cannot be checked" >&2
  status=1
fi
exit $status
