#!/usr/bin/env bash
# kd-term's SIP Via in live mode (kd-live(7), "Transaction identities"): a registrar sends its
# answer to the source IP and, per RFC 3581, to the source port when the top Via carries rport;
# without rport, to the sent-by port, 5060 when the Via names none (RFC 3261 18.2.2). kd-term
# register sends from a port the system picks, so its Via must name that port, or carry rport, for
# the answer to reach it. A registrar written here answers each REGISTER as those RFCs say (a 503,
# proxying nothing) and logs where the REGISTER came from and where its answer went.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/live-lib.sh"

# registrar PORT-FILE LOG: one JSON line per REGISTER in LOG: {via, from: [ip, port], to: [ip, port]}.
registrar() {
  timeout 60 python3 - "$@" <<'PY' &
import json, os, re, socket, sys
port_file, log = sys.argv[1:3]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0))
open(port_file + ".tmp", "w").write(str(s.getsockname()[1])); os.rename(port_file + ".tmp", port_file)
while True:
    d, src = s.recvfrom(65536)
    text = d.decode("latin-1")
    head, _, _ = text.partition("\r\n\r\n")
    lines = head.split("\r\n")
    if not lines[0].startswith("REGISTER "):
        continue
    vias = [l.partition(":")[2].strip() for l in lines[1:] if l.partition(":")[0].strip().lower() in ("via", "v")]
    top = vias[0].split(",")[0].strip()
    # RFC 3261 18.2.2 and 20.42: SIP/2.0/UDP host[:port] *(;param)
    sent_by, _, params = top.split(None, 1)[1].partition(";")
    params = [p.strip() for p in params.split(";") if p.strip()]
    m = re.fullmatch(r"(\[[^\]]*\]|[^:]+)(?::(\d+))?", sent_by.strip())
    host, port = m.group(1), int(m.group(2) or 5060)
    received = src[0] if host.strip("[]") != src[0] else None
    to = (received or host, port)
    if any(p == "rport" or p.startswith("rport=") for p in params):  # RFC 3581 section 4
        to = (src[0], src[1])
        params = [p for p in params if not p.startswith("rport")] + ["rport=%d" % src[1]]
        received = src[0]
    if received:
        params.append("received=" + received)
    answer = "SIP/2.0 503 Service Unavailable\r\n"
    answer += "Via: " + top.split(";")[0] + "".join(";" + p for p in params) + "\r\n"
    for l in lines[1:]:
        k = l.partition(":")[0].strip().lower()
        if k in ("from", "to", "call-id", "cseq"):
            answer += l + "\r\n"
    answer += "Content-Length: 0\r\n\r\n"
    with open(log, "a") as f:  # before the answer, which may end kd-term
        f.write(json.dumps({"via": top, "from": list(src), "to": list(to)}) + "\n")
    s.sendto(answer.encode(), to)
PY
  LIVE_PID[registrar]=$!
}

# answered_at_source LOG: the first REGISTER in LOG was answered at the address it came from.
answered_at_source() {
  local first
  first=$(head -n 1 "$1")
  [ -n "$first" ] || { WHY="no REGISTER reached the registrar"; return 1; }
  jq -e '.from == .to' <<<"$first" >/dev/null || { WHY="$first"; return 1; }
}
# via_names_source LOG: the first REGISTER's top Via names the address and port it came from as
# sent-by, then rport.
via_names_source() {
  local first
  first=$(head -n 1 "$1")
  [ -n "$first" ] || { WHY="no REGISTER reached the registrar"; return 1; }
  jq -e '.from as $f | .via | test("^SIP/2.0/UDP " + $f[0] + ":" + ($f[1] | tostring) + ";rport;branch=z9hG4bK")' \
    <<<"$first" >/dev/null || { WHY="$first"; return 1; }
}

live_world "$TMP/w" || exit 1
registrar "$TMP/registrar.port" "$TMP/registrar.log"
for i in $(seq 100); do [ -s "$TMP/registrar.port" ] && break; sleep 0.05; done
TARGET="switch=udp:127.0.0.1:$(cat "$TMP/registrar.port")"
# The registrar's 503 is no step of kd's: kd-term refuses it (or gives up after 2 s without it).
register sip direct --retransmit timeout=2000
check "the registrar got kd-term's REGISTER" test -s "$TMP/registrar.log"
check "its answer went to the port the REGISTER came from" answered_at_source "$TMP/registrar.log"
check "kd-term's Via names its own address and port, and rport" via_names_source "$TMP/registrar.log"
check "kd-term got the answer" grep -q "503\|Service Unavailable" "$ERR"

# The Via kd-proxy serve adds toward its switch (here the registrar): the same.
: >"$TMP/registrar.log"
serve proxy proxy --binding sip --peer "switch=udp:127.0.0.1:$(cat "$TMP/registrar.port")" || exit 1
TARGET="proxy=$ADDR"
register sip proxied --retransmit timeout=2000
for i in $(seq 50); do [ -s "$TMP/registrar.log" ] && break; sleep 0.1; done
check "the registrar got the proxy's REGISTER" test -s "$TMP/registrar.log"
check "its answer went to the port the proxy's REGISTER came from" answered_at_source "$TMP/registrar.log"
check "the proxy's own Via names its address and port, and rport" via_names_source "$TMP/registrar.log"
for i in $(seq 50); do grep -q "503" "$TMP/proxy.err" "$TMP/proxy.out" && break; sleep 0.1; done
check "the proxy got the answer" grep -q "503" "$TMP/proxy.err" "$TMP/proxy.out"
stop proxy

# kd-term load's terminals (one socket for all): the same.
: >"$TMP/registrar.log"
users 1 || fail "load: keys"
LOAD_FLOW=direct load sip "switch=udp:127.0.0.1:$(cat "$TMP/registrar.port")" --count 1 --retransmit timeout=2000
check "load: its answer went to the port the REGISTER came from" answered_at_source "$TMP/registrar.log"
check "load: the terminal's Via names its address and port, and rport" via_names_source "$TMP/registrar.log"
finish
