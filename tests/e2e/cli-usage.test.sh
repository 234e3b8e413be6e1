#!/usr/bin/env bash
# The command line of every tool (issue 10, item 20): errors carry the tool's name and exit 2; an
# option given twice takes its last value; a subcommand's option before the subcommand gets a
# hint; --help and the pages agree on what INPUT is and on every option.
. "$(dirname "$0")/lib.sh"
[ -x "$KD_BIN/kd-decode" ] || { echo "$KD_BIN/kd-decode is missing"; exit 1; }

usage_err() {  # EXPECTED-PREFIX: the last run exited 2 and its first stderr line starts with it
  eq "$RC" 2 || return 1
  local first; first=$(head -n 1 "$ERR")
  [[ $first == "$1"* ]] || { WHY="stderr: $first"; return 1; }
}
for t in term proxy switch auc; do
  runx "$KD_BIN/kd-$t" --now abc </dev/null
  check "kd-$t --now abc: exit 2, the error begins with kd-$t:" usage_err "kd-$t: "
  runx "$KD_BIN/kd-$t" --no-such-option </dev/null
  check "kd-$t --no-such-option: exit 2, the error begins with kd-$t:" usage_err "kd-$t: "
done
runx "$KD_BIN/kd-decode" --no-such-option </dev/null
check "kd-decode --no-such-option: exit 2, the error begins with kd-decode:" usage_err "kd-decode: "
runx "$KD_BIN/kd-vectors"
check "kd-vectors without a subcommand: exit 2, the error begins with kd-vectors:" usage_err "kd-vectors: "

# An option given twice takes its last value.
new_world "$TMP/w" >/dev/null 2>&1
runx "$KD_BIN/kd-term" start --id alice --switch ss1 --now 5 --now "$NOW" --seed 01 --keys "$W/alice.keys"
check "kd-term start --now 5 --now NOW: exit 0" eq "$RC" 0
check "... and TS1 is the last --now" eq "$(jq -r .TS1 "$OUT")" "$NOW"
runx "$KD_BIN/kd-proxy" --id x --id sbc1 --keys "$W/sbc1.keys" </dev/null
check "kd-proxy --id x --id sbc1: exit 0" eq "$RC" 0

# kd-term's options after start are kd-term's (declared once, they fall through); a word after
# start is not kd-term's input.
runx "$KD_BIN/kd-term" start --id alice --switch ss1 --keys "$W/alice.keys" --seed 01 --now "$NOW" --skew 7 --binding sip
check "kd-term start ... --binding sip (after start): a SIP wire line" eval 'eq "$RC" 0 && eq "$(jq -r .binding "$OUT")" sip'
runx "$KD_BIN/kd-term" start --id alice --switch ss1 --keys "$W/alice.keys" extra
check "kd-term start ... extra: exit 2, extra is not an input" usage_err "kd-term: The following argument was not expected: extra"

# A start option before start.
runx "$KD_BIN/kd-term" --via sbc1 start --id alice --switch ss1
check "kd-term --via sbc1 start: exit 2" eq "$RC" 2
check "... with a hint to put --via after start" grep -q "after start" "$ERR"

# kd-auc keys with an unknown subcommand.
runx "$KD_BIN/kd-auc" keys bogus
check "kd-auc keys bogus: exit 2" eq "$RC" 2
check "... naming the unknown subcommand and the known ones" \
  eval 'grep -q "bogus" "$ERR" && grep -q "init" "$ERR" && grep -q "list" "$ERR"'
cp "$W/auc.keys" "$TMP/k.json"; cp "$TMP/k.json" "$TMP/k.before"
for args in "add $TMP/k.json --id kk --role term --kye 000102030405060708090a0b0c0d0e0f" \
            "add $TMP/k.json --id zed --role term extra" "list $TMP/k.json extra" \
            "export $TMP/k.json --id alice --frob" "init $TMP/new.json --bogus"; do
  runx "$KD_BIN/kd-auc" keys $args
  check "kd-auc keys $args: exit 2 (unknown option or extra argument), keystore unchanged" \
    eval 'eq "$RC" 2 && same_file "$TMP/k.before" "$TMP/k.json" && [ ! -e "$TMP/new.json" ]'
done
runx "$KD_BIN/kd-auc" keys add "$TMP/k.json" --id bob --role term --seed ''
check "kd-auc keys add --seed '': exit 2, keystore unchanged" eval 'eq "$RC" 2 && same_file "$TMP/k.before" "$TMP/k.json"'
runx "$KD_BIN/kd-term" --seed '' start --id alice --switch ss1 --keys "$W/alice.keys"
check "kd-term --seed '': exit 2" usage_err "kd-term: "
runx "$KD_BIN/kd-proxy" --id sbc1 --seed '' </dev/null
check "kd-proxy --seed '': exit 2" usage_err "kd-proxy: "
runx "$KD_BIN/kd-auc" --binding xx </dev/null
check "kd-auc --binding xx: exit 2, the accepted values include radius" eval 'eq "$RC" 2 && grep -q radius "$ERR"'

