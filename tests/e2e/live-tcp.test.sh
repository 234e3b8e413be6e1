#!/usr/bin/env bash
# Live mode over TCP (kd-live(7), TRANSPORTS): SIP (RFC 3261 18.3, Content-Length framing), H.248
# text (H.248.1 Annex D.2, TPKT) and JSON (one object per line) register over TCP; a request is
# sent once (no retransmission on a reliable transport) and still times out; the client side
# re-opens a connection its peer closed (the switch restarted between two registrations); a peer
# sending a message that never ends is cut off with an error event and the state is untouched;
# MGCP, H.323 RAS and RADIUS, which travel over UDP only, are refused on tcp: endpoints.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/live-lib.sh"

TCP=tcp:127.0.0.1:0
sec() { echo --radius-secret-file "$W/secret"; }

listens_on_tcp() {  # NAME
  some_line "$TMP/$1.out" '.event == "listening" and (.addr | startswith("tcp:127.0.0.1:"))'
}
# some_line FILE FILTER: a line of FILE satisfies FILTER (jq -e alone passes an empty file).
some_line() {
  [ -n "$(jq -c "select($2)" "$1" 2>/dev/null)" ] || { WHY="$1: no line where $2: $(head -c 300 "$1")"; return 1; }
}
alive() { kill -0 "${LIVE_PID[$1]}" 2>/dev/null || { WHY="$1 is gone: $(head -c 300 "$TMP/$1.err")"; return 1; }; }

# ---- a registration over TCP in each binding that has it -----------------------------------------
# SIP, proxied: terminal -> proxy and proxy -> switch over TCP, the AuC link over RADIUS (UDP).
live_world "$TMP/w-sip"
serve auc auc --binding radius $(sec) || fail "sip: the AuC starts"
LIVE_LISTEN=$TCP serve switch switch --binding sip --auc-link radius $(sec) --peer "auc=$ADDR" || fail "sip: the switch starts"
SWITCH_ADDR=$ADDR
LIVE_LISTEN=$TCP serve proxy proxy --binding sip --peer "switch=$ADDR" || fail "sip: the proxy starts"
TARGET="proxy=$ADDR"
check "sip: the switch listens on tcp" listens_on_tcp switch
check "sip: the proxy listens on tcp" listens_on_tcp proxy
register sip proxied
check "sip over tcp: registered, exit 0" exit_is 0
check "sip over tcp: the terminal's transcript" transcript_ok proxied
check "sip over tcp: wire lines in sip" eq "$(jq -r 'select(.to) | .binding' "$OUT" | sort -u)" sip
# RFC 3261 18.1.1, 20.42: a request's own Via names the transport it is sent over; a response
# echoes its request's.
vias() {  # STEP: the transports of the Via headers of the terminal's message STEP, top first
  jq -r "select(.step == \"$1\") | .wire" "$OUT" | xxd -r -p | tr -d '\r' | sed -n 's,^Via: SIP/2.0/\([A-Z]*\) .*,\1,p' | paste -sd' '
}
for st in s1 s6 s7 s10; do check "sip over tcp: $st's Via says TCP" eq "$(vias "$st")" TCP; done
check "sip over tcp: the AuC recorded it" wait_lines "$TMP/auc.out" '"event":"registration-recorded"' 1 10
check "sip over tcp: no service printed an error" no_errors auc switch proxy

# The switch restarts on the same port and state: the proxy's connection to it died, and the next
# registration re-opens it.
stop switch
check "restart: the switch stopped cleanly" eq "$RC" 0
AUC_ADDR=$(jq -r 'select(.event == "listening") | .addr' "$TMP/auc.out")
LIVE_LISTEN=$SWITCH_ADDR serve switch switch --binding sip --auc-link radius $(sec) --peer "auc=$AUC_ADDR" \
  || fail "restart: the switch starts again"
check "restart: the switch is back on its port" eq "$ADDR" "$SWITCH_ADDR"
register sip proxied
check "restart: registered again through the re-opened connection, exit 0" exit_is 0
check "restart: the terminal's transcript" transcript_ok proxied
sleep 0.3
check "restart: no service printed an error" no_errors switch proxy
check "restart: the proxy is still running" alive proxy
stops=0
for n in auc switch proxy; do stop "$n"; [ "$RC" -eq 0 ] || stops=$RC; done
check "sip over tcp: SIGTERM stops every service with status 0" eq "$stops" 0

# H.248 text, direct: terminal -> switch over TCP (TPKT), the AuC link over RADIUS.
live_world "$TMP/w-h248"
serve auc auc --binding radius $(sec) || fail "h248: the AuC starts"
LIVE_LISTEN=$TCP serve switch switch --binding h248 --auc-link radius $(sec) --peer "auc=$ADDR" || fail "h248: the switch starts"
TARGET="switch=$ADDR"
register h248 direct
check "h248 over tcp: registered, exit 0" exit_is 0
check "h248 over tcp: the terminal's transcript" transcript_ok direct
sleep 0.3
check "h248 over tcp: no service printed an error" no_errors auc switch
for n in auc switch; do stop "$n"; done

