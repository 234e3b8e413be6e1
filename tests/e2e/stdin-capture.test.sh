#!/bin/bash
# A capture on standard input streams: kd-decode and the role tools read it record by record, as
# they read a file, instead of holding it whole. A capture of about 100 MB (a vector's proxied SIP
# registration, repeated, each copy 100 s later) is decoded from a file and from a pipe: the output
# must be the same, and the pipe's peak memory must stay within a few megabytes of the file's, far
# below the capture's size. (The role tools read their input through the same code.)
source "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || { echo "FAIL: python3 is required"; exit 1; }

V=$KD_ROOT/testvectors/pcap/KD-AES128GCM-SHA256-proxied-sip.pcap
D=$TMP/stdin
mkdir -p "$D"
# ASan keeps freed memory in quarantine (256 MB by default), which would hide the difference.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=8

# The size proves the memory bound. Under KD_TEST_QUICK (the sanitizer pass) 10 MB take the same
# reads, refills and writes; the release pass proves the bound at 100 MB.
mb=100
extra_case "90 of the 100 MB of the capture (10 MB: the same code paths)" || mb=10
# The vector's records, repeated to about $mb MB. The generator prints how many records it wrote,
# counted from the pcap record headers (not by kd): the number every reader must decode.
records=$(python3 - "$V" "$D/big.pcap" "$mb" <<'PY'
import struct, sys
data = open(sys.argv[1], "rb").read()
header, records = data[:24], data[24:]
endian = "<" if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
per_copy, at, starts = 0, 0, []
while at < len(records):
    starts.append(at)
    at += 16 + struct.unpack_from(endian + "I", records, at + 8)[0]  # incl_len
    per_copy += 1
assert at == len(records), "the vector ends inside a record"
copies = int(sys.argv[3]) * 1_000_000 // len(records) + 1
with open(sys.argv[2], "wb") as out:
    out.write(header)
    for i in range(copies):
        # Each copy 100 s after the one before: a replay, decoded again, not a retransmission
        # (kd-decode(1), OUTPUT).
        copy = bytearray(records)
        for at in starts:
            struct.pack_into(endian + "I", copy, at, struct.unpack_from(endian + "I", records, at)[0] + 100 * i)
        out.write(copy)
print(per_copy, copies)
PY
)
read -r per_copy copies <<<"$records"
size_mb=$(( $(stat -c %s "$D/big.pcap") / 1000000 ))
check "the repeated capture is about $mb MB" eq "$((size_mb >= mb))" 1
# The proxied flow's 11 messages (kd-protocol(7)), one frame each.
check "the vector holds one proxied registration: 11 frames" eq "$per_copy" 11
wrote=$((per_copy * copies))

# Runs a command with stdin from a file (or "-" for none), stdout to a file; prints its peak RSS in MB.
peak_mb() {  # IN OUT CMD...
  python3 - "$@" <<'PY'
import os, resource, sys
inp, out, cmd = sys.argv[1], sys.argv[2], sys.argv[3:]
pid = os.fork()
if pid == 0:
    if inp != "-":
        os.dup2(os.open(inp, os.O_RDONLY), 0)
    os.dup2(os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), 1)
    os.execvp(cmd[0], cmd)
_, status, usage = os.wait4(pid, 0)
print(usage.ru_maxrss // 1024 if status == 0 else -1)
PY
}

file_mb=$(peak_mb - "$D/from-file" "$KD_BIN/kd-decode" "$D/big.pcap")
# Through a pipe (cat), as from tcpdump -w -: nothing can be mapped or rewound.
mkfifo "$D/pipe"
cat "$D/big.pcap" >"$D/pipe" &
pipe_mb=$(peak_mb "$D/pipe" "$D/from-pipe" "$KD_BIN/kd-decode" -)
wait
check "kd-decode reads the capture from a file" ne "$file_mb" -1
check "kd-decode reads the capture from a pipe on standard input" ne "$pipe_mb" -1
check "the same lines from the pipe as from the file" same_file "$D/from-pipe" "$D/from-file"
check "every message of the repeated capture is decoded from the file ($wrote)" \
  eq "$(grep -c '"step"' "$D/from-file")" "$wrote"
check "the summary counts every message read from the pipe ($wrote)" \
  eq "$(tail -1 "$D/from-pipe" | jq -c '.summary | [.messages, .errors]')" "[$wrote,0]"
check "peak memory from the pipe (${pipe_mb} MB) stays within 16 MB of the file's (${file_mb} MB); the capture is ${size_mb} MB" \
  eq "$(( pipe_mb <= file_mb + 16 ))" 1

finish
