#!/usr/bin/env bash
# A keystore loads whatever the order of its entities (kd writes them in id order and loads that
# order fastest, kd-auc(1)): a hand-written file out of order loads whole, and an id twice is
# refused wherever the second one stands.
. "$(dirname "$0")/lib.sh"

AUC=$KD_BIN/kd-auc
ent() { printf '{"id":"%s","role":"%s","key":"%s"}' "$1" "$2" "$(printf '%032d' "$3")"; }
keystore() { local IFS=,; printf '{"kd_keystore":1,"entities":[%s]}\n' "$*" >"$TMP/ks.json"; }

keystore "$(ent ss1 switch 3)" "$(ent alice term 1)" "$(ent sbc1 proxy 2)" "$(ent bob term 4)"
runx "$AUC" keys list "$TMP/ks.json"
check "entities out of order: all four listed, in id order" eq "$(<"$OUT")" "alice term
bob term
sbc1 proxy
ss1 switch"
runx "$AUC" keys export "$TMP/ks.json" --id sbc1
check "entities out of order: each keeps its own key" \
  eq "$(jq -r '.entities[0].key' "$OUT")" "$(printf '%032d' 2)"

for order in "alice bob alice" "bob alice bob" "alice bob carol bob" "carol alice bob alice"; do
  read -ra ids <<<"$order"
  set -- "${ids[@]}"
  entities=()
  for id in "$@"; do entities+=("$(ent "$id" term 1)"); done
  keystore "${entities[@]}"
  dup=$(printf '%s\n' "$@" | sort | uniq -d)
  runx "$AUC" keys list "$TMP/ks.json"
  check "entities $order: exit 3, \"entity $dup appears twice\"" \
    eval 'exit_is 3 && grep -qF "entity $dup appears twice" "$ERR" && [ ! -s "$OUT" ]'
done

finish
