#!/usr/bin/env bash
# The install tree and the Debian package (README.md, "Install"): `cmake --install` of the build
# under test into a throwaway prefix, and `cpack -G DEB` of the same build, unpacked with dpkg-deb
# -x; in both, every file a user needs is where Debian puts it (the Wireshark dissector where
# tshark looks for a global Lua plugin), and the installed tools (kd-flow finding its siblings on
# PATH) complete a registration in both flows. The expected file list is written here, not read
# from the install rules.
source "$(dirname "$0")/lib.sh"
: "${KD_BUILD:?KD_BUILD must name the build directory}"

EXPECTED_BIN=(kd-term kd-proxy kd-switch kd-auc kd-decode kd-vectors kd-flow)
EXPECTED_MAN=(man1/kd-term.1 man1/kd-proxy.1 man1/kd-switch.1 man1/kd-auc.1 man1/kd-decode.1
              man1/kd-vectors.1 man1/kd-flow.1 man5/kd-vectors.5 man7/kd-protocol.7 man7/kd-dissector.7)
# The Wireshark dissector goes where Debian's Wireshark looks for a global Lua plugin, as tshark
# itself names it (/usr/lib/x86_64-linux-gnu/wireshark/plugins), relative to the prefix.
command -v tshark >/dev/null || { echo "FAIL: tshark is required (scripts/setup installs it)"; exit 1; }
export HOME=$TMP/home  # tshark's profile, and the personal plugin folder below
LUA_DIR=$(tshark -G folders 2>/dev/null | sed -n 's/^Global Lua Plugins:[[:space:]]*//p')
LUA_DIR=${LUA_DIR#/usr/}

# tree_ok ROOT: the files a user needs are under ROOT (a prefix: bin/, share/).
tree_ok() {
  local root=$1 f missing=""
  for f in "${EXPECTED_BIN[@]}"; do [ -x "$root/bin/$f" ] || missing+=" bin/$f"; done
  for f in "${EXPECTED_MAN[@]}"; do
    # gzipped, and the page itself: compared with the source page, not with what the build wrote.
    if ! gzip -dc "$root/share/man/$f.gz" 2>/dev/null | cmp -s - "$KD_ROOT/man/$(basename "$f")"; then
      missing+=" share/man/$f.gz"
    fi
  done
  for f in "${EXPECTED_BIN[@]}"; do
    bash -n "$root/share/bash-completion/completions/$f" 2>/dev/null &&
      grep -q "complete -F .* $f\$" "$root/share/bash-completion/completions/$f" ||
      missing+=" share/bash-completion/completions/$f"
  done
  cmp -s "$root/share/kd/dictionary.kd" "$KD_ROOT/scripts/radius/dictionary.kd" || missing+=" share/kd/dictionary.kd"
  cmp -s "$root/share/kd/kd.lua" "$KD_BUILD/kd.lua" || missing+=" share/kd/kd.lua"
  [ -n "$LUA_DIR" ] && cmp -s "$root/$LUA_DIR/kd.lua" "$KD_BUILD/kd.lua" || missing+=" ${LUA_DIR:-(no Lua plugin folder)}/kd.lua"
  [ -f "$root/share/kd/testvectors/negative/KD-AES128GCM-SHA256-json.json" ] ||
    missing+=" share/kd/testvectors"
  # every man page of the source tree is installed (a new page cannot be forgotten)
  for f in "$KD_ROOT"/man/*.[1-9]; do
    local n; n=$(basename "$f")
    [ -f "$root/share/man/man${n##*.}/$n.gz" ] || missing+=" share/man/man${n##*.}/$n.gz"
  done
  [ -z "$missing" ] || { WHY="missing or wrong:$missing"; return 1; }
}

# registers ROOT: the installed kd-flow, on a PATH holding only ROOT/bin and the system's, runs
# both flows to the end.
registers() {
  local root=$1 flow out
  for flow in proxied direct; do
    out=$(cd "$TMP" && env PATH="$root/bin:/usr/bin:/bin" kd-flow --flow "$flow" --seed 01 --now "$NOW" 2>&1) ||
      { WHY="$flow: kd-flow failed: ${out:0:300}"; return 1; }
    grep -q '"event":"registered"' <<<"$out" || { WHY="$flow: no registered event"; return 1; }
  done
}

# ---- cmake --install ---------------------------------------------------------------------------
prefix=$TMP/prefix
cmake --install "$KD_BUILD" --prefix "$prefix" >"$TMP/install.log" 2>&1
check "cmake --install succeeds" eq "$?" 0
check "the install tree holds the tools, man pages, completions, dictionary, dissector and vectors" tree_ok "$prefix"
check "the installed tools register (both flows, kd-flow from PATH)" registers "$prefix"
check "nothing but bin/, share/ and the Wireshark plugin is installed (no headers, no static libraries)" \
  eq "$(cd "$prefix" && ls | tr '\n' ' ') $(cd "$prefix" && find lib -type f)" "bin lib share  $LUA_DIR/kd.lua"

# The README's way for a user: the installed dissector linked into the personal Lua plugin folder,
# and Wireshark shows the KD step without being told of it.
mkdir -p "$HOME/.local/lib/wireshark/plugins"
ln -s "$prefix/share/kd/kd.lua" "$HOME/.local/lib/wireshark/plugins/kd.lua"
check "tshark loads the installed dissector from ~/.local/lib/wireshark/plugins" \
  eq "$(tshark -n -r "$KD_ROOT/testvectors/pcap/KD-SM4GCM-SM3-direct-sip.pcap" -T fields -e kd.step 2>/dev/null | tr '\n' ' ')" \
  "d1 d2 d3 d4 d5 d6 d7 "
rm "$HOME/.local/lib/wireshark/plugins/kd.lua"

# ---- the Debian package ------------------------------------------------------------------------
if ! command -v cpack >/dev/null || ! command -v dpkg-shlibdeps >/dev/null; then
  echo "cpack or dpkg-shlibdeps missing (scripts/test installs dpkg-dev)"; exit 1
fi
cpack --config "$KD_BUILD/CPackConfig.cmake" -B "$TMP/pkg" >"$TMP/cpack.log" 2>&1
check "cpack writes the package" eq "$?" 0
deb=$(ls "$TMP"/pkg/kd_*.deb 2>/dev/null | head -1)
check "the package is named kd_VERSION_ARCH.deb" eq "$(basename "${deb:-none}")" \
  "kd_$(sed -n 's/^project(kd VERSION \([0-9.]*\).*/\1/p' "$KD_ROOT/CMakeLists.txt")_$(dpkg --print-architecture).deb"

# Depends: the runtime packages that own the shared libraries the tools link, as dpkg -S finds them
# on this machine (Crypto++'s and libpcap's at least), each named in the package's Depends.
depends=$(dpkg-deb -f "$deb" Depends 2>/dev/null)
owners() {  # the packages owning the libraries kd-decode names in DT_NEEDED (not their own deps)
  local needed so
  needed=$(readelf -d "$KD_BUILD/tools/kd-decode" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
  for so in $needed; do
    so=$(ldd "$KD_BUILD/tools/kd-decode" | awk -v n="$so" '$1 == n {print $3}')
    [ -n "$so" ] || continue
    dpkg -S "$(readlink -f "$so")" 2>/dev/null || dpkg -S "$so" 2>/dev/null
  done | cut -d: -f1 | sort -u
}
depends_cover() {
  local p missing=""
  for p in $(owners); do
    case $p in libasan*|libubsan*) continue ;; esac  # the sanitizer build's runtimes
    sed 's/ *([^)]*)//g; s/, */\n/g' <<<"$depends" | grep -qxF "$p" || missing+=" $p"
  done
  [ -z "$missing" ] || { WHY="Depends '$depends' lacks:$missing"; return 1; }
  grep -q "libcrypto++" <<<"$depends" && grep -q "libpcap" <<<"$depends" ||
    { WHY="Depends '$depends' names no Crypto++ or libpcap package"; return 1; }
}
check "Depends names the runtime package of every library the tools link (dpkg-shlibdeps)" depends_cover
check "the package is in section net, architecture of this machine" \
  eq "$(dpkg-deb -f "$deb" Section Architecture | tr '\n' ' ')" "Section: net Architecture: $(dpkg --print-architecture) "

root=$TMP/root
dpkg-deb -x "$deb" "$root"
check "the package installs under /usr" tree_ok "$root/usr"
check "the packaged tools register (both flows)" registers "$root/usr"
check "the package holds nothing outside /usr" eq "$(cd "$root" && ls)" "usr"

finish
