#!/usr/bin/env bash
# An output option naming a FIFO writes to what reads it, and a FIFO that nothing reads is refused
# (exit 3) before anything is saved, printed or sent. Trial 9: --pcap-out opened the FIFO for reading
# too, wrote its frames into the FIFO's buffer and exited 0 while they were lost with it (wireshark
# -k -i FIFO reads them when it runs); kd-term load --stats FIFO waited in open(2) for a reader for
# ever, and said "Interrupted system call" when stopped.
. "$(dirname "$0")/lib.sh"

new_world "$TMP/w"
F=$TMP/frames.fifo
mkfifo "$F"

runx timeout 20 "$KD_BIN/kd-term" --keys "$W/alice.keys" --state "$TMP/t.st" --seed 01 --now "$NOW" \
  --binding sip --pcap-out "$F" start --id alice --switch ss1
check "kd-term start --pcap-out FIFO that nothing reads: exit 3, says why" \
  eval 'exit_is 3 && grep -q "^kd-term: .*$F: a FIFO that nothing reads" "$ERR"'
check "... nothing printed, no state saved" eval '[ ! -s "$OUT" ] && [ ! -e "$TMP/t.st" ]'

# With a reader: the frames reach it, a capture kd-decode reads back.
# The reader opens the FIFO without waiting for a writer, says it is there, then reads to the end.
timeout 20 python3 - "$F" "$TMP/got.pcap" "$TMP/reading" <<'PY' &
import os, select, sys, time
fd = os.open(sys.argv[1], os.O_RDONLY | os.O_NONBLOCK)
open(sys.argv[3], "w").close()
got = b""
while True:
    select.select([fd], [], [])
    chunk = os.read(fd, 65536)
    if not chunk and got:
        break  # the writer has gone
    if not chunk:
        time.sleep(0.01)  # no writer yet
    got += chunk
open(sys.argv[2], "wb").write(got)
PY
reader=$!
for _ in $(seq 200); do [ -e "$TMP/reading" ] && break; sleep 0.05; done  # bounded: 10 s
runx timeout 20 "$KD_BIN/kd-term" --keys "$W/alice.keys" --state "$TMP/t.st" --seed 01 --now "$NOW" \
  --binding sip --pcap-out "$F" start --id alice --switch ss1
wait "$reader"
check "kd-term start --pcap-out FIFO with a reader: exit 0" exit_is 0
runx "$KD_BIN/kd-decode" "$TMP/got.pcap"
check "... the reader got a capture of the d1 sent" \
  eval 'exit_is 0 && [ "$(jq -s "map(select(.step == \"d1\")) | length" "$OUT")" = 1 ]'

# kd-term load --stats FIFO: refused at once when nothing reads it, before anything is sent.
mkfifo "$TMP/stats.fifo"
runx timeout 20 "$KD_BIN/kd-term" load --id 'user%d' --count 1 --switch ss1 --keys "$W/alice.keys" \
  --peer switch=udp:127.0.0.1:9 --retransmit initial=50,timeout=200 --stats "$TMP/stats.fifo"
check "kd-term load --stats FIFO that nothing reads: exit 3 at once, says why" \
  eval 'exit_is 3 && grep -q "^kd-term: --stats $TMP/stats.fifo: .*a FIFO that nothing reads" "$ERR"'

finish
