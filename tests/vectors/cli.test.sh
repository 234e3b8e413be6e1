#!/usr/bin/env bash
# kd-vectors on bad input, and the runner's ability to fail: a corrupted expectation must be reported.
#   cli.test.sh KD-VECTORS TESTVECTORS-DIR
set -u
kv=$1 tv=$2
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
check() {  # check NAME WANT-STATUS WANT-TEXT CMD...
  local name=$1 want=$2 text=$3; shift 3
  local out st
  out=$("$@" 2>&1); st=$?
  if [ "$st" = "$want" ] && grep -q -- "$text" <<<"$out"; then pass=$((pass + 1)); echo "ok   $name"
  else fail=$((fail + 1)); echo "FAIL $name: status $st (want $want), output:"; echo "$out" | head -5; fi
}
pos=$tv/positive/KD-SM4GCM-SM3-direct-json.json
neg=$tv/negative/KD-SM4GCM-SM3-json.json

check "missing file: exit 3, others still run" 3 "1 passed, 0 failed" "$kv" run "$tmp/nope.json" "$pos"
check "a directory: exit 3" 3 "cannot read" "$kv" run "$tmp"
check "a schema file is no vector file" 3 "not a kd vector file" "$kv" run "$tv/schemas/kd_positive.schema.json"
# Where a file stops being JSON is said: its line and column.
{ head -n 3 "$pos"; echo '  "x": ,'; } > "$tmp/broken.json"
check "a file that is not JSON: says where" 3 "not valid JSON at line 4, column 8" "$kv" run "$tmp/broken.json"
# The format version is the integer 1 (kd-vectors(5)): not a fraction that rounds to it.
for v in 1.5 1.0 '"1"'; do
  sed "0,/\"kd_vectors\": 1,/s//\"kd_vectors\": $v,/" "$tv/positive/KD-SM4GCM-SM3-direct-json.json" > "$tmp/version.json"
  check "kd_vectors $v is no vector file" 3 "not a kd vector file" "$kv" run "$tmp/version.json"
done
# A member missing or of the wrong type is named by its path, as jq writes it, in kd's words: never
# nlohmann's ("[json.exception.type_error.302] type must be string, but is number", which named
# neither the member nor where it was: trial 9), and a bad key is never shown.
not_said() {  # FILE TEXT: kd-vectors run FILE does not print TEXT
  ! "$kv" run "$1" 2>&1 | grep -qF -- "$2"
}
named() {  # NAME JQ-FILTER FILE WANT-TEXT
  jq "$2" "$3" >"$tmp/typed.json"
  check "$1: exit 3, named" 3 "$4" "$kv" run "$tmp/typed.json"
  check "... in kd's words, not nlohmann's" 0 "" not_said "$tmp/typed.json" json.exception
}
named "a suite that is a number" '.suite = 5' "$pos" 'typed.json: .suite must be a string'
named "a type that is a number" '.type = 5' "$pos" '"type" must be positive or negative'
named "an identity missing" 'del(.identities.term)' "$pos" '.identities.term is missing'
named "identities not an object" '.identities = []' "$pos" '.identities must be an object'
named "a key entry that is a string" '.keys[0] = "alice"' "$pos" '.keys\[0\] must be an object'
named "a transcript step that is null" '.transcript[1].step = null' "$pos" '.transcript\[1\].step must be a string'
named "a transcript that is an object" '.transcript = {}' "$pos" '.transcript must be an array'
named "a pcap that is a number" '.pcap = 1' "$pos" '.pcap must be a string'
named "a comment that is a number" '.testGroups[0].tests[2].comment = 7' "$neg" '.testGroups\[0\].tests\[2\].comment must be a string'
named "flags that are a string" '.testGroups[0].tests[0].flags = "x"' "$neg" '.testGroups\[0\].tests\[0\].flags must be an array'
named "numberOfTests negative" '.numberOfTests = -1' "$neg" 'numberOfTests must be a whole number'
named "stateChange a string" '.testGroups[0].tests[0].stateChange = "yes"' "$neg" '.testGroups\[0\].tests\[0\].stateChange must be true or false'
jq '.keys[0].key = "0123456789abcdef0123456789abcdef0"' "$pos" >"$tmp/typed.json"
check "a key of odd length: named" 3 '.keys\[0\].key must be hex digits' "$kv" run "$tmp/typed.json"
check "... the key not shown" 0 "" not_said "$tmp/typed.json" 0123456789abcdef0123456789abcdef0
check "--tools without binaries: exit 3" 3 "no executable kd-term" "$kv" run --tools "$tmp" "$pos"
check "no file: usage, exit 2" 2 "" "$kv" run

