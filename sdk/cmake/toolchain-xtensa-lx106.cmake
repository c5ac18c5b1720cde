# toolchain-xtensa-lx106.cmake - Debian's gcc-xtensa-lx106, used ONLY as a compile +
# link check of the core-1 SDK and examples in CI (the lx106 is an ESP8266 core, not an
# ESP32-S3: no register windows, no FPU, no S32C1I). Call0 ABI, which the SDK supports
# completely; the images it produces are packed as esp32s3/call0 and verified, never run.
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR xtensa)
set(DUET_XTENSA_PREFIX xtensa-lx106-elf- CACHE STRING "cross tool prefix")
set(DUET_XTENSA_ABI call0 CACHE STRING "core-1 ABI: windowed or call0")
set(CMAKE_C_COMPILER ${DUET_XTENSA_PREFIX}gcc)
set(CMAKE_ASM_COMPILER ${DUET_XTENSA_PREFIX}gcc)
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
set(CMAKE_C_FLAGS_INIT "-mabi=call0 -mlongcalls")
set(CMAKE_ASM_FLAGS_INIT "-mabi=call0 -mlongcalls")
