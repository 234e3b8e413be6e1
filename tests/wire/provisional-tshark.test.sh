#!/bin/bash
# tshark judges kd's provisional answers (kd-protocol(7), BINDINGS): the MGCP 100 response, the
# H.248 TransactionPending and the H.225.0 RequestInProgress that provisional_test.cpp checks byte
# for byte are framed in UDP at their ports and must decode with no malformed packet or expert
# error, as the answer kd means: return code 100 and its transaction id; a MEGACO message with that
# TransactionID; RasMessage requestInProgress with its requestSeqNum and delay.
set -u
tests=$1
work=$2
for tool in tshark text2pcap; do
  if ! command -v $tool >/dev/null 2>&1; then
    echo "FAIL: $tool is not installed; this test needs it (Debian: apt-get install tshark)" >&2
    exit 1
  fi
done
rm -rf "$work" && mkdir -p "$work" || exit 1
export HOME=$work  # tshark writes a profile under HOME
KD_PROVISIONAL_DUMP=1 "$tests" --gtest_filter='Provisional.*Writes*' 2>/dev/null | grep '^PROVISIONAL ' >"$work/dump"
if [ "$(wc -l <"$work/dump")" != 3 ]; then
  echo "FAIL: $tests printed no three provisional answers:" >&2
  cat "$work/dump" >&2
  exit 1
fi
status=0
while read -r _ binding hex; do
  case $binding in
    mgcp) ports=2727,2427 fields='-e mgcp.rsp.rspcode -e mgcp.transid' want=$(printf '100\t4711') ;;
    h248) ports=2944,2944 fields='-e megaco.transid' want=77 ;;
    h323) ports=1719,1719 fields='-e h225.RasMessage -e h225.requestSeqNum -e h225.delay' want=$(printf '25\t4660\t5000') ;;
    *) echo "FAIL: unknown binding $binding" >&2; status=1; continue ;;
  esac
  echo "$hex" | fold -w2 | awk '{ printf "%s%s", (NR % 16 == 1 ? sprintf("%s%06x", NR > 1 ? "\n" : "", NR - 1) : ""), " " $0 } END { print "" }' \
    >"$work/$binding.txt"
  if ! text2pcap -q -u "$ports" "$work/$binding.txt" "$work/$binding.pcap" 2>"$work/stderr"; then
    echo "FAIL: $binding: text2pcap:" >&2
    cat "$work/stderr" >&2
    status=1
    continue
  fi
  bad=$(tshark -n -r "$work/$binding.pcap" -Y '_ws.malformed || _ws.expert.severity >= error' 2>/dev/null)
  odd=$(tshark -n -r "$work/$binding.pcap" -V 2>/dev/null | grep -i 'malformed\|undecoded\|not dissected\|invalid')
  # shellcheck disable=SC2086
  got=$(tshark -n -r "$work/$binding.pcap" -T fields $fields 2>/dev/null)
  if [ -n "$bad" ] || [ -n "$odd" ] || [ "$got" != "$want" ]; then
    echo "FAIL: $binding: tshark reads [$got], want [$want]; $bad $odd" >&2
    tshark -n -r "$work/$binding.pcap" -V >&2 2>/dev/null
    status=1
  else
    echo "ok: $binding: tshark reads the provisional answer as written ($got)"
  fi
done <"$work/dump"
exit $status
