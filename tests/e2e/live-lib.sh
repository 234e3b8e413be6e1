# Shared helpers of the live-mode tests (tests/e2e/live-*.test.sh), sourced after lib.sh: services
# on the loopback at ports the system picks (read from their "listening" line), every process
# under `timeout`, every one stopped by its own id when the test ends.
# `timeout --foreground -k 10`: without --foreground, timeout follows the SIGTERM it passes on with
# a SIGCONT, which can race LeakSanitizer's stop-the-world at the service's exit in the sanitizer
# build (the tracer waits for a stop the SIGCONT cancelled: the service spins forever, seen in
# e2e-live-register); -k 10 kills whatever still hangs.

declare -A LIVE_PID=()
live_cleanup() {
  local n
  for n in "${!LIVE_PID[@]}"; do kill -TERM "${LIVE_PID[$n]}" 2>/dev/null; done
  for n in "${!LIVE_PID[@]}"; do wait "${LIVE_PID[$n]}" 2>/dev/null; done
  chmod -R u+rwX "$TMP" 2>/dev/null
  rm -rf "$TMP"
}
trap live_cleanup EXIT

# A failed check shows what every service and tool has said so far (ctest --output-on-failure
# prints it): a failure that comes once in a hundred runs is understood from this or not at all.
# The first 3 failures of a script only, each file's last lines, control bytes made visible.
eval "base_$(declare -f fail)"
fail() {
  base_fail "$@"
  [ "$FAILED" -le 3 ] || return 0
  local f
  for f in "$TMP"/*.out "$TMP"/*.err; do
    [ -s "$f" ] || continue
    echo "      ---- ${f#"$TMP"/} (last 12 lines)"
    tail -n 12 "$f" | cut -c1-300 | cat -v | sed 's/^/      /'
  done
}

command -v python3 >/dev/null || { echo "python3 is required (scripts/test installs it)"; exit 1; }

# loopback_hosts N: sets HOSTS to N consecutive loopback addresses 127.X.Y.Z.. drawn for this run
# (X 1-254, so never in 127.0.0.0/16 where 127.0.0.1 and the fixed addresses of other tests are;
# Y 0-255; Z 1-200). A test that listens at a standard port, or captures by address, uses these so
# that two runs at once on one machine (two worktrees' suites) neither take each other's port nor
# see each other's frames.
loopback_hosts() {
  local base="127.$((RANDOM % 254 + 1)).$((RANDOM % 256))" z=$((RANDOM % 200 + 1)) i
  HOSTS=()
  for ((i = 0; i < $1; i++)); do HOSTS+=("$base.$((z + i))"); done
}

# A world of keys in $W (lib.sh's new_world), and a RADIUS secret in $W/secret.
live_world() {
  new_world "$1" || return 1
  printf 'kd-live-secret\n' >"$W/secret"
}

# serve NAME ROLE [ARGS...]: ROLE's tool as a service of world $W (keys, --state $W/NAME.st unless
# LIVE_NO_STATE is set, id,
# listening on $LIVE_LISTEN or $LISTEN_AT, by default udp:127.0.0.1:0), stdout in $TMP/NAME.out, stderr in
# $TMP/NAME.err. Waits up to 10 s for its listening line and sets ADDR to its address (empty when it
# did not come).
serve() {
  local name=$1 role=$2; shift 2
  local a=(serve --listen "${LIVE_LISTEN:-${LISTEN_AT:-udp:127.0.0.1:0}}")
  [ -n "${LIVE_NO_STATE-}" ] || a+=(--state "$W/$name.st")
  case $role in
    proxy) a+=(--id "$PROXY_ID" --keys "$W/$PROXY_ID.keys") ;;
    switch) a+=(--id "$SWITCH_ID" --keys "$W/$SWITCH_ID.keys") ;;
    auc) a+=(--keys "$W/auc.keys") ;;
  esac
  local tool=kd-$role
  timeout --foreground -k 10 120 "$KD_BIN/$tool" "${a[@]}" "${SERVE_X[@]}" "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" &
  LIVE_PID[$name]=$!
  ADDR=""
  local i
  for i in $(seq 100); do
    ADDR=$(jq -r 'select(.event == "listening") | .addr' "$TMP/$name.out" 2>/dev/null | head -n 1)
    [ -n "$ADDR" ] && return 0
    kill -0 "${LIVE_PID[$name]}" 2>/dev/null || break
    sleep 0.1
  done
  echo "serve $name: no listening line; stderr: $(head -c 300 "$TMP/$name.err")" >&2
  return 1
}

# stop NAME: SIGTERM, then its exit status in RC.
stop() {
  kill -TERM "${LIVE_PID[$1]}" 2>/dev/null
  wait "${LIVE_PID[$1]}"
  RC=$?
  unset "LIVE_PID[$1]"
}
stop_all() { local n; for n in "$@"; do stop "$n"; done; }  # NAME...

# chain BINDING LINK FLOW: an AuC, a switch and (proxied) a proxy serving world $W, the AuC link
# in LINK (radius or json); sets TARGET to the --peer of kd-term register.
chain() {
  local binding=$1 link=$2 flow=$3
  local sec=(--radius-secret-file "$W/secret")
  if [ "$link" = radius ]; then serve auc auc --binding radius "${sec[@]}" || return 1
  else serve auc auc || return 1; fi
  serve switch switch --binding "$binding" --auc-link "$link" "${sec[@]}" --peer "auc=$ADDR" "${SWITCH_X[@]}" || return 1
  TARGET="switch=$ADDR"
  [ "$flow" = direct ] && return 0
  serve proxy proxy --binding "$binding" --peer "switch=$ADDR" || return 1
  TARGET="proxy=$ADDR"
}
SWITCH_X=()
SERVE_X=()  # options for every service (--now ...)

# count_lines FILE PATTERN N: exactly N lines of FILE match PATTERN.
count_lines() {  # FILE PATTERN N
  local n
  n=$(grep -c -- "$2" "$1")
  [ "$n" -eq "$3" ] || { WHY="$n lines of $1 match $2, expected $3: $(head -c 300 "$1")"; return 1; }
}

# json_true FILE FILTER: jq -e, quietly.
json_true() { jq -e "$2" "$1" >/dev/null || { WHY="$1: $2 does not hold: $(head -c 300 "$1")"; return 1; }; }

# register BINDING FLOW [ARGS...]: one registration of alice through $TARGET; output in $OUT, $ERR, $RC.
register() {
  local binding=$1 flow=$2; shift 2
  local via=()
  [ "$flow" = proxied ] && via=(--via "$PROXY_ID")
  timeout --foreground -k 10 60 "$KD_BIN/kd-term" register --binding "$binding" --id "$TERM_ID" "${via[@]}" --switch "$SWITCH_ID" \
    --keys "$W/$TERM_ID.keys" --peer "$TARGET" "$@" >"$OUT" 2>"$ERR"
  RC=$?
}

# send_udp ADDR FILE [COUNT [GAP]]: sends FILE's bytes COUNT times (default 2) from one UDP socket to
# ADDR (udp:IP:PORT), waiting for an answer to each (2 s at most); writes the answers to
# $TMP/answer.N (empty when none came).
send_udp() {
  python3 - "$1" "$2" "${3:-2}" "$TMP/answer" <<'PY'
import socket, sys
addr, path, count, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
host, port = addr[len("udp:"):].rsplit(":", 1)
data = open(path, "rb").read()
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
s.settimeout(2)
for i in range(count):
    s.sendto(data, (host, int(port)))
    try:
        answer = s.recvfrom(65536)[0]
    except socket.timeout:
        answer = b""
    open("%s.%d" % (out, i + 1), "wb").write(answer)
PY
}

# usage NAME MESSAGE-PATTERN TOOL ARGS...: a command line the tool refuses: exit 2, its prefix and
# a message matching the pattern on stderr, and no state file $W/u.st written (nor its lock).
usage() {  # NAME MESSAGE-PATTERN TOOL ARGS...
  local name=$1 pattern=$2 tool=$3; shift 3
  rm -f "$W/u.st" "$W/u.st.lock"
  timeout --foreground -k 10 20 "$KD_BIN/$tool" "$@" >"$OUT" 2>"$ERR"
  RC=$?
  check "usage: $name: exit 2" exit_is 2
  check "usage: $name: says why" grep -q "^$tool: .*$pattern" "$ERR"
  check "usage: $name: no state written, nor its lock file" test ! -e "$W/u.st" -a ! -e "$W/u.st.lock"
}

# transcript_ok FLOW: kd-term register's output ($OUT) is what it sent and received, then its success.
transcript_ok() {
  local want got
  if [ "$1" = proxied ]; then want="s1>proxy s6>term s7>proxy s10>term registered"
  else want="d1>switch d4>term d5>switch d6>term registered"; fi
  got=$(jq -r 'if .event then .event else .step + ">" + .to end' "$OUT" | tr '\n' ' ')
  eq "${got% }" "$want"
}

# no_errors NAME...: no error or timeout event in the services' output ($TMP/NAME.out).
no_errors() {
  local n
  for n in "$@"; do
    ! grep -q '"event":"\(error\|timeout\)"' "$TMP/$n.out" ||
      { WHY="$n: $(grep '"event":"\(error\|timeout\)"' "$TMP/$n.out" | head -n 2)"; return 1; }
  done
}

# ---- load runs and crashes (live-load, live-durable, live-kill) ---------------------------------
SUM=$TMP/summary.json STATS=$TMP/stats.jsonl

# users N [MISSING...]: N terminals user0..user{N-1} in the AuC's keystore of world $W (minus the
# MISSING ones), and every one of the N in $W/users.keys, kd-term's keystore.
users() {
  local n=$1 i; shift
  "$KD_BIN/kd-auc" keys add "$W/auc.keys" --id 'user%d' --role term --count "$n" --seed 01 || return 1
  "$KD_BIN/kd-auc" keys export "$W/auc.keys" --id 'user%d' --count "$n" >"$W/users.keys" || return 1
  for i in "$@"; do
    jq --arg id "user$i" 'del(.entities[] | select(.id == $id))' "$W/auc.keys" >"$W/auc.tmp" && mv "$W/auc.tmp" "$W/auc.keys"
  done
}

# load BINDING TARGET [ARGS...]: kd-term load of the proxied flow (LOAD_FLOW=direct: the direct
# flow); summary in $SUM, stats lines in $STATS, stderr in $ERR, status in RC. load_start runs it
# in the background (stopped with the services when the test ends), load_wait waits for it and
# sets RC.
load_start() {
  local binding=$1 target=$2 via=(--via "$PROXY_ID"); shift 2
  [ "${LOAD_FLOW:-proxied}" = direct ] && via=()
  timeout --foreground -k 10 120 "$KD_BIN/kd-term" load --binding "$binding" --id 'user%d' "${via[@]}" --switch "$SWITCH_ID" \
    --keys "$W/users.keys" --peer "$target" --stats "$STATS" "$@" >"$SUM" 2>"$ERR" &
  LIVE_PID[load]=$!
}
load_wait() {
  wait "${LIVE_PID[load]}"
  RC=$?
  unset "LIVE_PID[load]"
}
load() {
  load_start "$@"
  load_wait
}

# The summary's counts add up: attempted = registered + refusals + timeouts + unfinished.
adds_up() {
  json_true "$SUM" '.event == "load-summary" and
    .attempted == .registered + ([.failed[]] | add // 0) + .timeouts + .unfinished'
}

# crash NAME: kill -9 of the service (the child of its `timeout`), as a power cut would stop it.
crash() {
  local child
  child=$(ps -o pid= --ppid "${LIVE_PID[$1]}")
  [ -n "$child" ] && kill -KILL $child
  wait "${LIVE_PID[$1]}" 2>/dev/null
  unset "LIVE_PID[$1]"
}

# journal_bytes FILE: what a journal holds, without the zeros a running service extends it by
# (kd-live(7), DURABILITY; a journal's last byte is its commit record's kind, never a zero).
journal_bytes() { perl -0777 -ne 's/\0+\z//; print length' "$1"; }

# restart NAME ROLE [ARGS...]: crash NAME, then serve it again (serve's arguments) with the same
# state on the same address; the crashed run's output is kept as $TMP/NAME.N.out and .err (N = 1,
# 2, ...), the new one in $TMP/NAME.out. Fails when the service does not come back on its address.
restart() {
  local name=$1 was n=1
  was=$(jq -r 'select(.event == "listening") | .addr' "$TMP/$name.out" | head -n 1)
  crash "$name"
  while [ -e "$TMP/$name.$n.out" ]; do n=$((n + 1)); done
  mv "$TMP/$name.out" "$TMP/$name.$n.out"
  mv "$TMP/$name.err" "$TMP/$name.$n.err"
  LISTEN_AT=$was serve "$@" || return 1
  [ "$ADDR" = "$was" ] || { echo "restart $name: listening on $ADDR, not $was" >&2; return 1; }
}

# wait_lines FILE PATTERN N [SECONDS]: until FILE has N lines matching PATTERN (at most SECONDS, 20
# by default); fails when they did not come.
wait_lines() {
  local i
  for i in $(seq $((${4:-20} * 20))); do
    [ "$(grep -c -- "$2" "$1" 2>/dev/null)" -ge "$3" ] && return 0
    sleep 0.05
  done
  WHY="$1: fewer than $3 lines match $2"
  return 1
}
