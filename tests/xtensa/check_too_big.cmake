# check_too_big.cmake - configure + build too_big.c with a 12 KiB window; the build must
# fail, and with the linker script's "does not fit" message (not some other error).
file(REMOVE_RECURSE ${BIN})
execute_process(COMMAND ${CMAKE_COMMAND} -S ${SRC} -B ${BIN} -DCMAKE_TOOLCHAIN_FILE=${TOOLCHAIN}
                        -DDUET_ROOT=${ROOT} -DDUET_PROGRAM_NAME=too_big -DDUET_PROGRAM_SOURCES=${PROG}
                        -DDUET_WINDOW_SIZE=0x3000 -DDUET_SHM_SIZE=4096
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "configure failed (not the check we want):\n${out}${err}")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} --build ${BIN}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(rc EQUAL 0)
  message(FATAL_ERROR "a 4 KiB-data program linked into a 12 KiB window: the fit ASSERTs did not fire")
endif()
if(NOT "${out}${err}" MATCHES "duet: program does not fit")
  message(FATAL_ERROR "link failed, but without the duet message:\n${out}${err}")
endif()
message(STATUS "link refused as expected")
