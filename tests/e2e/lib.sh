# Shared helpers of kd's end-to-end tests: sourced by every tests/e2e/*.test.sh, not a test itself.
#
# The tests drive the real kd-* binaries through their documented interface only (options, JSON
# Lines on stdin/stdout, exit status, state files). A "world" is a directory holding the AuC's
# keystore, each entity's exported keystore and the four roles' state files; the step-by-step
# driver (drive, route) runs one message at a time through the tool named by its "to" and keeps
# every message as <step>.json and every role's state as it was just before each step under
# snap/<step>/, so that a test can replay or tamper with any message against the exact state its
# recipient had.
#
# Environment: KD_BIN (directory of kd-term, kd-proxy, kd-switch, kd-auc), KD_ROOT (the repository).

set -uo pipefail  # no -e: a failing check is reported, not fatal
shopt -u patsub_replacement 2>/dev/null  # bash 5.2: no '&' expansion in ${var/pattern/string}

: "${KD_BIN:?KD_BIN must name the directory of the kd-* binaries}"
KD_ROOT=${KD_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
command -v jq >/dev/null || { echo "jq is required (scripts/setup installs it)"; exit 1; }
for t in kd-term kd-proxy kd-switch kd-auc; do
  [ -x "$KD_BIN/$t" ] || { echo "$KD_BIN/$t is missing: build first"; exit 1; }
done

# Fixed seed and clock: the run of the worked example of kd-protocol(7).
NOW=1700000000
SEED=01
KEYSEED=01
TERM_ID=alice PROXY_ID=sbc1 SWITCH_ID=ss1
SUITES=(KD-AES128GCM-SHA256 KD-AES256GCM-SHA384 KD-SM4GCM-SM3)
FLOWS=(proxied direct)

umask 077
# tmpfs when there is one: the tools fsync every state file they write, which costs more than the
# rest of a run on a disk.
if [ -z "${TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ]; then TMPDIR=/dev/shm; fi
TMP=$(mktemp -d "${TMPDIR:-/tmp}/kd-e2e.XXXXXX") || { echo "mktemp failed"; exit 1; }
trap 'chmod -R u+rwX "$TMP" 2>/dev/null; rm -rf "$TMP"' EXIT
export TMPDIR=$TMP  # kd-flow's own temporary directories go inside ours

# ---- checks ----------------------------------------------------------------------------------

PASSED=0 FAILED=0 WHY=""
pass() { PASSED=$((PASSED + 1)); printf 'ok    %s\n' "$1"; }
fail() { FAILED=$((FAILED + 1)); printf 'FAIL  %s%s\n' "$1" "${2:+  -- $2}"; }

# check NAME PREDICATE [ARGS...]: one check; passes when the predicate succeeds. A predicate says
# why it failed in WHY.
check() {
  local name=$1; shift
  WHY=""
  if "$@"; then pass "$name"; else fail "$name" "${WHY:-predicate failed}"; fi
  WHY=""
}

# The last line of every test script.
finish() {
  echo "$PASSED passed, $FAILED failed${LEFT_OUT:+, left out under KD_TEST_QUICK: $LEFT_OUT}"
  [ "$FAILED" -eq 0 ]
}

# extra_case NAME: whether to run the case NAME, one that repeats a code path another case of the
# script runs (another suite, binding or flow through the same code). Always, but under
# KD_TEST_QUICK=1 (the sanitizer pass: tests/e2e/CMakeLists.txt, which lists the script's full run
# there as "Not Run (Disabled)"), where the case is left out and named as such in the output.
LEFT_OUT=""
extra_case() {
  [ "${KD_TEST_QUICK:-}" = 1 ] || return 0
  printf 'skip  %s (KD_TEST_QUICK=1: a repeat of a code path run here)\n' "$1"
  LEFT_OUT+="${LEFT_OUT:+, }$1"
  return 1
}

# Small predicates.
eq() { [ "$1" = "$2" ] || { WHY="got '$1', expected '$2'"; return 1; }; }
ne() { [ "$1" != "$2" ] || { WHY="both are '$1'"; return 1; }; }
is_hex_len() {  # STRING NDIGITS
  [[ $1 =~ ^[0-9a-f]+$ ]] && [ ${#1} -eq "$2" ] || { WHY="'$1' is not $2 lowercase hex digits"; return 1; }
}
same_file() { cmp -s "$1" "$2" || { WHY="$1 and $2 differ"; return 1; }; }
not_contains() {  # FILE STRING
  ! grep -qF -- "$2" "$1" || { WHY="$1 contains '$2'"; return 1; }
}

# ---- suites ------------------------------------------------------------------------------------

key_len() { case $1 in KD-AES256GCM-SHA384) echo 32 ;; *) echo 16 ;; esac; }
mac_len() { case $1 in KD-AES256GCM-SHA384) echo 24 ;; *) echo 16 ;; esac; }
auth_len() { mac_len "$1"; }
sealed_len() { echo $((12 + $(key_len "$1") + 16)); }  # AEAD nonce + key + tag

