#!/usr/bin/env bash
# kd-term register and a datagram that does not decode (kd-term(1), REGISTER; kd-live(7),
# REGISTER): a relay in front of the real proxy answers the terminal's s1 at once with garbage
# (as a spoofer could), then passes the proxy's real answers on. The garbage is reported (an error
# line saying it was discarded, escaped) and the registration goes on: exit 0 (RFC 3261 18.1.2: a
# malformed response is discarded). A peer that only ever sends garbage ends the registration
# when the transaction times out: exit 1 with the garbage's error code (a device's malformed
# answer is still a refusal), not 4. A flood of garbage gets one line, not one per datagram.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/live-lib.sh"

# A control character, an escape sequence and a byte that is not UTF-8: none may reach the
# output raw.
GARBAGE='SIP/2.0 200 OK\x1b[31m\x07\xff\r\n\r\n'

# relay PORT-FILE UPSTREAM MODE: MODE pass: answers each new datagram from the terminal at once
# with $GARBAGE and forwards between the terminal and UPSTREAM (udp:HOST:PORT); garbage: only
# the garbage; flood: 200 distinct copies of it; none: nothing at all. Its port in PORT-FILE.
relay() {
  timeout 60 python3 - "$@" "$GARBAGE" <<'PY' &
import codecs, os, select, socket, sys
port_file, upstream, mode, garbage = sys.argv[1:5]
garbage = codecs.escape_decode(garbage.encode())[0]
host, port = upstream[len("udp:"):].rsplit(":", 1)
down = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); down.bind(("127.0.0.1", 0))
side = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); side.bind(("127.0.0.1", 0))
open(port_file + ".tmp", "w").write(str(down.getsockname()[1])); os.rename(port_file + ".tmp", port_file)
term, seen = None, set()
while True:
    for s in select.select([down, side], [], [])[0]:
        d, a = s.recvfrom(65536)
        if s is down:
            term = a
            if mode != "none" and d not in seen:  # each request once, not its retransmissions
                seen.add(d)  # (numbered: the same bytes again would be a duplicate, absorbed)
                for i in range(200 if mode == "flood" else 1):
                    down.sendto(garbage.replace(b"\r\n\r\n", b"\r\nX-N: %d.%d\r\n\r\n" % (len(seen), i)), term)
            if mode == "pass":
                side.sendto(d, (host, int(port)))
        elif term is not None:
            down.sendto(d, term)
PY
  LIVE_PID[relay]=$!
  local i
  for i in $(seq 50); do [ -s "$1" ] && return 0; sleep 0.1; done
  return 1
}
stop_relay() { kill "${LIVE_PID[relay]}" 2>/dev/null; wait "${LIVE_PID[relay]}" 2>/dev/null; unset "LIVE_PID[relay]"; }

# raw_free FILE: no byte of FILE is a control character (but the newline) or above 0x7e.
raw_free() {
  ! LC_ALL=C grep -q '[^[:print:]]' "$1" ||
    { WHY="$1 holds a raw byte: $(LC_ALL=C grep -n '[^[:print:]]' "$1" | head -n 1 | od -c | head -n 2)"; return 1; }
}
# discarded FILE N: N error lines of FILE say a datagram was discarded, with code malformed.
discarded() {
  local n
  n=$(jq -c 'select(.event == "error" and .code == "malformed" and (.detail | test("discarded")))' "$1" | wc -l)
  [ "$n" -eq "$2" ] || { WHY="$n error lines say discarded, expected $2: $(head -c 400 "$1")"; return 1; }
}

live_world "$TMP/w"
chain sip radius proxied || fail "services start"
upstream=${TARGET#proxy=}

# ---- garbage, then the real answers -------------------------------------------------------------
relay "$TMP/relay.port" "$upstream" pass || fail "the relay starts"
TARGET="proxy=udp:127.0.0.1:$(cat "$TMP/relay.port")"
register sip proxied
check "garbage first: registered all the same, exit 0" exit_is 0
check "garbage first: the terminal registered" count_lines "$OUT" '"event":"registered"' 1
check "garbage first: each garbage datagram (s1's, s7's) reported as discarded" discarded "$OUT" 2
check "garbage first: its output holds no raw byte of the garbage" raw_free "$OUT"
check "garbage first: nor its standard error" raw_free "$ERR"
stop_relay

# ---- garbage only -------------------------------------------------------------------------------
relay "$TMP/relay2.port" "$upstream" garbage || fail "the garbage relay starts"
TARGET="proxy=udp:127.0.0.1:$(cat "$TMP/relay2.port")"
register sip proxied --retransmit initial=100,timeout=1000
check "garbage only: a refusal when the transaction ends, exit 1 (not 4)" exit_is 1
check "garbage only: the garbage reported as discarded" discarded "$OUT" 1
check "garbage only: the transaction timed out" count_lines "$OUT" '"event":"timeout","step":"s1"' 1
check "garbage only: ... then the refusal's error line" count_lines "$OUT" '"detail":"no valid answer to s1 from' 1
check "garbage only: standard error names the garbage's code" grep -q '^kd-term: error: malformed' "$ERR"
check "garbage only: ... and that s1 got no valid answer" grep -q 'no valid answer to s1' "$ERR"
check "garbage only: its output holds no raw byte" raw_free "$OUT"
check "garbage only: nor its standard error" raw_free "$ERR"
stop_relay

# ---- a flood of garbage: reported once, counted --------------------------------------------------
# A peer that answers with datagram after datagram of garbage does not make the terminal print a
# line for each: the first is reported, the rest counted in the refusal.
relay "$TMP/relay4.port" "$upstream" flood || fail "the flooding relay starts"
TARGET="proxy=udp:127.0.0.1:$(cat "$TMP/relay4.port")"
register sip proxied --retransmit initial=100,timeout=1000
check "flood: a refusal when the transaction ends, exit 1" exit_is 1
check "flood: only the first garbage datagram reported as discarded" discarded "$OUT" 1
check "flood: its output stays small (s1, one discard, timeout, refusal)" count_lines "$OUT" . 4
check "flood: the refusal counts the datagrams that did not decode" \
  grep -Eq '^kd-term: error: malformed: no valid answer to s1 .*what came did not decode \(([2-9][0-9]|1[0-9][0-9]|200) datagrams\)' "$ERR"
stop_relay

# ---- silence: still exit 4 ----------------------------------------------------------------------
relay "$TMP/relay3.port" "udp:127.0.0.1:9" none || fail "the silent relay starts"
TARGET="proxy=udp:127.0.0.1:$(cat "$TMP/relay3.port")"
register sip proxied --retransmit initial=100,timeout=500
check "silence: no answer, exit 4" exit_is 4
stop_relay

stop_all proxy switch auc
finish
