#!/usr/bin/env bash
# A third-party RADIUS client against `kd-auc serve --binding radius`: radclient (FreeRADIUS)
# builds its requests from kd's dictionary (scripts/radius/dictionary.kd) with its own Identifier
# and Request Authenticator, and accepts only answers whose Identifier, Response Authenticator and
# Message-Authenticator are computed over its request (RFC 2865 section 3, RFC 3579 section 3.2,
# RFC 2866): an Access-Challenge to a real s3 (its values taken from a kd-switch s3 through
# kd-decode), an Accounting-Response to the s11 that reports it, an Access-Reject naming the reason
# for a terminal the AuC does not know; and no answer at all to a request whose
# Message-Authenticator does not verify. Under strace(1), it checks that the AuC prints the line of a
# refusal before the refusal leaves.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/live-lib.sh"

command -v radclient >/dev/null || { echo "radclient is required (scripts/test installs freeradius-utils)"; exit 1; }
main_dict=/usr/share/freeradius/dictionary
[ -r "$main_dict" ] || { echo "$main_dict is missing (freeradius-common)"; exit 1; }

live_world "$TMP/w"
mkdir -p "$TMP/raddb"
# shellcheck disable=SC2016  # $INCLUDE is dictionary syntax, not a shell expansion
printf '$INCLUDE %s\n$INCLUDE %s\n' "$main_dict" "$KD_ROOT/scripts/radius/dictionary.kd" >"$TMP/raddb/dictionary"

# radclient_to KIND FILE [SECRET [TRIES]]: radclient sends FILE's request to the AuC (KIND auth or
# acct); output in $OUT and $ERR, exit status in RC.
radclient_to() {
  timeout 30 radclient -d "$TMP/raddb" -S "${3:-$W/secret}" -r "${4:-2}" -t 2 -x -f "$2" "127.0.0.1:$port" "$1" \
    >"$OUT" 2>"$ERR"
  RC=$?
}
# attr NAME: the value radclient printed for attribute NAME of the answer (0x... for octets).
attr() { sed -n "s/^[[:space:]]*$1 = //p" "$OUT" | tr -d '"' | head -n 1; }

# A real s3: kd-term's s1 through kd-proxy and kd-switch (AuC link over RADIUS), read back as its
# logical fields by kd-decode.
kd term "$W/term.state" start --id "$TERM_ID" --via "$PROXY_ID" --switch "$SWITCH_ID" >"$W/s1.json"
kd proxy "$W/proxy.state" <"$W/s1.json" >"$W/s2.json"
kd switch "$W/switch.state" --auc-link radius --radius-secret-file "$W/secret" <"$W/s2.json" >"$W/s3.line"
"$KD_BIN/kd-decode" --radius-secret-file "$W/secret" "$W/s3.line" 2>/dev/null |
  jq -c 'select(.step == "s3") | .fields' >"$W/s3.fields"
check "kd-decode reads kd-switch's s3" json_true "$W/s3.fields" '.IDc == "alice" and .IDsp == "sbc1"'
field() { jq -r ".$1" "$W/s3.fields"; }
cat >"$TMP/s3.request" <<REQ
User-Name = "$(field IDc)"
NAS-Identifier = "$(field IDsp)"
Service-Type = Authenticate-Only
KD-Suite = "$(field suite)"
KD-IDsp = "$(field IDsp)"
Message-Authenticator = 0x00
REQ
sed 's/^User-Name = .*/User-Name = "carol"/' "$TMP/s3.request" >"$TMP/carol.request"
# radclient counts any answer but an Access-Accept as a failure unless told what to expect.
echo 'Response-Packet-Type = Access-Challenge' >>"$TMP/s3.request"

