#!/usr/bin/env bash
# Both flows x every suite, through scripts/kd-flow and through the step-by-step driver of lib.sh:
# the registration completes, both ends hold the same session key of the suite's length, the AuC
# records it, every message has its envelope and the suite's field sizes, and no key is printed
# without --show-key.
. "$(dirname "$0")/lib.sh"

# recipient STEP: the role a step goes to (kd-protocol(7), THE TWO FLOWS).
recipient() {
  case $1 in
    s1 | s5 | s7 | s9) echo proxy ;;
    s2 | s4 | s8 | d1 | d3 | d5) echo switch ;;
    s3 | s11 | d2 | d7) echo auc ;;
    s6 | s10 | d4 | d6) echo term ;;
  esac
}
steps_of() { if [ "$1" = proxied ]; then echo s1 s2 s3 s4 s5 s6 s7 s8 s9 s10 s11; else echo d1 d2 d3 d4 d5 d6 d7; fi; }

# every_step FLOW SUITE: each message of the flow was sent once, with its flow, recipient and suite.
every_step() {
  local s f
  for s in $(steps_of "$1"); do
    f=$W/$s.json
    [ -s "$f" ] || { WHY="no $s was sent"; return 1; }
    [ "$(field "$f" flow) $(field "$f" to) $(field "$f" suite)" = "$1 $(recipient "$s") $2" ] ||
      { WHY="$s has the wrong envelope or suite: $(head -c 200 "$f")"; return 1; }
  done
}

# compact_envelope: every message line of the transcript starts with step, flow, to, in that order.
compact_envelope() {
  local bad
  bad=$(grep -v '^{"event":' "$W/transcript" |
    grep -Ecv '^\{"step":"[sd][0-9]+","flow":"(proxied|direct)","to":"(term|proxy|switch|auc)",')
  [ "$bad" -eq 0 ] || { WHY="$bad lines do not start with step, flow, to"; return 1; }
}

# field_len STEP FIELD NDIGITS
field_len() { is_hex_len "$(field "$W/$1.json" "$2")" "$3"; }

no_session_key() { not_contains "$1" session_key; }

