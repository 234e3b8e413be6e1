#!/usr/bin/env bash
# Nothing leaves before the journal records it depends on are durable (kd-live(7), DURABILITY), as
# the system calls show it: a load of 60 registrations through kd-proxy, kd-switch and kd-auc (SIP,
# the AuC link over RADIUS) with each service under strace(1), and every datagram a service sends
# whose bytes its journal holds (each answer it gives) leaves only after the fdatasync(2) that
# followed their write has returned. What one sync releases goes out together (one sendmmsg(2) per
# socket); this is what would show it going out early. Without strace the test reports itself
# skipped (exit 77).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/live-lib.sh"

command -v strace >/dev/null && strace -qq -e trace=none true 2>/dev/null || { echo "skip  no usable strace"; exit 77; }

live_world "$TMP/w"
users 60
chain sip radius proxied || fail "the services start"
declare -A TRACER=()
for n in proxy switch auc; do
  pid=$(pgrep -P "${LIVE_PID[$n]}" | head -n 1)  # the service, under timeout(1)
  [ -n "$pid" ] || fail "$n: no process under its timeout"
  tasks=()
  for t in /proc/"$pid"/task/*; do tasks+=(-p "${t##*/}"); done  # each thread: the loop's and the sync's
  strace -f -ff -qq -ttt -T -xx -s 70000 -e trace=write,pwrite64,fdatasync,sendmmsg -o "$TMP/st.$n" "${tasks[@]}" \
    2>"$TMP/strace.$n.err" &
  TRACER[$n]=$!
done
sleep 1  # strace attached to every thread
SUM=$TMP/sum.json STATS=$TMP/stats.json ERR=$TMP/load.err
load sip "$TARGET" --count 60 --concurrency 20
check "load: it ends (exit 0)" eq "$RC" 0
check "load: every registration completes" json_true "$SUM" '.registered == 60'
for n in proxy switch auc; do kill -INT "${TRACER[$n]}" 2>/dev/null; wait "${TRACER[$n]}" 2>/dev/null; done

# after_sync NAME: each sendmmsg's datagrams that a journal write holds went after a sync of that
# write returned (on the thread that wrote it); SENT gets how many were checked.
after_sync() {
  local out
  out=$(python3 - "$TMP/st.$1" <<'PY'
import glob, re, sys
HEX = r'"((?:\\x[0-9a-f]{2})*)"'
def raw(s): return bytes.fromhex(s.replace('\\x', ''))
calls = []  # (start, end, thread, name, payloads)
for path in glob.glob(sys.argv[1] + '.*'):
    tid = path.rsplit('.', 1)[1]
    for line in open(path, errors='replace'):
        m = re.match(r'(\d+\.\d+) (\w+)\((.*)<(\d+\.\d+)>$', line.strip())
        if not m or '= -1' in m.group(3).rsplit(')', 1)[-1]:
            continue
        start, name, args, took = float(m.group(1)), m.group(2), m.group(3), float(m.group(4))
        if name in ('write', 'pwrite64'):  # the journal is written in place (pwrite)
            data = [raw(x) for x in re.findall(HEX, args)[:1]]
        elif name == 'sendmmsg':
            data = [raw(x) for x in re.findall(r'iov_base=' + HEX, args)]
        else:
            data = []
        calls.append((start, start + took, tid, name, data))
calls.sort()
checked = early = 0
for s_start, _, _, name, sent in calls:
    if name != 'sendmmsg':
        continue
    for d in sent:
        if len(d) < 64:
            continue
        writes = [c for c in calls if c[3] in ('write', 'pwrite64') and c[0] < s_start and any(d in w for w in c[4])]
        if not writes:
            continue
        checked += 1
        w = writes[0]
        if not any(c[3] == 'fdatasync' and c[2] == w[2] and c[0] >= w[1] and c[1] <= s_start for c in calls):
            early += 1
print(checked, early)
PY
)
  SENT=${out% *}
  [ "${out#* }" = 0 ] || { WHY="$1: ${out#* } of $SENT datagrams left before the sync of their journal write"; return 1; }
}
for n in proxy switch auc; do
  check "$n: every answer leaves after its sync" after_sync "$n"
  check "$n: ... at least 30 answers were checked" test "${SENT:-0}" -ge 30
done
check "no error at the services" no_errors proxy switch auc
stop_all proxy switch auc

finish
