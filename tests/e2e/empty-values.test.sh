#!/usr/bin/env bash
# An option given an empty value is a bad command line (issue 12, trial 3), never the option left
# out: `--state "$ST"` with ST unset ran without a state (replays accepted across runs), `kd-decode
# --check --keys "$K"` passed without checking a MAC, `--pcap-out ''` and `--ladder-svg ''` wrote
# nothing, `kd-decode --encode ''` decoded, `--source ''` rewrote nothing, `kd-vectors generate ''`
# wrote into / and `--tools ''` ran the library instead of the tools. Each is now exit 2, one line
# naming the option, and nothing is printed or written.
. "$(dirname "$0")/lib.sh"

# empty_refused OPTION: the last run exited 2, and stderr's first line is the tool's prefix, then
# the option, then what is wrong with it.
empty_refused() {
  eq "$RC" 2 || { WHY="$WHY; stderr: $(head -c 300 "$ERR")"; return 1; }
  local first; first=$(head -n 1 "$ERR")
  [[ $first == kd-*": $1: must not be empty"* ]] || { WHY="stderr: $first"; return 1; }
}

new_world "$TMP/w" >/dev/null 2>&1
"$KD_BIN/kd-term" start --id alice --via sbc1 --switch ss1 --keys "$W/alice.keys" --seed 01 --now "$NOW" >"$TMP/s1.json"
"$KD_BIN/kd-proxy" --id sbc1 --keys "$W/sbc1.keys" --seed 01 --now "$NOW" "$TMP/s1.json" >"$TMP/s2.json"
cat "$TMP/s1.json" "$TMP/s2.json" >"$TMP/transcript.jsonl"
printf 'secret\n' >"$TMP/secret"

cd "$TMP/w" || exit 1
runx "$KD_BIN/kd-term" start --id alice --switch ss1 --keys alice.keys --state ''
check "kd-term start --state '': exit 2, names --state" empty_refused --state
runx "$KD_BIN/kd-term" --keys '' "$TMP/s1.json"
check "kd-term --keys '': exit 2, names --keys" empty_refused --keys
runx "$KD_BIN/kd-proxy" --id sbc1 --keys sbc1.keys --state '' --now "$NOW" "$TMP/s1.json"
check "kd-proxy --state '': exit 2, names --state" empty_refused --state
check "... and nothing was printed" eq "$(wc -c <"$OUT")" 0
runx "$KD_BIN/kd-proxy" --id sbc1 --keys sbc1.keys --source '' --now "$NOW" "$TMP/s1.json"
check "kd-proxy --source '': exit 2, names --source (the page: 1 to 64 characters)" empty_refused --source
runx "$KD_BIN/kd-switch" --id ss1 --keys ss1.keys --binding sip --radius-secret-file '' /dev/null
check "kd-switch --radius-secret-file '': exit 2, names --radius-secret-file" empty_refused --radius-secret-file
runx "$KD_BIN/kd-auc" --keys '' /dev/null
check "kd-auc --keys '': exit 2, names --keys" empty_refused --keys
runx "$KD_BIN/kd-term" start --id alice --switch ss1 --keys alice.keys --binding sip --pcap-out ''
check "kd-term start --binding sip --pcap-out '': exit 2, names --pcap-out" empty_refused --pcap-out
check "... and no message was printed" eq "$(wc -c <"$OUT")" 0
runx "$KD_BIN/kd-term" load --id 'alice%d' --count 1 --switch ss1 --keys alice.keys \
  --peer switch=udp:127.0.0.1:9 --retransmit timeout=200 --stats ''
check "kd-term load --stats '': exit 2, names --stats" empty_refused --stats

# kd-decode: --keys '' must not mean "check without keys".
runx "$KD_BIN/kd-decode" --check --keys '' "$TMP/transcript.jsonl"
check "kd-decode --check --keys '': exit 2, names --keys" empty_refused --keys
runx "$KD_BIN/kd-decode" --check --radius-secret-file '' "$TMP/transcript.jsonl"
check "kd-decode --radius-secret-file '': exit 2, names --radius-secret-file" empty_refused --radius-secret-file
runx "$KD_BIN/kd-decode" --ladder-svg '' "$TMP/transcript.jsonl"
check "kd-decode --ladder-svg '': exit 2, names --ladder-svg" empty_refused --ladder-svg
runx "$KD_BIN/kd-decode" --encode '' "$TMP/s1.json"
check "kd-decode --encode '': exit 2, names --encode (it decoded instead)" empty_refused --encode
runx "$KD_BIN/kd-decode" --encode sip --pcap-out '' "$TMP/s1.json"
check "kd-decode --encode sip --pcap-out '': exit 2, names --pcap-out" empty_refused --pcap-out

# kd-vectors: --tools '' is no directory of tools; generate '' is no directory (it wrote to /).
runx "$KD_BIN/kd-vectors" run --tools '' "$KD_ROOT/testvectors/positive/KD-AES128GCM-SHA256-direct-json.json"
check "kd-vectors run --tools '': exit 2, names --tools" empty_refused --tools
# As root, run it as nobody, so that a kd-vectors that takes '' for / cannot write there.
as_user=()
if [ "$(id -u)" = 0 ]; then as_user=(setpriv --reuid=nobody --regid=nogroup --clear-groups); fi
runx "${as_user[@]}" "$KD_BIN/kd-vectors" generate ''
check "kd-vectors generate '': exit 2, names the directory" \
  eval 'eq "$RC" 2 && grep -q "^kd-vectors: dir: must not be empty" "$ERR" || { WHY="exit $RC: $(head -c 300 "$ERR")"; false; }'
check "... and no file of the vectors was written in the working directory" \
  eval '[ ! -e positive ] && [ ! -e negative ] && [ ! -e pcap ]'
finish
