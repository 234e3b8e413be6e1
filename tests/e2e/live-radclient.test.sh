#!/usr/bin/env bash
# A third-party RADIUS client against `kd-auc serve --binding radius`: radclient (FreeRADIUS)
# builds an Access-Request from kd's dictionary (scripts/radius/dictionary.kd) and gets an answer,
# here an Access-Reject naming the reason (carol is not in the AuC's keystore), whose authenticators
# radclient checks under the shared secret.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/live-lib.sh"

command -v radclient >/dev/null || { echo "radclient is required (scripts/test installs freeradius-utils)"; exit 1; }
main_dict=/usr/share/freeradius/dictionary
[ -r "$main_dict" ] || { echo "$main_dict is missing (freeradius-common)"; exit 1; }

live_world "$TMP/w"
mkdir -p "$TMP/raddb"
# shellcheck disable=SC2016  # $INCLUDE is dictionary syntax, not a shell expansion
printf '$INCLUDE %s\n$INCLUDE %s\n' "$main_dict" "$KD_ROOT/scripts/radius/dictionary.kd" >"$TMP/raddb/dictionary"
cat >"$TMP/request" <<REQ
User-Name = "carol"
NAS-Identifier = "$SWITCH_ID"
Service-Type = Authenticate-Only
KD-Suite = "KD-AES128GCM-SHA256"
KD-IDsp = "$PROXY_ID"
Message-Authenticator = 0x00
REQ

serve auc auc --binding radius --radius-secret-file "$W/secret" || fail "kd-auc serve starts"
port=${ADDR##*:}
timeout 20 radclient -d "$TMP/raddb" -S "$W/secret" -r 2 -t 2 -x -f "$TMP/request" "127.0.0.1:$port" auth \
  >"$OUT" 2>"$ERR"
check "radclient sent an Access-Request" grep -q 'Sent Access-Request' "$OUT"
check "radclient got an Access-Reject it verified" grep -q 'Received Access-Reject' "$OUT"
check "the reject names kd's reason" grep -q 'Reply-Message = "kd: unknown_identity"' "$OUT"
check "the AuC printed the refusal as an error line" grep -q '"event":"error","code":"unknown_identity"' "$TMP/auc.out"
check "radclient did not complain" not_contains "$ERR" "invalid"

# Another secret: kd cannot verify the request, and radclient cannot verify kd's answer.
printf 'not-the-secret\n' >"$TMP/other-secret"
timeout 20 radclient -d "$TMP/raddb" -S "$TMP/other-secret" -r 1 -t 1 -x -f "$TMP/request" "127.0.0.1:$port" auth \
  >"$OUT" 2>"$ERR"
check "under another secret radclient accepts no answer" not_contains "$OUT" 'Received Access-Reject'

stop auc
check "kd-auc serve stops with status 0" eq "$RC" 0
finish
