#!/usr/bin/env bash
# serve, register and load check their whole command line (--listen, --peer, --events,
# --retransmit) before they read or create a file: a bad one is exit 2 whatever the keystore holds
# (a missing keystore made it exit 3), and neither the state file nor its lock is created (trial 6:
# STATE.lock was left behind), as kd-term start does (e2e-term-command-line-first).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/live-lib.sh"

N=$TMP/none
mkdir "$N"
K=$N/missing.keys

# run_first TOOL ARGS...: TOOL in an empty $N, under timeout; RC its exit status.
run_first() {
  local tool=$1; shift
  rm -rf "$N" && mkdir "$N"
  timeout --foreground -k 10 20 "$KD_BIN/$tool" "$@" >"$OUT" 2>"$ERR"
  RC=$?
}
# left_nothing NAME: exit 2, nothing on stdout, no file (no lock either) created in $N.
left_nothing() {
  check "$1: exit 2" exit_is 2
  check "$1: nothing on stdout" test ! -s "$OUT"
  check "$1: no file created, no lock left" eq "$(ls -A "$N")" ""
}

# first NAME MESSAGE TOOL ARGS...: exit 2, stderr the message then the pointer to --help, nothing
# on stdout, no file created in $N.
first() {
  local name=$1 msg=$2 tool=$3; shift 3
  run_first "$tool" "$@"
  left_nothing "$name"
  check "$name: the command line's fault, then the pointer to --help" \
    eq "$(cat "$ERR")" "$tool: $msg"$'\n'"$(help_pointer "$tool")"
}

px=(serve --id sbc1 --keys "$K" --state "$N/p.st")
first "serve: a port out of range" '--listen: endpoint "udp:127.0.0.1:65536": the port must be a number from 0 to 65535' \
  kd-proxy "${px[@]}" --listen udp:127.0.0.1:65536 --peer switch=udp:127.0.0.1:9
first "serve: a peer at port 0" '--peer switch=udp:127.0.0.1:0: port 0 names no peer; give the port it listens on' \
  kd-proxy "${px[@]}" --listen udp:127.0.0.1:0 --peer switch=udp:127.0.0.1:0
first "serve: a bad --events" '--events must be all, errors or none' \
  kd-proxy "${px[@]}" --listen udp:127.0.0.1:0 --peer switch=udp:127.0.0.1:9 --events loud
first "serve: a bad --retransmit" '--retransmit: unknown key "soon" (keys: initial, max, count, timeout, keep, provisional)' \
  kd-proxy "${px[@]}" --listen udp:127.0.0.1:0 --peer switch=udp:127.0.0.1:9 --retransmit soon=1
first "serve: no switch peer" '--peer switch=ENDPOINT is required: the proxy forwards each registration to its switch' \
  kd-proxy "${px[@]}" --listen udp:127.0.0.1:0
first "serve: a peer the switch has not" '--peer proxy=udp:127.0.0.1:9: must be ROLE=ENDPOINT with ROLE auc, auc-acct' \
  kd-switch serve --id ss1 --keys "$K" --state "$N/s.st" --auc-link json --listen udp:127.0.0.1:0 --peer proxy=udp:127.0.0.1:9
first "serve: a peer of the AuC" '--peer switch=udp:127.0.0.1:9: kd-auc serve sends no request, so it has no peer' \
  kd-auc serve --keys "$K" --state "$N/a.st" --listen udp:127.0.0.1:0 --peer switch=udp:127.0.0.1:9
first "serve: tcp in mgcp" '--listen tcp:127.0.0.1:0: mgcp travels over UDP only (over TCP: sip, h248, json)' \
  kd-switch serve --id ss1 --keys "$K" --state "$N/s.st" --binding mgcp --auc-link json --listen tcp:127.0.0.1:0 --peer auc=udp:127.0.0.1:9

# A host name that does not resolve (.invalid never does, RFC 6761) is the command line's fault
# too, found before the lock is taken (trial 7: STATE.lock was left behind). The resolver's own
# words vary; the message up to them does not. With a keystore that loads, so that only the name
# is wrong.
unresolved() {
  local name=$1 msg=$2 tool=$3; shift 3
  run_first "$tool" "$@"
  left_nothing "$name"
  check "$name: says which name does not resolve" grep -qF "$tool: $msg" "$ERR"
  check "$name: then the pointer to --help" eq "$(tail -n 1 "$ERR")" "$(help_pointer "$tool")"
}
live_world "$TMP/w"
pk=(serve --id "$PROXY_ID" --keys "$W/$PROXY_ID.keys" --state "$N/p.st")
unresolved "serve: a --listen name that does not resolve" '--listen: udp:nohost.invalid:0: cannot resolve nohost.invalid: ' \
  kd-proxy "${pk[@]}" --listen udp:nohost.invalid:0 --peer switch=udp:127.0.0.1:9
unresolved "serve: a --peer name that does not resolve" '--peer switch=: udp:nohost.invalid:9: cannot resolve nohost.invalid: ' \
  kd-proxy "${pk[@]}" --listen udp:127.0.0.1:0 --peer switch=udp:nohost.invalid:9
unresolved "register: a --peer name that does not resolve" '--peer switch=: udp:nohost.invalid:9: cannot resolve nohost.invalid: ' \
  kd-term register --id "$TERM_ID" --switch "$SWITCH_ID" --keys "$W/$TERM_ID.keys" --state "$N/t.st" --peer switch=udp:nohost.invalid:9

reg=(register --id alice --switch ss1 --keys "$K" --state "$N/t.st")
first "register: a port out of range" '--peer switch=: endpoint "udp:127.0.0.1:65536": the port must be a number from 0 to 65535' \
  kd-term "${reg[@]}" --peer switch=udp:127.0.0.1:65536
first "register: a peer at port 0" '--peer switch=udp:127.0.0.1:0: port 0 names no peer; give the port it listens on' \
  kd-term "${reg[@]}" --peer switch=udp:127.0.0.1:0
first "register: --via to a switch" 'register --via (the proxied flow) goes through the proxy: give --peer proxy=ENDPOINT' \
  kd-term "${reg[@]}" --via sbc1 --peer switch=udp:127.0.0.1:9
first "register: a bad --retransmit" '--retransmit: unknown key "soon" (keys: initial, max, count, timeout, keep, provisional)' \
  kd-term "${reg[@]}" --peer switch=udp:127.0.0.1:9 --retransmit soon=1

ld=(load --id 'user%d' --count 2 --switch ss1 --keys "$K" --stats "$N/stats")
first "load: a bad --retransmit" '--retransmit: unknown key "soon" (keys: initial, max, count, timeout, keep, provisional)' \
  kd-term "${ld[@]}" --peer switch=udp:127.0.0.1:9 --retransmit soon=1
first "load: a port out of range" '--peer switch=: endpoint "udp:127.0.0.1:65536": the port must be a number from 0 to 65535' \
  kd-term "${ld[@]}" --peer switch=udp:127.0.0.1:65536
first "load: --via to a switch" 'load --via (the proxied flow) goes through the proxy: give --peer proxy=ENDPOINT' \
  kd-term "${ld[@]}" --via sbc1 --peer switch=udp:127.0.0.1:9

finish
