#!/usr/bin/env bash
# A TCP listener holding its 1024 connections (kd-live(7), TRANSPORTS) closes one more at once with
# a note on standard error: the first, then at most one a second naming how many were closed since,
# so that a flood of connections does not flood standard error (issue 12).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/live-lib.sh"

# The service and the client each need 1024 descriptors and more.
ulimit -n 4096 2>/dev/null
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt 2200 ]; then
  echo "skipped: ulimit -n is $(ulimit -n), below the 2200 descriptors this needs"
  exit 77
fi

live_world "$TMP/w"
LIVE_LISTEN=tcp:127.0.0.1:0 serve proxy proxy --peer "switch=udp:127.0.0.1:9" || fail "the proxy starts"
# 1024 connections held, then 300 more: each of those is closed by the listener at once.
timeout 60 python3 - "${ADDR#tcp:}" <<'PY'
import socket, sys, time
host, port = sys.argv[1].rsplit(":", 1)
held = [socket.create_connection((host, int(port))) for _ in range(1024)]
time.sleep(0.5)  # every one of them accepted
extra = []
for _ in range(300):
    extra.append(socket.create_connection((host, int(port))))
time.sleep(0.5)  # every one of them closed
PY
check "the client held 1024 connections and opened 300 more" eq "$?" 0
notes=$(grep -c 'closed at once: the listener holds 1024 connections already' "$TMP/proxy.err")
check "300 connections closed at once: a note for the first, then at most one a second (not 300)" \
  eval '[ "$notes" -ge 1 ] && [ "$notes" -le 5 ]' 
check "... a later note names how many were closed since the last" \
  eval '[ "$notes" -eq 1 ] || grep -Eq "already \([0-9]+ closed since the last note\)" "$TMP/proxy.err"'
stop proxy
check "the proxy stops cleanly" eq "$RC" 0
finish
