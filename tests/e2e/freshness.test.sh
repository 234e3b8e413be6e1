#!/usr/bin/env bash
# Replay caches and timestamp windows: replayed nonces are refused (replayed_nonce) with the state
# untouched; a timestamp exactly at the edge of the window passes and one second beyond is
# stale_timestamp or future_timestamp; --skew moves the edges; the receiver's clock is shifted
# with --now.
. "$(dirname "$0")/lib.sh"

# at DESCRIPTION ROLE STEP FILE CODE|accepted [ARGS...]: FILE fed to ROLE from its state before STEP
# (KNOW may shift the clock).
at() {
  local desc=$1 role=$2 step=$3 file=$4 want=$5; shift 5
  refeed "$role" "$step" "$file" "$@"
  if [ "$want" = accepted ]; then check "$desc: accepted" accepted
  else check "$desc -> $want, state unchanged" rejects "$want"; fi
}

M=$TMP/changed.json

# ---- proxied flow ------------------------------------------------------------------------------
check "proxied run completes" world_run "$TMP/p" proxied KD-AES128GCM-SHA256
P=$W

# Replays.
at "s1 replayed to the proxy right after it was accepted" proxy s5 "$P/s1.json" replayed_nonce
at "s1 replayed to the proxy after the registration" proxy end "$P/s1.json" replayed_nonce
KNOW=$((NOW + 300)) at "s1 replayed at TS1 + 300 (its N1 still cached)" proxy end "$P/s1.json" replayed_nonce
KNOW=$((NOW + 301)) at "s1 replayed at TS1 + 301 (cache entry gone, the timestamp catches it)" proxy end "$P/s1.json" stale_timestamp
at "s7 replayed to the proxy right after it was accepted" proxy s9 "$P/s7.json" replayed_nonce
at "s7 replayed to the proxy after the registration (exchange forgotten)" proxy end "$P/s7.json" unexpected_message
at "s6 replayed to the terminal right after it was accepted" term s10 "$P/s6.json" replayed_nonce
at "s6 replayed to the terminal after the registration" term end "$P/s6.json" replayed_nonce
at "s10 replayed to the terminal after the registration" term end "$P/s10.json" replayed_nonce

# TS1 at the proxy: the receiver's clock moves, the message stays.
KNOW=$((NOW + 300)) at "s1 with TS1 = now - 300" proxy s1 "$P/s1.json" accepted
KNOW=$((NOW + 301)) at "s1 with TS1 = now - 301" proxy s1 "$P/s1.json" stale_timestamp
KNOW=$((NOW - 300)) at "s1 with TS1 = now + 300" proxy s1 "$P/s1.json" accepted
KNOW=$((NOW - 301)) at "s1 with TS1 = now + 301" proxy s1 "$P/s1.json" future_timestamp
KNOW=$((NOW + 10)) at "s1 with TS1 = now - 10 under --skew 10" proxy s1 "$P/s1.json" accepted --skew 10
KNOW=$((NOW + 11)) at "s1 with TS1 = now - 11 under --skew 10" proxy s1 "$P/s1.json" stale_timestamp --skew 10
KNOW=$((NOW - 11)) at "s1 with TS1 = now + 11 under --skew 10" proxy s1 "$P/s1.json" future_timestamp --skew 10
KNOW=$((NOW + 1000)) at "s1 with TS1 = now - 1000 under --skew 1000" proxy s1 "$P/s1.json" accepted --skew 1000
# The largest window must not wrap around: every timestamp is within 18446744073709551615 s.
KNOW=$((NOW - 5)) at "s1 with TS1 = now + 5 under --skew 18446744073709551615" proxy s1 "$P/s1.json" accepted --skew 18446744073709551615
KNOW=$((NOW + 5)) at "s1 with TS1 = now - 5 under --skew 18446744073709551615" proxy s1 "$P/s1.json" accepted --skew 18446744073709551615
# The timestamp itself changed, the clock fixed.
jq -c '.TS1 -= 301' "$P/s1.json" >"$M"; at "s1 whose TS1 is 301 s old" proxy s1 "$M" stale_timestamp
jq -c '.TS1 += 301' "$P/s1.json" >"$M"; at "s1 whose TS1 is 301 s ahead" proxy s1 "$M" future_timestamp

# TS3 at the proxy.
KNOW=$((NOW + 300)) at "s7 with TS3 = now - 300" proxy s7 "$P/s7.json" accepted
KNOW=$((NOW + 301)) at "s7 with TS3 = now - 301" proxy s7 "$P/s7.json" stale_timestamp
KNOW=$((NOW - 301)) at "s7 with TS3 = now + 301" proxy s7 "$P/s7.json" future_timestamp

# TS2 and TS4 at the terminal.
KNOW=$((NOW + 300)) at "s6 with TS2 = now - 300" term s6 "$P/s6.json" accepted
KNOW=$((NOW + 301)) at "s6 with TS2 = now - 301" term s6 "$P/s6.json" stale_timestamp
KNOW=$((NOW - 301)) at "s6 with TS2 = now + 301" term s6 "$P/s6.json" future_timestamp
KNOW=$((NOW - 300)) at "s10 with TS4 = now + 300" term s10 "$P/s10.json" accepted
KNOW=$((NOW + 301)) at "s10 with TS4 = now - 301" term s10 "$P/s10.json" stale_timestamp
KNOW=$((NOW - 301)) at "s10 with TS4 = now + 301" term s10 "$P/s10.json" future_timestamp
KNOW=$((NOW + 5)) at "s10 with TS4 = now - 5 under the terminal's --skew 5" term s10 "$P/s10.json" accepted --skew 5
KNOW=$((NOW + 6)) at "s10 with TS4 = now - 6 under the terminal's --skew 5" term s10 "$P/s10.json" stale_timestamp --skew 5

# ---- direct flow -------------------------------------------------------------------------------
check "direct run completes" world_run "$TMP/d" direct KD-AES128GCM-SHA256
D=$W

at "d1 replayed to the switch after the registration" switch end "$D/d1.json" replayed_nonce
at "d4 replayed to the terminal after the registration" term end "$D/d4.json" replayed_nonce
at "d6 replayed to the terminal after the registration" term end "$D/d6.json" replayed_nonce

KNOW=$((NOW + 300)) at "d1 with TS1 = now - 300" switch d1 "$D/d1.json" accepted
KNOW=$((NOW + 301)) at "d1 with TS1 = now - 301" switch d1 "$D/d1.json" stale_timestamp
KNOW=$((NOW - 301)) at "d1 with TS1 = now + 301" switch d1 "$D/d1.json" future_timestamp
KNOW=$((NOW + 21)) at "d1 with TS1 = now - 21 under the switch's --skew 20" switch d1 "$D/d1.json" stale_timestamp --skew 20
# TS3 of d5: the challenge lives 60 s, so the timestamp is moved instead of the clock.
jq -c '.TS3 -= 300' "$D/d5.json" >"$M"; at "d5 whose TS3 is 300 s old" switch d5 "$M" accepted
jq -c '.TS3 -= 301' "$D/d5.json" >"$M"; at "d5 whose TS3 is 301 s old" switch d5 "$M" stale_timestamp
jq -c '.TS3 += 301' "$D/d5.json" >"$M"; at "d5 whose TS3 is 301 s ahead" switch d5 "$M" future_timestamp
KNOW=$((NOW + 301)) at "d6 with TS4 = now - 301" term d6 "$D/d6.json" stale_timestamp
KNOW=$((NOW - 301)) at "d6 with TS4 = now + 301" term d6 "$D/d6.json" future_timestamp

finish
