#!/usr/bin/env bash
# What a tool may be given to read: INPUT may be a regular file, a pipe, a character device
# (/dev/null) or the standard input; a directory or another kind of file is a file error (exit 3,
# a message saying what it is, nothing on stdout, the state untouched) in all five tools. A
# keystore, state or RADIUS secret path that is a directory says so too.
. "$(dirname "$0")/lib.sh"
[ -x "$KD_BIN/kd-decode" ] || { echo "$KD_BIN/kd-decode is missing: build first"; exit 1; }

check "proxied run to take messages and states from completes" world_run "$TMP/p" proxied KD-AES128GCM-SHA256
P=$W
D=$TMP/a-directory
mkdir "$D"
cp -p "$P/snap/s5/proxy.state" "$TMP/proxy.state"
cp -p "$P/snap/s5/proxy.state" "$TMP/proxy.state.orig"

# is_dir_error WHAT: exit 3, nothing on stdout, one line on stderr naming WHAT and saying it is a
# directory, the proxy's state untouched.
is_dir_error() {
  local errs
  mapfile -t errs <"$ERR"
  file_error_reported || return 1
  [ ${#errs[@]} -eq 1 ] || { WHY="stderr has ${#errs[@]} lines: ${errs[*]:0:3}"; return 1; }
  [[ ${errs[0]} == *"$1"*"is a directory"* ]] || { WHY="stderr: ${errs[0]}"; return 1; }
  cmp -s "$TMP/proxy.state" "$TMP/proxy.state.orig" || { WHY="the state changed"; return 1; }
}

tools=("kd-term" "kd-proxy --id sbc1 --state $TMP/proxy.state" "kd-switch --id ss1" "kd-auc" "kd-decode")
for t in "${tools[@]}"; do
  name=${t%% *}
  # shellcheck disable=SC2086
  runx "$KD_BIN/"$t "$D" </dev/null
  check "$name given a directory as INPUT -> exit 3, says so" is_dir_error "input $D"
  # shellcheck disable=SC2086
  runx "$KD_BIN/"$t --keys "$D" /dev/null </dev/null
  check "$name given a directory as --keys -> exit 3, says so" is_dir_error "keystore $D"
done
runx "$KD_BIN/kd-auc" keys list "$D"
check "kd-auc keys list of a directory -> exit 3, says so" is_dir_error "keystore $D"
runx "$KD_BIN/kd-proxy" --id sbc1 --state "$D" "$P/s1.json"
check "kd-proxy --state of a directory -> exit 3, says so" is_dir_error "state file $D"
runx "$KD_BIN/kd-switch" --id ss1 --binding sip --radius-secret-file "$D" /dev/null
check "kd-switch --radius-secret-file of a directory -> exit 3, says so" is_dir_error "RADIUS secret file $D"
runx "$KD_BIN/kd-decode" --radius-secret-file "$D" /dev/null
check "kd-decode --radius-secret-file of a directory -> exit 3, says so" is_dir_error "RADIUS secret file $D"

# A Unix socket is neither a file nor a stream kd reads from a path.
python3 -c 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$TMP/sock"
runx "$KD_BIN/kd-proxy" --id sbc1 --state "$TMP/proxy.state" "$TMP/sock"
check "kd-proxy given a socket as INPUT -> exit 3, says what it is" \
  eval 'file_error_reported && grep -q "input $TMP/sock: it is a socket" "$ERR" || { WHY="${WHY:-stderr: $(cat "$ERR")}"; false; }'

# What must keep working: a regular file, a pipe (as a path and as the standard input), /dev/null.
W=$P
runx "$KD_BIN/kd-proxy" --id sbc1 --keys "$P/$PROXY_ID.keys" --seed "$SEED" --now "$NOW" "$P/s1.json"
check "kd-proxy reads a regular file" eval 'accepted && same_file "$OUT" "$P/s2.json"'
runx "$KD_BIN/kd-proxy" --id sbc1 --keys "$P/$PROXY_ID.keys" --seed "$SEED" --now "$NOW" <(cat "$P/s1.json")
check "kd-proxy reads a pipe named as INPUT" eval 'accepted && same_file "$OUT" "$P/s2.json"'
mkfifo "$TMP/fifo"
cat "$P/s1.json" >"$TMP/fifo" &
runx "$KD_BIN/kd-proxy" --id sbc1 --keys "$P/$PROXY_ID.keys" --seed "$SEED" --now "$NOW" "$TMP/fifo"
wait
check "kd-proxy reads a named FIFO" eval 'accepted && same_file "$OUT" "$P/s2.json"'
cat "$P/s1.json" | runx "$KD_BIN/kd-proxy" --id sbc1 --keys "$P/$PROXY_ID.keys" --seed "$SEED" --now "$NOW"
check "kd-proxy reads a pipe on the standard input" eval 'accepted && same_file "$OUT" "$P/s2.json"'
for t in "${tools[@]}"; do
  name=${t%% *}
  # shellcheck disable=SC2086
  runx "$KD_BIN/"$t /dev/null </dev/null
  check "$name reads /dev/null as INPUT: exit 0" eval 'exit_is 0 && [ ! -s "$ERR" ]'
done

finish
