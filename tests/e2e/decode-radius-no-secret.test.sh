#!/bin/bash
# kd-decode without the RADIUS shared secret decodes the AuC link as tshark does: s3, s4 and s11
# (d2, d3, d7) are shown, the hidden Authenticator_c is left out, and what could not be verified
# (the packets' authenticators, the AuC's Authenticator_c) is named on each line, on the
# registration and in the summary, never counted as verified (issue 10 item 16).
source "$(dirname "$0")/lib.sh"
[ -x "$KD_BIN/kd-decode" ] || { echo "$KD_BIN/kd-decode is missing: build first"; exit 1; }

for f in proxied direct; do
  D=$TMP/$f
  "$KD_ROOT/scripts/kd-flow" --bin "$KD_BIN" --dir "$D" --binding sip --flow "$f" --seed "$SEED" --now "$NOW" \
    --pcap-out "$D/flow.pcap" >"$D.out" 2>/dev/null
  check "$f-setup: kd-flow records a registration" test -s "$D/flow.pcap"
  if [ $f = proxied ]; then req=s3 chal=s4 acct=s11 n=11; else req=d2 chal=d3 acct=d7 n=7; fi

  runx "$KD_BIN/kd-decode" "$D/flow.pcap"
  check "$f: exit 0" exit_is 0
  check "$f: $req, $chal and $acct are decoded as RADIUS" \
    eq "$(jq -r 'select(.binding == "radius") | .step' "$OUT" | tr '\n' ' ')" "$req $chal $acct "
  check "$f: nothing is skipped, all $n messages are shown" \
    eq "$(jq -c 'select(.summary) | .summary | [.messages, .skipped, .errors]' "$OUT")" "[$n,0,0]"
  check "$f: $chal leaves the hidden Authenticator_c out" \
    eq "$(jq -c "select(.step == \"$chal\") | .fields | has(\"Authenticator_c\")" "$OUT")" false
  check "$f: $chal names what it could not verify" \
    eq "$(jq -c "select(.step == \"$chal\") | .unverified" "$OUT")" '["radius_authenticators","Authenticator_c"]'
  check "$f: $req and $acct name their unverified authenticators" \
    eq "$(jq -c "select(.step == \"$req\" or .step == \"$acct\") | .unverified" "$OUT" | sort -u)" '["radius_authenticators"]'
  check "$f: the signaling messages have nothing unverified" \
    eq "$(jq -c 'select(.binding == "sip") | select(has("unverified"))' "$OUT" | wc -l)" 0
  # The other fields are those the secret gives (the decoding with the secret is checked against
  # the JSON run in wire-flows-sip.test.sh).
  "$KD_BIN/kd-decode" --radius-secret-file "$D/radius-secret" "$D/flow.pcap" |
    jq -c 'select(.binding == "radius") | {step, fields: (.fields | del(.Authenticator_c))}' >"$D/with-secret"
  jq -c 'select(.binding == "radius") | {step, fields}' "$OUT" >"$D/without-secret"
  check "$f: every other RADIUS field is as the secret decodes it" same_file "$D/without-secret" "$D/with-secret"
  check "$f: the registration completes, naming what was not verified" \
    eq "$(jq -c 'select(.registration) | .registration | [.completed, .unverified]' "$OUT")" \
    '[true,["radius_authenticators","Authenticator_c"]]'
  check "$f: the summary counts the 3 messages with something unverified" \
    eq "$(jq -c 'select(.summary) | .summary.unverified' "$OUT")" 3

  # --check without the secret: the checks that were made passed; the unverified stay unverified.
  runx "$KD_BIN/kd-decode" --check --keys "$D/auc-keys.json" "$D/flow.pcap"
  check "$f-check: --check --keys without the secret exits 0" exit_is 0
  check "$f-check: the AuC's Authenticator_c is not checked (it is hidden)" \
    eq "$(jq -c "select(.step == \"$chal\") | [.checks[]?.check] | index(\"authenticator\")" "$OUT")" null
  check "$f-check: the terminal's Authenticator_c is checked against the keystore" \
    eq "$(jq -c 'select(.checks) | .checks[] | select(.check == "authenticator") | .ok' "$OUT" | sort -u | tr '\n' ' ')" "true "
  runx "$KD_BIN/kd-decode" --keys "$D/auc-keys.json" --radius-secret-file "$D/radius-secret" "$D/flow.pcap"
  check "$f-check: with the secret nothing is unverified" \
    eq "$(jq -c 'select(has("unverified") or (.summary.unverified // 0) > 0 or (.registration.unverified != null))' "$OUT" | wc -l)" 0

  # The ladder shows the AuC link too.
  runx "$KD_BIN/kd-decode" --ladder "$D/flow.pcap"
  check "$f-ladder: one arrow per message" eq "$(grep -cE '^ +\|.*(-->|>\||<-|\|<)' "$OUT")" "$n"
  check "$f-ladder: completed, and says what was not verified" \
    grep -q "== alice ($f): completed; unverified: radius_authenticators, Authenticator_c" "$OUT"

  # A transcript's RADIUS wire lines decode without the secret too.
  runx "$KD_BIN/kd-decode" "$D.out"
  check "$f-lines: the transcript's RADIUS wire lines decode" \
    eq "$(jq -r 'select(.binding == "radius") | .step' "$OUT" | tr '\n' ' ')" "$req $chal $acct "
done

# The role tools never decode RADIUS without the secret.
W=$TMP/w
new_world "$W" >/dev/null 2>&1
jq -c 'select(.step == "s3")' "$TMP/proxied.out" >"$W/s3.line"
run auc "$W/auc.state" "$W/s3.line"
check "role-no-secret: kd-auc without a secret refuses a RADIUS line (exit 1)" exit_is 1
check "role-no-secret: naming the missing secret" grep -q "needs the shared secret" "$ERR"

finish
