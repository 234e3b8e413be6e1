#!/bin/bash
# Bad wire input to the role tools: a SIP line read under another binding, a step hint that lies,
# a truncated message, bad hex; and the AuC refusing a RADIUS packet under the wrong secret
# without printing it, then answering it under the right one.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/wire-lib.sh"

sip_proxied_capture
s1=$(jq -c 'select(.step == "s1")' "$TMP/sip-proxied/out")
W=$TMP/bad
new_world "$W"
printf '%s\n' "$s1" >"$W/s1.line"
run proxy "$W/proxy.state" "$W/s1.line" --binding mgcp
check "wire-err-other-binding: kd-proxy --binding mgcp refuses a sip line" eq "$RC" 1
check "wire-err-other-binding: malformed, naming the binding" grep -q "malformed.*does not read sip" "$ERR"
jq -c '.step = "s7"' <<<"$s1" >"$W/s1-as-s7.line"
run proxy "$W/proxy.state" "$W/s1-as-s7.line" --binding sip
check "wire-err-step-hint: a line whose step hint lies is refused" eq "$RC" 1
check "wire-err-step-hint: malformed" grep -q "error: malformed" "$ERR"
jq -c '.wire = (.wire | .[0:200])' <<<"$s1" >"$W/s1-cut.line"
run proxy "$W/proxy.state" "$W/s1-cut.line" --binding sip
check "wire-err-truncated: a truncated SIP message is refused (exit 1)" eq "$RC" 1
check "wire-err-truncated: no state file is written" eq "$(ls "$W/proxy.state" 2>/dev/null)" ""
jq -c '.wire = "zz"' <<<"$s1" >"$W/s1-hex.line"
run proxy "$W/proxy.state" "$W/s1-hex.line" --binding sip
check "wire-err-bad-hex: exit 1, malformed" eq "$RC:$(grep -c 'error: malformed' "$ERR")" "1:1"

# The AuC refuses a RADIUS packet under the wrong secret, and keeps its state.
s3=$(jq -c 'select(.step == "s3")' "$TMP/sip-proxied/out")
printf '%s\n' "$s3" >"$W/s3.line"
printf 'not-the-secret\n' >"$TMP/wrong-secret"
run auc "$W/auc.state" "$W/s3.line" --radius-secret-file "$TMP/wrong-secret" --binding radius
check "radius-err-wrong-secret: kd-auc refuses s3 (exit 1)" eq "$RC" 1
check "radius-err-wrong-secret: bad_mac" grep -q "error: bad_mac" "$ERR"
check "radius-err-wrong-secret: the secret is not printed" not_contains "$ERR" "not-the-secret"
run auc "$W/auc.state" "$W/s3.line" --radius-secret-file "$TMP/sip-proxied/radius-secret" --binding radius
check "radius: with the right secret kd-auc answers s4 in RADIUS" eq "$RC:$(jq -r .binding "$OUT")" "0:radius"

finish
