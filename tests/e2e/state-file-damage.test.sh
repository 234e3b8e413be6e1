#!/usr/bin/env bash
# A state file edited by hand or damaged: every role's tool says, in kd's words, which member of
# which file is wrong (a jq path a user can look at), exits 3, and leaves the file as it was; a
# member kd does not know is refused, as the keystore refuses one (kd-term(1) and the other role
# pages, STATE FILE).
. "$(dirname "$0")/lib.sh"

check "direct run completes" world_run "$TMP/d" direct KD-AES256GCM-SHA384
D=$W
check "proxied run completes" world_run "$TMP/p" proxied KD-AES128GCM-SHA256
P=$W

# damaged ROLE JQ-EDIT PATH WHAT: the role's state file after the run (or the file SRC names),
# edited with jq; the tool must refuse it with "kd-ROLE: state file FILE: damaged: PATH WHAT", and
# PATH must lead jq to the edited member (or to nothing, for a missing one).
damaged() {
  local role=$1 edit=$2 path=$3 what=$4
  local st=$TMP/$role-damaged.state
  jq "$edit" "${SRC:-$P/$role.state}" >"$st" && chmod 600 "$st"
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

# A value of the right type that means nothing: each key and value is checked with the rules the
# messages and options use (an IDc, IPc, suite, mechanism list or name, a nonce or Rand of its
# length, the other byte strings of the suite's length), in every role's file.
ID_LEN="is not valid: IDc must be 1 to 64 characters"
IP_LEN="is not valid: IPc must be 1 to 64 characters"
NONCE="must be 16 bytes (32 hex digits)"
NONCE_KEY="must be 16 bytes in lowercase hex (32 digits)"
damaged term '.registrations.alice.contact = ""' .registrations.alice.contact "$IP_LEN"
damaged term '.registrations.alice.contact = "x y"' .registrations.alice.contact \
  "is not valid: IPc must be an IPv4 or IPv6 address, optionally with a port"
damaged term '.registrations[""] = .registrations.alice' '.registrations.""' "$ID_LEN"
damaged term '.registrations["bob\u0000"] = .registrations.alice' '.registrations."bob\x00"' \
  "is not valid: IDc may hold only letters, digits and ._@+-"
damaged term '.registrations.alice.peer = ""' .registrations.alice.peer "is not valid: IDsp must be 1 to 64 characters"
damaged term '.seen_n2.zz = 1' .seen_n2.zz "$NONCE_KEY"
damaged term '.seen_n2[.seen_n2 | keys[0] | ascii_upcase] = 1' \
  ".seen_n2.\"$(jq -r '.seen_n2 | keys[0] | ascii_upcase' "$P/term.state")\"" "$NONCE_KEY"
damaged term '.registrations.alice.n1 |= .[2:]' .registrations.alice.n1 "$NONCE"
damaged term '.registrations.alice.suite = "KD-NONE"' .registrations.alice.suite 'is not valid: unknown suite "KD-NONE"'
damaged term '.registrations.alice.mechs[1].name = "tls"' .registrations.alice.mechs "is not valid: SecMechList names tls twice"
damaged term '.registrations.alice.mechs = []' .registrations.alice.mechs "is not valid: SecMechList must hold 1 to 16 mechanisms"
damaged term '.registrations.alice.mechs[0].name = "TLS"' .registrations.alice.mechs \
  "is not valid: a mechanism name may hold only a-z, 0-9 and -"
damaged term '.registrations.alice.chosen = "T L S"' .registrations.alice.chosen \
  "is not valid: a mechanism name may hold only a-z, 0-9 and -"
SRC=$P/snap/s10/term.state damaged term '.registrations.alice.rand = "00"' .registrations.alice.rand "$NONCE"

# The proxy's exchange as it waits for s9 (the terminal's list and the choice made), value by value.
PX=$P/snap/s9/proxy.state
SRC=$PX damaged proxy '.exchanges[""] = .exchanges.alice' '.exchanges.""' "$ID_LEN"
SRC=$PX damaged proxy '.exchanges.alice.ipc = ""' .exchanges.alice.ipc "$IP_LEN"
SRC=$PX damaged proxy '.exchanges.alice.suite = "x"' .exchanges.alice.suite 'is not valid: unknown suite "x"'
SRC=$PX damaged proxy '.exchanges.alice.term_n1 = ""' .exchanges.alice.term_n1 "$NONCE"
SRC=$PX damaged proxy '.exchanges.alice.n2 |= . + "00"' .exchanges.alice.n2 "$NONCE"
SRC=$PX damaged proxy '.exchanges.alice.rand |= .[2:]' .exchanges.alice.rand "$NONCE"
SRC=$PX damaged proxy '.exchanges.alice.mechs += [.exchanges.alice.mechs[0]]' .exchanges.alice.mechs \
  "is not valid: SecMechList names tls twice"
SRC=$PX damaged proxy '.exchanges.alice.chosen = "-?"' .exchanges.alice.chosen \
  "is not valid: a mechanism name may hold only a-z, 0-9 and -"
SRC=$PX damaged proxy '.seen_n1.zz = 1' .seen_n1.zz "$NONCE_KEY"

# The switch's registration as it holds the challenge (proxied: no terminal-facing exchange), and
# in the direct flow with its exchange, value by value; the lengths are the suite's.
SW=$P/snap/s6/switch.state
SRC=$SW damaged switch '.registrations[""] = .registrations.alice' '.registrations.""' "$ID_LEN"
SRC=$SW damaged switch '.registrations.alice.peer = "a b"' .registrations.alice.peer \
  "is not valid: IDsp may hold only letters, digits and ._@+-"
SRC=$SW damaged switch '.registrations.alice.ipc = ""' .registrations.alice.ipc "$IP_LEN"
SRC=$SW damaged switch '.registrations.alice.suite = ""' .registrations.alice.suite 'is not valid: unknown suite ""'
SRC=$SW damaged switch '.registrations.alice.challenge.rand = "00"' .registrations.alice.challenge.rand "$NONCE"
SRC=$SW damaged switch '.registrations.alice.challenge.authenticator |= . + "00"' \
  .registrations.alice.challenge.authenticator "must be 16 bytes (32 hex digits)"
SRC=$SW damaged switch '.registrations.alice.challenge.ekc |= .[2:]' .registrations.alice.challenge.ekc \
  "must be 44 bytes (88 hex digits)"
SRC=$SW damaged switch '.registrations.alice.challenge.ekpeer = "00"' .registrations.alice.challenge.ekpeer \
  "must be 44 bytes (88 hex digits)"
SRC=$SW damaged switch '.registrations.alice.edge.ipc = "192.0.2.10"' .registrations.alice.edge \
  "must be an empty exchange in the proxied flow"
SRC=$SW damaged switch '.failures[""] = {count: 1, until: 2}' '.failures.""' "$ID_LEN"
SRC=$SW damaged switch '.used_rands.zz = 1' .used_rands.zz "$NONCE_KEY"
SRC=$SW damaged switch '.seen_n1.zz = 1' .seen_n1.zz "$NONCE_KEY"
SRC=$SW damaged switch '.requests = {"a b": "00"}' '.requests."a b"' \
  "is not valid: IDc may hold only letters, digits and ._@+-"
SRC=$SW damaged switch '.requests = {alice: ""}' .requests.alice "must not be empty"
DW=$D/snap/d5/switch.state  # AES-256: a 32-byte session key sealed, a 24-byte Authenticator_c
SRC=$DW damaged switch '.registrations.alice.challenge.authenticator |= .[2:]' \
  .registrations.alice.challenge.authenticator "must be 24 bytes (48 hex digits)"
SRC=$DW damaged switch '.registrations.alice.challenge.ekc |= .[2:]' .registrations.alice.challenge.ekc \
  "must be 60 bytes (120 hex digits)"
SRC=$DW damaged switch '.registrations.alice.peer = ""' .registrations.alice.peer "is not valid: IDss must be 1 to 64 characters"
SRC=$DW damaged switch '.registrations.alice.edge.ipc = ""' .registrations.alice.edge.ipc "$IP_LEN"
SRC=$DW damaged switch '.registrations.alice.edge.suite = "KD-X"' .registrations.alice.edge.suite 'is not valid: unknown suite "KD-X"'
SRC=$DW damaged switch '.registrations.alice.edge.term_n1 = ""' .registrations.alice.edge.term_n1 "$NONCE"
SRC=$DW damaged switch '.registrations.alice.edge.n2 = "0000"' .registrations.alice.edge.n2 "$NONCE"
SRC=$DW damaged switch '.registrations.alice.edge.mechs = [{name: "tls", q: 1}, {name: "tls", q: 2}]' \
  .registrations.alice.edge.mechs "is not valid: SecMechList names tls twice"

# The AuC's challenges (by Rand) and registrations.
R=$(jq -r '.issued | keys[0]' "$P/auc.state")
damaged auc '.issued.zz = .issued[]' .issued.zz "$NONCE_KEY"
damaged auc '.issued[].idc = ""' ".issued.\"$R\".idc" "$ID_LEN"
damaged auc '.issued[].peer = "sbc 1"' ".issued.\"$R\".peer" "is not valid: IDsp may hold only letters, digits and ._@+-"
damaged auc '.issued[].suite = "none"' ".issued.\"$R\".suite" 'is not valid: unknown suite "none"'
damaged auc '.registered[""] = .registered.alice' '.registered.""' "$ID_LEN"
damaged auc '.registered.alice.ipc = ""' .registered.alice.ipc "$IP_LEN"
damaged auc '.registered.alice.peer = ""' .registered.alice.peer "is not valid: IDsp must be 1 to 64 characters"
damaged auc '.registered.alice.suite = "x"' .registered.alice.suite 'is not valid: unknown suite "x"'
unset SRC

# The path is jq's: it leads to the damaged value.
jq '.registrations.alice.contact = 7' "$P/term.state" >"$TMP/t.state" && chmod 600 "$TMP/t.state"
run term "$TMP/t.state" ""
path=$(sed -n 's/.*: damaged: \([^ ]*\) .*/\1/p' "$ERR")
check "the path in the message leads jq to the damaged member" eq "$(jq -c "$path" "$TMP/t.state" 2>&1)" 7

# A key that is not a plain name is quoted as jq quotes it, and the line escaped once, as every
# line of kd's on stderr is (kd::printable: the escape byte as \x1b, not \\x1b nor \\u001b): a
# member under a key with a dot (an IDc may hold one), and a key that is no IDc.
damaged term '.registrations["a.b"] = .registrations.alice | .registrations["a.b"].n1 = 1' \
  '.registrations."a.b".n1' "must be a hex string"
jq '.registrations["a.b\u001b[31m"] = .registrations.alice' "$P/term.state" >"$TMP/k.state" && chmod 600 "$TMP/k.state"
run term "$TMP/k.state" ""
quoted_and_escaped() {
  exit_is 3 || return 1
  grep -qF 'damaged: .registrations."a.b\x1b[31m" is not valid: IDc may hold only' "$ERR" || { WHY="stderr: $(cat "$ERR")"; return 1; }
  ! grep -q $'\e' "$ERR" || { WHY="an escape byte reached stderr"; return 1; }
}
check "a key with a dot and an escape byte is quoted, and the byte escaped" quoted_and_escaped

# The files as kd writes them still load: each role runs on its state as it was before each step
# of both runs (empty values where a registration has not got that far), and at their end.
for snap in "$P"/snap/* "$D"/snap/*; do
  for st in "$snap"/*.state; do
    [ -e "$st" ] || continue
    role=$(basename "$st" .state)
    cp -p "$st" "$TMP/ok-$role.state"
    run "$role" "$TMP/ok-$role.state" ""
    check "$role: its own state file loads (${snap#"$TMP"/})" exit_is 0
  done
done

finish
