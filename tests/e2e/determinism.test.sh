#!/usr/bin/env bash
# --seed and --now make a run reproducible byte for byte; another seed, another clock or no seed
# changes it; what each role draws differs from what the others draw (no N1/N1'/N2 collision);
# and the seeded run is the worked example of kd-protocol(7).
. "$(dirname "$0")/lib.sh"

messages_of() { grep -v '^{"event":' "$1" | LC_ALL=C sort; }

for flow in "${FLOWS[@]}"; do
  # What is drawn, and from what, is the same code in both flows (each role's draws, the seed, the
  # clock); under KD_TEST_QUICK the first flow alone (flows.test.sh runs each flow's steps).
  [ "$flow" = "${FLOWS[0]}" ] || extra_case "$flow: seeded runs" || continue
  w1=$TMP/$flow-1 w2=$TMP/$flow-2 w3=$TMP/$flow-seed02
  check "$flow: a first seeded run completes" world_run "$w1" "$flow" KD-AES128GCM-SHA256
  check "$flow: a second run with the same seed and --now completes" world_run "$w2" "$flow" KD-AES128GCM-SHA256
  check "$flow: the two transcripts are byte-identical" same_file "$w1/transcript" "$w2/transcript"
  for r in term proxy switch auc; do
    [ "$flow" = direct ] && [ $r = proxy ] && continue
    check "$flow: the two runs leave byte-identical $r state files" same_file "$w1/$r.state" "$w2/$r.state"
  done
  SEED=02
  check "$flow: a run with another seed completes" world_run "$w3" "$flow" KD-AES128GCM-SHA256
  SEED=01
  check "$flow: another seed gives another transcript" eval '! cmp -s "$w1/transcript" "$w3/transcript"'
  if [ "$flow" = proxied ]; then first=s1 chal=s6 ans=s7 fin=s10 vec=s4; else first=d1 chal=d4 ans=d5 fin=d6 vec=d3; fi
  check "$flow: another seed gives another N1 in $first" ne "$(field "$w1/$first.json" N1)" "$(field "$w3/$first.json" N1)"
  check "$flow: another seed gives another Rand in $vec" ne "$(field "$w1/$vec.json" Rand)" "$(field "$w3/$vec.json" Rand)"
  check "$flow: N1 of $first and N1' of $ans differ" ne "$(field "$w1/$first.json" N1)" "$(field "$w1/$ans.json" N1)"
  check "$flow: N2 of $chal and N2' of $fin differ" ne "$(field "$w1/$chal.json" N2)" "$(field "$w1/$fin.json" N2)"
  check "$flow: the terminal's N1' differs from the N2 it answers" ne "$(field "$w1/$ans.json" N1)" "$(field "$w1/$ans.json" N2)"

  # scripts/kd-flow: the same bytes twice, and the same messages as the step-by-step driver.
  runx "$KD_ROOT/scripts/kd-flow" --bin "$KD_BIN" --flow "$flow" --seed "$SEED" --now "$NOW"
  cp "$OUT" "$TMP/kdflow-1"
  runx "$KD_ROOT/scripts/kd-flow" --bin "$KD_BIN" --flow "$flow" --seed "$SEED" --now "$NOW"
  check "$flow: kd-flow prints byte-identical transcripts twice" same_file "$TMP/kdflow-1" "$OUT"
  messages_of "$TMP/kdflow-1" >"$TMP/kdflow-msgs"
  messages_of "$w1/transcript" >"$TMP/driver-msgs"
  check "$flow: kd-flow and the step-by-step driver send the same messages" same_file "$TMP/kdflow-msgs" "$TMP/driver-msgs"
done

# The clock is part of what is drawn from: another --now, another N1.
W=$TMP/proxied-1
run term "" "" start --id "$TERM_ID" --via "$PROXY_ID" --switch "$SWITCH_ID"
cp "$OUT" "$TMP/start-now"
KNOW=$((NOW + 1)) run term "" "" start --id "$TERM_ID" --via "$PROXY_ID" --switch "$SWITCH_ID"
check "start with another --now sets TS1 and draws another N1" \
  eval '[ "$(field "$OUT" TS1)" = $((NOW + 1)) ] && [ "$(field "$OUT" N1)" != "$(field "$TMP/start-now" N1)" ]'
check "start with the same seed and --now prints the same s1 as the run" same_file "$TMP/start-now" "$W/s1.json"

# Without --seed the operating system's randomness is used: two starts differ.
runx "$KD_BIN/kd-term" --keys "$W/$TERM_ID.keys" --now "$NOW" start --id "$TERM_ID" --via "$PROXY_ID" --switch "$SWITCH_ID"
cp "$OUT" "$TMP/os-1"
runx "$KD_BIN/kd-term" --keys "$W/$TERM_ID.keys" --now "$NOW" start --id "$TERM_ID" --via "$PROXY_ID" --switch "$SWITCH_ID"
check "without --seed two starts draw different N1" ne "$(field "$TMP/os-1" N1)" "$(field "$OUT" N1)"

# The worked example of kd-protocol(7): kd-flow --seed 01 --now 1700000000, keys added with --seed 01.
# The values were recomputed from the page's formulas with Python's hashlib, hmac and cryptography.
check "worked example: Kc of alice from keys add --seed 01" \
  eq "$(jq -r '.entities[] | select(.id == "alice") | .key' "$W/auc.keys")" 18ac85711f1683b98892aef0cf49cce3384a773783545d4ef11fb782b15363be
check "worked example: N1 of s1" eq "$(field "$W/s1.json" N1)" 424e748f197126394febf82cff0d7061
check "worked example: Rand of s4" eq "$(field "$W/s4.json" Rand)" 14dcac2cadd70594d357eb75ac6c0b3a
check "worked example: the s6 line" eq "$(<"$W/s6.json")" \
  '{"step":"s6","flow":"proxied","to":"term","suite":"KD-AES128GCM-SHA256","IDc":"alice","IDsp":"sbc1","N1":"424e748f197126394febf82cff0d7061","N2":"c253d286946fa988f2182ef997e46983","TS2":1700000000,"Rand":"14dcac2cadd70594d357eb75ac6c0b3a","SecMechReq":true}'
check "worked example: the session key K" eq "$(field "$W/ev-term.json" session_key)" 9404301a4f874d88bf58c51012285426

finish
