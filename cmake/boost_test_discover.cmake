# SPDX-License-Identifier: MIT
# Run after a Boost.Test binary is built (cmake -P): lists its top-level suites and
# cases (--list_content) and writes one CTest test per entry into OUT, which the
# directory includes (TEST_INCLUDE_FILES). ctest -j then spreads them, and a failure
# names its suite. Inputs: BIN (the binary), NAME (the test-name prefix), OUT,
# ARGS (extra arguments, ;-separated), SERIAL (entries that must run alone).
cmake_policy(SET CMP0057 NEW)
execute_process(COMMAND ${BIN} --list_content ERROR_VARIABLE listing OUTPUT_VARIABLE out RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${BIN} --list_content failed: ${listing}${out}")
endif()
string(REPLACE "\n" ";" lines "${listing}${out}")
set(text "# Generated from ${BIN} --list_content; do not edit.\n")
foreach(line IN LISTS lines)
  if(line MATCHES "^([A-Za-z0-9_]+)\\*?$")  # top level: no indentation
    set(entry ${CMAKE_MATCH_1})
    string(APPEND text "add_test([==[${NAME}/${entry}]==] [==[${BIN}]==] --run_test=${entry}")
    foreach(a IN LISTS ARGS)
      string(APPEND text " [==[${a}]==]")
    endforeach()
    string(APPEND text ")\n")
    if(entry IN_LIST SERIAL)
      string(APPEND text "set_tests_properties([==[${NAME}/${entry}]==] PROPERTIES RUN_SERIAL TRUE)\n")
    endif()
  endif()
endforeach()
file(WRITE ${OUT} "${text}")