sed 's/"error": "bad_mac"/"error": "bad_seal"/' "$neg" > "$tmp/wrong-code.json"
check "a wrong expected code fails the case" 1 "expected bad_seal, got bad_mac" "$kv" run "$tmp/wrong-code.json"
sed '0,/"stateChange": true/s/"stateChange": true/"stateChange": false/' "$neg" > "$tmp/wrong-state.json"
check "an unexpected state change is caught" 1 "the rejection changed the recipient's state" "$kv" run "$tmp/wrong-state.json"
sed '0,/"result": "valid"/s/"result": "valid"/"result": "invalid", "error": "stale_timestamp"/' "$neg" > "$tmp/wrong-result.json"
check "an accepted input expected invalid fails" 1 "expected stale_timestamp, got acceptance" "$kv" run "$tmp/wrong-result.json"
sed 's/"session_key": "[0-9a-f]*"/"session_key": "00"/' "$pos" > "$tmp/wrong-key.json"
check "a wrong session key fails the positive vector" 1 "session key differs" "$kv" run "$tmp/wrong-key.json"
sed 's/"numberOfTests": [0-9]*/"numberOfTests": 1/' "$neg" > "$tmp/wrong-count.json"
check "numberOfTests must match" 3 "numberOfTests says 1" "$kv" run "$tmp/wrong-count.json"
# Numbers of a vector file: whole, not negative, in range (as the tools' options are).
sed 's/"now": 1700000000/"now": -1/' "$pos" > "$tmp/now-negative.json"
check "a negative now is refused, not wrapped" 3 'now must be a whole number' "$kv" run "$tmp/now-negative.json"
sed 's/"now": 1700000000/"now": 1700000000.5/' "$pos" > "$tmp/now-fraction.json"
check "a fractional now is refused, not truncated" 3 'now must be a whole number' "$kv" run "$tmp/now-fraction.json"
sed '0,/"max_attempts": 1/s/"max_attempts": 1/"max_attempts": 4294967297/' "$neg" > "$tmp/attempts-huge.json"
check "max_attempts beyond its range is refused, not truncated" 3 'max_attempts must be a whole number from 1 to 100' "$kv" run "$tmp/attempts-huge.json"
awk '/"tcId": 2,/{sub(/"tcId": 2,/,"\"tcId\": 1,")}1' "$neg" > "$tmp/dup-id.json"
check "a tcId given twice is refused" 3 "tcId 1 appears twice" "$kv" run "$tmp/dup-id.json"

# The wire bindings: bytes, secret, capture and malformed-encoding codes are all checked.
wpos=$tv/positive/KD-SM4GCM-SM3-direct-sip.json
wneg=$tv/negative/wire-mgcp.json
mkdir -p "$tmp/positive" "$tmp/pcap"
cp "$tv/pcap/KD-SM4GCM-SM3-direct-sip.pcap" "$tmp/pcap/"
check "a wire vector with its capture passes" 0 "1 passed, 0 failed" "$kv" run "$wpos"
sed '0,/"wire": "5245/s/"wire": "5245/"wire": "5345/' "$wpos" > "$tmp/positive/wrong-wire.json"
check "a changed wire byte fails the positive vector" 1 "encode gives" "$kv" run "$tmp/positive/wrong-wire.json"
sed 's/"radius_secret": "kd-vectors-secret"/"radius_secret": "another-secret"/' "$wpos" > "$tmp/positive/wrong-secret.json"
check "another RADIUS secret fails the positive vector" 1 "expected radius bytes" "$kv" run "$tmp/positive/wrong-secret.json"
cp "$wpos" "$tmp/positive/capture.json"
printf 'x' >> "$tmp/pcap/KD-SM4GCM-SM3-direct-sip.pcap"
check "a capture that differs from the transcript fails" 1 "differs from the capture" "$kv" run "$tmp/positive/capture.json"
rm "$tmp/pcap/KD-SM4GCM-SM3-direct-sip.pcap"
check "a missing capture fails" 1 "is missing or differs" "$kv" run "$tmp/positive/capture.json"
sed '0,/"error": "missing_field"/s/"error": "missing_field"/"error": "malformed"/' "$wneg" > "$tmp/wrong-wire-code.json"
check "a wrong expected code of a malformed encoding fails" 1 "the mgcp codec says missing_field" "$kv" run "$tmp/wrong-wire-code.json"
sed 's/"binding": "mgcp",/"binding": "smtp",/' "$wneg" > "$tmp/wrong-binding.json"
check "an unknown binding is refused" 3 "unknown binding smtp" "$kv" run "$tmp/wrong-binding.json"
# pcap names a file of ../pcap (kd-vectors(5)), never a path: the runner would read any file.
mkdir -p "$tmp/outside"
cp "$tv/pcap/KD-SM4GCM-SM3-direct-sip.pcap" "$tmp/outside/"
sed 's|"pcap": "KD-SM4GCM-SM3-direct-sip.pcap"|"pcap": "../outside/KD-SM4GCM-SM3-direct-sip.pcap"|' "$wpos" > "$tmp/positive/path.json"
check "a pcap member that is a path is refused, not read" 3 "pcap must be a file name" "$kv" run "$tmp/positive/path.json"
sed 's|"pcap": "KD-SM4GCM-SM3-direct-sip.pcap"|"pcap": ".."|' "$wpos" > "$tmp/positive/dotdot.json"
check "a pcap member .. is refused" 3 "pcap must be a file name" "$kv" run "$tmp/positive/dotdot.json"

