#!/usr/bin/env bash
# Every numeric option of every tool takes decimal digits only, within its documented range: a
# sign, a hex or exponent form, spaces, an empty value or a value past the range is a usage error
# (exit 2, "kd-xxx: --option: ..." naming the range), never a wrapped or capped number; nothing is
# written. An explicitly empty --support is a usage error too, not the default list.
. "$(dirname "$0")/lib.sh"
[ -x "$KD_BIN/kd-decode" ] || { echo "$KD_BIN/kd-decode is missing: build first"; exit 1; }

S=$TMP/usage.state
U64MAX=18446744073709551615
NOWMAX=9223372036854775807  # the largest timestamp (kd-protocol(7), TS1..TS4)

# refused_number DESCRIPTION TOOL OPTION RANGE COMMAND...: the command exits 2, prints nothing on
# stdout, one line on stderr beginning "TOOL: OPTION: " and naming RANGE ("from LO to HI"), and
# creates no state file.
refused_number() {
  local desc=$1 tool=$2 opt=$3 range=$4; shift 4
  rm -f "$S"
  runx "$@" </dev/null
  local errs
  mapfile -t errs <"$ERR"
  check "$desc -> exit 2 naming $opt and its range" eval '
    exit_is 2 && [ ! -s "$OUT" ] && [ ! -e "$S" ] &&
    { [ ${#errs[@]} -eq 2 ] || { WHY="stderr has ${#errs[@]} lines: ${errs[*]:0:3}"; false; }; } &&
    { [ "${errs[1]}" = "$(help_pointer "$tool")" ] || { WHY="no pointer to --help: ${errs[*]:0:3}"; false; }; } &&
    { [[ ${errs[0]} == "$tool: $opt: "*"from $range"* ]] || { WHY="stderr: ${errs[0]}"; false; }; }'
}

BAD=(-1 +5 0x10 1e3 " 5" "5 " "" 1.5 18446744073709551616 99999999999999999999999)

# tool_args TOOL: the arguments a tool needs besides the option under test.
tool_args() {
  case $1 in
    kd-proxy) echo "--id sbc1" ;;
    kd-switch) echo "--id ss1" ;;
    *) echo "" ;;
  esac
}

# bad_forms NAME: every bad form for the first option tried, BAD; for another, the same or, under
# KD_TEST_QUICK, a sign and a value past 64 bits (each option reaches the one decimal parser the
# first option's run takes through every form).
FIRST_BAD=1
bad_forms() {
  BAD_FORMS=("${BAD[@]}")
  if [ $FIRST_BAD = 1 ]; then FIRST_BAD=0; return; fi
  extra_case "$1: $((${#BAD[@]} - 2)) more bad forms" || BAD_FORMS=(-1 18446744073709551616)
}

# each_bad TOOL OPTION RANGE [PREFIX...]: every bad form of OPTION refused by TOOL (PREFIX: a
# subcommand before the option).
each_bad() {
  local tool=$1 opt=$2 range=$3; shift 3
  local v
  bad_forms "$tool${*:+ $*} $opt"
  for v in "${BAD_FORMS[@]}"; do
    # shellcheck disable=SC2046
    refused_number "$tool $* $opt '$v'" "$tool" "$opt" "$range" \
      "$KD_BIN/$tool" $(tool_args "$tool") --state "$S" "$@" "$opt" "$v"
  done
}

for tool in kd-term kd-proxy kd-switch kd-auc; do
  each_bad "$tool" --now "0 to $NOWMAX"
  each_bad "$tool" --skew "0 to $U64MAX"
done
each_bad kd-term --now "0 to $NOWMAX" start --id alice --switch ss1
each_bad kd-term --skew "0 to $U64MAX" start --id alice --switch ss1
each_bad kd-switch --challenge-ttl "0 to $U64MAX"
each_bad kd-switch --lockout "0 to $U64MAX"
each_bad kd-switch --max-attempts "1 to 100"
each_bad kd-auc --challenge-ttl "0 to $U64MAX"
bad_forms "kd-decode --skew"
for v in "${BAD_FORMS[@]}"; do
  refused_number "kd-decode --skew '$v'" kd-decode --skew "0 to $U64MAX" "$KD_BIN/kd-decode" --skew "$v" /dev/null
done
# The option's own value, not the next word, as the issue showed ("--skew -1" switched freshness off).
refused_number "kd-proxy --skew -1 (as two words)" kd-proxy --skew "0 to $U64MAX" \
  "$KD_BIN/kd-proxy" --id sbc1 --state "$S" --skew -1
