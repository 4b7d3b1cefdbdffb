# NSIS extras (included by ../CMakeLists.txt before include(CPack)). The work is in
# ftupgrade.nsh: Start-menu entry for the wizard, configuration + Windows service for the
# agent. CPack's template runs these commands after the component sections, so the
# files of the chosen components are already in place.
file(TO_CMAKE_PATH "${CMAKE_CURRENT_LIST_DIR}/ftupgrade.nsh" ftu_nsh)
# The template inserts CREATE_ICONS_EXTRA first, so the !include goes there.
set(CPACK_NSIS_CREATE_ICONS_EXTRA "!include \"${ftu_nsh}\"\n  !insertmacro FtuCreateIcons")
set(CPACK_NSIS_EXTRA_INSTALL_COMMANDS "!insertmacro FtuInstall")
set(CPACK_NSIS_DELETE_ICONS_EXTRA "!insertmacro FtuDeleteIcons")
set(CPACK_NSIS_EXTRA_UNINSTALL_COMMANDS "!insertmacro FtuUninstall")
set(CPACK_NSIS_MODIFY_PATH OFF)
set(CPACK_NSIS_URL_INFO_ABOUT "https://www.flowtraq.com")
