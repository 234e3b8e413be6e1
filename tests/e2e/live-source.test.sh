#!/usr/bin/env bash
# A service learns where the terminal is (kd-live(7), ADDRESSES): kd-proxy serve takes each s1 and
# s7 with IPc = the address its datagram came from, as the filter does with --source (the NAT rule
# of kd-protocol(7): the IPc of s2 and s8, then of s11, is the observed one), unless --source is
# given; kd-switch serve does the same with d1 and d5 in the direct flow. The terminal here states
# a Contact (IPc 192.0.2.99:5060) it does not send from.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/live-lib.sh"

contact=192.0.2.99:5060
# ipc NAME EVENT: the IPc of NAME's first EVENT line.
ipc() { jq -r "select(.event == \"$2\") | .IPc" "$TMP/$1.out" 2>/dev/null | head -n 1; }
loopback_source() {  # VALUE: 127.0.0.1:PORT, a port the system chose (not the Contact's)
  [[ $1 =~ ^127\.0\.0\.1:[0-9]+$ ]] && [ "$1" != 127.0.0.1:5060 ] ||
    { WHY="'$1' is not the terminal's source address 127.0.0.1:PORT"; return 1; }
}

# Proxied, SIP, the AuC link over RADIUS.
live_world "$TMP/w-proxied"
chain sip radius proxied || fail "services start"
register sip proxied --contact "$contact"
check "proxied: registered" eq "$RC" 0
check "the terminal stated its Contact" grep -q "192.0.2.99:5060" "$OUT"
wait_lines "$TMP/auc.out" '"event":"registration-recorded"' 1 5  # s11 or d7 may be on its way
seen=$(ipc proxy key-established)
check "proxied: the proxy took IPc from the datagram's source" loopback_source "$seen"
check "proxied: the AuC recorded that address (s2, s8, s11)" eq "$(ipc auc registration-recorded)" "$seen"
for n in auc switch proxy; do stop "$n"; done

# --source states it by hand: the proxy keeps it.
live_world "$TMP/w-stated"
serve auc auc --binding radius --radius-secret-file "$W/secret" || fail "kd-auc serve starts"
serve switch switch --binding sip --radius-secret-file "$W/secret" --peer "auc=$ADDR" || fail "kd-switch serve starts"
serve proxy proxy --binding sip --peer "switch=$ADDR" --source 203.0.113.7:40112 || fail "kd-proxy serve starts"
TARGET="proxy=$ADDR"
register sip proxied --contact "$contact"
check "--source: registered" eq "$RC" 0
wait_lines "$TMP/auc.out" '"event":"registration-recorded"' 1 5  # s11 or d7 may be on its way
check "--source: the proxy's IPc is --source" eq "$(ipc proxy key-established)" 203.0.113.7:40112
check "--source: the AuC recorded it" eq "$(ipc auc registration-recorded)" 203.0.113.7:40112
for n in auc switch proxy; do stop "$n"; done

# Direct: the switch is the terminal's edge.
live_world "$TMP/w-direct"
chain sip radius direct || fail "services start (direct)"
register sip direct --contact "$contact"
check "direct: registered" eq "$RC" 0
wait_lines "$TMP/auc.out" '"event":"registration-recorded"' 1 5  # s11 or d7 may be on its way
seen=$(ipc switch key-established)
check "direct: the switch took IPc from the datagram's source" loopback_source "$seen"
check "direct: the AuC recorded that address (d7)" eq "$(ipc auc registration-recorded)" "$seen"
for n in auc switch; do stop "$n"; done
finish
