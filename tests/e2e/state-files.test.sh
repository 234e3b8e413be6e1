#!/usr/bin/env bash
# State files: created only when the state changes, mode 0600, replaced atomically (no temporary
# left, a refused input does not even rewrite the file), an empty file starts empty; and secrets:
# no long-term key ever appears in any output or state file, no session key in any state file.
. "$(dirname "$0")/lib.sh"

COLLECT=1  # every output of every run goes to $TMP/all-output for the scans at the end
mode() { stat -c %a "$1"; }
inode() { stat -c %i "$1"; }

# Full runs of both flows, with --show-key, and a few refusals, to have something to scan.
check "proxied run completes" world_run "$TMP/p" proxied KD-AES256GCM-SHA384
P=$W
check "direct run completes" world_run "$TMP/d" direct KD-SM4GCM-SM3
D=$W

for w in "$P" "$D"; do
  flow=$(basename "$w")
  roles="term proxy switch auc"; [ "$w" = "$D" ] && roles="term switch auc"
  for r in $roles; do
    check "$flow: the $r state file exists with mode 0600" eval '[ -e "$w/$r.state" ] && eq "$(mode "$w/$r.state")" 600'
    check "$flow: the $r state file says it is the $r's" \
      eq "$(jq -r '"\(.kd_state) \(.role)"' "$w/$r.state" 2>/dev/null)" "1 $r"
    check "$flow: the $r lock file has mode 0600" eq "$(mode "$w/$r.state.lock" 2>/dev/null)" 600
  done
  check "$flow: no temporary file (*.tmp.*) is left" eval '[ -z "$(find "$w" -name "*.tmp.*")" ]'
done

# A first input that is refused leaves no file behind.
W=$P
nofile() {  # DESCRIPTION ROLE FILE CODE [ARGS...]
  local desc=$1 role=$2 file=$3 code=$4; shift 4
  local st=$TMP/fresh.$role.state
  rm -f "$st"
  run "$role" "$st" "$file" "$@"
  check "$desc: refused ($code) and no state file is created" eval 'refused "$code" && [ ! -e "$st" ]'
}
KNOW=$((NOW + 301)) nofile "a stale s1 to a new kd-proxy state" proxy "$P/s1.json" stale_timestamp
nofile "s6 to a new kd-term state" term "$P/s6.json" unexpected_message
nofile "s8 to a new kd-switch state" switch "$P/s8.json" unexpected_message
set_field "$P/s3.json" IDc '"mallory"' >"$TMP/s3-unknown.json"
nofile "s3 for an unknown terminal to a new kd-auc state" auc "$TMP/s3-unknown.json" unknown_identity
rm -f "$TMP/fresh.proxy.state"
run proxy "$TMP/fresh.proxy.state" ""
check "no input: no state file is created" eval 'exit_is 0 && [ ! -e "$TMP/fresh.proxy.state" ]'
run proxy "$TMP/fresh.proxy.state" "$P/s1.json"
check "an accepted first input creates the state file with mode 0600" \
  eval 'accepted && [ -e "$TMP/fresh.proxy.state" ] && eq "$(mode "$TMP/fresh.proxy.state")" 600'

# An empty state file starts empty.
: >"$TMP/empty.state"
run proxy "$TMP/empty.state" "$P/s1.json"
check "an empty state file starts empty: s1 accepted and the file filled in" \
  eval 'accepted && [ "$(jq -r .role "$TMP/empty.state")" = proxy ]'

# A refused input does not rewrite the file; an accepted one replaces it (rename: a new inode).
cp -p "$P/snap/s10/term.state" "$TMP/term.state"
before=$(inode "$TMP/term.state")
flip "$P/s10.json" MAC >"$TMP/s10-bad.json"
run term "$TMP/term.state" "$TMP/s10-bad.json"
check "a refused s10: the state file is not rewritten (same inode, same bytes)" \
  eval 'refused bad_mac && eq "$(inode "$TMP/term.state")" "$before" && same_file "$TMP/term.state" "$P/snap/s10/term.state"'
