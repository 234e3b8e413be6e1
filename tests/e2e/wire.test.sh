#!/bin/bash
# The tools on the wire: complete registrations in every signaling binding (with the AuC link over
# RADIUS) through the real binaries, their captures judged by tshark and verified by kd-decode,
# captures read back by the role tools, and the wire side's bad input.
source "$(dirname "$0")/lib.sh"
[ -x "$KD_BIN/kd-decode" ] || { echo "$KD_BIN/kd-decode is missing: build first"; exit 1; }
command -v tshark >/dev/null || { echo "FAIL: tshark is required (scripts/setup installs it)"; exit 1; }
export HOME=$TMP  # tshark keeps a profile under HOME
FLOW_TOOL=$KD_ROOT/scripts/kd-flow

# flow DIR BINDING FLOW [kd-flow options]: one seeded registration; transcript in DIR/out.
flow() {
  local dir=$1 binding=$2 f=$3; shift 3
  mkdir -p "$dir"
  # One contact for every binding, so that each run carries the JSON run's messages.
  "$FLOW_TOOL" --bin "$KD_BIN" --dir "$dir" --binding "$binding" --flow "$f" --seed "$SEED" --now "$NOW" \
    --contact 127.0.0.1:5060 --show-key "$@" >"$dir/out" 2>"$dir/err"
}

tshark_clean() {  # PCAP
  local bad
  bad=$(tshark -n -r "$1" -Y '_ws.malformed || _ws.expert.severity >= error' 2>"$TMP/tshark.err") ||
    { WHY="tshark failed: $(cat "$TMP/tshark.err")"; return 1; }
  [ -z "$bad" ] || { WHY="tshark: $bad"; return 1; }
}

# The logical messages of a transcript: each message line as kd-decode reads it, fields only.
logical() {  # FILE
  "$KD_BIN/kd-decode" --radius-secret-file "$2" "$1" | jq -c 'select(.step) | {step, fields}'
}

# ---- complete registrations in every binding -------------------------------------------------

for f in proxied direct; do
  flow "$TMP/json-$f" json "$f"
  check "json-$f: the JSON registration completes" eq "$?" 0
  jq -c 'select(.to) | {step, fields: (del(.step, .flow, .to))}' "$TMP/json-$f/out" >"$TMP/json-$f/logical"
done

for b in sip mgcp h248 h323; do
  for f in proxied direct; do
    d=$TMP/$b-$f
    flow "$d" "$b" "$f" --pcap-out "$d/flow.pcap"
    rc=$?
    check "$b-$f: kd-flow --binding $b completes" eq "$rc" 0
    [ $rc = 0 ] || { head -c 600 "$d/err"; continue; }
    want=$([ $f = proxied ] && echo 11 || echo 7)
    check "$b-$f: $want messages printed, each a wire line of $b or radius" \
      eq "$(jq -r 'select(.wire) | .binding' "$d/out" | grep -cE "^($b|radius)$")" "$want"
    check "$b-$f: the AuC link speaks RADIUS" eq "$(jq -r 'select(.wire) | .binding' "$d/out" | grep -c '^radius$')" 3
    check "$b-$f: $want frames in the capture" eq "$(tshark -n -r "$d/flow.pcap" 2>/dev/null | wc -l)" "$want"
    check "$b-$f: tshark finds no malformed packet and no expert error" tshark_clean "$d/flow.pcap"
    check "$b-$f: tshark decodes the AuC link as RADIUS" eq "$(tshark -n -r "$d/flow.pcap" -Y radius 2>/dev/null | wc -l)" 3
    # The wire carries exactly the logical messages of the JSON run (same seed, same clock).
    jq -c 'select(.wire)' "$d/out" >"$d/wire.jsonl"
    "$KD_BIN/kd-decode" --radius-secret-file "$d/radius-secret" "$d/wire.jsonl" |
      jq -c 'select(.step) | {step, fields}' >"$d/logical"
    check "$b-$f: the wire lines decode to the JSON run's messages" same_file "$d/logical" "$TMP/json-$f/logical"
    "$KD_BIN/kd-decode" --radius-secret-file "$d/radius-secret" "$d/flow.pcap" |
      jq -c 'select(.step) | {step, fields}' | sort >"$d/logical-pcap"
    sort "$TMP/json-$f/logical" >"$d/logical-sorted"
    check "$b-$f: the capture decodes to the JSON run's messages" same_file "$d/logical-pcap" "$d/logical-sorted"
    # kd-decode verifies it all with the keystore.
    runx "$KD_BIN/kd-decode" --check --keys "$d/auc-keys.json" --radius-secret-file "$d/radius-secret" "$d/flow.pcap"
    check "$b-$f: kd-decode --check passes" eq "$RC" 0
    check "$b-$f: one registration, completed, no failed check" \
      eq "$(jq -c 'select(.summary) | .summary | [.registrations, .completed, .failed_checks, .errors]' "$OUT")" "[1,1,0,0]"
    check "$b-$f: every check of every message passed" \
      eq "$(jq -c 'select(.checks) | .checks[] | select(.ok | not)' "$OUT" | wc -l)" 0
    check "$b-$f: the verification word, seals and MAC were checked" \
      eq "$(jq -r 'select(.checks) | .checks[].check' "$OUT" | sort -u | grep -cE '^(authenticator|seal|mac)$')" 3
  done
