#!/bin/bash
# tests/tools/impair.py, the impairment relay of the live-mode tests, against a trivial UDP echo on
# the loopback: it passes everything untouched when told to, duplicates, drops, reorders and delays
# what it is told to, decides the same for the same seed, impairs only what --match finds and
# nothing after SIGUSR1, gives each client its own source towards the target, and stops by itself
# or on SIGTERM with its counts. Every process is bounded.
source "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || { echo "FAIL: python3 is required"; exit 1; }

IMPAIR=$KD_ROOT/tests/tools/impair.py
D=$TMP/impair
mkdir -p "$D"
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; chmod -R u+rwX "$TMP" 2>/dev/null; rm -rf "$TMP"' EXIT

# The echo: answers each datagram with the same bytes, and logs "SOURCE-PORT PAYLOAD" per datagram.
python3 - "$D/echo.port" "$D/echo.log" <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
open(sys.argv[1], "w").write(str(s.getsockname()[1]))
log = open(sys.argv[2], "a", buffering=1)
s.settimeout(0.5)
end = time.monotonic() + 120
while time.monotonic() < end:
    try:
        data, addr = s.recvfrom(65535)
    except socket.timeout:
        continue
    log.write(f"{addr[1]} {data.decode()}\n")
    s.sendto(data, addr)
PY
PIDS+=($!)
for _ in $(seq 100); do [ -s "$D/echo.port" ] && break; sleep 0.05; done
ECHO_PORT=$(cat "$D/echo.port")

# start_relay NAME ARGS...: a relay towards the echo; its port in RELAY_PORT, its pid in RELAY_PID,
# its stdout in $D/NAME.out.
start_relay() {
  local name=$1; shift
  : >"$D/$name.out"
  timeout 30 python3 "$IMPAIR" --target "127.0.0.1:$ECHO_PORT" --max-seconds 20 "$@" >"$D/$name.out" 2>"$D/$name.err" &
  RELAY_PID=$!
  PIDS+=("$RELAY_PID")
  for _ in $(seq 100); do [ -s "$D/$name.out" ] && break; sleep 0.05; done
  RELAY_PORT=$(head -1 "$D/$name.out" | jq -r .port)
}

# stop_relay: SIGTERM, then the summary line is the last line of its output.
stop_relay() {
  kill -TERM "$RELAY_PID" 2>/dev/null
  wait "$RELAY_PID" 2>/dev/null
}

# client PORT COUNT [GAP_S] [WAIT_S]: sends COUNT numbered datagrams through the relay and prints
# the payloads it got back, one a line, in arrival order (waiting WAIT_S after the last send).
client() {
  timeout 20 python3 - "$@" <<'PY'
import socket, sys, time
port, count = int(sys.argv[1]), int(sys.argv[2])
gap = float(sys.argv[3]) if len(sys.argv) > 3 else 0.002
wait = float(sys.argv[4]) if len(sys.argv) > 4 else 0.5
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
s.setblocking(False)
got = []
def drain():
    while True:
        try:
            got.append(s.recv(65535).decode())
        except BlockingIOError:
            return
for i in range(count):
    s.sendto(str(i).encode(), ("127.0.0.1", port))
    time.sleep(gap)
    drain()
end = time.monotonic() + wait
while time.monotonic() < end:
    time.sleep(0.01)
    drain()
print("\n".join(got))
PY
}

# ---- everything passes with --drop 0 -----------------------------------------------------------
start_relay clean --drop 0 --seed 1
check "impair: prints its bound port as JSON" \
  eq "$(head -1 "$D/clean.out" | jq -r '[.event, .addr] | join(" ")')" "listening udp:127.0.0.1:$RELAY_PORT"
client "$RELAY_PORT" 50 >"$D/clean.got"
check "impair: --drop 0 passes every datagram, once, in order" eq "$(paste -sd, "$D/clean.got")" "$(seq -s, 0 49)"
stop_relay
check "impair: SIGTERM stops it with its counts" \
  eq "$(tail -1 "$D/clean.out" | jq -c '[.event, .clients, .up.received, .up.forwarded, .down.forwarded, .up.dropped]')" \
  '["impair-summary",1,50,50,50,0]'

# ---- --dup 1: every datagram twice, each way --------------------------------------------------
: >"$D/echo.log"
start_relay dup --dup 1
client "$RELAY_PORT" 20 >"$D/dup.got"
stop_relay
check "impair: --dup 1 delivers each datagram twice to the target" \
  eq "$(cut -d' ' -f2 "$D/echo.log" | sort -n | uniq -c | awk '$1 != 2' | wc -l) $(wc -l <"$D/echo.log")" "0 40"
# Up twice, and each of the two answers twice down.
check "impair: and each answer twice back: four per datagram" \
  eq "$(sort -n "$D/dup.got" | uniq -c | awk '$1 != 4' | wc -l) $(wc -l <"$D/dup.got")" "0 80"
check "impair: the summary counts the duplicates" \
  eq "$(tail -1 "$D/dup.out" | jq -c '[.up.duplicated, .up.forwarded, .down.received, .down.duplicated]')" '[20,40,40,40]'

# ---- --drop 1: nothing passes ------------------------------------------------------------------
: >"$D/echo.log"
start_relay drop-all --drop 1
client "$RELAY_PORT" 10 >"$D/drop-all.got"
stop_relay
check "impair: --drop 1 delivers nothing" eq "$(wc -l <"$D/echo.log") $(grep -c . "$D/drop-all.got")" "0 0"

