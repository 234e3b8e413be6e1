#!/usr/bin/env bash
# Provisional answers (kd-live(7), TRANSACTIONS; kd-protocol(7), BINDINGS). Server side: kd-proxy
# serve, whose switch (a silent fake) never answers s2, answers the terminal's retransmitted s1 with
# the binding's provisional answer (MGCP "100 <tid> executing", H.248 TransactionPending from its
# mId, RAS RequestInProgress with s1's requestSeqNum and the proxy's own timeout as delay), each
# time, and (provisional=0) nothing to the first send. In time: with the provisional timer, s1 sent
# once gets one provisional answer, unprompted, once the delay has passed (H.248.1 Annex D.1.4 and
# E.2.1, H.225.0's RequestInProgress); SIP none. Client side: a relay in front of the real proxy answers
# kd-term register's s1 at once with a provisional answer and holds the real answer 1.5 s, beyond
# three retransmission intervals: kd-term sends s1 once, then registers.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/live-lib.sh"

hex_of() { xxd -p "$1" | tr -d '\n'; }
is_hex() {  # FILE HEX
  [ "$(hex_of "$1")" = "$2" ] || { WHY="$1 holds $(hex_of "$1"), expected $2"; return 1; }
}
no_answer() { [ ! -s "$1" ] || { WHY="$1 holds an answer: $(head -c 200 "$1")"; return 1; }; }

# A UDP peer that reads and never answers; its port in FILE.
silent_peer() {  # FILE
  timeout 60 python3 - "$1" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
open(sys.argv[1] + ".tmp", "w").write(str(s.getsockname()[1]))
import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
while True:
    s.recvfrom(65536)
PY
  LIVE_PID[silent]=$!
  local i
  for i in $(seq 50); do [ -s "$1" ] && return 0; sleep 0.1; done
  return 1
}

# ---- server side ---------------------------------------------------------------------------
SERVE_X=(--now "$NOW" --seed "$SEED")  # the clock of the filters' s1
live_world "$TMP/server"
silent_peer "$TMP/silent.port" || fail "the silent switch starts"
# want_provisional BINDING: in hex, the provisional answer the proxy owes $TMP/s1.BINDING, from the
# standard's syntax and s1's own identity, written here.
want_provisional() {
  local tid
  case $1 in
    mgcp)
      tid=$(head -n 1 "$TMP/s1.$1" | awk '{ print $2 }')
      printf '100 %s executing\r\n' "$tid" | xxd -p | tr -d '\n' ;;
    h248)
      tid=$(sed -n 's/^Transaction = \([0-9]*\) {\r$/\1/p' "$TMP/s1.$1")
      printf 'MEGACO/1 <%s>:2944\r\nPending = %s {\r\n}\r\n' "$PROXY_ID" "$tid" | xxd -p | tr -d '\n' ;;
    h323)
      # RasMessage extension alternative 0, open type of 5 octets: RequestInProgress with no
      # OPTIONAL, requestSeqNum - 1 (s1's octets 2 and 3), delay - 1 (the proxy's h323 timeout,
      # 9000 ms: 0x2327).
      echo "800500$(hex_of "$TMP/s1.$1" | cut -c5-8)2327" ;;
  esac
}

for b in sip mgcp h248 h323; do
  kd term "" --binding "$b" start --id "$TERM_ID" --via "$PROXY_ID" --switch "$SWITCH_ID" |
    jq -r .wire | xxd -r -p >"$TMP/s1.$b"
done
for b in mgcp h248 h323; do
  serve "proxy-$b" proxy --binding "$b" --peer "switch=udp:127.0.0.1:$(cat "$TMP/silent.port")" \
    --retransmit provisional=0 || { fail "$b: kd-proxy serve starts"; continue; }
  send_udp "$ADDR" "$TMP/s1.$b" 3
  check "$b: (provisional=0) the first s1 gets nothing (the proxy waits for its switch)" no_answer "$TMP/answer.1"
  want=$(want_provisional "$b")
  check "$b: the retransmitted s1 gets the provisional answer" is_hex "$TMP/answer.2" "$want"
  check "$b: ... and so does the next one (not cached as the answer)" is_hex "$TMP/answer.3" "$want"
  check "$b: the proxy printed no error" count_lines "$TMP/proxy-$b.out" '"event":"error"' 0
  stop "proxy-$b"