done

# ---- kd-decode finds what is wrong -----------------------------------------------------------

d=$TMP/sip-proxied
if [ -f "$d/flow.pcap" ]; then
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
  # The same capture twice: every nonce and Rand is seen again.
  runx "$KD_BIN/kd-decode" --check --radius-secret-file "$d/radius-secret" "$d/flow.pcap" "$d/flow.pcap"
  check "decode-err-replayed-capture: --check exits 1" eq "$RC" 1
  check "decode-err-replayed-capture: the second registration fails on a replayed nonce" \
    eq "$(jq -r 'select(.registration) | .registration.reason' "$OUT" | sed -n 2p | cut -d: -f1)" "nonce_fresh"
  check "decode-err-replayed-capture: the reused Rand is flagged" \
    eq "$(jq -c 'select(.checks) | .checks[] | select(.check == "rand_fresh" and (.ok | not))' "$OUT" | wc -l)" 1
  # A whole kd-flow transcript (messages and events) is read; the events are skipped, not errors.
  runx "$KD_BIN/kd-decode" --check --radius-secret-file "$d/radius-secret" "$d/out"
  check "decode: a transcript with events passes --check" eq "$RC" 0
  check "decode: its events are counted as skipped" \
    eq "$(jq -c 'select(.summary) | .summary | [.messages, .skipped, .errors]' "$OUT")" "[11,$(grep -c '"event"' "$d/out"),0]"
  # Without --check the same findings exit 0.
  runx "$KD_BIN/kd-decode" --radius-secret-file "$d/radius-secret" "$d/flow.pcap" "$d/flow.pcap"
  check "decode: without --check findings do not change the exit status" eq "$RC" 0
  # Timestamps against the capture's clock: frames claim NOW; a window of 0 still holds them.
  runx "$KD_BIN/kd-decode" --check --skew 0 --radius-secret-file "$d/radius-secret" "$d/flow.pcap"
  check "decode: timestamps equal to the frame time are inside a zero window" eq "$RC" 0
  # Session keys: only with --show-key.
  key=$(jq -r 'select(.event == "registered") | .session_key' "$d/out")
  runx "$KD_BIN/kd-decode" --keys "$d/auc-keys.json" --radius-secret-file "$d/radius-secret" "$d/flow.pcap"
  check "decode: no session key without --show-key" not_contains "$OUT" "$key"
  runx "$KD_BIN/kd-decode" --show-key --keys "$d/auc-keys.json" --radius-secret-file "$d/radius-secret" "$d/flow.pcap"
  check "decode: --show-key prints the session key both ends hold" \
    eq "$(jq -r 'select(.registration) | .registration.session_key' "$OUT")" "$key"
  # The ladder, as text and as SVG.
  runx "$KD_BIN/kd-decode" --ladder --radius-secret-file "$d/radius-secret" "$d/flow.pcap"
  check "decode-ladder: one arrow per message" eq "$(grep -cE '^ +\|.*(-->|>\||<-|\|<)' "$OUT")" 11
  check "decode-ladder: the registration is reported complete" eq "$(grep -c '== alice (proxied): completed' "$OUT")" 1
  runx "$KD_BIN/kd-decode" --ladder-svg "$TMP/l.svg" --radius-secret-file "$d/radius-secret" "$d/flow.pcap"
  check "decode-ladder-svg: an SVG with 11 arrows" \
    eq "$(python3 -c 'import sys,xml.etree.ElementTree as E; r=E.parse(sys.argv[1]).getroot(); print(sum(1 for l in r.iter("{http://www.w3.org/2000/svg}line") if l.get("marker-end")))' "$TMP/l.svg" 2>&1)" 11
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
fi

# ---- the role tools read captures --------------------------------------------------------------

W=$TMP/pcap-in
new_world "$W"
printf 'test-secret\n' >"$W/secret"
XTERM=(--binding sip) XPROXY=(--binding sip) XSWITCH=(--binding sip --radius-secret-file "$W/secret")
run term "$W/term.state" "" start --id "$TERM_ID" --via "$PROXY_ID" --switch "$SWITCH_ID" --pcap-out "$W/t.pcap"
check "pcap-in: kd-term start --pcap-out writes one frame" eq "$RC:$(tshark -n -r "$W/t.pcap" 2>/dev/null | wc -l)" "0:1"
cp -p "$W/t.pcap" "$W/t-copy.pcap"
run term "$W/term.state" "" start --id "$TERM_ID" --via "$PROXY_ID" --switch "$SWITCH_ID" --pcap-out "$W/t-copy.pcap"
check "pcap-in: --pcap-out appends to an existing capture" eq "$(tshark -n -r "$W/t-copy.pcap" 2>/dev/null | wc -l)" 2
run proxy "$W/proxy.state" "$W/t.pcap"
check "pcap-in: kd-proxy reads the terminal's capture" eq "$RC" 0
check "pcap-in: and sends s2 in SIP" eq "$(jq -r '[.binding, .step] | join(" ")' "$OUT")" "sip s2"
cp -p "$W/proxy.state" "$W/proxy.before"
run proxy "$W/proxy.state" "$W/t.pcap"
check "pcap-in-err-replayed: the same capture again is refused" eq "$RC" 1
check "pcap-in-err-replayed: replayed_nonce" grep -q "replayed_nonce" "$ERR"
check "pcap-in-err-replayed: the state file is unchanged" same_file "$W/proxy.state" "$W/proxy.before"
run switch "$W/switch.state" "$W/t.pcap"
check "pcap-in: a capture with nothing for this role is read and noted" eq "$RC:$(grep -c 'for other roles' "$ERR")" "0:1"
check "pcap-in: and nothing is printed" eq "$(wc -c <"$OUT")" 0

# ---- bad wire input and options -------------------------------------------------------------

s1=$(jq -c 'select(.step == "s1")' "$TMP/sip-proxied/out")
W=$TMP/bad
new_world "$W"
XTERM=() XPROXY=() XSWITCH=()
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
run switch "$W/switch.state" "" --binding sip
check "usage-err-no-radius-secret: kd-switch --binding sip without a secret is a usage error" eq "$RC" 2
check "usage-err-no-radius-secret: the message names the option" grep -q -- "--radius-secret-file" "$ERR"
run switch "$W/switch.state" "" --binding sip --auc-link json
check "usage: --auc-link json needs no secret" eq "$RC" 0
run switch "$W/switch.state" "" --binding sip --radius-secret-file "$W/no-such-secret"
check "secret-err-missing: a missing secret file is a file error (exit 3)" eq "$RC" 3
: >"$W/empty-secret"
run switch "$W/switch.state" "" --binding sip --radius-secret-file "$W/empty-secret"
check "secret-err-empty: an empty secret is a file error (exit 3)" eq "$RC:$(grep -c '1 to 128 bytes' "$ERR")" "3:1"
printf 'visible-secret\n' >"$W/open-secret" && chmod 644 "$W/open-secret"
run switch "$W/switch.state" "" --binding sip --radius-secret-file "$W/open-secret"
check "secret: a secret file others can read is used, with a warning" eq "$RC:$(grep -c 'readable by group or others' "$ERR")" "0:1"
check "secret: the warning does not print the secret" not_contains "$ERR" "visible-secret"
run proxy "$W/proxy.state" "" --pcap-out "$W/x.pcap"
check "usage-err-pcap-out-json: --pcap-out without a wire binding is a usage error" eq "$RC" 2
run proxy "$W/proxy.state" "" --binding smtp
check "usage-err-unknown-binding: exit 2" eq "$RC" 2
run proxy "$W/proxy.state" "" --binding sip --addr nobody=1.2.3.4
check "usage-err-addr-role: exit 2" eq "$RC" 2
run proxy "$W/proxy.state" "" --binding sip --addr proxy=1.2.3
check "usage-err-addr-ip: exit 2" eq "$RC" 2

# The AuC refuses a RADIUS packet under the wrong secret, and keeps its state.
s3=$(jq -c 'select(.step == "s3")' "$TMP/sip-proxied/out")
printf '%s\n' "$s3" >"$W/s3.line"
run auc "$W/auc.state" "$W/s3.line" --radius-secret-file "$TMP/wrong-secret" --binding radius
check "radius-err-wrong-secret: kd-auc refuses s3 (exit 1)" eq "$RC" 1
check "radius-err-wrong-secret: bad_mac" grep -q "error: bad_mac" "$ERR"
check "radius-err-wrong-secret: the secret is not printed" not_contains "$ERR" "not-the-secret"
run auc "$W/auc.state" "$W/s3.line" --radius-secret-file "$TMP/sip-proxied/radius-secret" --binding radius
check "radius: with the right secret kd-auc answers s4 in RADIUS" eq "$RC:$(jq -r .binding "$OUT")" "0:radius"

finish
