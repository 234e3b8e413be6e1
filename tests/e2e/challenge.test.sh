#!/usr/bin/env bash
# The challenge Rand: single use at the switch (reused_challenge) and at the AuC, a lifetime
# (--challenge-ttl, expired_challenge), a limit on wrong verification words (--max-attempts,
# too_many_attempts) with a lockout (--lockout), and the AuC's record lifetime.
. "$(dirname "$0")/lib.sh"

at() {  # DESCRIPTION ROLE STEP FILE CODE|accepted [ARGS...]
  local desc=$1 role=$2 step=$3 file=$4 want=$5; shift 5
  refeed "$role" "$step" "$file" "$@"
  if [ "$want" = accepted ]; then check "$desc: accepted" accepted
  else check "$desc -> $want, state unchanged" rejects "$want"; fi
}

check "proxied run completes" world_run "$TMP/p" proxied KD-AES128GCM-SHA256
P=$W

# A second use of Rand.
at "s8 replayed to the switch after success" switch end "$P/s8.json" reused_challenge
at "s11 replayed to the AuC" auc end "$P/s11.json" reused_challenge

# Lifetime of a challenge at the switch (default 60 s from the arrival of s4).
KNOW=$((NOW + 60)) at "s8 arriving exactly at the challenge's expiry (now + 60)" switch s8 "$P/s8.json" accepted
KNOW=$((NOW + 61)) at "s8 arriving 61 s after s4" switch s8 "$P/s8.json" expired_challenge
# --challenge-ttl is the switch's when s4 arrives.
W=$P; fork "$TMP/p-ttl" s4
run switch "$W/switch.state" "$W/s4.json" --challenge-ttl 5
check "s4 taken with --challenge-ttl 5: s5 sent" eval 'accepted && out_has_step s5'
snapshot s8
KNOW=$((NOW + 5)) at "--challenge-ttl 5: s8 after 5 s" switch s8 "$W/s8.json" accepted
KNOW=$((NOW + 6)) at "--challenge-ttl 5: s8 after 6 s" switch s8 "$W/s8.json" expired_challenge

# The AuC keeps its record until issue time + its --challenge-ttl + the window (60 + 300).
W=$P
KNOW=$((NOW + 360)) at "s11 reported 360 s after s3" auc s11 "$P/s11.json" accepted
KNOW=$((NOW + 361)) at "s11 reported 361 s after s3 (record expired)" auc s11 "$P/s11.json" unknown_challenge

# Too many wrong verification words: --max-attempts 2.
W=$P; fork "$TMP/p-attempts" s8
XSWITCH=(--max-attempts 2)
flip "$P/s8.json" Authenticator_c >"$TMP/s8-wrong-1.json"
snapshot s8
BEFORE=$W/snap/s8/switch.state AFTER=$W/switch.state
run switch "$W/switch.state" "$TMP/s8-wrong-1.json"
check "--max-attempts 2, first wrong Authenticator_c -> bad_authenticator" refused bad_authenticator
check "--max-attempts 2, first wrong answer: a fresh s3 is requested" out_has_step s3
check "--max-attempts 2, first wrong answer: the state records it" state_changed
out_step s3 >"$W/s3.json"
KSEED=02 run auc "$W/auc.state" "$W/s3.json"   # another seed: the new challenge gets another Rand
out_step s4 >"$W/s4.json"
run switch "$W/switch.state" "$W/s4.json"
check "--max-attempts 2: the new challenge reaches the switch, which sends s5" eval 'accepted && out_has_step s5'
set_field "$W/s8.json" Rand "\"$(field "$W/s4.json" Rand)\"" >"$TMP/s8-new-rand.json"
flip "$TMP/s8-new-rand.json" Authenticator_c >"$TMP/s8-wrong-2.json"
snapshot s8-second
BEFORE=$W/snap/s8-second/switch.state AFTER=$W/switch.state
run switch "$W/switch.state" "$TMP/s8-wrong-2.json"
check "--max-attempts 2, second wrong Authenticator_c -> too_many_attempts" refused too_many_attempts
check "--max-attempts 2, second wrong answer: no new challenge is requested" eq "$(nlines "$OUT")" 1
check "--max-attempts 2, second wrong answer: the state records the lockout" state_changed
snapshot locked
at "a new s2 of the locked-out terminal" switch locked "$W/s2.json" too_many_attempts
KNOW=$((NOW + 300)) at "a new s2 at the end of the lockout (now + 300)" switch locked "$W/s2.json" too_many_attempts
KNOW=$((NOW + 301)) at "a new s2 after the lockout (now + 301)" switch locked "$W/s2.json" accepted
XSWITCH=()

# --lockout sets how long: one wrong answer under --max-attempts 1 --lockout 10.
W=$P; fork "$TMP/p-lockout" s8
XSWITCH=(--max-attempts 1 --lockout 10)
run switch "$W/switch.state" "$TMP/s8-wrong-1.json"
check "--max-attempts 1: the first wrong Authenticator_c -> too_many_attempts" refused too_many_attempts
snapshot locked
KNOW=$((NOW + 10)) at "--lockout 10: a new s2 after 10 s" switch locked "$W/s2.json" too_many_attempts
KNOW=$((NOW + 11)) at "--lockout 10: a new s2 after 11 s" switch locked "$W/s2.json" accepted
XSWITCH=()

# The largest values of the limits must not wrap around (UINT64_MAX seconds means "for ever").
W=$P; fork "$TMP/p-forever" s8
XSWITCH=(--max-attempts 1 --lockout 18446744073709551615)
run switch "$W/switch.state" "$TMP/s8-wrong-1.json"
check "--lockout 18446744073709551615: the wrong answer -> too_many_attempts" refused too_many_attempts
snapshot locked
at "--lockout 18446744073709551615 (for ever): a new s2 right after" switch locked "$W/s2.json" too_many_attempts
XSWITCH=()
W=$P; fork "$TMP/p-ttl-max" s4
run switch "$W/switch.state" "$W/s4.json" --challenge-ttl 18446744073709551615
snapshot s8
at "--challenge-ttl 18446744073709551615 (for ever): s8 at once" switch s8 "$W/s8.json" accepted

# Direct flow.
check "direct run completes" world_run "$TMP/d" direct KD-AES128GCM-SHA256
D=$W
at "d5 replayed to the switch after success" switch end "$D/d5.json" reused_challenge
at "d7 replayed to the AuC" auc end "$D/d7.json" reused_challenge
KNOW=$((NOW + 61)) at "d5 arriving 61 s after d3" switch d5 "$D/d5.json" expired_challenge

finish