# The capture a positive vector is checked against is built in a place of its own (trial 4): what
# sits at the fixed name it once used ($TMPDIR/kd-vectors-PID.pcap: a directory, a symbolic link,
# a file of the user's) is neither used nor touched, and nothing is left in $TMPDIR.
mkdir -p "$tmp/t" "$tmp/t/target"
printf 'mine\n' >"$tmp/t/target/file"
planted() {  # KIND: runs kd-vectors under a PID known beforehand ($$ of the shell it replaces)
  env TMPDIR="$tmp/t" KIND="$1" KV="$kv" WPOS="$wpos" bash -c '
    at=$TMPDIR/kd-vectors-$$.pcap
    case $KIND in
      dir) mkdir "$at" ;;
      link) ln -s target/file "$at" ;;
      file) printf "mine\n" >"$at" ;;
    esac
    exec "$KV" run "$WPOS"'
}
check "a directory at the old fixed name does not fail the check" 0 "1 passed, 0 failed" planted dir
check "... and is left where it was" 0 "" test -d "$(ls -d "$tmp"/t/kd-vectors-*.pcap)"
rm -rf "$tmp"/t/kd-vectors-*
check "a symbolic link at the old fixed name: the check passes" 0 "1 passed, 0 failed" planted link
check "... the link is left as it was" 0 "" test -L "$(ls -d "$tmp"/t/kd-vectors-*.pcap)"
check "... and its target too" 0 "" grep -qx mine "$tmp/t/target/file"
rm -rf "$tmp"/t/kd-vectors-*
check "a file of the user's at the old fixed name: the check passes" 0 "1 passed, 0 failed" planted file
check "... and the file is left as it was" 0 "" grep -qx mine "$(ls -d "$tmp"/t/kd-vectors-*.pcap)"
rm -rf "$tmp"/t/kd-vectors-*
check "nothing is left in TMPDIR after a run" 0 "" test "$(env TMPDIR="$tmp/t" "$kv" run "$wpos" >/dev/null; ls -A "$tmp/t")" = target

# The scratch directory goes under $TMPDIR, or /tmp when it is unset or empty (as mktemp(1) does):
# one that cannot be made there is exit 3 naming where and why, never std::filesystem's words
# ("filesystem error: temp_directory_path: ...": trial 9, also for an empty TMPDIR).
check "TMPDIR that does not exist: exit 3, says where and why" 3 \
  "cannot create a scratch directory in $tmp/none: No such file or directory" env TMPDIR="$tmp/none" "$kv" run "$wpos"
check "... not in std::filesystem's words" 0 "" eval '! env TMPDIR="$tmp/none" "$kv" run "$wpos" 2>&1 | grep -q "filesystem error"'
check "TMPDIR that is a file: exit 3, says why" 3 "cannot create a scratch directory in $tmp/t/target/file: Not a directory" \
  env TMPDIR="$tmp/t/target/file" "$kv" run "$wpos"
check "an empty TMPDIR is /tmp, as an unset one" 0 "1 passed, 0 failed" env TMPDIR= "$kv" run "$wpos"

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
