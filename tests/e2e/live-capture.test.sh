#!/usr/bin/env bash
# Live captures (kd-live(7)): the services on their own loopback addresses at the standard ports
# (proxy, switch and AuC on three addresses drawn for this run, live-lib.sh's loopback_hosts: SIP
# 5060, MGCP 2727, H.248 2944, RAS 1719, RADIUS 1812/1813), kd-term register from 127.0.0.1,
# tcpdump on lo writing the pcap of those three addresses. Then kd-decode --check verifies every
# step of the registration in it, and tshark dissects every packet without calling one malformed:
# in each binding over UDP, and SIP over TCP.
# Capturing needs root or CAP_NET_RAW; without it the test reports itself skipped (exit 77).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/live-lib.sh"
for t in tcpdump tshark; do
  command -v $t >/dev/null || { echo "FAIL: $t is required (scripts/test installs it)"; exit 1; }
done
[ -x "$KD_BIN/kd-decode" ] || { echo "$KD_BIN/kd-decode is missing: build first"; exit 1; }

loopback_hosts 3
PROXY_IP=${HOSTS[0]} SWITCH_IP=${HOSTS[1]} AUC_IP=${HOSTS[2]}
port_of() { case $1 in sip) echo 5060 ;; mgcp) echo 2727 ;; h248) echo 2944 ;; h323) echo 1719 ;; esac; }

# capture_start FILE: tcpdump on lo, this run's services' addresses only (tests beside this one,
# and other runs of this one, stay out), and the capture running before it returns. Exits 77 when tcpdump cannot capture here.
capture_start() {
  local file=$1
  timeout 120 tcpdump -i lo -U --immediate-mode -B 8192 -n -s 0 -w "$file" \
    "host $PROXY_IP or host $SWITCH_IP or host $AUC_IP" 2>"$file.err" &
  LIVE_PID[tcpdump]=$!
  local i
  for i in $(seq 100); do
    grep -q listening "$file.err" && break
    kill -0 "${LIVE_PID[tcpdump]}" 2>/dev/null || break
    sleep 0.05
  done
  if ! grep -q listening "$file.err"; then
    echo "SKIP: tcpdump cannot capture here: $(head -c 200 "$file.err")"
    [ "$FAILED" -eq 0 ] && exit 77
    finish
    exit 1
  fi
  # tcpdump says it listens a little before its filter is in place: probe (to the discard port,
  # which nothing reads) until a probe is in the file.
  timeout 20 python3 - "$file" "$AUC_IP" <<'PY'
import os, socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(200):
    s.sendto(b"probe", (sys.argv[2], 9))
    time.sleep(0.05)
    if os.path.getsize(sys.argv[1]) > 24:
        break
PY
}
# capture_stop [FILE]: once FILE has stopped growing (a tcpdump short of CPU writes what it has
# read late, and what it has not read when SIGINT comes is lost: a capture missing the last
# frames), SIGINT, and the file complete once tcpdump has exited.
capture_stop() {
  local file=${1-} last=-1 same=0 size i
  if [ -n "$file" ]; then
    for i in $(seq 100); do
      size=$(stat -c %s "$file" 2>/dev/null || echo 0)
      if [ "$size" = "$last" ]; then
        same=$((same + 1))
        [ "$same" -ge 5 ] && break
      else
        same=0 last=$size
      fi
      sleep 0.1
    done
  fi
  kill -INT "${LIVE_PID[tcpdump]}" 2>/dev/null
  wait "${LIVE_PID[tcpdump]}"
  unset 'LIVE_PID[tcpdump]'
}