for suite in "${SUITES[@]}"; do
  kl=$(key_len "$suite") ml=$(mac_len "$suite") al=$(auth_len "$suite") sl=$(sealed_len "$suite")
  for flow in "${FLOWS[@]}"; do
    tag="$flow $suite"
    # Each suite once and each flow in the first suite: the other suites' runs of a flow repeat
    # its code paths with other crypto, which vectors-library checks in process.
    [ "$suite" = "${SUITES[0]}" ] || [ "$flow" = "${FLOWS[0]}" ] || extra_case "$tag" || continue

    # --- through scripts/kd-flow --------------------------------------------------------------
    runx "$KD_ROOT/scripts/kd-flow" --bin "$KD_BIN" --flow "$flow" --suite "$suite" --seed "$SEED" --now "$NOW" --show-key
    cp "$OUT" "$TMP/flow.out"
    check "kd-flow $tag: the registration completes (exit 0)" exit_is 0
    grep '"event":"registered"' "$TMP/flow.out" >"$TMP/flow.term"
    grep '"event":"key-established"' "$TMP/flow.out" >"$TMP/flow.edge"
    tk=$(field "$TMP/flow.term" session_key) ek=$(field "$TMP/flow.edge" session_key)
    check "kd-flow $tag: terminal and $([ "$flow" = proxied ] && echo proxy || echo switch) hold the same session key" eq "$tk" "$ek"
    check "kd-flow $tag: the session key is $((2 * kl)) hex digits" is_hex_len "$tk" $((2 * kl))
    if [ "$suite" = "${SUITES[0]}" ]; then
      runx "$KD_ROOT/scripts/kd-flow" --bin "$KD_BIN" --flow "$flow" --suite "$suite" --seed "$SEED" --now "$NOW"
      check "kd-flow $tag: without --show-key it completes and prints no session_key" \
        eval '[ $RC -eq 0 ] && grep -q "\"event\":\"registered\"" "$OUT" && no_session_key "$OUT"'
    fi

    # --- one message at a time ------------------------------------------------------------------
    check "driver $tag: the registration completes one message at a time" world_run "$TMP/$flow-$suite" "$flow" "$suite"
    check "driver $tag: every step of the flow was sent with its flow, recipient and suite" every_step "$flow" "$suite"
    check "driver $tag: every message line starts with step, flow, to" compact_envelope
    if [ "$flow" = proxied ]; then edge=proxy fin=s10 ans=s7 chal=s6 vec=s4 rep=s11 peer=EKsp
    else edge=switch fin=d6 ans=d5 chal=d4 vec=d3 rep=d7 peer=EKss; fi
    tk=$(field "$W/ev-term.json" session_key)
    ek=$(field "$W/ev-$edge.json" session_key)
    check "driver $tag: kd-term prints registered and kd-$edge key-established" \
      eq "$(field "$W/ev-term.json" event) $(field "$W/ev-$edge.json" event)" "registered key-established"
    check "driver $tag: both ends hold the same session key" eq "$tk" "$ek"
    check "driver $tag: the session key is $((2 * kl)) hex digits" is_hex_len "$tk" $((2 * kl))
    check "driver $tag: the AuC prints registration-recorded for $rep" \
      eq "$(field "$W/ev-auc.json" event) $(field "$W/ev-auc.json" step) $(field "$W/ev-auc.json" IDc)" "registration-recorded $rep $TERM_ID"
    check "driver $tag: the MAC of $fin is $ml bytes" field_len "$fin" MAC $((2 * ml))
    check "driver $tag: Authenticator_c of $vec and $ans is $al bytes" \
      eval 'field_len "$vec" Authenticator_c $((2 * al)) && field_len "$ans" Authenticator_c $((2 * al))'
    check "driver $tag: EKc and $peer are sealed keys of $sl bytes" \
      eval 'field_len "$vec" EKc $((2 * sl)) && field_len "$vec" "$peer" $((2 * sl)) && field_len "$fin" EKc $((2 * sl))'
    check "driver $tag: N1, N2 and Rand are 16 bytes" \
      eval 'field_len "$chal" N1 32 && field_len "$chal" N2 32 && field_len "$chal" Rand 32 && field_len "$fin" N2 32'
    check "driver $tag: $fin echoes the SecMechList of $ans" \
      eq "$(list_field "$W/$fin.json" SecMechList)" "$(list_field "$W/$ans.json" SecMechList)"
    check "driver $tag: the default mechanisms give tls at both ends" \
      eq "$(field "$W/ev-term.json" SecMech) $(field "$W/ev-$edge.json" SecMech) $(field "$W/$fin.json" SecMech)" "tls tls tls"
  done
done

# Without --show-key no tool prints the key.
SHOW_KEY=0
for flow in "${FLOWS[@]}"; do
  check "driver $flow without --show-key: completes" world_run "$TMP/nokey-$flow" "$flow" KD-AES128GCM-SHA256
  check "driver $flow without --show-key: no output line contains session_key" no_session_key "$W/transcript"
done
SHOW_KEY=1

# A NAT in front of the proxy: --source replaces IPc for the switch and the AuC, not for the terminal.
src=203.0.113.7:40112
XPROXY=(--source "$src")
check "proxied with kd-proxy --source: completes" world_run "$TMP/nat" proxied KD-AES128GCM-SHA256 --contact 10.0.0.2:5060
XPROXY=()
check "proxied with kd-proxy --source: s1 carries the terminal's own IPc" eq "$(field "$W/s1.json" IPc)" 10.0.0.2:5060
check "proxied with kd-proxy --source: s2, s8 and s11 carry the observed address" \
  eq "$(field "$W/s2.json" IPc) $(field "$W/s8.json" IPc) $(field "$W/s11.json" IPc)" "$src $src $src"
check "proxied with kd-proxy --source: the AuC records the observed address" eq "$(field "$W/ev-auc.json" IPc)" "$src"
check "proxied with kd-proxy --source: the terminal's event keeps its own contact" eq "$(field "$W/ev-term.json" IPc)" 10.0.0.2:5060

finish
