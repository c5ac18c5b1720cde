# DuetProgram.cmake - build one core-1 program for both targets from the same sources.
#
#   duet_add_program(NAME name SOURCES a.c ...
#                    [VERSION x.y.z] [SECURITY_COUNTER n] [IMAGE_NAME text] [DEFINES ...]
#                    [WINDOW_BASE 0x3FCDC700] [WINDOW_SIZE 0xD010]
#                    [STACK_SIZE 4096] [SHM_SIZE 0x2000] [CPU_HZ]
#                    [DOORBELL_TO_C0 2] [DOORBELL_TO_C1 3] [DOORBELL_INUM 17]
#                    [MODE ram|xip] [XIP_VADDR 0x43000000] [XIP_SIZE 0x400000])
#
#   MODE xip (docs/xip.md): code and .rodata execute in place from the flash slot;
#   .data/.bss/stack, vectors and DUET_RAM functions stay in the RAM window. Host:
#   duet_add_host_xip_program() below. ESP32-S3 (unless -DDUET_XTENSA_XIP=OFF): linked by
#   sdk/ld/duet_esp32s3_xip.ld.in at XIP_VADDR (= CONFIG_DUET_XIP_VADDR of the firmware).
#
#   Window and shared-memory defaults = the ESP-IDF component's Kconfig defaults
#   (CONFIG_DUET_WINDOW_START/SIZE, CONFIG_DUET_SHM_SIZE; tests/unit check_agreement
#   compares them). CPU_HZ: measure the CPU clock at boot (500 us) into sc_c1_cpu_hz.
#   DOORBELL_*: FROM_CPU numbers (= CONFIG_DUET_DOORBELL_TO_CORE0/1) and core-1 CPU
#   interrupt, compiled into the SDK and the program (defaults in soc_esp32s3.h).
#
#   PC simulator: duet_add_host_program() (sdk/CMakeLists.txt) -> bin/<name>, images/<name>.img
#   ESP32-S3:     duet_add_xtensa_program() -> xtensa/<name>/<name>.elf (cross build
#                 through ExternalProject + a toolchain file), images/<name>.esp32s3.img
#                 (`duet pack --chip esp32s3`), and the size report
#                 xtensa/<name>/<name>.size.txt (also printed when it links).
#
# Cross toolchain (DUET_XTENSA_TOOLCHAIN, cached), decided once per build tree and
# announced at configure time with one "duet: core-1 cross build: ..." line:
#   auto    (default) xtensa-esp32s3-elf-gcc (ESP-IDF, windowed: the real target) if on
#           PATH; else xtensa-lx106-elf-gcc (Debian, -mabi=call0: a compile + link +
#           layout CHECK only, see toolchain-xtensa-lx106.cmake; its .esp32s3.img files
#           carry ABI call0, which a device and `duet flash` refuse); else no cross build
#           (host programs only).
#   esp32s3 / lx106   that toolchain or a configure error if its gcc is not on PATH.
#   off     host programs only.
# The TSan/fuzz trees never cross build. Window defaults = the ESP-IDF component's
# default window (facts §1.3).
include_guard(GLOBAL)
include(ExternalProject)

