#!/usr/bin/env bash
# Security mechanism negotiation: the chooser (proxy, or switch in the direct flow) picks the
# terminal's highest-q mechanism among those it supports (--support), never a forbidden one, the
# earlier on a tie; with nothing acceptable it refuses s7/d5 (no_acceptable_mechanism); a list
# changed on the way is caught by the terminal (mechanism_downgrade).
. "$(dirname "$0")/lib.sh"

# chosen FLOW: the mechanism named by the terminal's and the chooser's events and by s10/d6.
chosen() {
  local edge=proxy fin=s10
  [ "$1" = direct ] && edge=switch fin=d6
  local a b c
  a=$(field "$W/ev-term.json" SecMech) b=$(field "$W/ev-$edge.json" SecMech) c=$(field "$W/$fin.json" SecMech)
  [ "$a" = "$b" ] && [ "$b" = "$c" ] || { echo "disagree:$a/$b/$c"; return; }
  echo "$a"
}

# Base runs: each case starts from their keys (fork at "start") or, when only the chooser's options
# change, from their states just before the answer s7/d5 reaches the chooser.
check "proxied base run completes" world_run "$TMP/base-p" proxied KD-AES128GCM-SHA256
BASE_P=$W
check "direct base run completes" world_run "$TMP/base-d" direct KD-AES128GCM-SHA256
BASE_D=$W
W=$BASE_P
check "the default list tls:0.9,ipsec-3gpp:0.5,kd-app:0.1 gives tls (proxied)" eq "$(chosen proxied)" tls
W=$BASE_D
check "the default list tls:0.9,ipsec-3gpp:0.5,kd-app:0.1 gives tls (direct)" eq "$(chosen direct)" tls

