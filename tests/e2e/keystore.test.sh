#!/usr/bin/env bash
# kd-auc keys init/add/export/list: files written with mode 0600, no overwrite without --force,
# no duplicate ids, exports holding one entity, listings without keys, deterministic --seed keys,
# and the warning every tool gives for a keystore readable by group or others.
. "$(dirname "$0")/lib.sh"

AUC=$KD_BIN/kd-auc
K=$TMP/keys.json
mode() { stat -c %a "$1"; }

runx "$AUC" keys init "$K"
check "keys init: exit 0" exit_is 0
check "keys init: an empty keystore" eq "$(jq -c . "$K")" '{"kd_keystore":1,"entities":[]}'
check "keys init: mode 0600" eq "$(mode "$K")" 600
cp -p "$K" "$TMP/k.orig"
runx "$AUC" keys init "$K"
check "keys init over an existing file without --force: exit 1, a message, file unchanged" \
  eval 'exit_is 1 && [ -s "$ERR" ] && same_file "$K" "$TMP/k.orig"'

runx "$AUC" keys add "$K" --id alice --role term
check "keys add alice (term): exit 0" exit_is 0
check "keys add: nothing on stdout" eval '[ ! -s "$OUT" ]'
runx "$AUC" keys add "$K" --id sbc1 --role proxy --key 00112233445566778899AABBCCDDEEFF
check "keys add sbc1 with --key in uppercase hex: exit 0" exit_is 0
runx "$AUC" keys add "$K" --id ss1 --role switch --seed 01
check "keys add ss1 with --seed: exit 0" exit_is 0
# A key typed where the command line does not expect it (twice, after a misspelt --key) is a usage
# error that never shows the key (the error may end up in a log): it is named by its length only.
KEY=8899aabbccddeeff0011223344556677
cp -p "$K" "$TMP/k.before"
for args in "--key $KEY $KEY" "--kye $KEY" "$KEY" "--key=$KEY --show-key=$KEY"; do
  # shellcheck disable=SC2086  # the words of args are the arguments
  runx "$AUC" keys add "$K" --id carol --role term $args
  check "keys add $(sed "s/$KEY/KEY/g" <<<"$args"): exit 2, the key not in the message, keystore unchanged" \
    eval 'exit_is 2 && not_contains "$ERR" "$KEY" && grep -qF "a hex value of 32 digits, not shown" "$ERR" && same_file "$K" "$TMP/k.before"'
done
check "keys add: the keystore keeps mode 0600" eq "$(mode "$K")" 600
check "keys add: a fresh key is 32 bytes of lowercase hex" is_hex_len "$(jq -r '.entities[] | select(.id == "alice") | .key' "$K")" 64
check "keys add --key: the key is stored in lowercase" eq "$(jq -r '.entities[] | select(.id == "sbc1") | .key' "$K")" 00112233445566778899aabbccddeeff
check "keys add: entities in byte order of their id" eq "$(jq -r '[.entities[].id] | join(",")' "$K")" "alice,sbc1,ss1"

cp -p "$K" "$TMP/k.orig"
runx "$AUC" keys add "$K" --id alice --role term
check "keys add of an id already present: exit 1, a message, file unchanged" \
  eval 'exit_is 1 && [ -s "$ERR" ] && same_file "$K" "$TMP/k.orig"'
runx "$AUC" keys add "$K" --id alice --role proxy
check "keys add of an id already present with another role: exit 1, file unchanged" \
  eval 'exit_is 1 && same_file "$K" "$TMP/k.orig"'
for args in "--id bob --role auc" "--id bob --role king" "--id b%ob --role term" "--id bob --role term --key 0011" "--id bob --role term --key xyz" "--id bob"; do
  # shellcheck disable=SC2086
  runx "$AUC" keys add "$K" $args
  check "keys add $args: exit 2, file unchanged" eval 'exit_is 2 && same_file "$K" "$TMP/k.orig"'
done

# An odd number of hex digits is named as such, not as "not hex" (issue 12).
runx "$AUC" keys add "$K" --id bob --role term --key 00112233445566778899aabbccddeef
check "keys add --key with 31 hex digits: exit 2, 'an odd number of hex digits', file unchanged" \
  eval 'exit_is 2 && grep -q -- "--key has an odd number of hex digits" "$ERR" && same_file "$K" "$TMP/k.orig"'
runx "$AUC" keys add "$K" --id bob --role term --key 00112233445566778899aabbccddeefg
check "keys add --key with a non-hex digit: exit 2, 'must be hex digits'" \
  eval 'exit_is 2 && grep -q -- "--key must be hex digits" "$ERR" && same_file "$K" "$TMP/k.orig"'
