#!/bin/bash
# tshark judges capture::Writer: every record must decode as Ethernet/IP/UDP with valid IPv4 header
# and UDP checksums, no malformed packet and no expert error, for micro- and nanosecond files that
# were written in two runs (the second appending to the first).
set -u
write_tool=$1
work=$2

if ! command -v tshark >/dev/null 2>&1; then
  echo "FAIL: tshark is not installed; this test needs it (Debian: apt-get install tshark)" >&2
  exit 1
fi

rm -rf "$work" && mkdir -p "$work" || exit 1
"$write_tool" "$work" || { echo "FAIL: $write_tool could not write the captures" >&2; exit 1; }
# tshark wants to write a profile under HOME; keep it inside the work directory.
export HOME=$work
checks=(-o ip.check_checksum:TRUE -o udp.check_checksum:TRUE)

status=0
for name in micro nano; do
  pcap=$work/$name.pcap
  want=$(cat "$work/$name.count")
  frames=$(tshark -n -r "$pcap" 2>"$work/stderr" | wc -l)
  if [ -s "$work/stderr" ] && grep -qv 'Running as user' "$work/stderr"; then
    echo "FAIL: tshark complains about $pcap:" >&2; cat "$work/stderr" >&2; status=1
  fi
  udp=$(tshark -n "${checks[@]}" -r "$pcap" -Y 'udp && udp.checksum.status == 1' 2>/dev/null | wc -l)
  bad=$(tshark -n "${checks[@]}" -r "$pcap" -Y '_ws.malformed || _ws.expert.severity >= error || ip.checksum.status == 0' 2>/dev/null)
  sip=$(tshark -n -r "$pcap" -Y 'sip.Method == "OPTIONS"' 2>/dev/null | wc -l)
  if [ "$frames" != "$want" ] || [ "$udp" != "$want" ]; then
    echo "FAIL: $pcap: $want datagrams written, tshark sees $frames frames, $udp UDP with a good checksum" >&2
    status=1
  fi
  if [ -n "$bad" ]; then
    echo "FAIL: tshark finds malformed packets or expert errors in $pcap:" >&2; echo "$bad" >&2; status=1
  fi
  if [ "$sip" != 4 ]; then
    echo "FAIL: $pcap: 4 SIP OPTIONS written, tshark decodes $sip" >&2; status=1
  fi
  prec=$(tshark -n -r "$pcap" -T fields -e frame.time_epoch -c 2 2>/dev/null | tail -1)
  case $name in
    micro) expect=1700000000.999999000 ;;
    nano) expect=1700000000.999999999 ;;
  esac
  if [ "$prec" != "$expect" ]; then
    echo "FAIL: $pcap: second frame's time is $prec, expected $expect" >&2; status=1
  fi
  # kd reads back what it wrote, from standard input: every datagram, every payload byte
  # (two rounds of 8 sizes over IPv4 and IPv6, and 4 SIP OPTIONS).
  sip_len=$(tshark -n -r "$pcap" -Y sip -T fields -e udp.length 2>/dev/null | head -1)
  bytes=$(( 2 * 2 * (0 + 1 + 7 + 100 + 1472 + 1473 + 9000 + 65507) + 4 * (sip_len - 8) ))
  back=$("$write_tool" --read - <"$pcap")
  if [ "$back" != "$want $bytes" ]; then
    echo "FAIL: $pcap: kd reads back '$back', expected '$want $bytes'" >&2; status=1
  fi
  [ $status = 0 ] && echo "ok: $name: $want UDP datagrams, checksums good, tshark finds nothing wrong"
done
exit $status
