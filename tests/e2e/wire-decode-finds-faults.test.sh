#!/bin/bash
# kd-decode finds what is wrong in a proxied SIP capture: keys of another world, the same capture
# twice (replayed nonces and Rand), the RADIUS frames under the wrong secret, a truncated file;
# and without --check its findings do not change the exit status.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/wire-lib.sh"

sip_proxied_capture
d=$TMP/sip-proxied

# Keys of another world: the verification word and the seals no longer check.
mkdir -p "$TMP/other"
"$KD_BIN/kd-auc" keys init "$TMP/other/keys.json" >/dev/null
for e in "$TERM_ID term" "$PROXY_ID proxy" "$SWITCH_ID switch"; do
  set -- $e
  "$KD_BIN/kd-auc" keys add "$TMP/other/keys.json" --id "$1" --role "$2" --seed 02
done
runx "$KD_BIN/kd-decode" --check --keys "$TMP/other/keys.json" --radius-secret-file "$d/radius-secret" "$d/flow.pcap"
check "decode-err-wrong-keys: --check exits 1" eq "$RC" 1
check "decode-err-wrong-keys: the registration stops on the verification word" \
  eq "$(jq -r 'select(.registration) | .registration.reason' "$OUT" | cut -d: -f1)" "authenticator"
# The same capture again, 100 s later (a replay, not retransmissions): every nonce and Rand is seen again.
pcap_later "$d/flow.pcap" "$TMP/later.pcap" 100
runx "$KD_BIN/kd-decode" --check --radius-secret-file "$d/radius-secret" "$d/flow.pcap" "$TMP/later.pcap"
check "decode-err-replayed-capture: --check exits 1" eq "$RC" 1
check "decode-err-replayed-capture: the second registration fails on a replayed nonce" \
  eq "$(jq -r 'select(.registration) | .registration.reason' "$OUT" | sed -n 2p | cut -d: -f1)" "nonce_fresh"
check "decode-err-replayed-capture: the reused Rand is flagged" \
  eq "$(jq -c 'select(.checks) | .checks[] | select(.check == "rand_fresh" and (.ok | not))' "$OUT" | wc -l)" 1
# Without --check the same findings exit 0.
runx "$KD_BIN/kd-decode" --radius-secret-file "$d/radius-secret" "$d/flow.pcap" "$TMP/later.pcap"
check "decode: without --check findings do not change the exit status" eq "$RC" 0
# A RADIUS frame decoded with the wrong secret: a specific error, counted.
printf 'not-the-secret\n' >"$TMP/wrong-secret"
runx "$KD_BIN/kd-decode" --check --radius-secret-file "$TMP/wrong-secret" "$d/flow.pcap"
check "decode-err-wrong-radius-secret: exit 1" eq "$RC" 1
check "decode-err-wrong-radius-secret: the 3 RADIUS frames fail with bad_mac" \
  eq "$(jq -r 'select(.error) | .error.code' "$OUT" | sort | uniq -c | tr -s ' ')" " 3 bad_mac"
# A truncated capture: what was read is printed, then a file error.
size=$(stat -c %s "$d/flow.pcap")
head -c $((size - 7)) "$d/flow.pcap" >"$TMP/cut.pcap"
runx "$KD_BIN/kd-decode" --radius-secret-file "$d/radius-secret" "$TMP/cut.pcap"
check "decode-err-truncated-pcap: exit 3" eq "$RC" 3
check "decode-err-truncated-pcap: the frames before it are printed" eq "$(grep -c '"step"' "$OUT")" 10
check "decode-err-truncated-pcap: stderr says the capture is truncated" grep -qi "truncated" "$ERR"

finish
