#!/usr/bin/env bash
# kd-auc keys add/export --count N (issue 12): --id as a pattern with one %d expanding to ID0..ID{N-1};
# the same --seed keys as N single adds; add all or nothing; refusals of bad patterns and counts with
# exit 2 and the keystore byte for byte as it was (kd-auc(1), KEYS SUBCOMMANDS).
. "$(dirname "$0")/lib.sh"

AUC=$KD_BIN/kd-auc
K=$TMP/keys.json
key_of() { jq -r --arg i "$2" '.entities[] | select(.id == $i) | .key' "$1"; }
ids_of() { jq -r '[.entities[].id] | join(",")' "$1"; }
# err_has TEXT: the last run's stderr is one line, with kd-auc's prefix, holding TEXT (for a
# usage error, exit 2, then the pointer to --help).
err_has() {
  local n=1
  if [ "$RC" = 2 ]; then
    n=2
    [ "$(tail -n 1 "$ERR")" = "$(help_pointer kd-auc)" ] || { WHY="no pointer to --help: $(<"$ERR")"; return 1; }
  fi
  [ "$(nlines "$ERR")" = $n ] || { WHY="stderr has $(nlines "$ERR") lines: $(head -c 300 "$ERR")"; return 1; }
  [[ $(<"$ERR") == "kd-auc: "* ]] || { WHY="no kd-auc: prefix: $(<"$ERR")"; return 1; }
  grep -qF -- "$1" "$ERR" || { WHY="stderr does not hold '$1': $(<"$ERR")"; return 1; }
}

# ---- expansion -----------------------------------------------------------------------------------

"$AUC" keys init "$K"
runx "$AUC" keys add "$K" --id 'user%d' --role term --count 3 --seed 01
check "add --count 3: exit 0, nothing printed" eval 'exit_is 0 && [ ! -s "$OUT" ] && [ ! -s "$ERR" ]'
check "add --count 3: user0, user1, user2" eq "$(ids_of "$K")" "user0,user1,user2"
check "add --count 3: each with role term" eq "$(jq -r '[.entities[].role] | unique | join(",")' "$K")" term
check "add --count 3: three different keys" eq "$(jq -r '[.entities[].key] | unique | length' "$K")" 3
runx "$AUC" keys add "$K" --id 'p-%d.lab' --role proxy --count 2 --seed 01
check "add --count: text after %d is kept" eq "$(ids_of "$K")" "p-0.lab,p-1.lab,user0,user1,user2"

# The same keys as single adds of each expanded id (kd-protocol(7): id = the entity's id).
"$AUC" keys init "$TMP/single.json"
for i in 0 1 2; do "$AUC" keys add "$TMP/single.json" --id "user$i" --role term --seed 01; done
"$AUC" keys init "$TMP/count.json"
"$AUC" keys add "$TMP/count.json" --id 'user%d' --role term --count 3 --seed 01
check "add --count 3 --seed 01 writes the file three single adds of user0..user2 write" \
  same_file "$TMP/count.json" "$TMP/single.json"
check "... and those are the keys added above in another keystore" \
  eq "$(key_of "$K" user2)" "$(key_of "$TMP/single.json" user2)"
"$AUC" keys init "$TMP/c2.json" && "$AUC" keys add "$TMP/c2.json" --id 'user%d' --role term --count 3 --seed 02
check "add --count --seed 02: other keys than --seed 01" ne "$(key_of "$TMP/c2.json" user1)" "$(key_of "$K" user1)"

# Fresh random keys: 1000 entities, 1000 different 32-byte keys.
"$AUC" keys init "$TMP/rand.json"
runx "$AUC" keys add "$TMP/rand.json" --id 't%d' --role term --count 1000
check "add --count 1000 (random keys): exit 0" exit_is 0
check "add --count 1000: 1000 entities, 1000 different keys of 32 bytes" \
  eq "$(jq -r '[.entities | length, ([.[].key] | unique | length), ([.[].key | select(test("^[0-9a-f]{64}$"))] | length)] | join(",")' "$TMP/rand.json")" \
  "1000,1000,1000"
check "add --count 1000: t0 and t999, no t1000" \
  eq "$(jq -r '[.entities[].id | select(. == "t0" or . == "t999" or . == "t1000")] | sort | join(",")' "$TMP/rand.json")" "t0,t999"
runx "$AUC" keys list "$TMP/rand.json"
check "list after add --count 1000: 1000 lines" eq "$(nlines "$OUT")" 1000

# ---- refusals: exit 2, a message naming the fault, the keystore unchanged --------------------------

cp -p "$K" "$TMP/k.orig"
refuse2() {  # DESCRIPTION TEXT ARGS...: keys ARGS exits 2 saying TEXT and leaves $K as it was
  local what=$1 text=$2; shift 2
  runx "$AUC" keys "$@"
  check "$what: exit 2, says '$text', keystore unchanged" \
    eval 'exit_is 2 && err_has "$text" && [ ! -s "$OUT" ] && same_file "$K" "$TMP/k.orig"'
}
refuse2 "add --count, pattern without %d" "%d exactly once" add "$K" --id user --role term --count 2
refuse2 "add --count, %d twice" "%d exactly once" add "$K" --id 'u%dx%d' --role term --count 2
refuse2 "add --count, %s" 'a % must begin %d or %%' add "$K" --id 'user%s' --role term --count 2
refuse2 "add --count, %5d" 'a % must begin %d or %%' add "$K" --id 'user%5d' --role term --count 2
refuse2 "add --count, % at the end" 'a % must begin %d or %%' add "$K" --id 'user%d%' --role term --count 2
refuse2 "add --count, %%d is a literal %d, not the number" "%d exactly once" add "$K" --id 'user%%d' --role term --count 2
refuse2 "add --count, %% expands to a % that no identity holds" "(as a%b0) may hold only" \
  add "$K" --id 'a%%b%d' --role term --count 2
