#!/usr/bin/env bash
# Bad input from the network (issue 12; kd-live(7)): kd-proxy, kd-switch and kd-auc serving on the
# loopback each get a seeded corpus of hostile datagrams (tests/tools/hostile.py: valid messages of
# the vectors cut, bit-flipped, with control bytes and escape sequences, inflated, repeated, random
# bytes), over UDP in every binding and over TCP in SIP. Each service stays up, answers a real
# registration afterwards, and writes only JSON lines of printable ASCII on stdout and escaped
# text on stderr: nothing from the input reaches a terminal raw.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/live-lib.sh"

HOSTILE=$KD_ROOT/tests/tools/hostile.py
N=${KD_HOSTILE_COUNT:-300}

# Every service still runs.
alive() {
  local n
  for n in "$@"; do kill -0 "${LIVE_PID[$n]}" 2>/dev/null || { WHY="$n exited: $(tail -c 300 "$TMP/$n.err")"; return 1; }; done
}
# stdout: JSON lines, every byte printable ASCII; stderr: no control byte but the line ends.
clean_output() {
  local n
  for n in "$@"; do
    jq -e . "$TMP/$n.out" >/dev/null || { WHY="$n.out is not JSON lines"; return 1; }
    ! LC_ALL=C grep -q '[^[:print:]]' "$TMP/$n.out" || { WHY="$n.out: $(LC_ALL=C grep -m1 '[^[:print:]]' "$TMP/$n.out" | cat -v | head -c 300)"; return 1; }
    ! LC_ALL=C grep -q '[[:cntrl:]]' "$TMP/$n.err" || { WHY="$n.err: $(LC_ALL=C grep -m1 '[[:cntrl:]]' "$TMP/$n.err" | cat -v | head -c 300)"; return 1; }
  done
}
# The corpus was refused, line by line: error events with a code of kd-protocol(7) ERROR CODES.
refused_some() {  # NAME
  local n
  n=$(jq -r 'select(.event == "error") | .code' "$TMP/$1.out" | grep -c '^[a-z_]*$')
  [ "$n" -ge 10 ] || { WHY="$1 printed $n error lines"; return 1; }
}

for case in sip/udp mgcp/udp h248/udp h323/udp json/udp sip/tcp; do
  b=${case%/*} tr=${case#*/}
  live_world "$TMP/w-$b-$tr"
  LIVE_LISTEN=udp:127.0.0.1:0
  serve auc auc --binding radius --radius-secret-file "$W/secret" || { fail "$case: the AuC serves" "no listening line"; continue; }
  auc=$ADDR
  LIVE_LISTEN=$tr:127.0.0.1:0
  serve switch switch --binding "$b" --auc-link radius --radius-secret-file "$W/secret" --peer "auc=$auc" ||
    { fail "$case: the switch serves" "no listening line"; continue; }
  switch=$ADDR
  serve proxy proxy --binding "$b" --peer "switch=$switch" || { fail "$case: the proxy serves" "no listening line"; continue; }
  TARGET="proxy=$ADDR"
  timeout 60 python3 "$HOSTILE" "$ADDR" "$b" "$KD_ROOT/testvectors" "$N" 1 >/dev/null
  timeout 60 python3 "$HOSTILE" "$switch" "$b" "$KD_ROOT/testvectors" "$N" 2 >/dev/null
  [ "$tr" = udp ] && timeout 60 python3 "$HOSTILE" "$auc" radius "$KD_ROOT/testvectors" "$N" 3 >/dev/null
  register "$b" proxied
  check "$case: a registration after the hostile corpus succeeds (exit 0)" exit_is 0
  check "$case: every service is still up" alive proxy switch auc
  check "$case: the proxy refused the corpus with error lines" refused_some proxy
  check "$case: the switch refused the corpus with error lines" refused_some switch
  check "$case: stdout is JSON of printable ASCII, stderr has no control byte" clean_output proxy switch auc
  stop_all proxy switch auc
  check "$case: the services stop cleanly (exit 0)" exit_is 0
done
finish
