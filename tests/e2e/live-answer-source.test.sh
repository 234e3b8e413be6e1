#!/usr/bin/env bash
# Where an answer may come from (kd-live(7), TRANSACTIONS, "Where an answer comes from"): a
# service takes an answer (s4, s5, s9, d3, a RADIUS Access-Challenge, Access-Reject or
# Accounting-Response) only on the socket its request went out on, and over UDP only from the
# address that request went to. Anyone who reaches a --listen port could otherwise end a
# registration under way: a forged s5 at the proxy's listening port put its Rand in the
# terminal's s6, a forged s4 at the switch's listening port put its Rand in s5. Here a relay
# between the switch and the AuC holds the switch's first s3 half a second, and meanwhile sends
# the forgery (all-zero Rand, no txn) from a socket of its own; or, on a RADIUS AuC link, sends the
# AuC's genuine Access-Challenge and Accounting-Response from a second socket instead of the one
# the switch asked. Each
# time the service refuses what came from the wrong place (an error line, code
# unexpected_message) and the terminal's registration still succeeds.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/live-lib.sh"

# relay PORT-FILE UPSTREAM MODE TARGETS COUNT-FILE: forwards between the switch and UPSTREAM (the
# AuC, udp:HOST:PORT), answers going back from the socket the switch sent to; TARGETS holds the
# proxy's and the switch's listening addresses (read when the first request comes). MODE s5 or s4:
# at the first s3, the forgery to the proxy's (s5) or the switch's (s4) listening port from another
# socket, then s3 on after 0.5 s. MODE radius: the AuC's first Access-Challenge and first
# Accounting-Response go to the switch from another socket (and not from the right one).
# COUNT-FILE: the datagrams the switch sent.
relay() {
  timeout 60 python3 - "$@" <<'PY' &
import json, os, select, socket, sys, time
port_file, upstream, mode, targets, count_file = sys.argv[1:6]
def addr(text):
    host, port = text[len("udp:"):].rsplit(":", 1)
    return (host, int(port))
auc = addr(upstream)
down = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); down.bind(("127.0.0.1", 0))
up = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); up.bind(("127.0.0.1", 0))
other = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); other.bind(("127.0.0.1", 0))
open(port_file + ".tmp", "w").write(str(down.getsockname()[1])); os.rename(port_file + ".tmp", port_file)
switch, count, codes = None, 0, set()
while True:
    for s in select.select([down, up, other], [], [])[0]:
        d, a = s.recvfrom(65536)
        if s is down:
            switch = a
            count += 1
            open(count_file, "w").write(str(count))
            if count == 1 and mode in ("s5", "s4"):
                proxy_at, switch_at = open(targets).read().split()
                s3 = json.loads(d)
                forged = {"step": mode, "flow": "proxied", "to": "proxy" if mode == "s5" else "switch", "suite": s3["suite"], "IDc": s3["IDc"],
                          "IDsp": s3["IDsp"], "Rand": "00" * 16}
                if mode == "s4":
                    forged.update({"Authenticator_c": "00" * 16, "EKc": "00" * 44, "EKsp": "00" * 44})
                other.sendto(json.dumps(forged, separators=(",", ":")).encode(),
                             addr(proxy_at if mode == "s5" else switch_at))
                time.sleep(0.5)
            up.sendto(d, auc)
        elif s is up and switch is not None:
            first = d[0] not in codes  # RADIUS: the first answer of its code
            codes.add(d[0])
            (other if mode == "radius" and first else down).sendto(d, switch)
PY
  LIVE_PID[relay]=$!
  local i
  for i in $(seq 50); do [ -s "$1" ] && return 0; sleep 0.1; done
  return 1
}
asked() {  # N: the relay counts N datagrams from the switch within 5 s
  local i
  for i in $(seq 50); do [ "$(cat "$TMP/relay.count" 2>/dev/null)" -ge "$1" ] && return 0; sleep 0.1; done
  WHY="the switch sent $(cat "$TMP/relay.count") datagrams, not $1"
  return 1
}
stop_relay() { kill "${LIVE_PID[relay]}" 2>/dev/null; wait "${LIVE_PID[relay]}" 2>/dev/null; unset "LIVE_PID[relay]"; }

# front PORT-FILE UPSTREAM: in front of the proxy (UPSTREAM), for kd-term: at each s1 20 forged s6
# (the s1's N1, all-zero N2, each its own Rand) to the terminal from another socket, then s1 on after 0.3 s;
# the proxy's answers go back from the socket the terminal sent to.
front() {
  timeout 60 python3 - "$@" <<'PY' &
import json, os, select, socket, sys, time
port_file, upstream = sys.argv[1:3]
host, port = upstream[len("udp:"):].rsplit(":", 1)
down = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); down.bind(("127.0.0.1", 0))
up = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); up.bind(("127.0.0.1", 0))
other = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); other.bind(("127.0.0.1", 0))
open(port_file + ".tmp", "w").write(str(down.getsockname()[1])); os.rename(port_file + ".tmp", port_file)
term, seen = None, set()
while True:
    for s in select.select([down, up], [], [])[0]:
        d, a = s.recvfrom(65536)
        if s is up:
            down.sendto(d, term)
            continue
        term = a
        m = json.loads(d)
        if m["step"] == "s1" and d not in seen:
            seen.add(d)
            for k in range(20):  # distinct forgeries: none is absorbed as a copy of another
                forged = {"step": "s6", "flow": "proxied", "to": "term", "suite": m["suite"], "IDc": m["IDc"],
                          "IDsp": m["IDsp"], "N1": m["N1"], "N2": "00" * 16, "TS2": int(time.time()),
                          "Rand": "%032x" % k, "SecMechReq": True}
                other.sendto(json.dumps(forged, separators=(",", ":")).encode(), term)
            time.sleep(0.3)
        up.sendto(d, (host, int(port)))
