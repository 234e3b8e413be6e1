#!/usr/bin/env bash
# Live mode over TCP, a request sent again on a new connection (kd-live(7), TRANSACTIONS, "Server
# side"): a client whose connection broke, or that crashed and restarted, sends its request again
# on a new connection, from a new port. The server knows it by its bytes and the host it came from
# (RFC 3261 17.2.3 matches a request's identity, not its connection), so:
#  - answered: the copy gets the cached answer, byte for byte, and never reaches the role again
#    (which would refuse it as a replayed nonce);
#  - pending: the copy is absorbed, and the answer goes on the connection the copy came on, the
#    first one being closed;
#  - the same bytes from another host are still a replay, refused.
# A python client talks SIP over TCP to kd-proxy serve (its s1, made by the filters); the proxy's
# link to its switch goes through tests/tools/impair.py, which holds the pending case's s2 back.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/live-lib.sh"

IMPAIR=$KD_ROOT/tests/tools/impair.py
SERVE_X=(--now "$NOW" --retransmit initial=100,max=200,timeout=20000)  # --now: the filter made s1 then
sec() { echo --radius-secret-file "$W/secret"; }

# exchange ADDR FILE PLAN...: on TCP connections to ADDR (tcp:IP:PORT), one per PLAN word, sends
# FILE's bytes and reads one SIP message back (5 s at most), written to $TMP/answer.N (empty when
# none came). A word: "new" (a connection from 127.0.0.1), "other" (from 127.0.0.9, another host,
# in 127.0.0.0/16 where live-lib.sh's loopback_hosts never draws a capture's addresses),
# "drop" (waits 0.5 s for an answer, which must not come, then closes the connection before
# reading it: the answer is pending) or "release:PID" (SIGUSR1 to PID, the relay, after the send).
exchange() {
  timeout 30 python3 - "$TMP/answer" "$@" <<'PY'
import os, signal, socket, sys
out, addr, path, plan = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
host, port = addr[len("tcp:"):].rsplit(":", 1)
data = open(path, "rb").read()

def read_message(s, seconds):
    s.settimeout(seconds)
    got = b""
    try:
        while b"\r\n\r\n" not in got:
            chunk = s.recv(65536)
            if not chunk:
                return got
            got += chunk
        head, _, body = got.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() in (b"content-length", b"l"):
                length = int(value.strip())
        while len(body) < length:
            chunk = s.recv(65536)
            if not chunk:
                break
            body += chunk
        return head + b"\r\n\r\n" + body
    except socket.timeout:
        return got

for i, word in enumerate(plan, 1):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.9" if word == "other" else "127.0.0.1", 0))
    s.connect((host, int(port)))
    s.sendall(data)
    if word == "drop":
        answer = read_message(s, 0.5)
    else:
        if word.startswith("release:"):
            os.kill(int(word.split(":", 1)[1]), signal.SIGUSR1)
        answer = read_message(s, 5)
    s.close()
    open("%s.%d" % (out, i), "wb").write(answer)
PY
}
same_nonempty() {  # FILE FILE
  [ -s "$1" ] || { WHY="no answer in $1"; return 1; }
  cmp -s "$1" "$2" || { WHY="$1 and $2 differ: $(head -c 100 "$1" | tr '\r\n' '  ') / $(head -c 100 "$2" | tr '\r\n' '  ')"; return 1; }
}
no_answer() { [ ! -s "$1" ] || { WHY="$1 holds an answer: $(head -c 200 "$1")"; return 1; }; }
is_407() { head -n 1 "$1" | grep -q '^SIP/2.0 407' || { WHY="$1: $(head -c 100 "$1")"; return 1; }; }

# world NAME: keys, the AuC (RADIUS), the switch (SIP over UDP); S1 a terminal's s1 in SIP.
world() {
  live_world "$TMP/$1" || return 1
  kd term "" --binding sip start --id "$TERM_ID" --via "$PROXY_ID" --switch "$SWITCH_ID" |
    jq -r .wire | xxd -r -p >"$TMP/$1.s1"
  S1=$TMP/$1.s1
  serve auc auc --binding radius $(sec) || return 1
  serve switch switch --binding sip --auc-link radius $(sec) --peer "auc=$ADDR" || return 1
}

# ---- answered: a copy on a new connection gets the cached answer -------------------------------
world answered || fail "answered: the AuC and the switch start"
check "answered: the filter made s1" grep -q '^REGISTER' "$S1"
LIVE_LISTEN=tcp:127.0.0.1:0 serve proxy proxy --binding sip --peer "switch=$ADDR" || fail "answered: the proxy starts"
exchange "$ADDR" "$S1" new new
check "answered: s1 is answered on its connection (407 with the challenge)" is_407 "$TMP/answer.1"
check "answered: the copy on a new connection gets the same bytes" same_nonempty "$TMP/answer.2" "$TMP/answer.1"
sleep 0.2
check "answered: the copy reached no role (no error)" no_errors proxy switch auc
# The same bytes from another host are no retransmission but a replay.
exchange "$ADDR" "$S1" other
check "answered: from another host, no answer" no_answer "$TMP/answer.1"
sleep 0.2
check "answered: ... the proxy refuses it as a replay" count_lines "$TMP/proxy.out" '"event":"error".*"replayed_nonce"' 1
stop_all proxy switch auc  # a stop writes each state file whole
check "answered: the copy went no further (the AuC issued one challenge)" json_true "$W/auc.st" '.issued | length == 1'

# ---- pending: the first connection closes before the answer; the copy's connection gets it -----
world pending || fail "pending: the AuC and the switch start"
timeout --foreground -k 5 60 python3 "$IMPAIR" --target "${ADDR#udp:}" --drop 1 --max-seconds 50 >"$TMP/hold.relay" 2>&1 &
LIVE_PID[hold]=$!
for _ in $(seq 50); do
  RELAY=$(jq -r 'select(.event == "listening") | .addr' "$TMP/hold.relay" 2>/dev/null | head -n 1)
  [ -n "$RELAY" ] && break
  sleep 0.1
done
[ -n "$RELAY" ] || fail "pending: the relay starts"
RELAY_PY=$(ps -o pid= --ppid "${LIVE_PID[hold]}" | tr -d ' ')  # the relay, not its timeout(1)
LIVE_LISTEN=tcp:127.0.0.1:0 serve proxy proxy --binding sip --peer "switch=$RELAY" || fail "pending: the proxy starts"
exchange "$ADDR" "$S1" drop "release:$RELAY_PY"
check "pending: no answer while the switch is held back" no_answer "$TMP/answer.1"
check "pending: the relay was released" wait_lines "$TMP/hold.relay" '"released"' 1 5
check "pending: the answer comes on the copy's connection (407)" is_407 "$TMP/answer.2"
sleep 0.2
check "pending: no service printed an error or a timeout" no_errors proxy switch auc
check "pending: the proxy sent the answer (no note of a closed connection)" \
  count_lines "$TMP/proxy.err" 'not sent' 0
stop_all proxy switch auc
check "pending: the copy went no further (the AuC issued one challenge)" json_true "$W/auc.st" '.issued | length == 1'

finish
