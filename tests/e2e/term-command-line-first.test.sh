#!/usr/bin/env bash
# kd-term start and register check the whole command line before they read a file: a bad --mechs
# is exit 2 whatever the keystore holds, and no file is created (no state file, no FILE.lock, no
# --pcap-out capture), as kd-auc keys does (trial 5: the keystore was read first, so a damaged or
# missing keystore made a bad --mechs exit 3, and the state's lock file was created).
. "$(dirname "$0")/lib.sh"

new_world "$TMP/w" >/dev/null 2>&1 || { echo "could not make the keystores"; exit 1; }
printf '{\n' >"$TMP/bad.keys"
chmod 600 "$TMP/bad.keys"
N=$TMP/none
mkdir "$N"
PEER=(--peer switch=udp:127.0.0.1:9)  # never reached: register refuses its command line first

bad_mechs() {  # SUB KEYS MECHS MESSAGE
  local sub=$1 keys=$2 mechs=$3 msg=$4 extra=(--binding sip --pcap-out "$N/t.pcap")
  [ "$sub" = register ] && extra=("${PEER[@]}")  # a capture does not apply to register
  rm -rf "$N" && mkdir "$N"
  runx "$KD_BIN/kd-term" "$sub" --id alice --switch ss1 --keys "$keys" --mechs "$mechs" "${extra[@]}" --state "$N/t.state"
  check "$sub --mechs $mechs, keystore $(basename "$keys"): exit 2" exit_is 2
  check "... the --mechs named first, then the pointer to --help" \
    eq "$(cat "$ERR")" "kd-term: --mechs: $msg"$'\n'"$(help_pointer kd-term)"
  check "... nothing on stdout" eq "$(cat "$OUT")" ""
  check "... no file created" eq "$(ls -A "$N")" ""
}
for sub in start register; do
  bad_mechs "$sub" "$TMP/bad.keys" x:9 "q-value must be 0 to 1"
  bad_mechs "$sub" "$N/missing.keys" tls,tls "SecMechList names tls twice"
  bad_mechs "$sub" "$TMP/w/alice.keys" tls,tls "SecMechList names tls twice"
done

# The same command line with a good --mechs goes on to the files: the keystore's own error, exit 3.
runx "$KD_BIN/kd-term" start --id alice --switch ss1 --keys "$TMP/bad.keys" --mechs tls
check "start with a good --mechs and a damaged keystore: exit 3, the keystore named" \
  eval 'exit_is 3 && grep -qF "keystore $TMP/bad.keys" "$ERR"'

finish
