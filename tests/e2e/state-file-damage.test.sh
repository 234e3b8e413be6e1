#!/usr/bin/env bash
# A state file edited by hand or damaged: every role's tool says, in kd's words, which member of
# which file is wrong (a jq path a user can look at), exits 3, and leaves the file as it was; a
# member kd does not know is refused, as the keystore refuses one (kd-term(1) and the other role
# pages, STATE FILE).
. "$(dirname "$0")/lib.sh"

check "proxied run completes" world_run "$TMP/p" proxied KD-AES128GCM-SHA256
P=$W

# damaged ROLE JQ-EDIT PATH WHAT: the role's state file after the run, edited with jq; the tool
# must refuse it with "kd-ROLE: state file FILE: damaged: PATH WHAT", and PATH must lead jq to
# the edited member (or to nothing, for a missing one).
damaged() {
  local role=$1 edit=$2 path=$3 what=$4
  local st=$TMP/$role-damaged.state
  jq "$edit" "$P/$role.state" >"$st" && chmod 600 "$st"
  cp -p "$st" "$TMP/before.state"
  run "$role" "$st" ""
  check "$role, $edit: refused, exit 3, nothing on stdout" file_error_reported
  check "$role, $edit: one line that names the member in kd's words" \
    eq "$(cat "$ERR")" "kd-$role: state file $st: damaged: $path $what"
  check "$role, $edit: no library text" not_contains "$ERR" "json.exception"
  check "$role, $edit: the file is as it was" same_file "$st" "$TMP/before.state"
}

# A member that is missing, of the wrong type, out of range, or unknown, at the top and inside a
# record of each role's file.
damaged term 'del(.seen_n2)' .seen_n2 "is missing"
damaged term '.registrations.alice.n1 = 5' .registrations.alice.n1 "must be a hex string"
damaged term '.registrations.alice.n1 = "0G"' .registrations.alice.n1 "must be lowercase hex"
damaged term '.registrations.alice.mechs[1] = {q: 5}' '.registrations.alice.mechs[1].name' "is missing"
damaged term '.registrations.alice.phase = "x"' .registrations.alice.phase "must be an integer from 0 to 2"
damaged term '.registrations.alice.flow = "sideways"' .registrations.alice.flow 'must be "proxied" or "direct"'
damaged term '.registrations = []' .registrations "must be an object"
damaged term '.registrations.alice.note = "mine"' .registrations.alice.note "is not a member kd knows"
damaged term '.comment = "mine"' .comment "is not a member kd knows"
damaged proxy '.seen_n1 |= with_entries(.value = -1)' ".seen_n1.\"$(jq -r '.seen_n1 | keys[0]' "$P/proxy.state")\"" \
  "must be an integer from 0 to 18446744073709551615"
damaged proxy '.extra = {}' .extra "is not a member kd knows"
damaged switch '.used_rands = 7' .used_rands "must be an object"
damaged switch '.failures.alice = {count: 1}' .failures.alice.until "is missing"
damaged switch '.failures.alice = {count: 1, until: 2, why: "x"}' .failures.alice.why "is not a member kd knows"
damaged auc '.registered.alice.at = 1.5' .registered.alice.at "must be an integer from 0 to 18446744073709551615"
damaged auc '.issued[].answered = "yes"' ".issued.\"$(jq -r '.issued | keys[0]' "$P/auc.state")\".answered" "must be true or false"
damaged auc '.issued[].seq = 0' ".issued.\"$(jq -r '.issued | keys[0]' "$P/auc.state")\".seq" \
  "must be an integer from 1 to 4611686018427387904"

# The path is jq's: it leads to the damaged value.
jq '.registrations.alice.contact = 7' "$P/term.state" >"$TMP/t.state" && chmod 600 "$TMP/t.state"
run term "$TMP/t.state" ""
path=$(sed -n 's/.*: damaged: \([^ ]*\) .*/\1/p' "$ERR")
check "the path in the message leads jq to the damaged member" eq "$(jq -c "$path" "$TMP/t.state" 2>&1)" 7

# A key that is not a plain name is quoted as jq quotes it, and the line escaped once, as every
# line of kd's on stderr is (kd::printable: the escape byte as \x1b, not \\x1b nor \\u001b).
jq '.registrations["a.b\u001b[31m"] = .registrations.alice | .registrations["a.b\u001b[31m"].n1 = 1' \
  "$P/term.state" >"$TMP/k.state" && chmod 600 "$TMP/k.state"
run term "$TMP/k.state" ""
quoted_and_escaped() {
  exit_is 3 || return 1
  grep -qF 'damaged: .registrations."a.b\x1b[31m".n1 must be a hex string' "$ERR" || { WHY="stderr: $(cat "$ERR")"; return 1; }
  ! grep -q $'\e' "$ERR" || { WHY="an escape byte reached stderr"; return 1; }
}
check "a key with a dot and an escape byte is quoted, and the byte escaped" quoted_and_escaped

# The files as kd writes them still load: each role runs on its state from the run.
for role in term proxy switch auc; do
  cp -p "$P/$role.state" "$TMP/ok-$role.state"
  run "$role" "$TMP/ok-$role.state" ""
  check "$role: its own state file loads" exit_is 0
done

finish
