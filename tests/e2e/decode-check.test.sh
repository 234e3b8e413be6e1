#!/bin/bash
# kd-decode --check: it passes only on what it verified. An input in which it found no KD message
# (empty, /dev/null, every frame cut by the snapshot length, a link type kd does not read) exits
# with its own status, 4, and says so; the widest --skew holds every timestamp (issue 10 items 10
# and 12).
source "$(dirname "$0")/lib.sh"
[ -x "$KD_BIN/kd-decode" ] || { echo "$KD_BIN/kd-decode is missing: build first"; exit 1; }
command -v python3 >/dev/null || { echo "FAIL: python3 is required"; exit 1; }
D=$TMP/run
"$KD_ROOT/scripts/kd-flow" --bin "$KD_BIN" --dir "$D" --binding sip --seed "$SEED" --now "$NOW" \
  --pcap-out "$D/flow.pcap" >/dev/null 2>"$TMP/flow.err"
check "setup: kd-flow records a SIP registration" test -s "$D/flow.pcap"
DEC=("$KD_BIN/kd-decode" --radius-secret-file "$D/radius-secret")

# A copy of a pcap with every record cut to N captured bytes (original length kept), or with its
# link type replaced: python, so that the test does not depend on kd's own capture code.
pcap_edit() {  # IN OUT snaplen N | linktype N
  python3 - "$@" <<'PY'
import struct, sys
src, dst, what, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
b = open(src, 'rb').read()
e = '<' if b[:4] == b'\xd4\xc3\xb2\xa1' else '>'
head = bytearray(b[:24])
if what == 'linktype':
    struct.pack_into(e + 'I', head, 20, n)
out, at = bytes(head), 24
while at + 16 <= len(b):
    sec, frac, incl, orig = struct.unpack_from(e + 'IIII', b, at)
    data = b[at + 16:at + 16 + incl]
    if what == 'snaplen':
        data = data[:n]
    out += struct.pack(e + 'IIII', sec, frac, len(data), orig) + data
    at += 16 + incl
open(dst, 'wb').write(out)
PY
}

# ---- a verified registration still passes ------------------------------------------------------

runx "${DEC[@]}" --check "$D/flow.pcap"
check "check-ok: a complete registration passes (exit 0)" exit_is 0

# ---- nothing verified ----------------------------------------------------------------------------

nothing_verified() {  # the last run exited 4 and said on stderr that nothing was verified
  [ "$RC" -eq 4 ] || { WHY="exit status $RC, expected 4; stderr: $(head -c 300 "$ERR")"; return 1; }
  grep -q "^kd-decode: --check: nothing was verified" "$ERR" || { WHY="stderr: $(head -c 300 "$ERR")"; return 1; }
}

: >"$TMP/empty"
runx "${DEC[@]}" --check "$TMP/empty"
check "check-nothing-empty-file: exit 4, said on stderr" nothing_verified
runx "${DEC[@]}" --check /dev/null
check "check-nothing-dev-null: exit 4, said on stderr" nothing_verified
runx "${DEC[@]}" --check </dev/null
check "check-nothing-empty-stdin: exit 4, said on stderr" nothing_verified
runx "${DEC[@]}" /dev/null
check "check-nothing: without --check an empty input is not an error (exit 0)" exit_is 0

head -c 24 "$D/flow.pcap" >"$TMP/header-only.pcap"
runx "${DEC[@]}" --check "$TMP/header-only.pcap"
check "check-nothing-no-records: a capture without a record exits 4" nothing_verified

pcap_edit "$D/flow.pcap" "$TMP/cut.pcap" snaplen 60
runx "${DEC[@]}" --check "$TMP/cut.pcap"
check "check-nothing-snaplen: every frame cut by the snapshot length exits 4" nothing_verified
check "check-nothing-snaplen: the summary counts the 11 truncated frames" \
  eq "$(jq -c 'select(.summary) | .summary | [.frames, .truncated, .messages]' "$OUT")" "[11,11,0]"

pcap_edit "$D/flow.pcap" "$TMP/user0.pcap" linktype 147
runx "${DEC[@]}" --check "$TMP/user0.pcap"
check "check-nothing-linktype: a link type kd does not read exits 4" nothing_verified

# Registrations that fail still exit 1, not 4: something was verified, and found wrong.
pcap_later "$D/flow.pcap" "$TMP/later.pcap" 100
runx "${DEC[@]}" --check "$D/flow.pcap" "$TMP/later.pcap"
check "check-failed: a replayed capture exits 1" exit_is 1

# ---- the timestamp window -----------------------------------------------------------------------

runx "${DEC[@]}" --check --skew 18446744073709551615 "$D/flow.pcap"
check "skew-max: --skew 2^64-1 passes a fresh capture (exit 0)" exit_is 0
check "skew-max: no timestamp check fails" \
  eq "$(jq -c 'select(.checks) | .checks[] | select(.check == "timestamp" and (.ok | not))' "$OUT" | wc -l)" 0

finish
