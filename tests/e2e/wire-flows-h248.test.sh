#!/bin/bash
# The tools on the wire in H.248: a complete proxied and direct registration (the AuC link over
# RADIUS) through the real binaries; the capture judged by tshark, the wire lines and the capture
# decoded to the JSON run's messages and verified by kd-decode --check (wire-lib.sh, binding_flows).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/wire-lib.sh"
need_tshark

binding_flows h248

finish
