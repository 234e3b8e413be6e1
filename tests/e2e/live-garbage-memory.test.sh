#!/usr/bin/env bash
# A flood of large datagrams that do not decode (kd-live(7), MEMORY): each one is refused with an
# error line and its transaction is kept (so that a copy of it is absorbed, not refused again),
# but what the transactions hold is bounded in bytes as well as in number. 14000 distinct
# datagrams of 60000 bytes (840 MB) reach kd-proxy serve; its peak resident memory stays far below
# that (the cache holds at most 256 MiB), and it still serves.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/live-lib.sh"

# ASan keeps freed memory in quarantine (256 MB by default), which would hide the bound.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=8

SENT=14000 SIZE=60000 LIMIT_MB=420

# peak_mb NAME: the service's peak resident memory (VmHWM) in MB.
peak_mb() {
  local pid
  pid=$(ps -o pid= --ppid "${LIVE_PID[$1]}" | tr -d ' ')
  awk '/^VmHWM:/ { print int($2 / 1024) }' "/proc/$pid/status"
}
below() {  # VALUE LIMIT
  [ "$1" -lt "$2" ] || { WHY="$1 is not below $2"; return 1; }
}
at_least() {  # VALUE MIN
  [ "$1" -ge "$2" ] || { WHY="$1 is below $2"; return 1; }
}

live_world "$TMP/w"
chain sip radius proxied || fail "services start"

# Distinct datagrams (a counter in the first bytes), a few at a time: the next ones go once the
# proxy's error lines show it took the last (its socket's buffer holds only a few this size).
timeout 90 python3 - "${TARGET#proxy=}" "$SENT" "$SIZE" "$TMP/proxy.out" <<'PY'
import os, socket, sys, time
addr, count, size, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
host, port = addr[len("udp:"):].rsplit(":", 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
data = bytearray(os.urandom(size))
f = open(out, "rb")
seen = 0
for n in range(count):
    data[0:8] = b"%08d" % n
    s.sendto(data, (host, int(port)))
    waited = 0
    while n - seen >= 3 and waited < 2000:  # at most 1 s for a datagram lost all the same
        chunk = f.read()
        seen += chunk.count(b'"event":"error"')
        if n - seen >= 3:
            time.sleep(0.0005)
            waited += 1
PY
last=$(grep -c '"event":"error"' "$TMP/proxy.out")
check "most of the flood reached the proxy (one error line each)" at_least "$last" $((SENT * 3 / 4))
check "the proxy's peak memory stays bounded (MB)" below "$(peak_mb proxy)" "$LIMIT_MB"
register sip proxied
check "a registration after the flood succeeds (exit 0)" exit_is 0
stop_all proxy switch auc
check "the services stop cleanly (exit 0)" exit_is 0
finish
