#!/usr/bin/env bash
# Live mode's durability (kd-live(7), DURABILITY): after `kill -9` and a restart on the same port
# and state, a retransmission of a request answered before the kill gets the byte-identical answer
# from the response cache kept in STATE.journal, with no error; the same request from another
# address is still refused as a replay; new registrations complete. A torn journal tail is ignored
# with a warning; a damaged, linked or foreign journal refuses the start (status 3) and leaves the
# state file and the journal byte for byte as they were.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/live-lib.sh"

KNOW=$(date +%s)  # the filters make messages the services (on the real clock) find fresh
SHOW_KEY=0

# free_port: a UDP port of 127.0.0.1 free now (the client's own source port, kept across the kill).
free_port() {
  python3 -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# send_from PORT ADDR FILE OUT: FILE's bytes once from 127.0.0.1:PORT to ADDR (udp:IP:PORT); the
# answer (2 s at most) in OUT, empty when none came.
send_from() {
  python3 - "$@" <<'PY'
import socket, sys
port, addr, path, out = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
host, p = addr[len("udp:"):].rsplit(":", 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port))
s.settimeout(2)
s.sendto(open(path, "rb").read(), (host, int(p)))
try:
    answer = s.recvfrom(65536)[0]
except socket.timeout:
    answer = b""
open(out, "wb").write(answer)
PY
}
same_nonempty() {  # FILE FILE
  [ -s "$1" ] || { WHY="no answer in $1"; return 1; }
  cmp -s "$1" "$2" || { WHY="$1 and $2 differ: $(head -c 200 "$1") / $(head -c 200 "$2")"; return 1; }
}
differ() { ! cmp -s "$1" "$2" || { WHY="$1 and $2 are the same"; return 1; }; }
no_answer() { [ ! -s "$1" ] || { WHY="$1 holds an answer: $(head -c 200 "$1")"; return 1; }; }
err_has() {  # FILE TEXT
  grep -qF -- "$2" "$1" || { WHY="$1 does not say '$2': $(head -c 300 "$1")"; return 1; }
}