PY
  LIVE_PID[front]=$!
  local i
  for i in $(seq 50); do [ -s "$1" ] && return 0; sleep 0.1; done
  return 1
}

# refused NAME STEP [N [K]]: NAME's output has exactly N (1) error lines, the K-th (1st)
# unexpected_message for STEP, saying where the answer came from instead.
refused() {
  count_lines "$TMP/$1.out" '"event":"error"' "${3:-1}" &&
    jq -s -e 'map(select(.event == "error")) | .['"$((${4:-1} - 1))"'] | .code == "unexpected_message" and
      .step == "'"$2"'" and (.detail | test("not from where"))' "$TMP/$1.out" >/dev/null ||
    { WHY="$1: $(grep '"event":"error"' "$TMP/$1.out" | head -c 300)"; return 1; }
}

# world MODE LINK: an AuC, a relay in front of it, a switch asking the relay (AuC link LINK) and a
# proxy, all in JSON; TARGET for kd-term register.
world() {
  local mode=$1 link=$2 sec=(--radius-secret-file "$W/secret") auc_binding=()
  [ "$link" = radius ] && auc_binding=(--binding radius)
  serve auc auc "${auc_binding[@]}" "${sec[@]}" || return 1
  relay "$TMP/relay.port" "$ADDR" "$mode" "$TMP/targets" "$TMP/relay.count" || return 1
  serve switch switch --binding json --auc-link "$link" "${sec[@]}" --retransmit initial=300,max=600 \
    --peer "auc=udp:127.0.0.1:$(cat "$TMP/relay.port")" || return 1
  local switch_at=$ADDR
  serve proxy proxy --binding json --peer "switch=$ADDR" || return 1
  echo "$ADDR $switch_at" >"$TMP/targets"
  TARGET="proxy=$ADDR"
}

for mode in s5 s4 radius; do
  case $mode in
    s5) at=proxy step=s5 link=json what="a forged s5 at the proxy's listening port" ;;
    s4) at=switch step=s4 link=json what="a forged s4 at the switch's listening port" ;;
    radius) at=switch step=s4 link=radius what="the AuC's Access-Challenge from another socket" ;;
  esac
  live_world "$TMP/w-$mode"
  rm -f "$TMP/relay.port" "$TMP/relay.count" "$TMP/targets"
  world "$mode" "$link" || { fail "$mode: services start"; continue; }
  register json proxied
  check "$mode: $what: the registration succeeds" eq "$RC" 0
  check "$mode: ... and its transcript is whole" transcript_ok proxied
  if [ "$mode" = radius ]; then
    wait_lines "$TMP/switch.out" '"event":"error"' 2 5
    check "radius: the switch refused the Access-Challenge, saying where it came from" refused switch s4 2 1
    check "radius: ... and the Accounting-Response to s11" refused switch s11 2 2
    check "radius: ... naming it" grep -q '"detail":"the Accounting-Response to s11 from udp:' "$TMP/switch.out"
  else
    check "$mode: the $at refused it, saying where it came from" refused "$at" "$step"
  fi
  others=(proxy switch auc)
  check "$mode: no error elsewhere" no_errors $(printf '%s\n' "${others[@]}" | grep -vx "$at")
  wait_lines "$TMP/auc.out" '"event":"registration-recorded"' 1 5
  check "$mode: the AuC recorded the registration" count_lines "$TMP/auc.out" '"event":"registration-recorded"' 1
  [ "$mode" = radius ] &&
    check "radius: the switch asked again (s3 and s11), as nothing came from where it asked" asked 4
  stop_relay
  stop_all proxy switch auc
done

# kd-term: a forged s6 from another address than its --peer. register discards it (an error
# line) and waits on for the proxy's s6; load counts it as ignored.
live_world "$TMP/w-term"
users 3 || fail "term: keys for load"
chain json json proxied || fail "term: services start"
front "$TMP/front.port" "${TARGET#proxy=}" || fail "term: the relay starts"
TARGET="proxy=udp:127.0.0.1:$(cat "$TMP/front.port")"
register json proxied
check "term: register: a forged s6 from elsewhere: registered all the same" eq "$RC" 0
check "term: register: 20 distinct forged s6 from elsewhere: one error line (the first; one each before) says it was discarded, and from where" \
  jq -s -e 'map(select(.event == "error")) | length == 1 and (.[0] | .code == "unexpected_message" and .step == "s6"
    and (.detail | test("not from where s1 went.*discarded")))' "$OUT"
check "term: register: the transcript holds the proxy's s6 only" \
  eq "$(jq -r 'select(.event != "error") | if .event then .event else .step + ">" + .to end' "$OUT" | tr '\n' ' ')" \
  "s1>proxy s6>term s7>proxy s10>term registered "
load json "$TARGET" --count 3
check "term: load: every terminal registered" json_true "$SUM" '.registered == 3 and .attempted == 3'
check "term: load: the forged s6 were ignored" json_true "$SUM" '.ignored >= 3'
check "term: no error at the services" no_errors proxy switch auc
kill "${LIVE_PID[front]}" 2>/dev/null; wait "${LIVE_PID[front]}" 2>/dev/null; unset "LIVE_PID[front]"
stop_all proxy switch auc

finish
