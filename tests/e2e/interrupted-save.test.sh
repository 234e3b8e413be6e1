#!/usr/bin/env bash
# SIGINT or SIGTERM while a tool writes a file atomically (kd-auc keys add of many terminals, a
# role's state save) leaves the file whole, the old one or the new one, and no temporary file beside
# it. Trial 9: a SIGINT while keys add --count 300000 wrote its temporary file left
# keys.json.tmp.XXXXXX behind, a partial keystore with every key in it.
. "$(dirname "$0")/lib.sh"

AUC=$KD_BIN/kd-auc
K=$TMP/keys.json
"$AUC" keys init "$K"
"$AUC" keys add "$K" --id alice --role term --seed 01
cp "$K" "$TMP/before.json"

# interrupt SIGNAL: keys add of 300000 terminals, SIGNAL sent as soon as its temporary file exists
# (bounded: 60 s); RC its exit status (128+N: killed by signal N), SEEN 1 when the temporary file
# was seen.
interrupt() {
  read -r RC SEEN < <(python3 - "$1" "$AUC" "$K" <<'PY'
import glob, signal, subprocess, sys, time
sig, auc, k = getattr(signal, sys.argv[1]), sys.argv[2], sys.argv[3]
p = subprocess.Popen([auc, "keys", "add", k, "--id", "v%d", "--role", "term", "--count", "300000"],
                     stderr=subprocess.DEVNULL)
seen, end = 0, time.monotonic() + 60
while p.poll() is None and time.monotonic() < end:
    if glob.glob(k + ".tmp.*"):
        p.send_signal(sig)
        seen = 1
        break
    time.sleep(0.0005)
if p.poll() is None and not seen:
    p.kill()
rc = p.wait()
print(128 - rc if rc < 0 else rc, seen)
PY
)
}

for sig in SIGINT SIGTERM; do
  cp "$TMP/before.json" "$K"
  rm -f "$K".tmp.*
  interrupt "$sig"
  check "keys add --count 300000, $sig while it writes: its temporary file was seen" eq "$SEEN" 1
  check "... no temporary file left beside the keystore" eval '! ls "$K".tmp.* >/dev/null 2>&1 || { WHY="left: $(ls "$K".tmp.*)"; false; }'
  n=$("$AUC" keys list "$K" | wc -l)
  check "... the keystore whole: as it was, or with all 300000 added (exit $RC)" \
    eval 'cmp -s "$K" "$TMP/before.json" || [ "$n" = 300001 ] || { WHY="$n entities"; false; }'
done

finish