set(DUET_XTENSA_TOOLCHAIN auto CACHE STRING "core-1 cross toolchain: auto, esp32s3, lx106, off")
option(DUET_XTENSA_XIP "cross-build MODE xip programs (docs/xip.md)" ON)
set(DUET_XTENSA_TOOLCHAIN_FILE "")
set(DUET_XTENSA_ABI "")
if(NOT DUET_TSAN AND NOT DUET_FUZZ AND NOT DUET_XTENSA_TOOLCHAIN STREQUAL "off")
  find_program(DUET_XTENSA_ESP32S3_GCC xtensa-esp32s3-elf-gcc)
  find_program(DUET_XTENSA_LX106_GCC xtensa-lx106-elf-gcc)
  if(NOT DUET_XTENSA_TOOLCHAIN MATCHES "^(auto|esp32s3|lx106)$")
    message(FATAL_ERROR "duet: DUET_XTENSA_TOOLCHAIN must be auto, esp32s3, lx106 or off "
                        "(is '${DUET_XTENSA_TOOLCHAIN}')")
  endif()
  if(DUET_XTENSA_ESP32S3_GCC AND DUET_XTENSA_TOOLCHAIN MATCHES "^(auto|esp32s3)$")
    set(DUET_XTENSA_TOOLCHAIN_FILE ${CMAKE_CURRENT_LIST_DIR}/toolchain-xtensa-esp32s3.cmake)
    set(DUET_XTENSA_ABI windowed)
    message(STATUS "duet: core-1 cross build: ESP32-S3 with ${DUET_XTENSA_ESP32S3_GCC} "
                   "(windowed ABI; images/<name>.esp32s3.img run on the chip)")
  elseif(DUET_XTENSA_LX106_GCC AND DUET_XTENSA_TOOLCHAIN MATCHES "^(auto|lx106)$")
    set(DUET_XTENSA_TOOLCHAIN_FILE ${CMAKE_CURRENT_LIST_DIR}/toolchain-xtensa-lx106.cmake)
    set(DUET_XTENSA_ABI call0)
    message(STATUS "duet: core-1 cross build: xtensa-esp32s3-elf-gcc not found, using the "
                   "CI check toolchain ${DUET_XTENSA_LX106_GCC} (call0 ABI: compile + link + "
                   "layout check; images/<name>.esp32s3.img do NOT run on an ESP32-S3 - "
                   "source ESP-IDF's export.sh for real images)")
  elseif(NOT DUET_XTENSA_TOOLCHAIN STREQUAL "auto")
    message(FATAL_ERROR "duet: DUET_XTENSA_TOOLCHAIN=${DUET_XTENSA_TOOLCHAIN} but "
                        "xtensa-${DUET_XTENSA_TOOLCHAIN}-elf-gcc is not on PATH")
  else()
    message(STATUS "duet: core-1 cross build: skipped, no Xtensa cross compiler on PATH "
                   "(xtensa-esp32s3-elf-gcc from ESP-IDF, or Debian's gcc-xtensa-lx106 for the "
                   "CI check): core-1 programs are built for the simulator only")
  endif()
endif()
set(DUET_XTENSA_ABI ${DUET_XTENSA_ABI} CACHE INTERNAL "ABI of the Xtensa cross build")
set(DUET_XTENSA_TOOLCHAIN_FILE ${DUET_XTENSA_TOOLCHAIN_FILE} CACHE INTERNAL "")

# duet_default_args(P KEY:VALUE ...): set P_KEY to VALUE where the caller gave none
# (after cmake_parse_arguments with prefix P; a macro, so it sets the caller's variables).
macro(duet_default_args prefix)
  foreach(_duet_kv ${ARGN})
    string(REPLACE ":" ";" _duet_kv ${_duet_kv})
    list(GET _duet_kv 0 _duet_k)
    list(GET _duet_kv 1 _duet_v)
    if(NOT ${prefix}_${_duet_k})
      set(${prefix}_${_duet_k} ${_duet_v})
    endif()
  endforeach()
endmacro()