done

# ---- in time -----------------------------------------------------------------------------------
# send_once ADDR FILE SECONDS: sends FILE's bytes once from one UDP socket to ADDR; each datagram
# that comes back within SECONDS is a line "MS HEX" of $TMP/back, MS counted from the send.
send_once() {
  python3 - "$1" "$2" "$3" "$TMP/back" <<'PY'
import socket, sys, time
addr, path, seconds, out = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
host, port = addr[len("udp:"):].rsplit(":", 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
t0 = time.monotonic()
s.sendto(open(path, "rb").read(), (host, int(port)))
lines = []
while True:
    left = t0 + seconds - time.monotonic()
    if left <= 0:
        break
    s.settimeout(left)
    try:
        d = s.recvfrom(65536)[0]
    except socket.timeout:
        break
    lines.append("%d %s\n" % ((time.monotonic() - t0) * 1000, d.hex()))
open(out, "w").write("".join(lines))
PY
}
# came_after FILE MS: the one line of FILE came MS milliseconds or more after the send.
came_after() {
  [ "$(wc -l <"$1")" -eq 1 ] && [ "$(cut -d' ' -f1 "$1")" -ge "$2" ] ||
    { WHY="$1: $(cut -c1-80 "$1" | tr '\n' ' '), expected one line at $2 ms or later"; return 1; }
}
silent=udp:127.0.0.1:$(cat "$TMP/silent.port")
# The timer is the transaction layer's, whatever the binding (each binding's answer is judged
# above): under KD_TEST_QUICK, h248 alone, here and by default.
for b in mgcp h248 h323; do
  [ "$b" = h248 ] || extra_case "$b: the provisional timer" || continue
  serve "timer-$b" proxy --binding "$b" --peer "switch=$silent" --retransmit provisional=300 ||
    { fail "$b: kd-proxy serve starts"; continue; }
  send_once "$ADDR" "$TMP/s1.$b" 1.5
  check "$b: s1 sent once gets one provisional answer, unprompted, after provisional=300 ms" came_after "$TMP/back" 290
  check "$b: ... the binding's, as a retransmission gets it" eq "$(cut -d' ' -f2 "$TMP/back")" "$(want_provisional "$b")"
  stop "timer-$b"
done
serve timer-default proxy --binding h248 --peer "switch=$silent" || fail "h248: kd-proxy serve starts"
send_once "$ADDR" "$TMP/s1.h248" 2
check "h248: by default the provisional answer comes after 1 s" came_after "$TMP/back" 990
stop timer-default
serve timer-sip proxy --binding sip --peer "switch=$silent" --retransmit provisional=300 || fail "sip: kd-proxy serve starts"
send_once "$ADDR" "$TMP/s1.sip" 1.5
check "sip: no provisional answer (provisional= accepted, unused)" no_answer "$TMP/back"
check "sip: ... and no error" count_lines "$TMP/timer-sip.out" '"event":"error"' 0
stop timer-sip

# ---- client side ---------------------------------------------------------------------------
SERVE_X=()
# relay LISTEN-PORT-FILE UPSTREAM BINDING COUNT-FILE [drop]: forwards between kd-term and the
# proxy; answers the terminal's first datagram at once with BINDING's provisional answer and holds
# what the proxy sends for 1.5 s after it (drop: then loses it, as a network would); COUNT-FILE
# gets how many datagrams the terminal sent in that time.
relay() {
  timeout 60 python3 - "$@" <<'PY' &
import os, select, socket, sys, time
port_file, upstream, binding, count_file = sys.argv[1:5]
drop = sys.argv[5:] == ["drop"]
host, port = upstream[len("udp:"):].rsplit(":", 1)
up = (host, int(port))
down = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); down.bind(("127.0.0.1", 0))
side = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); side.bind(("127.0.0.1", 0))
open(port_file + ".tmp", "w").write(str(down.getsockname()[1])); os.rename(port_file + ".tmp", port_file)
term, t0, held, count, released = None, None, [], 0, False
def provisional(d):
    if binding == "mgcp":
        return ("100 %s executing\r\n" % d.split(b"\n")[0].split()[1].decode()).encode()
    if binding == "h248":
        tid = [l for l in d.split(b"\r\n") if l.startswith(b"Transaction = ")][0].split()[2]
        return b"MEGACO/1 <relay>:2944\r\nPending = " + tid + b" {\r\n}\r\n"
    return bytes([0x80, 0x05, 0x00, d[2], d[3], 0x0b, 0xb7])  # RequestInProgress, delay 3000 ms
