# ft_add_test(<unit> [SOURCES extra.cpp…] [LIBS extra libs…] [LABELS …] [TIMEOUT s])
# Builds tests/<unit>/tst_<unit>.cpp against the core library and registers it.
function(ft_add_test unit)
    cmake_parse_arguments(ARG "" "TIMEOUT" "SOURCES;LIBS;LABELS" ${ARGN})
    set(target tst_${unit})
    qt_add_executable(${target} tst_${unit}.cpp ${ARG_SOURCES})
    target_link_libraries(${target} PRIVATE ftcore Qt6::Test ${ARG_LIBS})
    set_target_properties(${target} PROPERTIES
        RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests/bin)
    target_compile_definitions(${target} PRIVATE
        FT_BIN_DIR="${CMAKE_BINARY_DIR}/bin"
        FT_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
    add_test(NAME ${unit} COMMAND ${target})
    if(NOT ARG_TIMEOUT)
        set(ARG_TIMEOUT 300)
    endif()
    set_tests_properties(${unit} PROPERTIES TIMEOUT ${ARG_TIMEOUT})
    if(ARG_LABELS)
        set_tests_properties(${unit} PROPERTIES LABELS "${ARG_LABELS}")
    endif()
endfunction()

# Fixtures several tests share (header-only): tests/common (the CLI runner, faults made
# with real processes) and the sandbox cluster fixture in tests/runengine they build on.
# Link it: ft_add_test(<unit> LIBS fttestcommon).
add_library(fttestcommon INTERFACE)
target_include_directories(fttestcommon INTERFACE
    ${CMAKE_CURRENT_LIST_DIR}/common
    ${CMAKE_CURRENT_LIST_DIR}/runengine)