# duet_add_xtensa_program(NAME ... SOURCES ... [same options as duet_add_program]
#                         [BINARY_DIR dir] [IMAGE file] [CLI path CLI_TARGET target]
#                         [PACK_ARGS ...])
# Does nothing when no cross toolchain is configured. Targets: <name>_xtensa (ELF),
# <name>_esp32s3_img (packed image). The packer is the `duet` CLI target of this build,
# or CLI (a path, built by CLI_TARGET if given: esp/core1_program.cmake in an ESP-IDF
# project). PACK_ARGS go to `duet pack` (e.g. --sign KEY.pem).
function(duet_add_xtensa_program)
  cmake_parse_arguments(P "CPU_HZ" "NAME;VERSION;SECURITY_COUNTER;IMAGE_NAME;WINDOW_BASE;WINDOW_SIZE;STACK_SIZE;SHM_SIZE;DOORBELL_TO_C0;DOORBELL_TO_C1;DOORBELL_INUM;BINARY_DIR;IMAGE;CLI;CLI_TARGET;MODE;XIP_VADDR;XIP_SIZE"
                        "SOURCES;DEFINES;PACK_ARGS" ${ARGN})
  if(NOT DUET_XTENSA_TOOLCHAIN_FILE)
    return()
  endif()
  if(P_MODE STREQUAL "xip" AND NOT DUET_XTENSA_XIP)
    # -DDUET_XTENSA_XIP=OFF: a tree that wants its XIP programs for the simulator only.
    message(STATUS "duet: ${P_NAME}: MODE xip is built for the simulator only "
                   "(DUET_XTENSA_XIP=OFF)")
    return()
  endif()
  duet_default_args(P VERSION:1.0.0 SECURITY_COUNTER:0 WINDOW_BASE:0x3FCDC700
                    WINDOW_SIZE:0xD010 STACK_SIZE:4096 SHM_SIZE:0x2000 MODE:ram
                    XIP_VADDR:0x43000000 XIP_SIZE:0x400000)
  if(NOT P_IMAGE_NAME)
    set(P_IMAGE_NAME ${P_NAME})
  endif()
  set(cpu_hz 0)
  if(P_CPU_HZ)
    set(cpu_hz 1)
  endif()
  # Doorbell numbers for the SDK itself (doorbell.c) and the program: DEFINES reach only
  # the program, so a non-default CONFIG_DUET_DOORBELL_* must be given here.
  set(sdk_defs "")
  foreach(k DOORBELL_TO_C0 DOORBELL_TO_C1 DOORBELL_INUM)
    if(DEFINED P_${k})
      list(APPEND sdk_defs "DUET_S3_${k}=${P_${k}}u")
    endif()
  endforeach()
  list(JOIN sdk_defs "|" sdk_defs_arg)
  set(srcs "")
  foreach(s IN LISTS P_SOURCES)
    get_filename_component(s ${s} ABSOLUTE)
    list(APPEND srcs ${s})
  endforeach()
  list(JOIN srcs "|" srcs_arg)
  list(JOIN P_DEFINES "|" defs_arg)
  set(bin ${CMAKE_BINARY_DIR}/xtensa/${P_NAME})
  if(P_BINARY_DIR)
    set(bin ${P_BINARY_DIR})
  endif()
  set(elf ${bin}/${P_NAME}.elf)
  ExternalProject_Add(${P_NAME}_xtensa
    SOURCE_DIR ${DUET_ROOT}/sdk/cmake/xtensa
    BINARY_DIR ${bin}
    LIST_SEPARATOR "|"
    CMAKE_ARGS -DCMAKE_TOOLCHAIN_FILE=${DUET_XTENSA_TOOLCHAIN_FILE}
               -DCMAKE_BUILD_TYPE=MinSizeRel
               -DDUET_ROOT=${DUET_ROOT}
               -DDUET_PROGRAM_NAME=${P_NAME}
               -DDUET_PROGRAM_SOURCES=${srcs_arg}
               -DDUET_PROGRAM_DEFINES=${defs_arg}|DUET_PROGRAM_VERSION="${P_VERSION}"
               -DDUET_WINDOW_BASE=${P_WINDOW_BASE} -DDUET_WINDOW_SIZE=${P_WINDOW_SIZE}
               -DDUET_STACK_SIZE=${P_STACK_SIZE} -DDUET_SHM_SIZE=${P_SHM_SIZE}
               -DDUET_XT_MEASURE_CPU_HZ=${cpu_hz} -DDUET_SDK_DEFINES=${sdk_defs_arg}
               -DDUET_PROGRAM_MODE=${P_MODE} -DDUET_XIP_VADDR=${P_XIP_VADDR}
               -DDUET_XIP_SIZE=${P_XIP_SIZE}
    INSTALL_COMMAND ""
    BUILD_ALWAYS ON
    BUILD_BYPRODUCTS ${elf}
    USES_TERMINAL_BUILD OFF)
  set(img ${CMAKE_BINARY_DIR}/images/${P_NAME}.esp32s3.img)
  if(P_IMAGE)
    set(img ${P_IMAGE})
  endif()
  if(P_CLI)
    set(cli ${P_CLI})
    # The file too, not only its target: a rebuilt packer (new image format) must
    # re-pack an image whose ELF did not change.
    set(cli_dep ${P_CLI_TARGET} ${P_CLI})
  elseif(TARGET duet)
    set(cli $<TARGET_FILE:duet>)
    set(cli_dep duet)
  else()
    return()
  endif()
  get_filename_component(img_dir ${img} DIRECTORY)
  get_filename_component(img_file ${img} NAME)
  math(EXPR wsize "${P_WINDOW_SIZE}")
  add_custom_command(OUTPUT ${img}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${img_dir}
    COMMAND ${cli} pack --chip esp32s3 --abi ${DUET_XTENSA_ABI}
            --version ${P_VERSION} --security-counter ${P_SECURITY_COUNTER}
            --name ${P_IMAGE_NAME} --window ${P_WINDOW_BASE}:${wsize} ${P_PACK_ARGS}
            -o ${img} ${elf}
    DEPENDS ${P_NAME}_xtensa ${cli_dep} ${elf}
    COMMENT "Packing ESP32-S3 image ${img_file} (${DUET_XTENSA_ABI})"
    VERBATIM)
  add_custom_target(${P_NAME}_esp32s3_img ALL DEPENDS ${img})
  set_property(GLOBAL APPEND PROPERTY DUET_ESP32S3_IMAGES ${img})