serve auc auc --binding radius --radius-secret-file "$W/secret" || fail "kd-auc serve starts"
port=${ADDR##*:}

# s3 -> s4: the Access-Challenge answers radclient's own request.
radclient_to auth "$TMP/s3.request"
check "radclient sent an Access-Request" grep -q 'Sent Access-Request' "$OUT"
check "radclient accepts the Access-Challenge (exit 0)" eq "$RC" 0
check "radclient got an Access-Challenge" grep -q 'Received Access-Challenge' "$OUT"
rand=$(attr KD-Rand)
check "the challenge carries KD-Rand (16 bytes)" is_hex_len "${rand#0x}" 32
auth_c=$(attr KD-Authenticator-C)
check "radclient unhides KD-Authenticator-C under its own Request Authenticator" \
  is_hex_len "${auth_c#0x}" $((2 * $(auth_len "$(field suite)")))
check "the challenge carries KD-EKc" is_hex_len "$(attr KD-EKc | sed 's/^0x//')" $((2 * $(sealed_len "$(field suite)")))
check "the challenge carries KD-EKsp" is_hex_len "$(attr KD-EKsp | sed 's/^0x//')" $((2 * $(sealed_len "$(field suite)")))
check "radclient did not complain" not_contains "$ERR" "nvalid"

# s11 -> Accounting-Response: the report of that challenge, recorded.
cat >"$TMP/s11.request" <<REQ
User-Name = "$(field IDc)"
NAS-Identifier = "$(field IDsp)"
Acct-Status-Type = Start
Acct-Session-Id = "${rand#0x}"
KD-Suite = "$(field suite)"
KD-IDsp = "$(field IDsp)"
KD-Rand = $rand
KD-IPc = "192.0.2.7:5060"
Message-Authenticator = 0x00
REQ
radclient_to acct "$TMP/s11.request"
check "radclient accepts the Accounting-Response (exit 0)" eq "$RC" 0
check "radclient got an Accounting-Response" grep -q 'Received Accounting-Response' "$OUT"
check "the AuC recorded the registration" \
  grep -q '"event":"registration-recorded".*"IDc":"alice".*192.0.2.7:5060' "$TMP/auc.out"

# An unknown terminal: an Access-Reject naming the reason.
radclient_to auth "$TMP/carol.request"
check "radclient accepts the Access-Reject" grep -q 'Received Access-Reject' "$OUT"
check "the reject names kd's reason" grep -q 'Reply-Message = "kd: unknown_identity"' "$OUT"
check "the AuC printed the refusal as an error line" grep -q '"event":"error","code":"unknown_identity"' "$TMP/auc.out"
check "radclient did not complain" not_contains "$ERR" "nvalid"

# Signed under another secret, the Message-Authenticator does not verify: the AuC drops the
# request (RFC 3579 section 3.2) and radclient times out.
printf 'not-the-secret\n' >"$TMP/other-secret"
errors_before=$(grep -c '"code":"bad_mac"' "$TMP/auc.out")
radclient_to auth "$TMP/s3.request" "$TMP/other-secret" 1
check "no answer to a wrong Message-Authenticator (radclient times out)" grep -q 'No reply from server' "$ERR" "$OUT"
check "radclient received nothing" not_contains "$OUT" 'Received'
check "radclient had nothing to verify" not_contains "$ERR" 'verification failed'
check "the AuC printed the refusal as a bad_mac error line" eq "$(grep -c '"code":"bad_mac"' "$TMP/auc.out")" $((errors_before + 1))
# Without a Message-Authenticator, nothing proves the client holds the secret: dropped as well.
grep -v '^Message-Authenticator' "$TMP/s3.request" >"$TMP/unsigned.request"
radclient_to auth "$TMP/unsigned.request" "$W/secret" 1
check "no answer to a request without Message-Authenticator" not_contains "$OUT" 'Received'
check "the AuC printed it as a missing_field error line" \
  grep -q '"event":"error","code":"missing_field".*no Message-Authenticator' "$TMP/auc.out"

# A service prints an answer's event line before the answer leaves (kd-live(7), OUTPUT), so a
# script that has the answer finds the line: with every write(2) of kd-auc held 300 ms by strace,
# the error line of a refusal is in auc.out as soon as radclient has the Access-Reject (a service
# that sent first left the line 300 ms behind the answer).
if command -v strace >/dev/null && strace -qq -e trace=none true 2>/dev/null; then
  pid=$(pgrep -P "${LIVE_PID[auc]}" | head -n 1)  # the service, under timeout(1)
  # -p of the process attaches each of its threads (the loop's, the sync's)
  strace -f -qq -o /dev/null -e trace=write -e inject=write:delay_enter=300000 -p "$pid" 2>"$TMP/strace.err" &
  tracer=$!
  sleep 1  # attached
  for i in 1 2 3; do
    sleep 0.5  # the last refusal's line, if it was held, is out
    lines_before=$(grep -c '"code":"unknown_identity"' "$TMP/auc.out")
    radclient_to auth "$TMP/carol.request"
    lines_after=$(grep -c '"code":"unknown_identity"' "$TMP/auc.out")
    check "refusal $i: the Access-Reject came" grep -q 'Received Access-Reject' "$OUT"
    check "refusal $i: its error line was printed before it left" eq "$lines_after" $((lines_before + 1))
  done
  kill -INT "$tracer" 2>/dev/null
  wait "$tracer" 2>/dev/null
else
  echo "skip  no usable strace: the order of lines and answers is not checked"
fi

stop auc
check "kd-auc serve stops with status 0" eq "$RC" 0
finish