# The default contact is the binding's own port (H.323's call signalling at 1720, not SIP's 5060).
for bp in json:5060 sip:5060 mgcp:2427 h248:2944 h323:1720; do
  b=${bp%%:*} port=${bp#*:}
  "$KD_BIN/kd-term" start --id alice --switch ss1 --seed 01 --now "$NOW" --keys "$W/alice.keys" --binding "$b" \
    >"$TMP/start.$b" 2>"$TMP/start.err"
  ipc=$("$KD_BIN/kd-decode" "$TMP/start.$b" 2>/dev/null | jq -r 'select(.step) | .fields.IPc')
  check "kd-term start --binding $b: the default IPc is 127.0.0.1:$port" eq "$ipc" "127.0.0.1:$port"
done

# --help describes INPUT as it is: lines or a capture.
for t in term proxy switch auc; do
  "$KD_BIN/kd-$t" --help >"$TMP/help" 2>&1
  check "kd-$t --help: INPUT may be a capture" grep -q "capture" "$TMP/help"
done

# Every long option --help lists is in the page, and the page's OPTIONS name no option --help lacks.
options_of_help() { grep -oE -- '--[a-z][a-z0-9-]+' "$1" | sort -u; }
options_of_page() { man -l "$1" 2>/dev/null | col -b | grep -oE -- '--[a-z][a-z0-9-]+' | sort -u; }
command -v man >/dev/null || { echo "man is required (scripts/test installs man-db)"; exit 1; }
for t in term proxy switch auc decode; do
  { "$KD_BIN/kd-$t" --help; for s in start keys; do "$KD_BIN/kd-$t" $s --help 2>/dev/null; done
    for s in init add export list; do "$KD_BIN/kd-$t" keys $s --help 2>/dev/null; done; } >"$TMP/help"
  options_of_help "$TMP/help" | grep -v -- '--help' >"$TMP/h.opts"
  options_of_page "$KD_ROOT/man/kd-$t.1" >"$TMP/p.opts"
  missing=$(comm -23 "$TMP/h.opts" "$TMP/p.opts" | tr '\n' ' ')
  check "kd-$t: every option of --help is in kd-$t(1)" eq "$missing" ""
done
# The live subcommands' options: in kd-live(7) or the tool's page.
for c in "auc serve" "switch serve" "proxy serve" "term register" "term load"; do
  t=${c%% *}
  "$KD_BIN/kd-$t" ${c#* } --help >"$TMP/help" 2>&1
  options_of_help "$TMP/help" | grep -v -- '--help' >"$TMP/h.opts"
  { options_of_page "$KD_ROOT/man/kd-live.7"; options_of_page "$KD_ROOT/man/kd-$t.1"; } | sort -u >"$TMP/p.opts"
  missing=$(comm -23 "$TMP/h.opts" "$TMP/p.opts" | tr '\n' ' ')
  check "kd-$c: every option of --help is in kd-live(7) or kd-$t(1)" eq "$missing" ""
done
# Every usage error, from the parser or from a later check of a value, ends with the pointer to
# --help that OPTIONS promises (trial 4: kd-auc keys --id/--role/--key did not).
ends_with_pointer() {  # TOOL
  eq "$RC" 2 || return 1
  eq "$(tail -n 1 "$ERR")" "$1: run '$1 --help' for the options" || return 1
  [[ $(head -n 1 "$ERR") == "$1: "* ]] || { WHY="stderr: $(cat "$ERR")"; return 1; }
}
cp "$W/auc.keys" "$TMP/p.json"
for args in "add $TMP/p.json --id 'a b' --role term" "add $TMP/p.json --id bob --role auc" \
            "add $TMP/p.json --id bob --role term --key zz" "add $TMP/p.json --id 'x%d' --role term --count 0" \
            "remove $TMP/p.json"; do
  eval runx "$KD_BIN/kd-auc" keys "$args"
  check "kd-auc keys $args: exit 2, ends with the pointer to --help" ends_with_pointer kd-auc
done
runx "$KD_BIN/kd-term" start --id alice --switch ss1 --keys "$W/alice.keys" --mechs tls,tls
check "kd-term start --mechs tls,tls: ends with the pointer to --help" ends_with_pointer kd-term
runx "$KD_BIN/kd-proxy" --id sbc1 --keys "$W/sbc1.keys" --support TLS </dev/null
check "kd-proxy --support TLS: ends with the pointer to --help" ends_with_pointer kd-proxy
runx "$KD_BIN/kd-switch" --id ss1 --keys "$W/ss1.keys" --max-attempts 0 </dev/null
check "kd-switch --max-attempts 0: ends with the pointer to --help" ends_with_pointer kd-switch
runx "$KD_BIN/kd-decode" --decode-as bogus /dev/null
check "kd-decode --decode-as bogus: ends with the pointer to --help" ends_with_pointer kd-decode
runx "$KD_BIN/kd-vectors" generate ''
check "kd-vectors generate '': ends with the pointer to --help" ends_with_pointer kd-vectors
runx "$KD_BIN/kd-term" --no-such-option
check "a parse error still ends with exactly one pointer" eval 'ends_with_pointer kd-term && eq "$(grep -c -- "--help" "$ERR")" 1'

finish
