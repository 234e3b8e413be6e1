#!/usr/bin/env bash
# Each UDP socket of a service asks for a receive buffer of 4 MiB (kd-live(7), MEMORY), which the
# kernel caps at net.core.rmem_max and doubles for its bookkeeping: ss(8) shows it as rb. With the
# default buffer (net.core.rmem_default) a burst of datagrams was dropped (bench-live: 16-23 per
# 20000 registrations, each a 500 ms retransmission).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/live-lib.sh"

command -v ss >/dev/null || { echo "ss is required (scripts/test installs iproute2)"; exit 1; }
max=$(cat /proc/sys/net/core/rmem_max)
want=$((2 * (max < 4194304 ? max : 4194304)))
# rb_of PORT: the receive buffer ss shows for the UDP socket bound to PORT on 127.0.0.1.
rb_of() { ss -u -a -m -n "sport = :$1" | tr ',' '\n' | sed -n 's/^.*rb\([0-9][0-9]*\)$/\1/p; s/^rb\([0-9][0-9]*\)$/\1/p' | head -n 1; }

live_world "$TMP/w"
serve auc auc || fail "kd-auc serve starts"
port=${ADDR##*:}
check "the listener's receive buffer is 2 x min(4 MiB, rmem_max $max)" eq "$(rb_of "$port")" "$want"
serve switch switch --binding sip --auc-link json --peer "auc=$ADDR" || fail "kd-switch serve starts"
# The switch's client socket towards the AuC: the UDP socket of kd-switch that is not its listener.
pid=$(pgrep -P "${LIVE_PID[switch]}" | head -n 1)
ports=$(ss -u -a -n -p | grep "pid=$pid," | awk '{print $4}' | sed 's/.*://' | sort -u)
check "the switch has its listener and a client socket" test "$(wc -w <<<"$ports")" -ge 2
for p in $ports; do
  check "the switch's socket on port $p: the same buffer" eq "$(rb_of "$p")" "$want"
done
stop_all switch auc
finish