# JSON everywhere over TCP, the AuC link too: one object per line.
live_world "$TMP/w-json"
LIVE_LISTEN=$TCP serve auc auc || fail "json: the AuC starts"
check "json: the AuC listens on tcp" listens_on_tcp auc
LIVE_LISTEN=$TCP serve switch switch --peer "auc=$ADDR" || fail "json: the switch starts"
JSON_SWITCH=$ADDR
LIVE_LISTEN=$TCP serve proxy proxy --peer "switch=$ADDR" || fail "json: the proxy starts"
JSON_PROXY=$ADDR
# ---- a message that never ends -----------------------------------------------------------------
# tcp_send ADDR FILE: sends FILE's bytes on one connection and reads until the service closes it
# (5 s at most); prints "closed" or "open".
tcp_send() {
  timeout 20 python3 - "$1" "$2" <<'PY'
import socket, sys, time
host, port = sys.argv[1][len("tcp:"):].rsplit(":", 1)
s = socket.create_connection((host, int(port)), timeout=5)
try:
    s.sendall(open(sys.argv[2], "rb").read())
except OSError:
    pass  # the service may cut the connection before it has taken everything
deadline = time.time() + 5
state = "open"
while time.time() < deadline:
    try:
        if not s.recv(65536):
            state = "closed"
            break
    except socket.timeout:
        break
    except OSError:
        state = "closed"
        break
print(state)
PY
}
# A peer sending a line that never ends is cut off; the switch goes on (the registration below).
rm -f "$TMP/switch.st.before"; [ -e "$W/switch.st" ] && cp "$W/switch.st" "$TMP/switch.st.before"
head -c 200000 /dev/zero | tr '\0' x >"$TMP/endless"
check "json: a line that never ends: the switch closes the connection" eq "$(tcp_send "$JSON_SWITCH" "$TMP/endless")" closed
sleep 0.2
check "json: ... with an error event" some_line "$TMP/switch.out" '.event == "error" and .code == "oversized"'
unchanged() {  # FILE SNAPSHOT: FILE is as SNAPSHOT holds it, or absent as it was
  if [ -e "$2" ]; then same_file "$1" "$2"; else [ ! -e "$1" ] || { WHY="$1 was written"; return 1; }; fi
}
check "json: ... and its state untouched" unchanged "$W/switch.st" "$TMP/switch.st.before"
check "json: ... and it still runs" alive switch
TARGET="proxy=$JSON_PROXY"
register json proxied
check "json over tcp: registered, exit 0" exit_is 0
check "json over tcp: the terminal's transcript" transcript_ok proxied
sleep 0.3
check "json over tcp: no service printed an error" no_errors auc proxy
check "json over tcp: the switch printed no error but the cut" eq "$(grep -c '"event":"\(error\|timeout\)"' "$TMP/switch.out")" 1

for n in auc switch proxy; do stop "$n"; done

live_world "$TMP/w-frames"
LIVE_LISTEN=$TCP serve proxy proxy --binding sip --peer "switch=udp:127.0.0.1:9" || fail "frames: the sip proxy starts"
SIP_PROXY=$ADDR
{ printf 'REGISTER sip:x SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1\r\nX: '; head -c 200000 /dev/zero | tr '\0' y; } >"$TMP/endless.sip"
check "sip: a header that never ends: the proxy closes the connection" eq "$(tcp_send "$SIP_PROXY" "$TMP/endless.sip")" closed
sleep 0.2
check "sip: ... with an error event" some_line "$TMP/proxy.out" '.event == "error" and .code == "oversized"'
check "sip: ... and the proxy still runs" alive proxy
# A Content-Length past 64 KiB announces a body longer than the limit: oversized too, as the page
# says, not "bytes that do not frame" (trial 6: 2^63 and 65537 were called malformed); one that is
# not a number is malformed.
for cl in 9223372036854775808 65537; do
  printf 'REGISTER sip:x SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1\r\nContent-Length: %s\r\n\r\n' "$cl" >"$TMP/long-body.sip"
  before=$(grep -c '"code":"oversized"' "$TMP/proxy.out")
  check "sip: Content-Length $cl: the proxy closes the connection" eq "$(tcp_send "$SIP_PROXY" "$TMP/long-body.sip")" closed
  sleep 0.2
  check "sip: ... with an oversized error line" eq "$(grep -c '"code":"oversized"' "$TMP/proxy.out")" "$((before + 1))"
done
printf 'REGISTER sip:x SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1\r\nContent-Length: -1\r\n\r\n' >"$TMP/bad-length.sip"
before=$(grep -c '"code":"malformed"' "$TMP/proxy.out")
check "sip: Content-Length -1: the proxy closes the connection" eq "$(tcp_send "$SIP_PROXY" "$TMP/bad-length.sip")" closed
sleep 0.2
check "sip: ... with a malformed error line" eq "$(grep -c '"code":"malformed"' "$TMP/proxy.out")" "$((before + 1))"
LIVE_LISTEN=$TCP serve switch switch --binding h248 --auc-link json --peer "auc=udp:127.0.0.1:9" || fail "frames: the h248 switch starts"
printf 'GET / HTTP/1.0\r\n\r\n' >"$TMP/not-tpkt"
check "h248: bytes that are not TPKT: the switch closes the connection" eq "$(tcp_send "$ADDR" "$TMP/not-tpkt")" closed
sleep 0.2
check "h248: ... with an error event" some_line "$TMP/switch.out" '.event == "error" and .code == "malformed"'
for n in proxy switch; do stop "$n"; done

