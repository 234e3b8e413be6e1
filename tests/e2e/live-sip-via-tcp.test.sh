#!/usr/bin/env bash
# kd's own SIP Via over TCP (kd-live(7), TRANSPORTS): the client transport names in sent-by the
# address and port it sends from (RFC 3261 18.1.1): over TCP the connection's local address and
# port, with rport as over UDP. A server whose connection to kd is gone opens one to the
# "received" address and the sent-by's port (RFC 3261 18.2.2): the host of kd's identity with no
# port is not kd's. A connection kd opens again after its peer closed the last one goes out from a
# new port, which the requests encoded from then on name.
# A registrar written here takes SIP over TCP, logs each REGISTER's top Via and the far end of the
# connection it came on, and answers a 503 on that connection (no step of kd's: the request waits
# on until its --retransmit timeout). Mode "close": 0.5 s after its answer, when kd has given the
# request up, it closes the connection, then logs {"closed": [ip, port]} once kd has closed its
# side too (kd knows the connection is gone: its next request opens a new one).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/live-lib.sh"

# registrar MODE PORT-FILE LOG: one JSON line per REGISTER in LOG: {via, from: [ip, port]}.
registrar() {
  timeout 60 python3 - "$@" <<'PY' &
import json, os, socket, sys, threading, time
mode, port_file, log = sys.argv[1:4]
lock = threading.Lock()
ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", 0))
ls.listen(16)
open(port_file + ".tmp", "w").write(str(ls.getsockname()[1])); os.rename(port_file + ".tmp", port_file)

def serve(c, src):
    got = b""
    while True:
        while b"\r\n\r\n" not in got:
            chunk = c.recv(65536)
            if not chunk:
                return c.close()
            got += chunk
        head, _, rest = got.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        length = 0
        for l in lines[1:]:
            k, _, v = l.partition(":")
            if k.strip().lower() in ("content-length", "l"):
                length = int(v.strip())
        while len(rest) < length:
            chunk = c.recv(65536)
            if not chunk:
                return c.close()
            rest += chunk
        got = rest[length:]
        if not lines[0].startswith("REGISTER "):
            continue
        vias = [l.partition(":")[2].strip() for l in lines[1:] if l.partition(":")[0].strip().lower() in ("via", "v")]
        top = vias[0].split(",")[0].strip()
        answer = "SIP/2.0 503 Service Unavailable\r\nVia: " + top + ";received=" + src[0] + "\r\n"
        for l in lines[1:]:
            if l.partition(":")[0].strip().lower() in ("from", "to", "call-id", "cseq"):
                answer += l + "\r\n"
        answer += "Content-Length: 0\r\n\r\n"
        with lock, open(log, "a") as f:  # before the answer, which may end kd-term
            f.write(json.dumps({"via": top, "from": list(src)}) + "\n")
        c.sendall(answer.encode())
        if mode == "close":
            time.sleep(0.5)
            c.shutdown(socket.SHUT_WR)
            while c.recv(65536):
                pass
            c.close()
            with lock, open(log, "a") as f:
                f.write(json.dumps({"closed": list(src)}) + "\n")
            return

while True:
    c, src = ls.accept()
    threading.Thread(target=serve, args=(c, src), daemon=True).start()
PY
  LIVE_PID[registrar]=$!
  for i in $(seq 100); do [ -s "$2" ] && return 0; sleep 0.05; done
  return 1
}

# via_names_connection LOG N: LOG holds N REGISTERs, and each one's top Via names the TCP
# connection it came on as sent-by (its far end's address and port), then rport.
via_names_connection() {
  local n
  n=$(grep -c '"via"' "$1")
  [ "$n" -eq "$2" ] || { WHY="$n REGISTERs reached the registrar, expected $2: $(head -c 300 "$1")"; return 1; }
  jq -se 'all(.[] | select(.via); .from as $f | .via | test("^SIP/2.0/TCP " + $f[0] + ":" + ($f[1] | tostring) + ";rport;branch=z9hG4bK"))' \
    "$1" >/dev/null || { WHY=$(head -c 600 "$1"); return 1; }
}
# new_connections LOG: each REGISTER in LOG came on a connection of its own (another local port).
new_connections() {
  jq -se 'map(select(.via)) | (map(.from[1]) | unique | length) == length' "$1" >/dev/null || { WHY=$(head -c 600 "$1"); return 1; }
}

live_world "$TMP/w" || exit 1
LOG=$TMP/registrar.log

# kd-term register's d1, straight to the registrar.
registrar keep "$TMP/keep.port" "$LOG" || fail "the registrar starts"
KEEP="tcp:127.0.0.1:$(cat "$TMP/keep.port")"
TARGET="switch=$KEEP"
register sip direct --retransmit timeout=2000
check "register: kd-term's Via names its connection's address and port, and rport" via_names_connection "$LOG" 1
check "register: kd-term got the answer on its connection" grep -q "503\|Service Unavailable" "$ERR"

# kd-term load's terminals: one connection for all of them, which every Via names.
: >"$LOG"
users 3 || fail "load: keys"
LOAD_FLOW=direct load sip "switch=$KEEP" --count 3 --retransmit timeout=2000
check "load: every terminal's Via names the connection's address and port, and rport" via_names_connection "$LOG" 3
stop registrar

# kd-proxy serve's s2 towards its switch (here the registrar), twice: the registrar closes the
# first connection, so the second s2 goes on a new one.
registrar close "$TMP/close.port" "$LOG" || fail "the closing registrar starts"
: >"$LOG"
serve proxy proxy --binding sip --peer "switch=tcp:127.0.0.1:$(cat "$TMP/close.port")" --retransmit timeout=300 || exit 1
TARGET="proxy=$ADDR"
register sip proxied --retransmit timeout=1000
check "proxy: the first connection is closed on both sides" wait_lines "$LOG" closed 1 10
register sip proxied --retransmit timeout=1000
wait_lines "$LOG" '"via"' 2 10
check "proxy: its own Via names each connection's address and port, and rport" via_names_connection "$LOG" 2
check "proxy: the second REGISTER came on a new connection" new_connections "$LOG"
stop proxy
finish
