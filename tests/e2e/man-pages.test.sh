#!/usr/bin/env bash
# Every page in man/ renders without a warning from groff at the width man(1) gives an 80-column
# terminal (a line it cannot adjust or break, an unknown macro or escape, a missing font): what a
# reader sees is what was written.
. "$(dirname "$0")/lib.sh"

command -v groff >/dev/null || { echo "groff is required (scripts/test installs man-db, which brings it)"; exit 1; }
n=0
for page in "$KD_ROOT"/man/*.[157]; do
  out=$(groff -t -man -Tutf8 -rLL=78n -z -wmac -wbreak "$page" 2>&1)
  check "$(basename "$page"): no groff warning" eq "$out" ""
  n=$((n + 1))
done
check "the pages were found" test "$n" -ge 9
finish
