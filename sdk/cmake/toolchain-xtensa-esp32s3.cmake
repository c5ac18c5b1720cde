# toolchain-xtensa-esp32s3.cmake - the ESP-IDF cross compiler for core-1 programs
# (windowed ABI). `xtensa-esp32s3-elf-gcc` is on PATH after ESP-IDF's export.sh.
# Bare metal: no OS, no libc start files; CMake's compiler check builds a static
# library only (it cannot link a program without our linker script).
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR xtensa)
set(DUET_XTENSA_PREFIX xtensa-esp32s3-elf- CACHE STRING "cross tool prefix")
set(DUET_XTENSA_ABI windowed CACHE STRING "core-1 ABI: windowed or call0")
set(CMAKE_C_COMPILER ${DUET_XTENSA_PREFIX}gcc)
set(CMAKE_ASM_COMPILER ${DUET_XTENSA_PREFIX}gcc)
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
# -mlongcalls as ESP-IDF (tools/cmake/toolchain-esp32s3.cmake): calls may cross
# more than CALLn's range if a program ever calls ROM code.
set(CMAKE_C_FLAGS_INIT "-mlongcalls")
set(CMAKE_ASM_FLAGS_INIT "-mlongcalls")