# ok_summary FILE: kd-decode's last line: one registration, completed, nothing failed or unchecked.
ok_summary() {
  local s
  s=$(tail -n 1 "$1")
  jq -e '.summary | .registrations == 1 and .completed == 1 and .failed_checks == 0 and .unverified == 0
         and .errors == 0' <<<"$s" >/dev/null || { WHY="summary: $s"; return 1; }
}
# steps_are FILE STEPS: the completed registration's steps (s11 and s10 leave the switch and the
# proxy at about the same time: either may come first).
steps_are() {
  local got
  got=$(jq -r 'select(.registration and .registration.completed) | .registration.steps[]' "$1" | sort -V | tr '\n' ' ')
  got=${got% }
  eq "$got" "$2"
}
# every_check_ok FILE: no check failed, and every message was checked but s2 and s3 (the proxy's
# forward of the identity and the switch's question to the AuC carry nothing to verify).
every_check_ok() {
  local bad unchecked
  bad=$(jq -c 'select(.step) | select(any((.checks // [])[]; .ok != true)) | .step' "$1")
  [ -z "$bad" ] || { WHY="messages with a failed check: $(echo $bad)"; return 1; }
  unchecked=$(jq -r 'select(.step and ((.checks // []) | length) == 0) | .step' "$1" | sort | tr '\n' ' ')
  eq "$unchecked" "s2 s3 "
}
no_malformed() {  # PCAP
  local n
  n=$(tshark -r "$1" -V 2>&1 | grep -ci malformed)
  [ "$n" -eq 0 ] || { WHY="$n malformed: $(tshark -r "$1" -Y _ws.malformed 2>&1 | head -n 3)"; return 1; }
}
tshark_sees() {  # PCAP FILTER COUNT: tshark dissects COUNT packets matching FILTER
  local n
  n=$(tshark -r "$1" -Y "$2" 2>/dev/null | wc -l)
  [ "$n" -eq "$3" ] || { WHY="tshark shows $n packets of $2, expected $3"; return 1; }
}

# terminal_call_id PCAP: as tshark reads them, the terminal's two REGISTERs (s1, s7) share one
# Call-ID, with CSeq 1 then 2, and it is not the one the filters derive for alice (kd-live(7),
# "Transaction identities").
terminal_call_id() {
  local got derived
  got=$(tshark -r "$1" -Y "sip.Method == \"REGISTER\" && ip.dst == $PROXY_IP" -T fields -e sip.Call-ID -e sip.CSeq.seq 2>/dev/null)
  derived=$(kd term "" --binding sip start --id "$TERM_ID" --via "$PROXY_ID" --switch "$SWITCH_ID" | jq -r .wire |
    xxd -r -p | sed -n 's/^Call-ID: \(.*\)\r$/\1/p')
  [ "$(cut -f 2 <<<"$got" | tr '\n' ' ')" = "1 2 " ] && [ "$(cut -f 1 <<<"$got" | sort -u | wc -l)" -eq 1 ] &&
    [ -n "$derived" ] && [ "$(cut -f 1 <<<"$got" | head -n 1)" != "$derived" ] ||
    { WHY="REGISTERs from the terminal (Call-ID, CSeq): $(echo $got); derived Call-ID: $derived"; return 1; }
}

