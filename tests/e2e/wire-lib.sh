# Shared helpers of the wire-*.test.sh scripts (the tools on the wire: SIP, MGCP, H.248, H.323 RAS,
# the AuC link over RADIUS, captures): sourced by them after lib.sh, not a test itself.
[ -x "$KD_BIN/kd-decode" ] || { echo "$KD_BIN/kd-decode is missing: build first"; exit 1; }
export HOME=$TMP  # tshark keeps a profile under HOME
FLOW_TOOL=$KD_ROOT/scripts/kd-flow

need_tshark() {
  command -v tshark >/dev/null || { echo "FAIL: tshark is required (scripts/setup installs it)"; exit 1; }
}

# flow DIR BINDING FLOW [kd-flow options]: one seeded registration; transcript in DIR/out.
flow() {
  local dir=$1 binding=$2 f=$3; shift 3
  mkdir -p "$dir"
  # One contact for every binding, so that each run carries the JSON run's messages.
  "$FLOW_TOOL" --bin "$KD_BIN" --dir "$dir" --binding "$binding" --flow "$f" --seed "$SEED" --now "$NOW" \
    --contact 127.0.0.1:5060 --show-key "$@" >"$dir/out" 2>"$dir/err"
}

# sip_proxied_capture: the proxied SIP registration in $TMP/sip-proxied (out, flow.pcap,
# radius-secret, auc-keys.json), which the decode and bad-input scripts start from. A setup check:
# when it fails, the script's later checks fail too, none is skipped.
sip_proxied_capture() {
  flow "$TMP/sip-proxied" sip proxied --pcap-out "$TMP/sip-proxied/flow.pcap"
  check "setup: kd-flow records a proxied SIP registration" test -s "$TMP/sip-proxied/flow.pcap"
}

tshark_clean() {  # PCAP
  local bad
  bad=$(tshark -n -r "$1" -Y '_ws.malformed || _ws.expert.severity >= error' 2>"$TMP/tshark.err") ||
    { WHY="tshark failed: $(cat "$TMP/tshark.err")"; return 1; }
  [ -z "$bad" ] || { WHY="tshark: $bad"; return 1; }
}

# json_reference FLOW: the seeded JSON registration of FLOW in $TMP/json-FLOW, and its logical
# messages (step and fields, in order) in $TMP/json-FLOW/logical, the reference every binding's
# wire lines and capture must decode to. No logical file when the run fails.
json_reference() {
  local d=$TMP/json-$1
  flow "$d" json "$1" || { rm -f "$d/logical"; return 1; }
  jq -c 'select(.to) | {step, fields: (del(.step, .flow, .to))}' "$d/out" >"$d/logical"
}

# same_as_json FILE FLOW [sorted]: FILE holds the logical messages of the JSON run of FLOW (sorted:
# in any order, as a capture's frames may be).
same_as_json() {
  local ref=$TMP/json-$2/logical
  [ -s "$ref" ] || { WHY="the JSON reference run failed: $(head -c 300 "$TMP/json-$2/err" 2>/dev/null)"; return 1; }
  if [ "${3:-}" = sorted ]; then
    sort "$ref" >"$ref.sorted" && ref=$ref.sorted
  fi
  same_file "$1" "$ref"
}

# binding_flows BINDING: complete registrations of both flows in BINDING (with the AuC link over
# RADIUS) through the real binaries: their wire lines and captures judged by tshark, decoded to
# the JSON run's logical messages and verified by kd-decode with the keystore.
binding_flows() {
  local b=$1 f d rc want
  for f in proxied direct; do
    json_reference "$f"
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
    check "$b-$f: the wire lines decode to the JSON run's messages" same_as_json "$d/logical" "$f"
    "$KD_BIN/kd-decode" --radius-secret-file "$d/radius-secret" "$d/flow.pcap" |
      jq -c 'select(.step) | {step, fields}' | sort >"$d/logical-pcap"
    check "$b-$f: the capture decodes to the JSON run's messages" same_as_json "$d/logical-pcap" "$f" sorted
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
}
