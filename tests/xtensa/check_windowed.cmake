# check_windowed.cmake - what of the windowed-ABI build (the real ESP32-S3 target) can be
# checked with Debian's lx106 toolchain (-DCC=<lx106 gcc> -DROOT=<repo> -DOUT=<scratch>):
#
# 1. C: every core-1 runtime source compiles with -mabi=windowed (GCC itself supports it;
#    only the lx106 assembler does not) with the cross build's flags and -Werror, to
#    assembly text (-S). This covers the C code under __XTENSA_WINDOWED_ABI__ (e.g. the
#    windowed backtrace in fault.c).
# 2. Assembly: start.S and vectors.S, windowed halves, assembled as described below.
#
# Each windowed-only instruction is replaced by a stand-in of the SAME size (3-byte
# `nop`: s32e, l32e, rotw, rfwo, rfwu, callx4/8/12, entry, retw, movsp are all 24-bit
# encodings), then the files are assembled with __XTENSA_WINDOWED_ABI__ defined. What
# this proves for the windowed build, which CI cannot assemble for real: every other
# line (macros, XT_RSR/XT_WSR/XT_XSR bytes, branches, labels, #ifdef pairs) assembles,
# and every vector slot - including the alloca handler squeezed in after
# WindowUnderflow4 - fits before the next slot's .org (an overflow is an assembler
# error). It does not check the replaced mnemonics' spelling or operands.
set(SDK ${ROOT}/sdk)
file(MAKE_DIRECTORY ${OUT})
file(GLOB csrcs ${SDK}/arch/xtensa/*.c ${SDK}/src/*.c)
list(FILTER csrcs EXCLUDE REGEX "lx106_gaps\\.c$")
list(APPEND csrcs ${ROOT}/core/ring.c ${ROOT}/core/shm.c ${ROOT}/core/err.c)
foreach(c IN LISTS csrcs)
  get_filename_component(n ${c} NAME)
  execute_process(COMMAND ${CC} -mabi=windowed -mlongcalls -std=c11 -ffreestanding -Os
                          -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wno-unused-parameter
                          -DDUET_XT_MEASURE_CPU_HZ=1
                          -I${ROOT}/include -I${SDK}/include -I${SDK}/arch/xtensa/include
                          -I${SDK}/src -I${SDK}/arch/xtensa -isystem ${SDK}/arch/xtensa/libc
                          -S ${c} -o ${OUT}/${n}.s
                  RESULT_VARIABLE rc OUTPUT_VARIABLE o ERROR_VARIABLE e)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${n} does not compile with -mabi=windowed:\n${o}${e}")
  endif()
  file(READ ${OUT}/${n}.s asm)
  if(asm MATCHES "\n[ \t]*(call0|callx0)[ \t]" OR (asm MATCHES "\n[ \t]*ret(\\.n)?[ \t\n]"))
    message(FATAL_ERROR "${n}: -mabi=windowed produced call0-ABI calls/returns")
  endif()
endforeach()
list(LENGTH csrcs nc)
message(STATUS "${nc} C sources compile with -mabi=windowed")

set(windowed_ops "s32e|l32e|rotw|rfwo|rfwu|callx4|callx8|callx12|call4|call8|call12|entry|retw|movsp")
foreach(f start.S vectors.S)
  file(READ ${SDK}/arch/xtensa/${f} text)
  string(REGEX REPLACE "\n([ \t]*)(${windowed_ops})([ \t][^\n]*)?\n" "\n\\1nop /* \\2 */\n" text "${text}")
  # A second pass: adjacent matches share the newline the first pass consumed.
  string(REGEX REPLACE "\n([ \t]*)(${windowed_ops})([ \t][^\n]*)?\n" "\n\\1nop /* \\2 */\n" text "${text}")
  if(text MATCHES "\n[ \t]*(${windowed_ops})([ \t]|\n)")
    message(FATAL_ERROR "${f}: a windowed instruction was not replaced")
  endif()
  file(WRITE ${OUT}/${f} "${text}")
  execute_process(COMMAND ${CC} -D__XTENSA_WINDOWED_ABI__ -mlongcalls
                          -I${SDK}/arch/xtensa -I${SDK}/arch/xtensa/include
                          -c ${OUT}/${f} -o ${OUT}/${f}.o
                  RESULT_VARIABLE rc OUTPUT_VARIABLE o ERROR_VARIABLE e)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${f} (windowed half, stand-ins) does not assemble:\n${o}${e}")
  endif()
endforeach()

# The vector slots must sit at their core-isa.h offsets in the windowed table too.
string(REGEX REPLACE "gcc$" "nm" NM "${CC}")
execute_process(COMMAND ${NM} ${OUT}/vectors.S.o OUTPUT_VARIABLE syms RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "nm failed on vectors.S.o")
endif()
foreach(pair _duet_WindowOverflow4:0 _duet_WindowUnderflow4:40 _duet_WindowOverflow8:80
             _duet_WindowUnderflow8:c0 _duet_WindowOverflow12:100 _duet_WindowUnderflow12:140)
  string(REPLACE ":" ";" kv ${pair})
  list(GET kv 0 sym)
  list(GET kv 1 off)
  if(NOT syms MATCHES "0*${off} t ${sym}\n")
    message(FATAL_ERROR "${sym} is not at 0x${off} in the windowed vector table:\n${syms}")
  endif()
endforeach()
if(NOT syms MATCHES "([0-9a-f]+) t _duet_alloca\n")
  message(FATAL_ERROR "no _duet_alloca in the windowed vector table")
endif()
message(STATUS "windowed start.S/vectors.S assemble with same-size stand-ins; slots in place")
