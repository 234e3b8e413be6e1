#!/bin/bash
# The role tools' wire options: kd-switch in a signaling binding needs the RADIUS secret (unless the
# AuC link is JSON), a missing or empty secret file is a file error, one others can read is used
# with a warning that does not print it; --pcap-out without a binding, an unknown binding and bad
# --addr values are usage errors.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/wire-lib.sh"

W=$TMP/bad
new_world "$W"
run switch "$W/switch.state" "" --binding sip
check "usage-err-no-radius-secret: kd-switch --binding sip without a secret is a usage error" eq "$RC" 2
check "usage-err-no-radius-secret: the message names the option" grep -q -- "--radius-secret-file" "$ERR"
run switch "$W/switch.state" "" --binding sip --auc-link json
check "usage: --auc-link json needs no secret" eq "$RC" 0
run switch "$W/switch.state" "" --binding sip --radius-secret-file "$W/no-such-secret"
check "secret-err-missing: a missing secret file is a file error (exit 3)" eq "$RC" 3
: >"$W/empty-secret"
run switch "$W/switch.state" "" --binding sip --radius-secret-file "$W/empty-secret"
check "secret-err-empty: an empty secret is a file error (exit 3)" eq "$RC:$(grep -c '1 to 128 bytes' "$ERR")" "3:1"
printf 'visible-secret\n' >"$W/open-secret" && chmod 644 "$W/open-secret"
run switch "$W/switch.state" "" --binding sip --radius-secret-file "$W/open-secret"
check "secret: a secret file others can read is used, with a warning" eq "$RC:$(grep -c 'readable by group or others' "$ERR")" "0:1"
check "secret: the warning does not print the secret" not_contains "$ERR" "visible-secret"
run proxy "$W/proxy.state" "" --pcap-out "$W/x.pcap"
check "usage-err-pcap-out-json: --pcap-out without a wire binding is a usage error" eq "$RC" 2
# --pcap-out appends to the file it names, never to one a symbolic link names; nothing is printed
# and no state written before the refusal.
: >"$W/victim"
ln -s "$W/victim" "$W/pcap-link"
XTERM=(--binding sip)
rm -f "$W/term.state"
run term "$W/term.state" "" start --id "$TERM_ID" --via "$PROXY_ID" --switch "$SWITCH_ID" --pcap-out "$W/pcap-link"
XTERM=()
check "pcap-out-symlink: exit 3" eq "$RC" 3
check "pcap-out-symlink: says why" grep -q -- "--pcap-out $W/pcap-link: a symbolic link: name the file itself" "$ERR"
check "pcap-out-symlink: the linked file is untouched" eq "$(stat -c %s "$W/victim")" 0
check "pcap-out-symlink: no state written" test ! -e "$W/term.state"
check "pcap-out-symlink: nothing printed" eq "$(wc -c <"$OUT")" 0
# --pcap-out appends only where every reader will find the record: not after a cut last record
# (read as its rest, it would be lost with every record after it), not to another pcap version,
# not a frame longer than the file's snapshot length. Refused before the state is saved.
XTERM=(--binding sip)
run term "$W/term.state" "" start --id "$TERM_ID" --via "$PROXY_ID" --switch "$SWITCH_ID"
XTERM=()
cp "$OUT" "$W/s1.sip"
run proxy "" "$W/s1.sip" --binding sip --pcap-out "$W/whole.pcap"
check "pcap-out-append: setup, a capture of s2" eval 'exit_is 0 && test -s "$W/whole.pcap"'
pcap_header() {  # VERSION_MAJOR VERSION_MINOR SNAPLEN: a classic little-endian Ethernet pcap header
  python3 -c 'import struct, sys; sys.stdout.buffer.write(struct.pack("<IHHiIII", 0xa1b2c3d4, *map(int, sys.argv[1:3]), 0, 0, int(sys.argv[3]), 1))' "$@"
}
head -c -5 "$W/whole.pcap" >"$W/cut.pcap"
pcap_header 3 0 65535 >"$W/v3.pcap"
pcap_header 2 4 100 >"$W/snap100.pcap"
cp -p "$W/proxy.state" "$W/proxy.state.before" 2>/dev/null || : >"$W/proxy.state.before"
for c in "cut:its last record is cut short at byte 24 of $(($(stat -c %s "$W/whole.pcap") - 5)); not appending" \
         "v3:pcap version 3.0, not 2.4; not appending" \
         "snap100:exceeds the capture's snapshot length (100); not appending"; do
  f=$W/${c%%:*}.pcap
  cp -p "$f" "$f.before"
  run proxy "$W/proxy.state" "$W/s1.sip" --binding sip --pcap-out "$f"
  check "pcap-out-append ${c%%:*}: exit 3, says why" eval 'file_error_reported && grep -qF -- "--pcap-out $f" "$ERR" && grep -qF -- "${c#*:}" "$ERR"'
  check "pcap-out-append ${c%%:*}: the capture and the state are as they were" \
    eval 'cmp -s "$f" "$f.before" && { [ ! -e "$W/proxy.state" ] || cmp -s "$W/proxy.state" "$W/proxy.state.before"; }'
done
run proxy "$W/proxy.state" "" --binding smtp
check "usage-err-unknown-binding: exit 2" eq "$RC" 2
run proxy "$W/proxy.state" "" --binding sip --addr nobody=1.2.3.4
check "usage-err-addr-role: exit 2" eq "$RC" 2
run proxy "$W/proxy.state" "" --binding sip --addr proxy=1.2.3
check "usage-err-addr-ip: exit 2" eq "$RC" 2

finish