# ras_answers_echo PCAP PAIRS: as tshark reads them, each RAS answer (GRJ, RCF) carries the
# requestSeqNum of the request (GRQ, RRQ) that came the other way between the same two addresses
# (H.225.0: an endpoint discards an answer that does not), and PAIRS such pairs are in the capture.
ras_answers_echo() {
  local got
  got=$(tshark -r "$1" -Y "h225.RasMessage" -T fields -e ip.src -e udp.srcport -e ip.dst -e udp.dstport \
    -e h225.RasMessage -e h225.requestSeqNum 2>/dev/null | awk -F '\t' '
      $5 == 0 || $5 == 3 { seq[$1 ":" $2 ">" $3 ":" $4 "/" $5] = $6; next }
      $5 == 2 || $5 == 4 {
        k = $3 ":" $4 ">" $1 ":" $2 "/" ($5 == 2 ? 0 : 3)
        if (!(k in seq)) { print "no request for answer " $0; next }
        if (seq[k] != $6) { print $1 ":" $2 " answers requestSeqNum " seq[k] " with " $6; next }
        if (!(k in seen)) { seen[k] = 1; n++ }
      }
      END { print n + 0 " pairs" }')
  eq "$got" "$2 pairs"
}

ALL=(s1 s2 s3 s4 s5 s6 s7 s8 s9 s10 s11)
run_case() {  # BINDING TRANSPORT
  local b=$1 tr=$2 name="$1/$2" port
  port=$(port_of "$b")
  live_world "$TMP/w-$b-$tr"
  local cap=$TMP/live-$b-$tr.pcap sec=(--radius-secret-file "$W/secret")
  capture_start "$cap"
  LIVE_LISTEN=udp:$AUC_IP:1812 serve auc auc --binding radius "${sec[@]}" --listen "udp:$AUC_IP:1813" \
    || { fail "$name: the AuC starts"; capture_stop; return; }
  LIVE_LISTEN=$tr:$SWITCH_IP:$port serve switch switch --binding "$b" --auc-link radius "${sec[@]}" \
    --peer "auc=udp:$AUC_IP:1812" --peer "auc-acct=udp:$AUC_IP:1813" || { fail "$name: the switch starts"; capture_stop; return; }
  LIVE_LISTEN=$tr:$PROXY_IP:$port serve proxy proxy --binding "$b" --peer "switch=$tr:$SWITCH_IP:$port" \
    || { fail "$name: the proxy starts"; capture_stop; return; }
  TARGET="proxy=$tr:$PROXY_IP:$port"
  register "$b" proxied
  check "$name: registered, exit 0" exit_is 0
  # s11 (the switch's report) may still be on its way when the terminal has its s10.
  local i
  for i in $(seq 50); do grep -q registration-recorded "$TMP/auc.out" && break; sleep 0.1; done
  check "$name: the AuC recorded the registration" grep -q registration-recorded "$TMP/auc.out"
  local n
  for n in proxy switch auc; do stop "$n"; done
  capture_stop "$cap"
  check "$name: tcpdump wrote the capture" test -s "$cap"

  timeout --foreground -k 10 60 "$KD_BIN/kd-decode" --check --keys "$W/auc.keys" --radius-secret-file "$W/secret" "$cap" \
    >"$TMP/decode.out" 2>"$TMP/decode.err"
  RC=$? ERR=$TMP/decode.err
  check "$name: kd-decode --check exits 0" exit_is 0
  check "$name: kd-decode verified one complete registration" ok_summary "$TMP/decode.out"
  check "$name: ... with every step" steps_are "$TMP/decode.out" "${ALL[*]}"
  check "$name: ... each checked and passed" every_check_ok "$TMP/decode.out"
  check "$name: ... the signaling in $b over $tr" \
    eq "$(jq -r 'select(.step and .to != "auc" and .from != "auc") | .binding + "/" + .transport' "$TMP/decode.out" | sort -u)" "$b/$tr"
  check "$name: tshark finds no malformed packet" no_malformed "$cap"
  [ "$b" = sip ] && check "$name: the terminal's s7 goes on under its s1's Call-ID, drawn, CSeq 2" terminal_call_id "$cap"
  [ "$b" = h323 ] && check "$name: s5, s6, s9 and s10 echo their request's requestSeqNum" ras_answers_echo "$cap" 4
  local filter
  case $b in sip) filter=sip ;; mgcp) filter=mgcp ;; h248) filter=megaco ;; h323) filter=h225 ;; esac
  check "$name: tshark dissects the 8 signaling messages as $filter" tshark_sees "$cap" "$filter" 8
  check "$name: tshark dissects the 4 RADIUS messages (s3, s4, s11 and its answer)" tshark_sees "$cap" radius 4
  OUT=$TMP/run.out ERR=$TMP/run.err
}

# The direct flow in RAS: the switch's d4 and d6 echo d1's and d5's requestSeqNum.
run_direct_h323() {
  local name=h323/direct cap=$TMP/live-h323-direct.pcap sec=(--radius-secret-file "$W/secret")
  live_world "$TMP/w-h323-direct"
  capture_start "$cap"
  LIVE_LISTEN=udp:$AUC_IP:1812 serve auc auc --binding radius "${sec[@]}" --listen "udp:$AUC_IP:1813" \
    || { fail "$name: the AuC starts"; capture_stop; return; }
  LIVE_LISTEN=udp:$SWITCH_IP:1719 serve switch switch --binding h323 --auc-link radius "${sec[@]}" \
    --peer "auc=udp:$AUC_IP:1812" --peer "auc-acct=udp:$AUC_IP:1813" || { fail "$name: the switch starts"; capture_stop; return; }
  TARGET="switch=udp:$SWITCH_IP:1719"
  register h323 direct
  check "$name: registered, exit 0" exit_is 0
  local n
  for n in switch auc; do stop "$n"; done
  capture_stop "$cap"
  check "$name: d4 and d6 echo their request's requestSeqNum" ras_answers_echo "$cap" 2
  OUT=$TMP/run.out ERR=$TMP/run.err
}

# MGCP and H.248 have no check of their own here (live-register runs both under the sanitizers).
for b in sip mgcp h248 h323; do
  case $b in mgcp|h248) extra_case "$b/udp" || continue ;; esac
  run_case "$b" udp
done
run_case sip tcp
run_direct_h323

finish