run term "$TMP/term.state" "$P/s10.json"
check "an accepted s10: the state file is replaced by a new one (rename)" \
  eval 'accepted && ne "$(inode "$TMP/term.state")" "$before" && eq "$(mode "$TMP/term.state")" 600'
check "no temporary file is left next to the replaced state file" eval '[ -z "$(find "$TMP" -maxdepth 1 -name "*.tmp.*")" ]'
chmod 644 "$TMP/term.state"
cp -p "$P/snap/s10/term.state" "$TMP/term.state" && chmod 644 "$TMP/term.state"
run term "$TMP/term.state" "$P/s10.json"
check "a state file of mode 0644 is written back with mode 0600" eval 'accepted && eq "$(mode "$TMP/term.state")" 600'

# Runs on one state file never interleave (flock): eight kd-proxy started at once, each with the
# s1 of another terminal, leave eight exchanges.
W=$P
for i in 1 2 3 4 5 6 7 8; do
  set_field "$P/s1.json" IDc "\"term$i\"" >"$TMP/s1-$i.tmp1"
  set_field "$TMP/s1-$i.tmp1" N1 "\"$(printf '%032x' "$i")\"" >"$TMP/s1-$i.json"
done
pids=()
for i in 1 2 3 4 5 6 7 8; do
  kd proxy "$TMP/shared.state" <"$TMP/s1-$i.json" >/dev/null 2>&1 &
  pids+=($!)
done
wait "${pids[@]}"
check "eight concurrent kd-proxy runs on one state file keep all eight exchanges" \
  eq "$(jq -c '.exchanges | keys' "$TMP/shared.state" 2>/dev/null)" '["term1","term2","term3","term4","term5","term6","term7","term8"]'

# Some refusals with their details, for the scans.
W=$P
flip "$P/s9.json" EKsp >"$TMP/s9-bad.json"; refeed proxy s9 "$TMP/s9-bad.json"
check "(for the scan) s9 with EKsp flipped is refused" refused bad_seal
flip "$P/s8.json" Authenticator_c >"$TMP/s8-bad.json"; refeed switch s8 "$TMP/s8-bad.json"
check "(for the scan) s8 with a wrong Authenticator_c is refused" refused bad_authenticator
W=$D
flip "$D/d5.json" Authenticator_c >"$TMP/d5-bad.json"; refeed switch d5 "$TMP/d5-bad.json"
check "(for the scan) d5 with a wrong Authenticator_c is refused" refused bad_authenticator
flip "$D/d3.json" EKss >"$TMP/d3-bad.json"; refeed switch d3 "$TMP/d3-bad.json"
check "(for the scan) d3 with EKss flipped is taken (the switch opens it later)" accepted

# Secrets: the long-term keys appear nowhere but in the keystores.
find "$P" "$D" "$TMP" -name '*.state' -type f >"$TMP/state-list"
check "the scans see every output and at least 8 state files" \
  eval '[ -s "$TMP/all-output" ] && [ "$(nlines "$TMP/state-list")" -ge 8 ]'
for w in "$P" "$D"; do
  for id in "$TERM_ID" "$PROXY_ID" "$SWITCH_ID"; do
    key=$(jq -r --arg i "$id" '.entities[] | select(.id == $i) | .key' "$w/auc.keys")
    check "$(basename "$w"): the long-term key of $id is in no tool's stdout or stderr" \
      eval '[ ${#key} -eq 64 ] && not_contains "$TMP/all-output" "$key"'
    check "$(basename "$w"): the long-term key of $id is in no state file" \
      eval '[ ${#key} -eq 64 ] && ! xargs grep -lF -- "$key" <"$TMP/state-list" >/dev/null 2>&1'
  done
done
for w in "$P" "$D"; do
  k=$(field "$w/ev-term.json" session_key)
  check "$(basename "$w"): the session key is in no state file" \
    eval '[ -n "$k" ] && ! xargs grep -lF -- "$k" <"$TMP/state-list" >/dev/null 2>&1'
  check "$(basename "$w"): the session key is in no message, only in the --show-key events" \
    eval '! grep -v "^{\"event\":" "$w/transcript" | grep -qF -- "$k"'
done

finish