# ---- the same seed makes the same decisions ----------------------------------------------------
for run in a b c; do
  seed=7; [ $run = c ] && seed=8
  start_relay "seed-$run" --drop 0.3 --dup 0.2 --seed $seed --log "$D/seed-$run.log"
  client "$RELAY_PORT" 60 >"$D/seed-$run.got"
  stop_relay
done
check "impair: the decision log is written" test "$(grep -c '"dir": "up"' "$D/seed-a.log")" -eq 60
# Sorted: the two directions' lines interleave as the traffic's timing has it.
sort "$D/seed-a.log" >"$D/seed-a.sorted"; sort "$D/seed-b.log" >"$D/seed-b.sorted"
check "impair: the same seed makes the same decisions" same_file "$D/seed-a.sorted" "$D/seed-b.sorted"
check "impair: and delivers the same datagrams" same_file "$D/seed-a.got" "$D/seed-b.got"
check "impair: another seed makes other decisions" \
  test "$(jq -c 'select(.dir == "up")' "$D/seed-a.log")" != "$(jq -c 'select(.dir == "up")' "$D/seed-c.log")"
# About 30% lost upwards: between 5 and 35 of 60 (a fixed seed, so a fixed number in fact).
drops=$(grep '"dir": "up"' "$D/seed-a.log" | grep -c '"drop": true')
check "impair: --drop 0.3 loses about 30% (got $drops of 60)" test "$drops" -ge 5 -a "$drops" -le 35

# ---- reordering: all arrive, not all in order --------------------------------------------------
start_relay reorder --reorder 0.3 --seed 3 --hold-ms 50
client "$RELAY_PORT" 40 >"$D/reorder.got"
stop_relay
check "impair: --reorder loses nothing" eq "$(sort -n "$D/reorder.got" | paste -sd,)" "$(seq -s, 0 39)"
check "impair: --reorder changes the order" ne "$(paste -sd, "$D/reorder.got")" "$(seq -s, 0 39)"
check "impair: the summary counts the reordered" test "$(tail -1 "$D/reorder.out" | jq '.up.reordered + .down.reordered')" -gt 0

# ---- delay: a round trip through two delays takes at least both -------------------------------
start_relay delay --delay 1 --delay-ms 300
ms=$(timeout 10 python3 - "$RELAY_PORT" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(5)
t = time.monotonic()
s.sendto(b"x", ("127.0.0.1", int(sys.argv[1])))
s.recv(100)
print(int((time.monotonic() - t) * 1000))
PY
)
stop_relay
check "impair: --delay 1 --delay-ms 300 holds each way (round trip ${ms:-none} ms)" test "${ms:-0}" -ge 600

# ---- one source per client towards the target ---------------------------------------------------
: >"$D/echo.log"
start_relay clients
client "$RELAY_PORT" 3 >/dev/null
client "$RELAY_PORT" 3 >/dev/null
stop_relay
check "impair: the target sees one source per client" eq "$(cut -d' ' -f1 "$D/echo.log" | sort -u | wc -l)" 2
check "impair: the summary counts two clients" eq "$(tail -1 "$D/clients.out" | jq .clients)" 2

# ---- --match: only what it finds takes the chances; SIGUSR1 lets everything through ----------------
# Payloads are the numbers 0..9: '^[02468]$' finds the even ones, which --drop 1 loses.
: >"$D/echo.log"
start_relay match --drop 1 --match '^[02468]$'
client "$RELAY_PORT" 10 >"$D/match.got"
check "impair: --match drops only what it finds (the even ones)" eq "$(cut -d' ' -f2 "$D/echo.log" | paste -sd,)" "1,3,5,7,9"
kill -USR1 $(ps -o pid= --ppid "$RELAY_PID")  # the relay, not its timeout(1)
for _ in $(seq 50); do grep -q '"released"' "$D/match.out" && break; sleep 0.05; done
check "impair: SIGUSR1 is acknowledged with a released line" grep -q '^{"event": "released"}$' "$D/match.out"
: >"$D/echo.log"
client "$RELAY_PORT" 10 >"$D/released.got"
check "impair: after SIGUSR1 everything passes, once, in order" eq "$(paste -sd, "$D/released.got")" "$(seq -s, 0 9)"
stop_relay
check "impair: the summary counts the drops before the release" eq "$(tail -1 "$D/match.out" | jq -c '[.up.dropped, .up.forwarded]')" '[5,15]'
timeout 10 python3 "$IMPAIR" --target "127.0.0.1:$ECHO_PORT" --match '(' >/dev/null 2>"$D/bad.err"
check "impair: refuses a --match that is no regular expression, exit 2" eq "$?" 2

# ---- it stops by itself ------------------------------------------------------------------------
timeout 10 python3 "$IMPAIR" --target "127.0.0.1:$ECHO_PORT" --max-seconds 0.3 >"$D/self.out" 2>&1
check "impair: --max-seconds stops it, exit 0" eq "$?" 0
check "impair: with its counts" eq "$(tail -1 "$D/self.out" | jq -r .event)" impair-summary

# ---- bad command lines -------------------------------------------------------------------------
timeout 10 python3 "$IMPAIR" --target 192.0.2.1:5060 >/dev/null 2>"$D/bad.err"
check "impair: refuses a target off the loopback, exit 2" eq "$?" 2
check "impair: and says why" grep -q "only loopback" "$D/bad.err"
timeout 10 python3 "$IMPAIR" --target "127.0.0.1:$ECHO_PORT" --drop 1.5 >/dev/null 2>"$D/bad.err"
check "impair: refuses a probability above 1, exit 2" eq "$?" 2

finish