refused_number "kd-switch --lockout -1 (as two words)" kd-switch --lockout "0 to $U64MAX" \
  "$KD_BIN/kd-switch" --id ss1 --state "$S" --lockout -1

# Just past the ends of the ranges.
refused_number "kd-proxy --now $NOWMAX + 1" kd-proxy --now "0 to $NOWMAX" \
  "$KD_BIN/kd-proxy" --id sbc1 --state "$S" --now 9223372036854775808
refused_number "kd-switch --max-attempts 0" kd-switch --max-attempts "1 to 100" \
  "$KD_BIN/kd-switch" --id ss1 --state "$S" --max-attempts 0
refused_number "kd-switch --max-attempts 101" kd-switch --max-attempts "1 to 100" \
  "$KD_BIN/kd-switch" --id ss1 --state "$S" --max-attempts 101
refused_number "kd-switch --max-attempts 2^32 + 1" kd-switch --max-attempts "1 to 100" \
  "$KD_BIN/kd-switch" --id ss1 --state "$S" --max-attempts 4294967297

# The ends themselves are accepted (an empty input: exit 0, nothing printed).
ends_ok() {  # DESCRIPTION COMMAND...
  local desc=$1; shift
  runx "$@" </dev/null
  check "$desc: accepted" eval 'exit_is 0 && [ ! -s "$ERR" ]'
}
ends_ok "kd-proxy --now 0 --skew 0" "$KD_BIN/kd-proxy" --id sbc1 --now 0 --skew 0
ends_ok "kd-proxy --now $NOWMAX --skew $U64MAX" "$KD_BIN/kd-proxy" --id sbc1 --now "$NOWMAX" --skew "$U64MAX"
ends_ok "kd-switch at the ends of its ranges" "$KD_BIN/kd-switch" --id ss1 --challenge-ttl 0 --lockout "$U64MAX" \
  --max-attempts 100
ends_ok "kd-switch with leading zeros (still decimal)" "$KD_BIN/kd-switch" --id ss1 --max-attempts 007 --skew 0300
ends_ok "kd-auc --challenge-ttl $U64MAX" "$KD_BIN/kd-auc" --challenge-ttl "$U64MAX"
ends_ok "kd-decode --skew $U64MAX" "$KD_BIN/kd-decode" --skew "$U64MAX" /dev/null

# The values reach the role: --skew 10 refuses a TS1 11 s old (and the old wrap of --skew -1 would
# have accepted a TS1 200000000 s old).
check "proxied run to take s1 from" world_run "$TMP/p" proxied KD-AES128GCM-SHA256
P=$W
KNOW=$((NOW + 11)) run proxy "" "$P/s1.json" --skew 10
check "kd-proxy --skew 10: a TS1 11 s old -> stale_timestamp" refused stale_timestamp
KNOW=$((NOW + 200000000)) run proxy "" "$P/s1.json" --skew -1
check "kd-proxy --skew -1 with a TS1 200000000 s old -> exit 2, not accepted" \
  eval 'exit_is 2 && [ ! -s "$OUT" ]'

# kd-decode's checks cap TS + skew as the roles do: the largest --skew accepts every timestamp of a
# capture (it wrapped to TS - 1 and called every one stale).
mkdir -p "$TMP/cap"
"$KD_ROOT/scripts/kd-flow" --bin "$KD_BIN" --dir "$TMP/cap" --binding sip --flow direct --seed "$SEED" --now "$NOW" \
  --pcap-out "$TMP/cap/flow.pcap" >/dev/null 2>&1
runx "$KD_BIN/kd-decode" --check --skew "$U64MAX" --radius-secret-file "$TMP/cap/radius-secret" "$TMP/cap/flow.pcap"
check "kd-decode --check --skew $U64MAX on a complete capture: every check passes" \
  eval 'exit_is 0 && grep -q "\"completed\":1,\"failed_checks\":0" "$OUT" || { WHY="${WHY:-$(tail -c 300 "$OUT")}"; false; }'

# --support: an explicitly empty list is a usage error, not the default list.
for tool in kd-proxy kd-switch; do
  for v in "" ","; do
    rm -f "$S"
    # shellcheck disable=SC2046
    runx "$KD_BIN/$tool" $(tool_args "$tool") --state "$S" --support "$v" <"$P/s1.json"
    check "$tool --support '$v' -> exit 2 naming --support" \
      eval 'exit_is 2 && [ ! -s "$OUT" ] && [ ! -e "$S" ] && grep -q "^$tool: --support: " "$ERR" ||
            { WHY="${WHY:-stderr: $(head -c 200 "$ERR")}"; false; }'
  done
done

finish
