#!/usr/bin/env bash
# A service speaking JSON (--binding json) reads a datagram that is not a JSON object as the
# filter reads such a line (kd-live(7), ERRORS): `[]`, `null` or `1` is "a message must be a JSON
# object", code malformed; NUL bytes or other text the JSON parser's own message; after a byte
# order mark, what the filter says of the object (it skips the mark). Trial 7: anything not starting with `{` went to the wire decoders, and the proxy said
# "truncated SIP message: the header section has no end". A SIP message is still named as such.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/live-lib.sh"

live_world "$TMP/w"
serve proxy proxy --binding json --peer switch=udp:127.0.0.1:9 || fail "the proxy serves" "no listening line"

# send_all ADDR FILE...: each file's bytes as one datagram, from one socket, no answer awaited.
send_all() {
  python3 - "$@" <<'PY'
import socket, sys
host, port = sys.argv[1][len("udp:"):].rsplit(":", 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for path in sys.argv[2:]:
    s.sendto(open(path, "rb").read(), (host, int(port)))
PY
}

D=$TMP/d
mkdir "$D"
printf '[]' >"$D/1"
printf 'null' >"$D/2"
printf '1' >"$D/3"
printf '\0\0\0\0' >"$D/4"
printf '\xef\xbb\xbf{"step":"s1"}' >"$D/5"
printf 'hello' >"$D/6"
printf 'REGISTER sip:ss1 SIP/2.0\r\n' >"$D/7"
send_all "$ADDR" "$D"/1 "$D"/2 "$D"/3 "$D"/4 "$D"/5 "$D"/6 "$D"/7
wait_lines "$TMP/proxy.out" '"event":"error"' 7 5

# The error lines in the order sent.
mapfile -t E < <(jq -c 'select(.event == "error") | [.code, .detail]' "$TMP/proxy.out")
check "seven error lines" eq "${#E[@]}" 7
for i in 0 1 2; do
  check "datagram $((i + 1)) (not an object): the JSON filter's message" eq "${E[$i]-}" '["malformed","a message must be a JSON object"]'
done
for i in 3 5; do
  check "datagram $((i + 1)) (not JSON): the JSON parser's message, code malformed" \
    eq "$(jq -r '.[0] + " " + (.[1] | test("JSON") | tostring)' <<<"${E[$i]-[]}")" "malformed true"
  check "datagram $((i + 1)): not read as SIP" eq "$(jq -r '.[1] | test("SIP") | tostring' <<<"${E[$i]-[]}")" false
done
check "datagram 5 (a byte order mark, then an object): what kd-proxy the filter says of that line" \
  eq "${E[4]-}" "$("$KD_BIN/kd-proxy" --id "$PROXY_ID" --keys "$W/$PROXY_ID.keys" <"$D/5" 2>/dev/null | jq -c '[.code, .detail]')"
check "datagram 7 (SIP): not JSON either" eq "$(jq -r '.[1] | test("JSON") | tostring' <<<"${E[6]-[]}")" true
check "stdout is JSON of printable ASCII" bash -c "! LC_ALL=C grep -q '[^[:print:]]' '$TMP/proxy.out'"
stop proxy
check "the proxy stops cleanly (exit 0)" exit_is 0
finish