# ---- the switch, direct flow in JSON: d5 answered by d6, then kill -9 ----------------------------
live_world "$TMP/sw"
chain json json direct || fail "switch: services start"
SW_ADDR=${TARGET#switch=}
SW_ARGS=(--binding json --auc-link json --radius-secret-file "$W/secret" --peer "auc=$(jq -r 'select(.event == "listening") | .addr' "$TMP/auc.out")")
PORT=$(free_port)
kd term "$W/t.st" start --id "$TERM_ID" --switch "$SWITCH_ID" | tr -d '\n' >"$TMP/d1.json"
send_from "$PORT" "$SW_ADDR" "$TMP/d1.json" "$TMP/d4.json"
check "switch: d1 is answered with d4" grep -q '"step":"d4"' "$TMP/d4.json"
kd term "$W/t.st" <"$TMP/d4.json" | grep '"step":"d5"' | tr -d '\n' >"$TMP/d5.json"
check "switch: the terminal made d5" grep -q '"step":"d5"' "$TMP/d5.json"
send_from "$PORT" "$SW_ADDR" "$TMP/d5.json" "$TMP/d6.json"
check "switch: d5 is answered with d6" grep -q '"step":"d6"' "$TMP/d6.json"
crash switch
check "switch: the journal is beside the state" test -s "$W/switch.st.journal"
check "switch: ... extended by zeros, which a crash leaves" \
  test "$(stat -c %s "$W/switch.st.journal")" -ge $((4 << 20)) -a "$(journal_bytes "$W/switch.st.journal")" -lt 100000
LISTEN_AT=$SW_ADDR serve switch switch "${SW_ARGS[@]}" || fail "switch: restarts on its port"
check "switch: ... a restart reads them as room, with no warning" eq "$(cat "$TMP/switch.err")" ""
send_from "$PORT" "$SW_ADDR" "$TMP/d5.json" "$TMP/d6.again"
check "switch: the retransmitted d5 gets the same d6 after kill -9" same_nonempty "$TMP/d6.again" "$TMP/d6.json"
send_from "$PORT" "$SW_ADDR" "$TMP/d1.json" "$TMP/d4.again"
check "switch: ... and the retransmitted d1 the same d4" same_nonempty "$TMP/d4.again" "$TMP/d4.json"
check "switch: the retransmissions reached no role (no error)" count_lines "$TMP/switch.out" '"event":"error"' 0
send_from "$(free_port)" "$SW_ADDR" "$TMP/d5.json" "$TMP/d6.replay"
check "switch: d5 from another address gets no answer" no_answer "$TMP/d6.replay"
check "switch: ... the switch refuses it" count_lines "$TMP/switch.out" '"event":"error"' 1
register json direct
check "switch: a registration after the restart completes" exit_is 0
stop switch
check "switch: SIGTERM stops the restarted switch with status 0" eq "$RC" 0

# ---- refused starts: the state file and the journal stay as they were ---------------------------
J=$W/switch.st.journal
cp -p "$W/switch.st" "$TMP/st.before"
cp -p "$J" "$TMP/journal.before"
unchanged() {
  cmp -s "$W/switch.st" "$TMP/st.before" || { WHY="the state file changed"; return 1; }
  cmp -s "$J" "$TMP/journal.before" || { WHY="the journal changed"; return 1; }
}
start_switch() {  # runs the switch in the foreground, at most 5 s; RC, $ERR
  timeout --foreground -k 10 5 "$KD_BIN/kd-switch" serve --id "$SWITCH_ID" --keys "$W/$SWITCH_ID.keys" --state "$W/switch.st" \
    --listen udp:127.0.0.1:0 "${SW_ARGS[@]}" >"$OUT" 2>"$ERR"
  RC=$?
}
check "refused: the journal holds at least two records" test "$(stat -c %s "$J")" -gt 200
# A byte of the first record's payload changed: damage, not a torn tail.
python3 -c 'import sys; p = sys.argv[1]; b = bytearray(open(p, "rb").read()); b[20] ^= 0xff; open(p, "wb").write(b)' "$J"
cp -p "$J" "$TMP/journal.before"
start_switch
check "refused: a damaged journal: status 3" exit_is 3
check "refused: ... named on stderr" err_has "$ERR" "kd-switch: journal $J"
check "refused: ... files unchanged" unchanged
printf 'not a journal at all\n' >"$J"
cp -p "$J" "$TMP/journal.before"
start_switch
check "refused: a foreign file as journal: status 3" exit_is 3
check "refused: ... files unchanged" unchanged
cp -p "$TMP/journal.before" "$TMP/real.journal"
rm -f "$J" && ln -s "$TMP/real.journal" "$J"
start_switch
check "refused: a journal that is a symbolic link: status 3" exit_is 3
check "refused: ... says so" err_has "$ERR" "symbolic link"
check "refused: ... state unchanged" cmp -s "$W/switch.st" "$TMP/st.before"
rm -f "$J" && cp -p "$TMP/real.journal" "$J" && ln "$J" "$TMP/second-name"
start_switch
check "refused: a journal with two hard links: status 3" exit_is 3
check "refused: ... says so" err_has "$ERR" "hard links"
check "refused: ... files unchanged" unchanged
rm -f "$TMP/second-name"

# ---- the AuC, s3 in JSON: kill -9, then a torn journal tail ------------------------------------
stop auc  # the switch's AuC, before its name is taken by the next one (it would outlive the test)
live_world "$TMP/auc"
# make_s3 SUFFIX [SEED]: the s3 of a new registration of the terminal, made by the filters, in
# $TMP/s3SUFFIX.json (the seed of the terminal's run: another seed, another registration).
make_s3() {
  KSEED=${2:-} kd term "" start --id "$TERM_ID" --via "$PROXY_ID" --switch "$SWITCH_ID" >"$TMP/s1$1.json"
  kd proxy "$W/p.st" <"$TMP/s1$1.json" >"$TMP/s2$1.json"
  kd switch "$W/s.st" <"$TMP/s2$1.json" | grep '"step":"s3"' | tr -d '\n' >"$TMP/s3$1.json"
}
make_s3 ""
check "auc: the filters made s3" grep -q '"step":"s3"' "$TMP/s3.json"
serve auc auc || fail "auc: kd-auc serve starts"
AUC_ADDR=$ADDR
PORT=$(free_port)
send_from "$PORT" "$AUC_ADDR" "$TMP/s3.json" "$TMP/s4.json"
check "auc: s3 is answered with s4" grep -q '"step":"s4"' "$TMP/s4.json"
crash auc
LISTEN_AT=$AUC_ADDR serve auc auc || fail "auc: restarts on its port"
send_from "$PORT" "$AUC_ADDR" "$TMP/s3.json" "$TMP/s4.again"
check "auc: the retransmitted s3 gets the same s4 after kill -9" same_nonempty "$TMP/s4.again" "$TMP/s4.json"
check "auc: it reached no role (no error)" count_lines "$TMP/auc.out" '"event":"error"' 0
check "auc: ... one challenge issued" json_true "$W/auc.st" '.issued | length == 1'
# The journal holds what the service changed since its state file was last written whole. A
# state file replaced while the service was down (a backup put back) does not go with those
# changes: the service refuses to start rather than guess, and both files stay as they were.
make_s3 b 02
PORT_B=$(free_port)
send_from "$PORT_B" "$AUC_ADDR" "$TMP/s3b.json" "$TMP/s4b.json"
check "auc: a second s3 is answered" grep -q '"step":"s4"' "$TMP/s4b.json"
crash auc
check "auc: after kill -9 the state file lacks the second challenge (it is in the journal)" \
  json_true "$W/auc.st" '.issued | length == 1'
cp -p "$W/auc.st" "$TMP/auc.real" && cp -p "$W/auc.st.journal" "$TMP/auc.journal.real"
jq '.registered = {"someone": {"peer": "sbc9", "ipc": "192.0.2.9:5060", "suite": "KD-AES128GCM-SHA256", "flow": "proxied", "at": 1}}' \
  "$TMP/auc.real" >"$W/auc.st"
cp -p "$W/auc.st" "$TMP/auc.other"
LISTEN_AT=$AUC_ADDR serve auc auc && fail "auc: starts on a state file its journal does not go with"
wait "${LIVE_PID[auc]}"; RC=$?; unset "LIVE_PID[auc]"
check "auc: a state file replaced under the journal's changes: status 3" eq "$RC" 3
check "auc: ... says why" err_has "$TMP/auc.err" "kd-auc: journal $W/auc.st.journal: it holds state changes of 1 batches for another version of the state file"
check "auc: ... the state file unchanged" cmp -s "$W/auc.st" "$TMP/auc.other"
check "auc: ... the journal unchanged" cmp -s "$W/auc.st.journal" "$TMP/auc.journal.real"
cp -p "$TMP/auc.real" "$W/auc.st"
# Any tool given the state file folds the journal's changes in first: a filter too.
kd auc "$W/auc.st" </dev/null >"$TMP/filter.out" 2>"$TMP/filter.err"
check "auc: a filter on the state file folds the journal's changes in (exit 0)" eq "$?" 0
check "auc: ... the state file has the second challenge" json_true "$W/auc.st" '.issued | length == 2'
check "auc: ... the journal keeps its answers, without the changes" \
  eval '[ "$(stat -c %s "$W/auc.st.journal")" -gt 100 ] && ! grep -q "\"issued\"" "$W/auc.st.journal"'
LISTEN_AT=$AUC_ADDR serve auc auc || fail "auc: restarts with the state file the journal goes with"
send_from "$PORT_B" "$AUC_ADDR" "$TMP/s3b.json" "$TMP/s4b.again"
check "auc: ... the retransmitted second s3 gets the same s4" same_nonempty "$TMP/s4b.again" "$TMP/s4b.json"
check "auc: ... and reached no role (no error)" count_lines "$TMP/auc.out" '"event":"error"' 0
send_from "$PORT" "$AUC_ADDR" "$TMP/s3.json" "$TMP/s4.again"
check "auc: the batches before it are kept" same_nonempty "$TMP/s4.again" "$TMP/s4.json"

# A write cut short by the crash: the last record loses its end, so its batch has no commit record
# (its answer was never sent, its change never acted on).
make_s3 c 03
PORT_C=$(free_port)
send_from "$PORT_C" "$AUC_ADDR" "$TMP/s3c.json" "$TMP/s4c.json"
check "auc: a third s3 is answered" grep -q '"step":"s4"' "$TMP/s4c.json"
crash auc
J=$W/auc.st.journal
truncate -s $(($(journal_bytes "$J") - 3)) "$J"
LISTEN_AT=$AUC_ADDR serve auc auc || fail "auc: starts on a journal with a torn tail"
check "auc: a torn tail is a warning" err_has "$TMP/auc.err" "kd-auc: warning: journal $J"
# (a crash, or a write that failed: a full disk leaves the same tail, trial 9)
check "auc: ... naming both causes" err_has "$TMP/auc.err" "a write cut short by a crash or a failed write"
send_from "$PORT" "$AUC_ADDR" "$TMP/s3.json" "$TMP/s4.third"
check "auc: the batches before the torn one are kept" same_nonempty "$TMP/s4.third" "$TMP/s4.json"
send_from "$PORT_C" "$AUC_ADDR" "$TMP/s3c.json" "$TMP/s4c.again"
check "auc: the torn batch's s3 is handled anew, accepted" grep -q '"step":"s4"' "$TMP/s4c.again"
check "auc: ... not from the torn batch (a new challenge)" differ "$TMP/s4c.again" "$TMP/s4c.json"
check "auc: no error after the torn tail" count_lines "$TMP/auc.out" '"event":"error"' 0
stop auc
check "auc: SIGTERM stops it with status 0" eq "$RC" 0

finish
