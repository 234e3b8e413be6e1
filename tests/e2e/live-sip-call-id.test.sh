#!/usr/bin/env bash
# SIP Call-ID and CSeq of the terminal in live mode (kd-live(7), "Transaction identities"): a
# registrar refuses a REGISTER whose Call-ID it has seen with a CSeq not higher (RFC 3261 10.3
# step 7), so each registration of kd-term register and kd-term load draws its own Call-ID and
# From tag (RFC 3261 8.1.1.3, 8.1.1.4) and its s7 (d5) goes on under them with CSeq 2.
# A relay in front of the proxy (the switch in the direct flow) applies step 7 as a registrar
# would (answering 500 to a REGISTER it must refuse, RFC 3261 10.3) and logs each REGISTER's
# Call-ID, CSeq and From tag: two registrations in a row both succeed, the first's s7 continues
# its s1, and the second's Call-ID and From tag are new.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/live-lib.sh"

# registrar_relay PORT-FILE UPSTREAM LOG: forwards between the terminals and UPSTREAM; each new
# REGISTER (a retransmission, same branch, is forwarded as it was) is logged to LOG as a JSON
# line {call_id, cseq, method, from_tag, refused}, and refused with a 500 when its Call-ID was seen
# with a CSeq as high or higher.
registrar_relay() {
  timeout 100 python3 - "$@" <<'PY' &
import json, os, re, select, socket, sys
port_file, upstream, log = sys.argv[1:4]
host, port = upstream[len("udp:"):].rsplit(":", 1)
up = (host, int(port))
down = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); down.bind(("127.0.0.1", 0))
side = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); side.bind(("127.0.0.1", 0))
open(port_file + ".tmp", "w").write(str(down.getsockname()[1])); os.rename(port_file + ".tmp", port_file)
cseq_of = {}    # Call-ID -> the highest CSeq number accepted
verdict = {}    # top Via branch -> refused (a retransmission is handled as its first copy was)
terminal = {}   # top Via branch -> the terminal's address (kd-term load: one socket for all)
last_term = None
def header(lines, name):
    for l in lines:
        k, _, v = l.partition(":")
        if k.strip().lower() == name:
            return v.strip()
    return ""
while True:
    ready, _, _ = select.select([down, side], [], [])
    for s in ready:
        d, a = s.recvfrom(65536)
        if s is side:
            if last_term: down.sendto(d, last_term)
            continue
        last_term = a
        lines = d.decode("utf-8", "replace").split("\r\n")
        if not lines[0].startswith("REGISTER "):
            side.sendto(d, up); continue
        via = header(lines, "via")
        branch = re.search(r";branch=([^;,\s]+)", via).group(1)
        call_id = header(lines, "call-id")
        num, method = header(lines, "cseq").split()
        num = int(num)
        tag = re.search(r";tag=([^;\s]+)", header(lines, "from"))
        if branch not in verdict:
            refused = call_id in cseq_of and num <= cseq_of[call_id]
            if not refused: cseq_of[call_id] = num
            verdict[branch] = refused
            with open(log, "a") as f:
                f.write(json.dumps({"call_id": call_id, "cseq": num, "method": method,
                                    "from_tag": tag.group(1) if tag else None, "refused": refused}) + "\n")
        if verdict[branch]:
            echo = [l for l in lines if l.split(":")[0].strip().lower() in ("via", "from", "to", "call-id", "cseq")]
            down.sendto(("SIP/2.0 500 Server Internal Error\r\n" + "\r\n".join(echo) +
                         "\r\nContent-Length: 0\r\n\r\n").encode(), a)
        else:
            side.sendto(d, up)
PY
  LIVE_PID[relay]=$!
  local i
  for i in $(seq 50); do [ -s "$1" ] && return 0; sleep 0.1; done
  return 1
}
relay_stop() { kill "${LIVE_PID[relay]}" 2>/dev/null; wait "${LIVE_PID[relay]}" 2>/dev/null; unset "LIVE_PID[relay]"; }

# A registration's REGISTERs (LOG's lines FROM..TO, 1-based): CSeq 1 then 2, one Call-ID and one
# From tag, none refused.
one_registration() {  # LOG FROM TO
  local regs
  regs=$(sed -n "$2,$3p" "$1" | jq -s -c .)
  jq -e 'length == 2 and .[0].cseq == 1 and .[1].cseq == 2 and all(.[]; .method == "REGISTER" and (.refused | not))
         and .[0].call_id == .[1].call_id and .[0].from_tag == .[1].from_tag and .[0].from_tag != null' \
    <<<"$regs" >/dev/null || { WHY="REGISTERs $2..$3: $regs"; return 1; }
}
# Two registrations' Call-IDs and From tags differ.
new_identity() {  # LOG LINE-A LINE-B
  local a b
  a=$(sed -n "$2p" "$1") b=$(sed -n "$3p" "$1")
  jq -e -n --argjson a "$a" --argjson b "$b" '$a.call_id != $b.call_id and $a.from_tag != $b.from_tag' >/dev/null ||
    { WHY="line $2: $a, line $3: $b"; return 1; }
}

# slurp_true FILE FILTER: jq -e over all of FILE's lines as one array.
slurp_true() { jq -e -s "$2" "$1" >/dev/null || { WHY="$1: $2 does not hold: $(head -c 600 "$1")"; return 1; }; }

for flow in proxied direct; do
  live_world "$TMP/w-$flow"
  chain sip radius "$flow" || { fail "$flow: services start"; continue; }
  LOG=$TMP/relay-$flow.log
  registrar_relay "$TMP/relay-$flow.port" "${TARGET#*=}" "$LOG" || { fail "$flow: the relay starts"; continue; }
  TARGET="${TARGET%%=*}=udp:127.0.0.1:$(cat "$TMP/relay-$flow.port")"
  for i in 1 2; do
    register sip "$flow" --retransmit timeout=3000
    check "$flow: registration $i through a registrar applying RFC 3261 10.3 step 7: exit 0" exit_is 0
  done
  check "$flow: the relay saw 4 REGISTERs" eq "$(wc -l <"$LOG")" 4
  check "$flow: the first registration's s7 continues its s1 (Call-ID, From tag; CSeq 1, 2)" one_registration "$LOG" 1 2
  check "$flow: ... so does the second's" one_registration "$LOG" 3 4
  check "$flow: the second registration has a Call-ID and From tag of its own" new_identity "$LOG" 1 3
  relay_stop
  names=(auc switch)
  [ "$flow" = proxied ] && names+=(proxy)
  stop_all "${names[@]}"
done

# kd-term load: each terminal's registration as above, and a second run is not refused either.
live_world "$TMP/w-load"
users 5 || fail "load: keys for 5 terminals"
chain sip radius proxied || fail "load: services start"
LOG=$TMP/relay-load.log
registrar_relay "$TMP/relay-load.port" "${TARGET#*=}" "$LOG" || fail "load: the relay starts"
for i in 1 2; do
  load sip "proxy=udp:127.0.0.1:$(cat "$TMP/relay-load.port")" --count 5 --retransmit timeout=3000
  check "load: run $i: every terminal registered" json_true "$SUM" '.registered == 5'
done
check "load: the relay saw 20 REGISTERs, none refused" \
  slurp_true "$LOG" 'length == 20 and all(.[]; .refused | not)'
check "load: 10 Call-IDs, each with CSeq 1 and 2 under one From tag" \
  slurp_true "$LOG" 'group_by(.call_id) | length == 10 and
    all(.[]; (map(.cseq) | sort) == [1, 2] and (map(.from_tag) | unique | length) == 1)'
relay_stop
stop_all proxy switch auc

finish