# ---- the proxy's own Via over TCP, the terminal's over UDP ---------------------------------------
# A switch that takes the connection and records what it gets: the proxy forwards s2 with its own
# Via naming TCP above the terminal's, which came over UDP.
silent_peer() {  # PORTFILE GOTFILE [SECONDS]: listens on a free TCP port, records what one connection
  # sends until it has been quiet SECONDS (default 3)
  python3 - "$1" "$2" "${3:-3}" <<'PY' &
import socket, sys
l = socket.socket()
l.bind(("127.0.0.1", 0))
l.listen(4)
open(sys.argv[1], "w").write(str(l.getsockname()[1]))
l.settimeout(15)
got = b""
try:
    c, _ = l.accept()
    c.settimeout(float(sys.argv[3]))
    while True:
        d = c.recv(65536)
        if not d:
            break
        got += d
except socket.timeout:
    pass
open(sys.argv[2], "wb").write(got)
PY
  LIVE_PID[silent]=$!
  for _ in $(seq 50); do [ -s "$1" ] && break; sleep 0.1; done
}
live_world "$TMP/w-via"
silent_peer "$TMP/sw.port" "$TMP/sw.got"
serve proxy proxy --binding sip --peer "switch=tcp:127.0.0.1:$(cat "$TMP/sw.port")" || fail "via: the proxy starts"
TARGET="proxy=$ADDR"
register sip proxied --retransmit timeout=1000
wait "${LIVE_PID[silent]}"
unset 'LIVE_PID[silent]'
check "via: the proxy's s2 has its own Via naming TCP above the terminal's naming UDP" \
  eq "$(tr -d '\r' <"$TMP/sw.got" | sed -n 's,^Via: SIP/2.0/\([A-Z]*\) .*,\1,p' | paste -sd' ')" "TCP UDP"
check "via: the terminal's s1 over UDP says UDP" eq "$(vias s1)" UDP
stop proxy

# ---- sent once, and still a timeout -------------------------------------------------------------
# A peer that takes the connection, reads and never answers: the terminal sends s1 once (UDP with
# these timers would send it 4 times), and gives up at the timeout, exit 4.
silent_peer "$TMP/silent.port" "$TMP/silent.got" 15
TARGET="proxy=tcp:127.0.0.1:$(cat "$TMP/silent.port")"
start=$(date +%s)
register json proxied --retransmit initial=100,max=200,timeout=1000
took=$(($(date +%s) - start))
check "no answer over tcp: exit 4" exit_is 4
check "no answer over tcp: stderr says so" grep -q '^kd-term: no answer to s1 from tcp:127.0.0.1:' "$ERR"
check "no answer over tcp: within the timeout (took ${took}s)" test "$took" -le 4
wait "${LIVE_PID[silent]}"
unset 'LIVE_PID[silent]'
check "no answer over tcp: s1 went once, not retransmitted" eq "$(grep -c '"step":"s1"' "$TMP/silent.got")" 1
check "no answer over tcp: the timeout line counts one send" some_line "$OUT" '.event == "timeout" and .sends == 1'

# ---- bindings that travel over UDP only ---------------------------------------------------------
sw=(--id "$SWITCH_ID" --keys "$W/$SWITCH_ID.keys" --state "$W/u.st" $(sec))
usage "mgcp listen" "tcp:127.0.0.1:0: mgcp travels over UDP only" \
  kd-switch serve "${sw[@]}" --binding mgcp --listen tcp:127.0.0.1:0 --peer auc=udp:127.0.0.1:9
usage "h323 peer" "tcp:127.0.0.1:9: h323 travels over UDP only" \
  kd-proxy serve --id "$PROXY_ID" --keys "$W/$PROXY_ID.keys" --state "$W/u.st" --binding h323 \
  --listen udp:127.0.0.1:0 --peer switch=tcp:127.0.0.1:9
usage "radius link peer" "tcp:127.0.0.1:9: radius travels over UDP only" \
  kd-switch serve "${sw[@]}" --binding sip --listen tcp:127.0.0.1:0 --peer auc=tcp:127.0.0.1:9
usage "radius listen" "radius travels over UDP only" \
  kd-auc serve --keys "$W/auc.keys" --state "$W/u.st" --binding radius $(sec) --listen tcp:127.0.0.1:0
usage "register in mgcp" "mgcp travels over UDP only" \
  kd-term register --id "$TERM_ID" --switch "$SWITCH_ID" --keys "$W/$TERM_ID.keys" --state "$W/u.st" \
  --binding mgcp --peer switch=tcp:127.0.0.1:9

finish