# ---- worlds and tools --------------------------------------------------------------------------

# new_world DIR: the AuC's keystore with alice (term), sbc1 (proxy) and ss1 (switch), keys derived
# from --seed $KEYSEED, and each entity's export as <id>.keys. Sets W.
# The keystores are made once per test and copied into later worlds.
new_world() {
  W=$1
  mkdir -p "$W/snap"
  if [ -e "$TMP/keys-template/auc.keys" ]; then
    cp -p "$TMP/keys-template"/*.keys "$W"/
    return
  fi
  "$KD_BIN/kd-auc" keys init "$W/auc.keys" || return 1
  "$KD_BIN/kd-auc" keys add "$W/auc.keys" --id "$TERM_ID" --role term --seed "$KEYSEED" || return 1
  "$KD_BIN/kd-auc" keys add "$W/auc.keys" --id "$PROXY_ID" --role proxy --seed "$KEYSEED" || return 1
  "$KD_BIN/kd-auc" keys add "$W/auc.keys" --id "$SWITCH_ID" --role switch --seed "$KEYSEED" || return 1
  local id
  for id in "$TERM_ID" "$PROXY_ID" "$SWITCH_ID"; do
    "$KD_BIN/kd-auc" keys export "$W/auc.keys" --id "$id" >"$W/$id.keys" || return 1
  done
  mkdir -p "$TMP/keys-template" && cp -p "$W"/*.keys "$TMP/keys-template"/
}

# fork DIR STEP: a new world in DIR with $W's keys and messages, and $W's states as they were just
# before STEP was delivered. Sets W to DIR.
fork() {
  local dst=$1 step=$2
  [ -d "$W/snap/$step" ] || { echo "fork: no snapshot before $step in $W" >&2; return 1; }
  mkdir -p "$dst/snap"
  cp -p "$W"/*.keys "$dst"/
  cp -p "$W"/*.json "$dst"/ 2>/dev/null
  cp -p "$W/snap/$step"/*.state "$dst"/ 2>/dev/null
  rm -f "$dst"/ev-*.json
  W=$dst
}

# Extra options per role for the next runs (arrays), whether to pass --show-key, and overrides of
# the seed and the clock (KSEED=02 kd ..., KNOW=$((NOW + 400)) run ...).
XTERM=() XPROXY=() XSWITCH=() XAUC=()
SHOW_KEY=1

# kd ROLE STATE [ARGS...]: one run of ROLE's tool in world $W with its keystore, the state file STATE
# ('' for none), --seed and --now, the role's extra options, then ARGS. Standard streams are the
# caller's.
kd() {
  local role=$1 state=$2; shift 2
  local a=(--seed "${KSEED:-$SEED}" --now "${KNOW:-$NOW}")
  [ -n "$state" ] && a+=(--state "$state")
  [ "$SHOW_KEY" = 1 ] && [ "$role" != auc ] && a+=(--show-key)
  case $role in
    term) "$KD_BIN/kd-term" --keys "$W/$TERM_ID.keys" "${a[@]}" "${XTERM[@]}" "$@" ;;
    proxy) "$KD_BIN/kd-proxy" --id "$PROXY_ID" --keys "$W/$PROXY_ID.keys" "${a[@]}" "${XPROXY[@]}" "$@" ;;
    switch) "$KD_BIN/kd-switch" --id "$SWITCH_ID" --keys "$W/$SWITCH_ID.keys" "${a[@]}" "${XSWITCH[@]}" "$@" ;;
    auc) "$KD_BIN/kd-auc" --keys "$W/auc.keys" "${a[@]}" "${XAUC[@]}" "$@" ;;
    *) echo "kd: no role $role" >&2; return 2 ;;
  esac
}

# run ROLE STATE INPUT [ARGS...]: kd with the file INPUT ('' for none) on stdin. Leaves the output
# in the files $OUT and $ERR and the exit status in RC; with COLLECT=1 every output is also
# appended to $TMP/all-output (for the secret scans).
OUT=$TMP/run.out ERR=$TMP/run.err RC=0 COLLECT=0
run() {
  local role=$1 state=$2 input=${3:-/dev/null}; shift 3
  [ -n "$input" ] || input=/dev/null
  kd "$role" "$state" "$@" <"$input" >"$OUT" 2>"$ERR"
  RC=$?
  [ "$COLLECT" = 1 ] && cat "$OUT" "$ERR" >>"$TMP/all-output"
  return 0
}

# runx COMMAND...: any command, captured the same way.
runx() {
  "$@" >"$OUT" 2>"$ERR"
  RC=$?
  [ "$COLLECT" = 1 ] && cat "$OUT" "$ERR" >>"$TMP/all-output"
  return 0
}

# ---- the step-by-step driver -------------------------------------------------------------------

# snapshot STEP: every role's state file in $W as it is now, kept under $W/snap/STEP/.
# (State files never disappear, so a later snapshot of the same step only adds or replaces files.)
snapshot() {
  local d=$W/snap/$1 states=("$W"/*.state)
  mkdir -p "$d"
  [ -e "${states[0]}" ] && cp -p "${states[@]}" "$d/"
  return 0
}

# route FILE: hands the message in FILE to the tool its "to" names (with that role's state in $W),
# then every message that comes back, until none is left. Keeps each message as $W/<step>.json (a
# later message of the same step replaces it), each event as $W/ev-<role>.json, the whole
# transcript in $W/transcript, and the states before each step under $W/snap/<step>/. Stops and
# fails (WHY, with OUT/ERR/RC of the refusing run) as soon as a tool refuses something.
ROUTE_FAILED_STEP=""
route() {
  local queue=("$1") f to step line n=0
  ROUTE_FAILED_STEP=""
  while [ ${#queue[@]} -gt 0 ]; do
    f=${queue[0]}; queue=("${queue[@]:1}")
    IFS= read -r line <"$f"
    [[ $line =~ ^\{\"step\":\"([a-z0-9]+)\",\"flow\":\"[a-z]+\",\"to\":\"([a-z]+)\" ]] ||
      { WHY="not a message: $line"; return 1; }
    step=${BASH_REMATCH[1]} to=${BASH_REMATCH[2]}
    n=$((n + 1))
    [ $n -le 40 ] || { WHY="more than 40 messages"; return 1; }
    snapshot "$step"
    run "$to" "$W/$to.state" "$f"
    if [ $RC -ne 0 ]; then
      ROUTE_FAILED_STEP=$step
      WHY="$to refused $step (exit $RC): $(head -c 400 "$ERR")"
      return 1
    fi
    cat "$OUT" >>"$W/transcript"
    while IFS= read -r line; do
      if [[ $line =~ ^\{\"event\": ]]; then
        printf '%s\n' "$line" >"$W/ev-$to.json"
      elif [[ $line =~ ^\{\"step\":\"([a-z0-9]+)\" ]]; then
        printf '%s\n' "$line" >"$W/${BASH_REMATCH[1]}.json"
        queue+=("$W/${BASH_REMATCH[1]}.json")
      elif [ -n "$line" ]; then
        WHY="$to printed a line that is neither a message nor an event: $line"; return 1
      fi
    done <"$OUT"
  done
}

# drive FLOW SUITE [START-ARGS...]: a whole registration in $W, one message at a time: kd-term start
# (s1 or d1), then route; the states at the end are kept under $W/snap/end/. Fails like route.
drive() {
  local flow=$1 suite=$2; shift 2
  local via=() first=d1
  if [ "$flow" = proxied ]; then via=(--via "$PROXY_ID"); first=s1; fi
  snapshot "start"
  run term "$W/term.state" "" start --id "$TERM_ID" "${via[@]}" --switch "$SWITCH_ID" --suite "$suite" "$@"
  if [ $RC -ne 0 ]; then ROUTE_FAILED_STEP=start; WHY="kd-term start failed (exit $RC): $(cat "$ERR")"; return 1; fi
  [ "$(nlines "$OUT")" -eq 1 ] || { WHY="kd-term start printed $(nlines "$OUT") lines"; return 1; }
  cp "$OUT" "$W/$first.json"
  cat "$OUT" >>"$W/transcript"
  route "$W/$first.json" && snapshot end
}

# world_run DIR FLOW SUITE [START-ARGS...]: new_world DIR then drive; W is DIR.
world_run() {
  local dir=$1; shift
  new_world "$dir" >/dev/null 2>&1 || { WHY="could not make the keystores in $dir"; return 1; }
  drive "$@"
}

# ---- messages ------------------------------------------------------------------------------------

# field FILE NAME: the value of the string, integer or literal member NAME of the first line of
# FILE, without jq (which costs more than a kd tool run).
field() {
  local l=""
  [ -r "$1" ] && IFS= read -r l <"$1"
  if [[ $l =~ \"$2\":\"([^\"]*)\" ]]; then echo "${BASH_REMATCH[1]}"
  elif [[ $l =~ \"$2\":([0-9]+|null|true|false) ]]; then echo "${BASH_REMATCH[1]}"; fi
}
# list_field FILE NAME: the JSON array member NAME (SecMechList) of the first line of FILE, as is.
list_field() {
  local l=""
  [ -r "$1" ] && IFS= read -r l <"$1"
  [[ $l =~ \"$2\":(\[[^]]*\]) ]] && echo "${BASH_REMATCH[1]}"
}

# flip FILE FIELD [POS]: FILE's message with the hex digit at POS (default -1, the last; negative
# counts from the end) of FIELD xored with 1, as one line on stdout. Plain bash: no jq per case.
flip() {
  local l="" v c pos=${3:--1} map=0123456789abcdef xor=1032547698badcfe
  IFS= read -r l <"$1"
  [[ $l =~ \"$2\":\"([0-9a-f]+)\" ]] || { echo "flip: no hex field $2 in $1" >&2; return 1; }
  v=${BASH_REMATCH[1]}
  ((pos < 0)) && pos=$((${#v} + pos))
  c=${map%%"${v:pos:1}"*}
  c=${xor:${#c}:1}
  printf '%s\n' "${l/"\"$2\":\"$v\""/"\"$2\":\"${v:0:pos}$c${v:pos+1}\""}"
}
# set_field FILE FIELD JSON: FILE's message with FIELD set to the JSON value.
set_field() {
  local l=""
  IFS= read -r l <"$1"
  if [[ $3 =~ ^\"[^\"]*\"$ ]] && [[ $l =~ \"$2\":(\"[^\"]*\") ]]; then
    printf '%s\n' "${l/"\"$2\":${BASH_REMATCH[1]}"/"\"$2\":$3"}"
  else
    jq -c --arg f "$2" --argjson v "$3" '.[$f] = $v' "$1"
  fi
}
# del_field FILE FIELD
del_field() { jq -c --arg f "$2" 'del(.[$f])' "$1"; }

# ---- replaying against a snapshot ----------------------------------------------------------------

# refeed ROLE STEP FILE [ARGS...]: delivers FILE to ROLE with a copy of ROLE's state as it was in $W
# just before STEP was delivered. Leaves OUT/ERR/RC, BEFORE (the snapshot; may not exist) and AFTER
# (the copy the tool ran on).
CASE_N=0
refeed() {
  local role=$1 step=$2 file=$3; shift 3
  CASE_N=$((CASE_N + 1))
  BEFORE=$W/snap/$step/$role.state
  AFTER=$TMP/case.$CASE_N.$role.state
  [ -d "$W/snap/$step" ] || { echo "refeed: no snapshot before $step in $W" >&2; return 1; }
  [ -e "$BEFORE" ] && cp -p "$BEFORE" "$AFTER"
  run "$role" "$AFTER" "$file" "$@"
}

# The last error line of the last run, its code and its step (null when none was named); the
# number of lines of a file. Plain bash: process starts are what costs here.
err_line() { local l x=""; while IFS= read -r l; do [[ $l == '{"event":"error"'* ]] && x=$l; done <"$OUT"; printf '%s\n' "$x"; }
err_code() { local l; l=$(err_line); [[ $l =~ \"code\":\"([a-z_]+)\" ]] && echo "${BASH_REMATCH[1]}"; }
err_step() { local l; l=$(err_line); [[ $l =~ \"step\":(null|\"[a-z0-9]*\") ]] && echo "${BASH_REMATCH[1]//\"/}"; }
nlines() { local a; mapfile -t a <"$1"; echo ${#a[@]}; }

# refused CODE: the last run refused its input with CODE: exit status 1, an error line with CODE
# as the last line of stdout, and exactly one line on stderr naming CODE.
refused() {
  local want=$1 got out errs
  mapfile -t out <"$OUT"
  mapfile -t errs <"$ERR"
  got=""
  [ ${#out[@]} -gt 0 ] && [[ ${out[-1]} =~ ^\{\"event\":\"error\",\"code\":\"([a-z_]+)\" ]] && got=${BASH_REMATCH[1]}
  [ "$got" = "$want" ] || { WHY="expected an error line with '$want' last; stdout: ${out[*]:0:3}"; return 1; }
  [ "$RC" -eq 1 ] || { WHY="exit status $RC, expected 1"; return 1; }
  [ ${#errs[@]} -eq 1 ] || { WHY="stderr has ${#errs[@]} lines: ${errs[*]:0:3}"; return 1; }
  [[ ${errs[0]} == *"error: $want"* ]] || { WHY="stderr does not name $want: ${errs[0]}"; return 1; }
}

# state_unchanged: the state file AFTER is byte for byte BEFORE (or still absent).
state_unchanged() {
  if [ -e "$BEFORE" ]; then
    cmp -s "$BEFORE" "$AFTER" || { WHY="the state file changed"; return 1; }
  else
    [ ! -e "$AFTER" ] || { WHY="a state file was created"; return 1; }
  fi
}
state_changed() {
  [ -e "$AFTER" ] && ! cmp -s "$BEFORE" "$AFTER" || { WHY="the state file did not change"; return 1; }
}

# rejects CODE: refused CODE and the state file is unchanged.
rejects() { refused "$1" && state_unchanged; }

# accepted: the last run accepted its input (exit 0, no error line) and printed something.
accepted() {
  [ "$RC" -eq 0 ] || { WHY="exit status $RC: $(head -c 300 "$ERR") $(head -c 200 "$OUT")"; return 1; }
  [ -z "$(err_line)" ] || { WHY="error line: $(err_line)"; return 1; }
  [ -s "$OUT" ] || { WHY="no output"; return 1; }
}

# out_has_step STEP: the last run printed a message of STEP.
out_has_step() {
  local l
  while IFS= read -r l; do [[ $l == "{\"step\":\"$1\","* ]] && return 0; done <"$OUT"
  WHY="no $1 line in: $(head -c 300 "$OUT")"; return 1
}
# out_step STEP: the first line of the last run's stdout that is a message of STEP.
out_step() {
  local l
  while IFS= read -r l; do [[ $l == "{\"step\":\"$1\","* ]] && { printf '%s\n' "$l"; return 0; }; done <"$OUT"
  return 1
}

# exit_is N: the last run exited with N.
# help_pointer TOOL: the line that ends every usage error of TOOL (exit status 2), after its message
# (kd-term(1) and the other pages, OPTIONS).
help_pointer() { printf "%s: run '%s --help' for the options" "$1" "$1"; }
exit_is() { [ "$RC" -eq "$1" ] || { WHY="exit status $RC, expected $1; stderr: $(head -c 300 "$ERR")"; return 1; }; }
# file_error_reported: exit status 3, a message on stderr, nothing on stdout.
file_error_reported() {
  [ "$RC" -eq 3 ] || { WHY="exit status $RC, expected 3; stderr: $(head -c 300 "$ERR")"; return 1; }
  [ -s "$ERR" ] || { WHY="nothing on stderr"; return 1; }
  [ ! -s "$OUT" ] || { WHY="stdout is not empty: $(head -c 200 "$OUT")"; return 1; }
}

# pcap_later IN OUT SECONDS: a copy of the classic pcap IN with every frame SECONDS later. The same
# capture again, later than kd-decode's retransmission window (kd-decode(1), OUTPUT), is a replay.
pcap_later() {
  python3 - "$@" <<'PY'
import struct, sys
src, dst, later = sys.argv[1], sys.argv[2], int(sys.argv[3])
b = bytearray(open(src, "rb").read())
e = "<" if b[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
at = 24
while at + 16 <= len(b):
    sec, frac, incl = struct.unpack_from(e + "III", b, at)
    struct.pack_into(e + "I", b, at, sec + later)
    at += 16 + incl
open(dst, "wb").write(b)
PY
}