endfunction()

# The host half of XIP programs (docs/xip.md): the park handler and mapping code of the
# host core-1 runtime (sdk/arch/host/xip.c; every host program links it, RAM mode too).
if(TARGET duet_rt_host)
  target_sources(duet_rt_host PRIVATE ${CMAKE_CURRENT_LIST_DIR}/../arch/host/xip.c)
endif()

# duet_add_host_xip_program(NAME ... SOURCES ... [VERSION] [SECURITY_COUNTER]
#                           [IMAGE_NAME] [DEFINES])
# A host program in XIP mode: the program's own code and read-only data are renamed
# into .duet_xip.* by a relocatable link (sdk/ld/duet_host_xip_r.ld) and linked at the
# simulated flash mapping 0x30000000 of a non-PIE executable (sdk/ld/duet_host_xip.ld);
# the runtime, libc and DUET_RAM functions stay in the executable's ordinary text (the
# "RAM window"). `duet pack --chip host` makes .duet_xip the image's XIP segment.
function(duet_add_host_xip_program)
  cmake_parse_arguments(P "" "NAME;VERSION;SECURITY_COUNTER;IMAGE_NAME" "SOURCES;DEFINES" ${ARGN})
  duet_default_args(P VERSION:1.0.0 SECURITY_COUNTER:0)
  if(NOT P_IMAGE_NAME)
    set(P_IMAGE_NAME ${P_NAME})
  endif()
  add_library(${P_NAME}_xipobj OBJECT ${P_SOURCES})
  target_link_libraries(${P_NAME}_xipobj PRIVATE duet_rt_host)
  target_compile_definitions(${P_NAME}_xipobj PRIVATE ${P_DEFINES}
    DUET_PROGRAM_VERSION="${P_VERSION}" DUET_PROGRAM_XIP=1)
  # Not PIC: constant pointer tables stay in .rodata (mapped) instead of .data.rel.ro,
  # as in the chip's static link.
  target_compile_options(${P_NAME}_xipobj PRIVATE -fno-pie)
  set(xo ${CMAKE_CURRENT_BINARY_DIR}/${P_NAME}_xip.o)
  set(rld ${DUET_SDK_DIR}/ld/duet_host_xip_r.ld)
  add_custom_command(OUTPUT ${xo}
    COMMAND ${CMAKE_C_COMPILER} -r -nostdlib -Wl,-T,${rld}
            $<TARGET_OBJECTS:${P_NAME}_xipobj> -o ${xo}
    DEPENDS ${P_NAME}_xipobj $<TARGET_OBJECTS:${P_NAME}_xipobj> ${rld}
    COMMAND_EXPAND_LISTS VERBATIM
    COMMENT "XIP: renaming ${P_NAME}'s code and rodata into .duet_xip")
  set_source_files_properties(${xo} PROPERTIES EXTERNAL_OBJECT TRUE GENERATED TRUE)
  add_executable(${P_NAME} ${xo})
  foreach(t ${P_NAME} ${P_NAME}_xipobj)
    foreach(prop COMPILE_OPTIONS LINK_OPTIONS)
      get_target_property(_o ${t} ${prop})
      if(_o)
        list(FILTER _o EXCLUDE REGEX "sanitize")
        set_target_properties(${t} PROPERTIES ${prop} "${_o}")
      endif()
    endforeach()
  endforeach()
  target_link_libraries(${P_NAME} PRIVATE duet_rt_host)
  set(ld ${DUET_SDK_DIR}/ld/duet_host_xip.ld)
  target_link_options(${P_NAME} PRIVATE -no-pie -Wl,--build-id=sha1 -Wl,-T,${ld})
  set_target_properties(${P_NAME} PROPERTIES LINK_DEPENDS ${ld} LINKER_LANGUAGE C)
  set(img ${CMAKE_BINARY_DIR}/images/${P_NAME}.img)
  add_custom_command(OUTPUT ${img}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/images
    COMMAND duet pack --chip host --version ${P_VERSION} --security-counter ${P_SECURITY_COUNTER}
            --name ${P_IMAGE_NAME} $<TARGET_FILE:${P_NAME}> -o ${img}
    DEPENDS ${P_NAME} duet
    COMMENT "Packing host XIP image ${P_NAME}.img"
    VERBATIM)
  add_custom_target(${P_NAME}_img ALL DEPENDS ${img})
  set_property(GLOBAL APPEND PROPERTY DUET_HOST_IMAGES ${img})