jq -c '.entities[0].key = "00112233445566778899aabbccddeef"' "$K" >"$TMP/odd.keys"
runx "$KD_BIN/kd-term" --keys "$TMP/odd.keys" --seed 01 --now "$NOW" start --id alice --via sbc1 --switch ss1
check "a keystore key with 31 hex digits: exit 3, 'key has an odd number of hex digits'" \
  eval 'exit_is 3 && grep -q "entity alice: key has an odd number of hex digits" "$ERR"'

# --seed keys are reproducible and bound to the id and the role.
"$AUC" keys init "$TMP/k2.json" && "$AUC" keys add "$TMP/k2.json" --id ss1 --role switch --seed 01 &&
  "$AUC" keys add "$TMP/k2.json" --id ss2 --role switch --seed 01 && "$AUC" keys add "$TMP/k2.json" --id alice --role term --seed 02
key_of() { jq -r --arg i "$2" '.entities[] | select(.id == $i) | .key' "$1"; }
check "keys add --seed 01 gives the same key in two keystores" eq "$(key_of "$K" ss1)" "$(key_of "$TMP/k2.json" ss1)"
check "keys add --seed 01 gives another key to another id" ne "$(key_of "$TMP/k2.json" ss1)" "$(key_of "$TMP/k2.json" ss2)"
check "keys add --seed 02 gives another key than a fresh random one" ne "$(key_of "$K" alice)" "$(key_of "$TMP/k2.json" alice)"

# list: ids and roles, no key.
runx "$AUC" keys list "$K"
check "keys list: one line per entity, 'ID ROLE', in order" eq "$(<"$OUT")" "alice term
sbc1 proxy
ss1 switch"
check "keys list: no key material" eval '! grep -Eq "[0-9a-f]{16}" "$OUT" && not_contains "$OUT" "$(key_of "$K" alice)"'

# export: only that entity, usable as a role's keystore.
runx "$AUC" keys export "$K" --id sbc1
check "keys export sbc1: exit 0" exit_is 0
check "keys export sbc1: a keystore holding only sbc1, with its role and key" \
  eq "$(jq -c '[.kd_keystore, [.entities[] | [.id, .role, .key]]]' "$OUT")" '[1,[["sbc1","proxy","00112233445566778899aabbccddeeff"]]]'
check "keys export sbc1: no other entity's key" \
  eval 'not_contains "$OUT" "$(key_of "$K" alice)" && not_contains "$OUT" "$(key_of "$K" ss1)" && not_contains "$OUT" alice'
runx "$AUC" keys export "$K" --id carol
check "keys export of an id not present: exit 1, nothing on stdout" eval 'exit_is 1 && [ ! -s "$OUT" ] && [ -s "$ERR" ]'
"$AUC" keys export "$K" --id alice >"$TMP/alice.keys"
runx "$KD_BIN/kd-term" --keys "$TMP/alice.keys" --seed 01 --now "$NOW" start --id alice --via sbc1 --switch ss1
check "an exported keystore is accepted by kd-term" eval 'exit_is 0 && [ ! -s "$ERR" ]'

# --force replaces.
runx "$AUC" keys init "$K" --force
check "keys init --force: replaces the keystore by an empty one" eval 'exit_is 0 && [ "$(jq ".entities | length" "$K")" = 0 ]'

# Missing keystore for add, export, list: a file error.
for sub in "add $TMP/none.json --id x --role term" "export $TMP/none.json --id x" "list $TMP/none.json"; do
  # shellcheck disable=SC2086
  runx "$AUC" keys $sub
  check "keys ${sub%% *} on a missing keystore: exit 3 with a message" eval 'exit_is 3 && [ -s "$ERR" ] && [ ! -e "$TMP/none.json" ]'
done

# (K is empty here, after keys init --force.) A member kd does not know is refused by every loader (the role tools, kd-decode, the keys
# subcommands), naming it, and the file is left as it was (kd-auc(1), KEYSTORE).
jq '.comment = "lab keys"' "$K" >"$TMP/extra.json"
jq '.entities = [{id: "alice", role: "term", key: "00112233445566778899aabbccddeeff", revoked: true}]' "$K" \
  >"$TMP/extra-entity.json"