# picks DESCRIPTION FLOW WANT [START-ARGS...]: a registration started with START-ARGS (or, with
# none, the base run's answer given to the chooser with its X* options) completes with WANT.
N=0
picks() {
  local desc=$1 flow=$2 want=$3; shift 3
  N=$((N + 1))
  local ok=0
  if [ "$flow" = proxied ]; then W=$BASE_P; else W=$BASE_D; fi
  if [ $# -gt 0 ]; then
    fork "$TMP/pick-$N" start && drive "$flow" KD-AES128GCM-SHA256 "$@" && ok=1
  else
    local ans=s7; [ "$flow" = direct ] && ans=d5
    fork "$TMP/pick-$N" "$ans" && route "$W/$ans.json" && ok=1
  fi
  if [ $ok = 1 ]; then check "$desc: $want is chosen at both ends" eq "$(chosen "$flow")" "$want"
  else check "$desc: $want is chosen at both ends" false; fi
}

# refuses_list DESCRIPTION FLOW [START-ARGS...]: the chooser refuses the answer, state unchanged.
refuses_list() {
  local desc=$1 flow=$2; shift 2
  N=$((N + 1))
  local ans=s7 role=proxy
  [ "$flow" = direct ] && ans=d5 role=switch
  if [ "$flow" = proxied ]; then W=$BASE_P; else W=$BASE_D; fi
  if [ $# -gt 0 ]; then
    fork "$TMP/pick-$N" start && drive "$flow" KD-AES128GCM-SHA256 "$@"
  else
    fork "$TMP/pick-$N" "$ans" && route "$W/$ans.json"
  fi
  BEFORE=$W/snap/$ans/$role.state AFTER=$W/$role.state
  check "$desc: kd-$role refuses $ans -> no_acceptable_mechanism, state unchanged" \
    eval '[ "$ROUTE_FAILED_STEP" = "$ans" ] && rejects no_acceptable_mechanism'
}

# Under KD_TEST_QUICK the cases marked extra_case take a path of the chooser (flow/policy.cpp,
# which tests/unit/policy_test.cpp runs through every rule) that another case here takes.
refuses_list "--mechs null,none" proxied --mechs null,none
extra_case "--mechs digest:1,tls:0" && refuses_list "--mechs digest:1,tls:0" proxied --mechs digest:1,tls:0
refuses_list "--mechs null,none (direct)" direct --mechs null,none
XPROXY=(--support ipsec-man)
refuses_list "kd-proxy --support ipsec-man with the default list" proxied
XPROXY=()

XPROXY=(--support ipsec-3gpp)
picks "kd-proxy --support ipsec-3gpp" proxied ipsec-3gpp
XPROXY=(--support kd-app,ipsec-3gpp)
extra_case "kd-proxy --support kd-app,ipsec-3gpp (q 0.1 and 0.5)" && picks "kd-proxy --support kd-app,ipsec-3gpp (q 0.1 and 0.5)" proxied ipsec-3gpp
XPROXY=(--support null,tls)
extra_case "--mechs null:1,tls:0.1 and kd-proxy --support null,tls (null is never chosen)" && picks "--mechs null:1,tls:0.1 and kd-proxy --support null,tls (null is never chosen)" proxied tls --mechs null:1,tls:0.1
XPROXY=()
picks "--mechs kd-app:0.2,ipsec-ike:0.8,tls:0.5 (highest q)" proxied ipsec-ike --mechs kd-app:0.2,ipsec-ike:0.8,tls:0.5
extra_case "--mechs ipsec-man:0.5,tls:0.5 (tie: the earlier)" && picks "--mechs ipsec-man:0.5,tls:0.5 (tie: the earlier)" proxied ipsec-man --mechs ipsec-man:0.5,tls:0.5
extra_case "--mechs tls:0,kd-app:0.1 (q 0 is not acceptable)" && picks "--mechs tls:0,kd-app:0.1 (q 0 is not acceptable)" proxied kd-app --mechs tls:0,kd-app:0.1
XSWITCH=(--support kd-app)
picks "kd-switch --support kd-app (direct)" direct kd-app
XSWITCH=()
picks "--mechs ipsec-ike:0.3,ipsec-3gpp:0.7 (direct)" direct ipsec-3gpp --mechs ipsec-ike:0.3,ipsec-3gpp:0.7

# The list goes on the wire as integer thousandths (q 1 when none is given), in the terminal's order.
picks "--mechs tls:0.9,kd-app:0.125,ipsec-ike (no q: 1)" proxied ipsec-ike --mechs tls:0.9,kd-app:0.125,ipsec-ike
check "s7 carries the list as thousandths in the terminal's order" \
  eq "$(list_field "$W/s7.json" SecMechList)" '[{"name":"tls","q":900},{"name":"kd-app","q":125},{"name":"ipsec-ike","q":1000}]'

# A man in the middle changes the list in s7 (the proxy cannot tell); the terminal can.
MITM=$BASE_P
for change in 'map(select(.name != "tls"))' 'map(if .name == "kd-app" then .q = 1000 else . end)'; do
  W=$MITM; fork "$TMP/mitm-$RANDOM" s7
  jq -c ".SecMechList |= $change" "$MITM/s7.json" >"$W/s7.json"
  route "$W/s7.json"
  BEFORE=$W/snap/s10/term.state AFTER=$W/term.state
  check "s7 list changed by '$change': the proxy chooses $(field "$W/s10.json" SecMech), the terminal refuses s10 -> mechanism_downgrade, state unchanged" \
    eval '[ "$ROUTE_FAILED_STEP" = s10 ] && rejects mechanism_downgrade'
done

# Malformed lists and names are usage errors.
W=$MITM
for bad in TLS tls:2 tls:0.1234 tls,tls "" a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q; do
  run term "" "" start --id "$TERM_ID" --via "$PROXY_ID" --switch "$SWITCH_ID" --mechs "$bad"
  check "kd-term start --mechs '$bad' -> exit 2" exit_is 2
done
for bad in 'TLS' 'tls,' 'tls;ipsec'; do
  run proxy "" "$MITM/s1.json" --support "$bad"
  check "kd-proxy --support '$bad' -> exit 2" exit_is 2
done
# Every mechanism-list option reads a list by the same rules (kd-proxy(1), kd-switch(1)): no name
# twice, 1 to 16 names, and the same message as --mechs gives.
support_refused() {  # ROLE LIST MESSAGE
  exit_is 2 || return 1
  eq "$(cat "$ERR")" "kd-$1: --support: $3"$'\n'"$(help_pointer "kd-$1")"
}
sixteen_plus=a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q
run proxy "" "$MITM/s1.json" --support tls,kd-app,tls
check "kd-proxy --support tls,kd-app,tls -> exit 2, a name twice" support_refused proxy x "SecMechList names tls twice"
run proxy "" "$MITM/s1.json" --support "$sixteen_plus"
check "kd-proxy --support with 17 names -> exit 2" support_refused proxy x "SecMechList must hold 1 to 16 mechanisms"
run switch "" "$MITM/s1.json" --support kd-app,kd-app
check "kd-switch --support kd-app,kd-app -> exit 2, a name twice" support_refused switch x "SecMechList names kd-app twice"
run term "" "" start --id "$TERM_ID" --via "$PROXY_ID" --switch "$SWITCH_ID" --mechs tls,kd-app,tls
check "kd-term --mechs tls,kd-app,tls gives the same message" eq "$(head -n 1 "$ERR")" "kd-term: --mechs: SecMechList names tls twice"

finish
