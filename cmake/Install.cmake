# What `cmake --install BUILD --prefix P` puts where (kd's README, "Install"), and the Debian package
# CPack makes of the same tree (scripts/package). Only user-facing files: the tools, kd-flow, the man
# pages (gzipped, as Debian ships them), the RADIUS dictionary, the Wireshark dissector and the
# conformance vectors. lib/'s static parts are the tools' insides, not an API, so no headers or
# libraries are installed.
include(GNUInstallDirs)

install(TARGETS kd-term kd-proxy kd-switch kd-auc kd-decode kd-vectors
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(PROGRAMS ${PROJECT_SOURCE_DIR}/scripts/kd-flow DESTINATION ${CMAKE_INSTALL_BINDIR})

# man/NAME.S -> share/man/manS/NAME.S.gz (gzip -n: no name or time stamp, so the package is
# reproducible).
file(GLOB KD_MAN_PAGES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/man/*.[1-9])
set(KD_MAN_GZ "")
foreach(page ${KD_MAN_PAGES})
  get_filename_component(name ${page} NAME)
  string(REGEX MATCH "[1-9]$" section ${name})
  set(gz ${CMAKE_BINARY_DIR}/man/${name}.gz)
  add_custom_command(OUTPUT ${gz}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/man
    COMMAND sh -c "gzip -9n -c \"$1\" > \"$2\"" sh ${page} ${gz}
    DEPENDS ${page} VERBATIM)
  install(FILES ${gz} DESTINATION ${CMAKE_INSTALL_MANDIR}/man${section})
  list(APPEND KD_MAN_GZ ${gz})
endforeach()
add_custom_target(kd_man_pages ALL DEPENDS ${KD_MAN_GZ})

# Bash completion: each tool writes its own from its command-line definitions (--bash-completion);
# kd-flow's is written by hand (scripts/completion/kd-flow). bash-completion loads them by name.
set(KD_COMPLETIONS "")
foreach(tool kd-term kd-proxy kd-switch kd-auc kd-decode kd-vectors)
  set(out ${CMAKE_BINARY_DIR}/completions/${tool})
  add_custom_command(OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/completions
    COMMAND sh -c "\"$1\" --bash-completion > \"$2\"" sh $<TARGET_FILE:${tool}> ${out}
    DEPENDS ${tool} VERBATIM)
  list(APPEND KD_COMPLETIONS ${out})
endforeach()
add_custom_target(kd_completions ALL DEPENDS ${KD_COMPLETIONS})
install(FILES ${KD_COMPLETIONS} ${PROJECT_SOURCE_DIR}/scripts/completion/kd-flow
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions)

install(FILES ${PROJECT_SOURCE_DIR}/scripts/radius/dictionary.kd DESTINATION ${CMAKE_INSTALL_DATADIR}/kd)

# The Wireshark dissector (kd-dissector(7), written by tools/kd-dissector-gen): under share/kd, and
# in Wireshark's global Lua plugin folder, lib/<multiarch>/wireshark/plugins on Debian (`tshark -G
# folders`), so that the package shows it to every user. GNUInstallDirs picks the multiarch libdir
# only when configured for /usr, and the package is built from a /usr/local configure: hence the
# triplet CMake found, not CMAKE_INSTALL_LIBDIR, where there is one.
if(CMAKE_LIBRARY_ARCHITECTURE)
  set(KD_WIRESHARK_LIBDIR lib/${CMAKE_LIBRARY_ARCHITECTURE})
else()
  set(KD_WIRESHARK_LIBDIR ${CMAKE_INSTALL_LIBDIR})
endif()
set(KD_WIRESHARK_PLUGIN_DIR ${KD_WIRESHARK_LIBDIR}/wireshark/plugins CACHE STRING
    "Where kd.lua is installed for Wireshark, relative to the prefix")
install(FILES ${CMAKE_BINARY_DIR}/kd.lua DESTINATION ${CMAKE_INSTALL_DATADIR}/kd)
install(FILES ${CMAKE_BINARY_DIR}/kd.lua DESTINATION ${KD_WIRESHARK_PLUGIN_DIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/testvectors/ DESTINATION ${CMAKE_INSTALL_DATADIR}/kd/testvectors)
install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})

# The Debian package: `cpack -G DEB` in a build directory (scripts/package does it from a Release
# build). The Depends line is computed by dpkg-shlibdeps from the binaries (Crypto++ and libpcap's
# runtime packages, libc, libstdc++), not typed here.
set(CPACK_PACKAGE_NAME kd)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "registration-time key distribution for VoIP/NGN: roles, decoder, conformance vectors")
set(CPACK_PACKAGE_DESCRIPTION
    "kd implements the key distribution method of WO 2005/112338 as command-line tools: the four\n\
roles (terminal, signaling proxy, soft switch, authentication center) over JSON Lines, SIP,\n\
MGCP, H.248 text and H.323 RAS with the AuC link over RADIUS; kd-decode decodes and verifies\n\
captures; kd-vectors checks the conformance vectors.")
set(CPACK_PACKAGE_CONTACT "kd developers <kd-devel@localhost>")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # kd_VERSION_ARCH.deb
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "tshark, sip-tester, freeradius-utils")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_GENERATOR DEB)
include(CPack)
