#!/usr/bin/env bash
# Provisional answers (kd-live(7), TRANSACTIONS; kd-protocol(7), BINDINGS). Server side: kd-proxy
# serve, whose switch (a silent fake) never answers s2, answers the terminal's retransmitted s1 with
# the binding's provisional answer (MGCP "100 <tid> executing", H.248 TransactionPending from its
# mId, RAS RequestInProgress with s1's requestSeqNum and the proxy's own timeout as delay), each
# time, and nothing to the first send. Client side: a relay in front of the real proxy answers
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
for b in mgcp h248 h323; do
  kd term "" --binding "$b" start --id "$TERM_ID" --via "$PROXY_ID" --switch "$SWITCH_ID" |
    jq -r .wire | xxd -r -p >"$TMP/s1.$b"
  serve "proxy-$b" proxy --binding "$b" --peer "switch=udp:127.0.0.1:$(cat "$TMP/silent.port")" ||
    { fail "$b: kd-proxy serve starts"; continue; }
  send_udp "$ADDR" "$TMP/s1.$b" 3
  check "$b: the first s1 gets nothing (the proxy waits for its switch)" no_answer "$TMP/answer.1"
  # The expected bytes, from the standard's syntax and s1's own identity, written here.
  case $b in
    mgcp)
      tid=$(head -n 1 "$TMP/s1.$b" | awk '{ print $2 }')
      want=$(printf '100 %s executing\r\n' "$tid" | xxd -p | tr -d '\n') ;;
    h248)
      tid=$(sed -n 's/^Transaction = \([0-9]*\) {\r$/\1/p' "$TMP/s1.$b")
      want=$(printf 'MEGACO/1 <%s>:2944\r\nPending = %s {\r\n}\r\n' "$PROXY_ID" "$tid" | xxd -p | tr -d '\n') ;;
    h323)
      # RasMessage extension alternative 0, open type of 5 octets: RequestInProgress with no
      # OPTIONAL, requestSeqNum - 1 (s1's octets 2 and 3), delay - 1 (the proxy's h323 timeout,
      # 9000 ms: 0x2327).
      want="800500$(hex_of "$TMP/s1.$b" | cut -c5-8)2327" ;;
  esac
  check "$b: the retransmitted s1 gets the provisional answer" is_hex "$TMP/answer.2" "$want"
  check "$b: ... and so does the next one (not cached as the answer)" is_hex "$TMP/answer.3" "$want"
  check "$b: the proxy printed no error" count_lines "$TMP/proxy-$b.out" '"event":"error"' 0
  stop "proxy-$b"
done

# ---- client side ---------------------------------------------------------------------------
SERVE_X=()
# relay LISTEN-PORT-FILE UPSTREAM BINDING COUNT-FILE: forwards between kd-term and the proxy;
# answers the terminal's first datagram at once with BINDING's provisional answer and holds what
# the proxy sends for 1.5 s after it; COUNT-FILE gets how many datagrams the terminal sent in that
# time.
relay() {
  timeout 60 python3 - "$@" <<'PY' &
import os, select, socket, sys, time
port_file, upstream, binding, count_file = sys.argv[1:5]
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
        for h in held: down.sendto(h, term)
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

for b in mgcp h248 h323; do
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

finish
