#!/bin/bash
# The reference of the wire-flows-* scripts: kd-flow --binding json completes a seeded proxied and
# direct registration, whose logical messages every binding must carry (wire-lib.sh).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/wire-lib.sh"

for f in proxied direct; do
  json_reference "$f"
  check "json-$f: the JSON registration completes" eq "$?" 0
done

finish