refuse2 "add --count 0" "--count: 0 is too small: must be a whole number from 1 to 1000000" \
  add "$K" --id 'n%d' --role term --count 0
refuse2 "add --count 1000001" "--count: 1000001 is too large: must be a whole number from 1 to 1000000" \
  add "$K" --id 'n%d' --role term --count 1000001
refuse2 "add --count 2^64" "--count: 18446744073709551616 is too large" add "$K" --id 'n%d' --role term --count 18446744073709551616
refuse2 "add --count -1" "--count: \"-1\" must be a whole number" add "$K" --id 'n%d' --role term --count -1
refuse2 "add --count 1e3" "--count: \"1e3\" must be a whole number" add "$K" --id 'n%d' --role term --count 1e3
long=$(printf 'x%.0s' {1..61})
refuse2 "add --count: an expansion longer than 64 characters" "(as ${long}1000) must be 1 to 64 characters" \
  add "$K" --id "${long}%d" --role term --count 1001
refuse2 "add --count with --key" "--key with --count" \
  add "$K" --id 'n%d' --role term --count 2 --key 00112233445566778899aabbccddeeff
refuse2 "export --count, pattern without %d" "%d exactly once" export "$K" --id user --count 2
refuse2 "export --count 0" "--count: 0 is too small" export "$K" --id 'user%d' --count 0
runx "$AUC" keys list "$K" --count 2
check "list --count: exit 2 naming --count, nothing listed" eval 'exit_is 2 && grep -qF -- "--count" "$ERR" && [ ! -s "$OUT" ]'
# Without --count, --id is literal: a % in it is no pattern (and no identity).
refuse2 "add --id user%d without --count" "--id may hold only" add "$K" --id 'user%d' --role term
refuse2 "export --id user%d without --count" "--id may hold only" export "$K" --id 'user%d'
runx "$AUC" keys add "$K" --id 'n%d' --role term --count 2 --seed zz
check "add --count with a bad --seed: exit 2, keystore unchanged" eval 'exit_is 2 && same_file "$K" "$TMP/k.orig"'

# ---- collisions: add is all or nothing -----------------------------------------------------------

runx "$AUC" keys add "$K" --id 'user%d' --role term --count 5
check "add --count 5 over user0..user2: exit 1 naming user0, keystore unchanged" \
  eval 'exit_is 1 && err_has "user0 is already in" && [ ! -s "$OUT" ] && same_file "$K" "$TMP/k.orig"'
"$AUC" keys add "$K" --id user7 --role switch --seed 01
cp -p "$K" "$TMP/k.orig"
runx "$AUC" keys add "$K" --id 'user%d' --role term --count 10 --seed 01
check "add --count 10 where only user0..2 and user7 exist: exit 1 naming user0 (the first), unchanged" \
  eval 'exit_is 1 && err_has "user0 is already in" && same_file "$K" "$TMP/k.orig"'
runx "$AUC" keys add "$K" --id 'user%d' --role proxy --count 10 --seed 01
check "add --count over ids of another role: exit 1 too, unchanged" eval 'exit_is 1 && same_file "$K" "$TMP/k.orig"'
"$AUC" keys init "$TMP/mid.json" && "$AUC" keys add "$TMP/mid.json" --id u7 --role term --seed 01
cp -p "$TMP/mid.json" "$TMP/mid.orig"
runx "$AUC" keys add "$TMP/mid.json" --id 'u%d' --role term --count 10 --seed 01
check "add --count 10 over u7 alone: exit 1 naming u7, no u0..u6 added" \
  eval 'exit_is 1 && err_has "u7 is already in" && same_file "$TMP/mid.json" "$TMP/mid.orig"'

# ---- export of a range ---------------------------------------------------------------------------

runx "$AUC" keys export "$K" --id 'user%d' --count 2
check "export --count 2: exit 0" exit_is 0
check "export --count 2: a keystore holding user0 and user1 with their roles and keys" \
  eq "$(jq -c '[.kd_keystore, [.entities[] | [.id, .role, .key]]]' "$OUT")" \
  "[1,[[\"user0\",\"term\",\"$(key_of "$K" user0)\"],[\"user1\",\"term\",\"$(key_of "$K" user1)\"]]]"
check "export --count 2: no other entity's key" eval 'not_contains "$OUT" "$(key_of "$K" user2)" && not_contains "$OUT" p-0.lab'
cp "$OUT" "$TMP/two.keys"
runx "$AUC" keys export "$K" --id 'user%d' --count 3
check "export --count 3 holds as much as user0, user1 and user2 exported one by one" \
  eq "$(jq -c '.entities' "$OUT")" \
  "$(for i in 0 1 2; do "$AUC" keys export "$K" --id "user$i"; done | jq -cs '[.[].entities[]]')"
runx "$AUC" keys export "$K" --id 'user%d' --count 4
check "export --count 4 where user3 is missing: exit 1 naming user3, nothing on stdout" \
  eval 'exit_is 1 && err_has "user3 is not in" && [ ! -s "$OUT" ]'
runx "$KD_BIN/kd-term" --keys "$TMP/two.keys" --seed 01 --now "$NOW" start --id user1 --via sbc1 --switch ss1
check "an export of a range is accepted by kd-term" eval 'exit_is 0 && [ ! -s "$ERR" ]'

finish
