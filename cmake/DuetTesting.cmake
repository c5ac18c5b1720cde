# Helpers to register tests with CTest.
#
#   duet_add_test(NAME name SOURCES a.c b.c [LIBS ...] [LABELS ...] [ARGS ...] [TSAN])
#
# Builds 'name' from the sources, linked with cmocka and LIBS, and registers it.
# With TSAN the test is a concurrency test: in the ThreadSanitizer build
# (DUET_TSAN=ON) it is built there, and the main build registers the TSan-built
# binary as '<name>_tsan' (via DUET_TSAN_DIR) in addition to its own plain run,
# so one ctest run covers both and prints one summary.
include_guard(GLOBAL)
# GLOBAL: the imported target must be visible from every directory that adds tests,
# whichever of them included this file first (include_guard skips the others).
pkg_check_modules(CMOCKA REQUIRED IMPORTED_TARGET GLOBAL cmocka)

function(duet_add_test)
  cmake_parse_arguments(T "TSAN" "NAME" "SOURCES;LIBS;LABELS;ARGS" ${ARGN})
  add_executable(${T_NAME} ${T_SOURCES})
  target_link_libraries(${T_NAME} PRIVATE PkgConfig::CMOCKA ${T_LIBS})
  if(DUET_TSAN AND NOT T_TSAN)
    # The TSan build only builds concurrency tests; the target still exists (not
    # built by default) so callers may set properties on it.
    set_target_properties(${T_NAME} PROPERTIES EXCLUDE_FROM_ALL TRUE)
    add_test(NAME ${T_NAME} COMMAND ${T_NAME} ${T_ARGS})
    set_tests_properties(${T_NAME} PROPERTIES DISABLED TRUE)
    return()
  endif()
  add_test(NAME ${T_NAME} COMMAND ${T_NAME} ${T_ARGS})
  set_tests_properties(${T_NAME} PROPERTIES LABELS "${T_LABELS}" TIMEOUT 600)
  if(T_TSAN AND DUET_TSAN_DIR AND NOT DUET_TSAN)
    add_test(NAME ${T_NAME}_tsan COMMAND ${DUET_TSAN_DIR}/bin/${T_NAME} ${T_ARGS})
    set_tests_properties(${T_NAME}_tsan PROPERTIES LABELS "tsan;${T_LABELS}" TIMEOUT 900
      ENVIRONMENT "TSAN_OPTIONS=halt_on_error=1 second_deadlock_stack=1")
  endif()
endfunction()

#   duet_add_fuzzer(NAME name SOURCES ... [LIBS ...] [CORPUS dir] [SECONDS n])
# In a DUET_FUZZ build: a libFuzzer binary. In the main build, when DUET_FUZZ_DIR is
# set: a ctest entry that runs it for a bounded time (default 20 s) over its corpus.
function(duet_add_fuzzer)
  cmake_parse_arguments(F "" "NAME;CORPUS;SECONDS" "SOURCES;LIBS" ${ARGN})
  if(NOT F_SECONDS)
    set(F_SECONDS 20)
  endif()
  if(DUET_FUZZ)
    add_executable(${F_NAME} ${F_SOURCES})
    target_compile_options(${F_NAME} PRIVATE -fsanitize=fuzzer,address,undefined)
    target_link_options(${F_NAME} PRIVATE -fsanitize=fuzzer,address,undefined)
    target_link_libraries(${F_NAME} PRIVATE ${F_LIBS})
  elseif(DUET_FUZZ_DIR AND NOT DUET_TSAN)
    set(work ${CMAKE_BINARY_DIR}/fuzz-work/${F_NAME})
    add_test(NAME ${F_NAME}
      COMMAND ${CMAKE_COMMAND} -E env ASAN_OPTIONS=detect_leaks=1
              ${DUET_ROOT}/scripts/run-fuzzer.sh ${DUET_FUZZ_DIR}/bin/${F_NAME} ${work} ${F_SECONDS} ${F_CORPUS})
    set_tests_properties(${F_NAME} PROPERTIES LABELS "fuzz" TIMEOUT 300)
  endif()
endfunction()