cp -p "$TMP/extra.json" "$TMP/extra.orig"
for f in extra extra-entity; do
  want='unknown member "comment"'
  [ $f = extra-entity ] && want='entity alice: unknown member "revoked"'
  runx "$KD_BIN/kd-proxy" --id sbc1 --keys "$TMP/$f.json" /dev/null
  check "kd-proxy --keys $f.json: exit 3 naming the member" eval 'exit_is 3 && grep -qF "$want" "$ERR"'
  if [ -x "$KD_BIN/kd-decode" ]; then
    runx "$KD_BIN/kd-decode" --keys "$TMP/$f.json" /dev/null
    check "kd-decode --keys $f.json: exit 3 naming the member" eval 'exit_is 3 && grep -qF "$want" "$ERR"'
  fi
done
runx "$AUC" keys add "$TMP/extra.json" --id dave --role term
check "keys add on a keystore with an unknown member: exit 3 naming it, file unchanged" \
  eval 'exit_is 3 && grep -qF "unknown member \"comment\"" "$ERR" && same_file "$TMP/extra.json" "$TMP/extra.orig"'

# A keystore readable by group or others: every tool warns, once, and goes on.
new_world "$TMP/w" >/dev/null 2>&1
(umask 022 && "$AUC" keys init "$TMP/umask.json" && "$AUC" keys add "$TMP/umask.json" --id x --role term)
check "keys init and add under umask 022 still write mode 0600" eq "$(mode "$TMP/umask.json")" 600
chmod 644 "$W/$TERM_ID.keys" "$W/$PROXY_ID.keys" "$W/$SWITCH_ID.keys" "$W/auc.keys"
warns() {  # DESCRIPTION
  check "$1 with a keystore of mode 0644: one warning line 'readable by group or others', exit 0" \
    eval 'exit_is 0 && [ "$(nlines "$ERR")" = 1 ] && grep -q "warning: keystore .* is readable by group or others" "$ERR"'
}
run term "" "" start --id "$TERM_ID" --via "$PROXY_ID" --switch "$SWITCH_ID"
cp "$OUT" "$TMP/s1.json"
warns kd-term
run proxy "" "$TMP/s1.json"
warns kd-proxy
out_step s2 >"$TMP/s2.json"
run switch "" "$TMP/s2.json"
warns kd-switch
out_step s3 >"$TMP/s3.json"
run auc "" "$TMP/s3.json"
warns kd-auc
if [ -x "$KD_BIN/kd-decode" ]; then  # the same loader as the role tools
  runx "$KD_BIN/kd-decode" --keys "$W/auc.keys" /dev/null
  warns kd-decode
fi
chmod 640 "$W/auc.keys"
run auc "" "$TMP/s3.json"
check "kd-auc with a keystore of mode 0640 (group): the warning too" grep -q "readable by group or others" "$ERR"
chmod 600 "$W/auc.keys"
run auc "" "$TMP/s3.json"
check "kd-auc with a keystore of mode 0600: no warning" eval 'exit_is 0 && [ ! -s "$ERR" ]'
chmod 644 "$W/auc.keys"
runx "$AUC" keys add "$W/auc.keys" --id carol --role term
check "keys add on a keystore of mode 0644 writes it back with mode 0600" eq "$(mode "$W/auc.keys")" 600
check "no keys subcommand leaves a temporary file behind" eval '[ -z "$(find "$TMP" -name "*.tmp.*")" ]'

# A bad command line is exit 2 whatever the file holds, before the file is touched (trial 3: a bad
# --key for an id present was exit 1, a bad --id, --role or pattern with no keystore exit 3 and
# left FILE.lock behind).
"$AUC" keys add "$K" --id dup1 --role term 2>/dev/null
runx "$AUC" keys add "$K" --id dup1 --role term --key zz
check "keys add of an id present with --key zz: exit 2 (the --key), not 1" \
  eval 'exit_is 2 && grep -q -- "--key must be" "$ERR"'
mkdir "$TMP/none"
runx "$AUC" keys add "$TMP/none/k.json" --id 'bad id' --role term
check "keys add --id 'bad id' with no keystore: exit 2 (the --id), not 3" eval 'exit_is 2 && grep -q -- "--id" "$ERR"'
runx "$AUC" keys add "$TMP/none/k.json" --id x --role auc
check "keys add --role auc with no keystore: exit 2 (the --role), not 3" eval 'exit_is 2 && grep -q -- "--role" "$ERR"'
runx "$AUC" keys export "$TMP/none/k.json" --id 'u%d%d' --count 2
check "keys export of a bad pattern with no keystore: exit 2, not 3" eval 'exit_is 2 && grep -q "exactly once" "$ERR"'
check "... and none of them created a file (no lock file)" eq "$(ls -A "$TMP/none")" ""

finish
