#!/bin/bash
# tshark judges the RADIUS binding of the AuC link: captures of complete proxied and direct
# registrations (every suite) must decode with no malformed packet and no expert error; every frame
# must decode as RADIUS with the code kd meant (Access-Request for s3/d2, Access-Challenge for s4/d3,
# Accounting-Request for s11/d7); with kd's dictionary (scripts/radius/dictionary.kd) loaded, the KD
# sub-attributes must decode by name; and with the shared secret, tshark must find every
# Access-Challenge's Response Authenticator correct (and incorrect under another secret).
# Usage: radius-tshark.test.sh KD-WIRE-CAPTURE WORKDIR
set -u
capture_tool=$1
work=$2
here=$(cd "$(dirname "$0")" && pwd)
dictionary=$here/../../scripts/radius/dictionary.kd
secret=kd-tshark-secret

if ! command -v tshark >/dev/null 2>&1; then
  echo "FAIL: tshark is not installed; this test needs it (Debian: apt-get install tshark)" >&2
  exit 1
fi

rm -rf "$work" && mkdir -p "$work" || exit 1
"$capture_tool" radius "$work" "$secret" || { echo "FAIL: $capture_tool could not write the captures" >&2; exit 1; }

# tshark wants to write a profile under HOME; keep it inside the work directory, and give it kd's
# dictionary as a personal RADIUS dictionary.
export HOME=$work
mkdir -p "$work/.config/wireshark/radius" || exit 1
cp "$dictionary" "$work/.config/wireshark/radius/dictionary.kd" || exit 1
# shellcheck disable=SC2016  # $INCLUDE is dictionary syntax, not a shell expansion
printf '$INCLUDE dictionary.kd\n' >"$work/.config/wireshark/radius/dictionary"

status=0
for flow in proxied direct; do
  pcap=$work/radius-$flow.pcap
  fail() { echo "FAIL: $flow: $*" >&2; status=1; }
  for opts in "" "-o radius.shared_secret:$secret -o radius.validate_authenticator:TRUE"; do
    # shellcheck disable=SC2086
    bad=$(tshark -n -r "$pcap" $opts -Y '_ws.malformed || _ws.expert.severity >= error' 2>"$work/stderr") ||
      { fail "tshark could not read $pcap:"; cat "$work/stderr" >&2; }
    if [ -n "$bad" ]; then
      fail "tshark finds malformed packets or expert errors in $pcap ${opts:+(with the secret)}:"
      echo "$bad" >&2
    fi
  done
  if grep -qi 'radius' "$work/stderr"; then
    fail "tshark complains about the RADIUS dictionary:"
    cat "$work/stderr" >&2
  fi

  want=$(sed -e 's/^s3$\|^d2$/1/' -e 's/^s4$\|^d3$/11/' -e 's/^s11$\|^d7$/4/' "$work/radius-$flow.steps")
  got=$(tshark -n -r "$pcap" -Y radius -T fields -e radius.code 2>"$work/stderr")
  frames=$(echo "$want" | wc -l)
  all=$(tshark -n -r "$pcap" 2>/dev/null | wc -l)
  if [ "$all" != "$frames" ]; then fail "$pcap holds $all frames, the steps file $frames"; fi
  if [ "$got" != "$want" ]; then
    fail "tshark does not decode every frame of $pcap as the RADIUS code kd sent (want, got):"
    diff <(echo "$want") <(echo "$got") >&2
  fi

  # The KD sub-attributes by name: every frame names a suite, and the registrar identity of its flow.
  id_field=radius.KD_IDsp
  [ $flow = direct ] && id_field=radius.KD_IDss
  named=$(tshark -n -r "$pcap" -T fields -e radius.User_Name -e radius.KD_Suite -e $id_field 2>/dev/null |
          awk -F'\t' '$1 != "" && $2 ~ /^KD-/ && $3 != ""' | wc -l)
  if [ "$named" != "$frames" ]; then
    fail "with dictionary.kd, only $named of $frames frames show User-Name, KD-Suite and the registrar identity"
  fi
  suites=$(tshark -n -r "$pcap" -T fields -e radius.KD_Suite 2>/dev/null | sort -u | tr '\n' ' ')
  if [ "$suites" != "KD-AES128GCM-SHA256 KD-AES256GCM-SHA384 KD-SM4GCM-SM3 " ]; then
    fail "the captures name the suites \"$suites\", not the three suites"
  fi
  challenges=$(echo "$want" | grep -c '^11$')
  # With the secret every Access-Challenge's Response Authenticator is correct ...
  valid=$(tshark -n -r "$pcap" -o "radius.shared_secret:$secret" -o radius.validate_authenticator:TRUE \
            -Y 'radius.code == 11 && radius.authenticator.valid == 1' 2>/dev/null | wc -l)
  if [ "$valid" != "$challenges" ]; then
    fail "tshark finds $valid of $challenges Access-Challenge Response Authenticators correct"
  fi
  # ... and under another secret none is (the check is live).
  invalid=$(tshark -n -r "$pcap" -o radius.shared_secret:not-the-secret -o radius.validate_authenticator:TRUE \
              -Y 'radius.code == 11 && radius.authenticator.invalid == 1' 2>/dev/null | wc -l)
  if [ "$invalid" != "$challenges" ]; then
    fail "under a wrong secret tshark finds only $invalid of $challenges Response Authenticators incorrect"
  fi
  [ $status = 0 ] && echo "ok: $flow: $frames RADIUS frames ($challenges Access-Challenges with correct Response Authenticators), tshark finds nothing wrong"
done
exit $status