endfunction()

# Both targets from the same sources. MODE ram (default: everything in the RAM window)
# or xip (code and .rodata run from the flash slot, docs/xip.md).
function(duet_add_program)
  cmake_parse_arguments(P "CPU_HZ" "NAME;VERSION;SECURITY_COUNTER;IMAGE_NAME;WINDOW_BASE;WINDOW_SIZE;STACK_SIZE;SHM_SIZE;DOORBELL_TO_C0;DOORBELL_TO_C1;DOORBELL_INUM;MODE;XIP_VADDR;XIP_SIZE"
                        "SOURCES;DEFINES" ${ARGN})
  if(P_MODE AND NOT P_MODE MATCHES "^(ram|xip)$")
    message(FATAL_ERROR "duet_add_program(${P_NAME}): MODE must be ram or xip")
  endif()
  set(host_args NAME ${P_NAME} SOURCES ${P_SOURCES})
  foreach(k VERSION SECURITY_COUNTER IMAGE_NAME)
    if(P_${k})
      list(APPEND host_args ${k} ${P_${k}})
    endif()
  endforeach()
  if(P_DEFINES)
    list(APPEND host_args DEFINES ${P_DEFINES})
  endif()
  if(P_MODE STREQUAL "xip")
    duet_add_host_xip_program(${host_args})
  else()
    duet_add_host_program(${host_args})
  endif()
  duet_add_xtensa_program(${ARGN})
endfunction()