while True:
    timeout = None if t0 is None or released else max(0, t0 + 1.5 - time.time())
    ready, _, _ = select.select([down, side], [], [], timeout)
    if t0 is not None and not released and time.time() >= t0 + 1.5:
        released = True
        open(count_file, "w").write(str(count))
        for h in held:
            if not drop: down.sendto(h, term)
    for s in ready:
        d, a = s.recvfrom(65536)
        if s is down:
            if term is None:
                term, t0 = a, time.time()
                down.sendto(provisional(d), term)
            if not released: count += 1
            side.sendto(d, up)
        elif released:
            down.sendto(d, term)
        else:
            held.append(d)
PY
  LIVE_PID[relay]=$!
  local i
  for i in $(seq 50); do [ -s "$1" ] && return 0; sleep 0.1; done
  return 1
}

# kd-term's wait after a provisional answer is its transaction layer's; under KD_TEST_QUICK mgcp
# alone (and in the lost case below): the bindings' provisional answers are decoded in
# tests/wire/provisional_test.cpp.
for b in mgcp h248 h323; do
  [ "$b" = mgcp ] || extra_case "$b: kd-term through the slow proxy" || continue
  live_world "$TMP/client-$b"
  chain "$b" radius proxied || { fail "$b: services start"; continue; }
  relay "$TMP/relay-$b.port" "${TARGET#proxy=}" "$b" "$TMP/relay-$b.count" || { fail "$b: the relay starts"; continue; }
  TARGET="proxy=udp:127.0.0.1:$(cat "$TMP/relay-$b.port")"
  # Without the provisional answer s1 would go again at 200, 600 and 1400 ms.
  register "$b" proxied --retransmit initial=200,timeout=5000
  check "$b: kd-term registers through the slow proxy" exit_is 0
  check "$b: ... having sent s1 once in the 1.5 s after the provisional answer" eq "$(cat "$TMP/relay-$b.count" 2>/dev/null)" 1
  check "$b: ... and printed no error" count_lines "$OUT" '"event":"error"' 0
  kill "${LIVE_PID[relay]}" 2>/dev/null; wait "${LIVE_PID[relay]}" 2>/dev/null; unset "LIVE_PID[relay]"
  stop_all proxy switch auc
done

# The final answer lost after a provisional one: when the wait ends (the binding's timeout here)
# kd-term sends s1 once more, and the proxy answers the copy from its cache.
live_world "$TMP/client-lost"
chain mgcp radius proxied || fail "lost: services start"
relay "$TMP/relay-lost.port" "${TARGET#proxy=}" mgcp "$TMP/relay-lost.count" drop || fail "lost: the relay starts"
TARGET="proxy=udp:127.0.0.1:$(cat "$TMP/relay-lost.port")"
register mgcp proxied --retransmit initial=200,timeout=2500
check "lost: kd-term registers though the answer after the provisional one was lost" exit_is 0
check "lost: ... its transcript" transcript_ok proxied
kill "${LIVE_PID[relay]}" 2>/dev/null; wait "${LIVE_PID[relay]}" 2>/dev/null; unset "LIVE_PID[relay]"
stop_all proxy switch auc

finish
