#!/usr/bin/env bash
# A standard output that is a pipe whose reader has gone (kd-decode big.pcap | head -1, a service's
# log reader that died) is a standard output that cannot be written, as a full disk is: a filter
# exits with status 3 and says "cannot write the standard output: Broken pipe"; a service goes on
# serving and says so when it stops (exit 3). Trial 9: every tool was killed by SIGPIPE instead
# (status 141, no message), a service at the first event line it printed once its reader had gone:
# one datagram from anyone ended it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/live-lib.sh"

live_world "$TMP/w"

# to_closed_pipe COMMAND...: runs COMMAND with its standard output a pipe whose read end is closed
# before it starts (no race with a reader), stderr in $ERR; its exit status in RC (128+N: killed by
# signal N).
to_closed_pipe() {
  RC=$(python3 - "$ERR" "$@" <<'PY'
import os, subprocess, sys
r, w = os.pipe()
os.close(r)
# restore_signals (the default) gives the child SIGPIPE's default action, as a shell would.
p = subprocess.run(sys.argv[2:], stdout=w, stderr=open(sys.argv[1], "wb"), stdin=subprocess.DEVNULL)
print(128 - p.returncode if p.returncode < 0 else p.returncode)
PY
)
}
broken_pipe_said() {  # TOOL
  exit_is 3 && eq "$(cat "$ERR")" "$1: cannot write the standard output: Broken pipe"
}

# A filter: the start line, a wire line, a decoded capture, a keystore listing.
to_closed_pipe "$KD_BIN/kd-term" --keys "$W/alice.keys" --seed 01 --now "$NOW" start --id alice --switch ss1
check "kd-term start into a pipe with no reader: exit 3, Broken pipe" broken_pipe_said kd-term
"$KD_BIN/kd-term" --keys "$W/alice.keys" --seed 01 --now "$NOW" --binding sip --pcap-out "$TMP/d1.pcap" \
  start --id alice --switch ss1 >"$TMP/d1.sip"
to_closed_pipe "$KD_BIN/kd-decode" "$TMP/d1.pcap"
check "kd-decode CAPTURE into a pipe with no reader: exit 3, Broken pipe" broken_pipe_said kd-decode
to_closed_pipe "$KD_BIN/kd-auc" keys list "$W/auc.keys"
check "kd-auc keys list into a pipe with no reader: exit 3, Broken pipe" broken_pipe_said kd-auc
cp "$W/auc.keys" "$TMP/before.keys"
to_closed_pipe "$KD_BIN/kd-switch" --binding sip --radius-secret-file "$W/secret" --id ss1 --keys "$W/ss1.keys" --now "$NOW" --state "$TMP/sw.st" "$TMP/d1.sip"
check "kd-switch into a pipe with no reader: exit 3, Broken pipe" broken_pipe_said kd-switch
check "... the state it saved before printing stays saved" test -s "$TMP/sw.st"

# A service: its standard output a FIFO whose reader takes the listening line and goes.
mkfifo "$TMP/auc.fifo"
timeout --foreground -k 10 60 "$KD_BIN/kd-auc" serve --keys "$W/auc.keys" --state "$W/auc.st" \
  --listen udp:127.0.0.1:0 >"$TMP/auc.fifo" 2>"$TMP/auc.err" &
LIVE_PID[auc]=$!
IFS= read -r listening <"$TMP/auc.fifo"  # the reader closes the FIFO here
ADDR=$(jq -r .addr <<<"$listening")
printf 'not a message' >"$TMP/garbage"
send_udp "$ADDR" "$TMP/garbage" 1  # an error line, which cannot be written
"$KD_BIN/kd-term" --keys "$W/alice.keys" --seed 01 --now "$NOW" start --id alice --switch ss1 |
  "$KD_BIN/kd-switch" --id ss1 --keys "$W/ss1.keys" --now "$NOW" | tr -d '\n' >"$TMP/d2.json"
send_udp "$ADDR" "$TMP/d2.json" 1
check "kd-auc serve, its log reader gone: still alive after an error line it could not print" \
  kill -0 "${LIVE_PID[auc]}"
check "... and still answers: d3 for a d2" grep -q '"step":"d3"' "$TMP/answer.1"
stop auc
check "... stopped: exit 3, says its lines were lost and why" \
  eval 'exit_is 3 && grep -qx "kd-auc: cannot write the standard output: Broken pipe" "$TMP/auc.err"'
check "... the state of what it answered saved" grep -q '"alice"' "$W/auc.st"

finish
