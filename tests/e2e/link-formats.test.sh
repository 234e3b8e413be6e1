#!/usr/bin/env bash
# A tool reads each step only in the form it would print that step (issue 10, item 1): once the
# AuC link is configured to speak RADIUS, a plain JSON s3/s4/s11 (which carries no RADIUS
# authenticator) is refused, and a tool started with one binding refuses wire lines of another.
. "$(dirname "$0")/lib.sh"

A=(--seed "$SEED" --now "$NOW")
W=$TMP/w
mkdir -p "$W"
printf 'kd-test-secret\n' >"$W/secret"
"$KD_BIN/kd-auc" keys init "$W/auc.keys"
for e in "alice term" "sbc1 proxy" "ss1 switch"; do
  set -- $e
  "$KD_BIN/kd-auc" keys add "$W/auc.keys" --id "$1" --role "$2" --seed 01
  "$KD_BIN/kd-auc" keys export "$W/auc.keys" --id "$1" >"$W/$1.keys"
done

# The same registration up to s3 twice: with the AuC link over RADIUS (SIP signaling) and in JSON.
term() { "$KD_BIN/kd-term" --keys "$W/alice.keys" "${A[@]}" "$@"; }
proxy() { "$KD_BIN/kd-proxy" --id sbc1 --keys "$W/sbc1.keys" "${A[@]}" "$@"; }
switch() { "$KD_BIN/kd-switch" --id ss1 --keys "$W/ss1.keys" "${A[@]}" "$@"; }
auc() { "$KD_BIN/kd-auc" --keys "$W/auc.keys" "${A[@]}" "$@"; }
SIG=(--binding sip) SIP=(--binding sip --radius-secret-file "$W/secret")

term start --id alice --via sbc1 --switch ss1 --state "$W/term.st" "${SIG[@]}" >"$W/s1.sip"
proxy --state "$W/proxy.st" "${SIG[@]}" <"$W/s1.sip" >"$W/s2.sip"
switch --state "$W/switch.st" "${SIP[@]}" <"$W/s2.sip" >"$W/s3.radius"
check "the RADIUS-linked switch sends s3 in RADIUS" eq "$(jq -r .binding "$W/s3.radius")" radius
cp "$W/switch.st" "$W/switch-before-s4.st"
auc --state "$W/auc.st" --binding radius --radius-secret-file "$W/secret" <"$W/s3.radius" >"$W/s4.radius"
check "kd-auc answers the RADIUS s3" eq "$(jq -r .step "$W/s4.radius")" s4
cp "$W/auc.st" "$W/auc-after-s4.st"

# The JSON twins of s3 and s4: the same messages the RADIUS ones carry.
"$KD_BIN/kd-decode" --radius-secret-file "$W/secret" "$W/s3.radius" >"$W/s3.decoded"
json_of() {  # kd-decode's message line back into the tools' JSON form
  jq -c 'select(.step) | {step, flow, to} + .fields' "$1"
}
json_of "$W/s3.decoded" >"$W/s3.json"
check "s3 in JSON form" eq "$(jq -r .step "$W/s3.json")" s3
auc --binding json <"$W/s3.json" >"$W/s4.json" 2>/dev/null
check "a JSON AuC answers the JSON s3 (control)" eq "$(jq -r .step "$W/s4.json")" s4

# refused NAME FILE-BEFORE FILE-AFTER: the last run exited 1 with one malformed error and left
# the state file byte for byte as it was.
refused() {
  [ "$RC" = 1 ] || { WHY="exit $RC, expected 1; stdout: $(head -c 300 "$OUT")"; return 1; }
  eq "$(jq -r 'select(.event == "error") | .code' "$OUT")" malformed || return 1
  [ "$(grep -c '^{"step"' "$OUT")" = 0 ] || { WHY="a message was sent: $(head -c 300 "$OUT")"; return 1; }
  same_file "$1" "$2"
}

# A switch whose AuC link speaks RADIUS refuses a plain JSON s4.
cp "$W/switch-before-s4.st" "$W/sw.st"
runx switch --state "$W/sw.st" "${SIP[@]}" "$W/s4.json"
check "RADIUS-linked kd-switch refuses a JSON s4 (malformed), state unchanged" refused "$W/switch-before-s4.st" "$W/sw.st"
check "the refusal says why" grep -q 'RADIUS' "$ERR"
# ... and the RADIUS s4 itself is accepted (control).
cp "$W/switch-before-s4.st" "$W/sw.st"
runx switch --state "$W/sw.st" "${SIP[@]}" "$W/s4.radius"
check "RADIUS-linked kd-switch accepts the RADIUS s4 (control)" eq "$RC" 0

# An AuC whose link speaks RADIUS refuses a plain JSON s3.
rm -f "$W/a.st"; : >"$W/a-empty.st"; cp "$W/a-empty.st" "$W/a.st"
runx auc --state "$W/a.st" --binding radius --radius-secret-file "$W/secret" "$W/s3.json"
check "RADIUS-linked kd-auc refuses a JSON s3 (malformed), state unchanged" refused "$W/a-empty.st" "$W/a.st"

# A tool started with one binding refuses wire lines of another (kd-proxy --binding json, SIP s1).
: >"$W/p-empty.st"; cp "$W/p-empty.st" "$W/p.st"
runx proxy --state "$W/p.st" "$W/s1.sip"
check "kd-proxy --binding json refuses a SIP wire line (malformed), state unchanged" refused "$W/p-empty.st" "$W/p.st"
# kd-proxy --binding mgcp refuses the SIP one too.
cp "$W/p-empty.st" "$W/p.st"
runx proxy --state "$W/p.st" --binding mgcp "$W/s1.sip"
check "kd-proxy --binding mgcp refuses a SIP wire line (malformed), state unchanged" refused "$W/p-empty.st" "$W/p.st"
# A SIP-bound proxy refuses a JSON s1 (it would print s1's next hop in SIP).
term start --id alice --via sbc1 --switch ss1 >"$W/s1.json"
cp "$W/p-empty.st" "$W/p.st"
runx proxy --state "$W/p.st" --binding sip "$W/s1.json"
check "kd-proxy --binding sip refuses a JSON s1 (malformed), state unchanged" refused "$W/p-empty.st" "$W/p.st"

# With the AuC link in JSON (--auc-link json) the JSON s4 is what it reads, and RADIUS is refused.
switch --state "$W/swj.st" --binding sip --auc-link json <"$W/s2.sip" >/dev/null
cp "$W/swj.st" "$W/swj-before.st"
runx switch --state "$W/swj.st" --binding sip --auc-link json --radius-secret-file "$W/secret" "$W/s4.radius"
check "kd-switch --auc-link json refuses a RADIUS s4 (malformed), state unchanged" refused "$W/swj-before.st" "$W/swj.st"
finish
