# DuetProgram.cmake - build one core-1 program for both targets from the same sources.
#
#   duet_add_program(NAME name SOURCES a.c ...
#                    [VERSION x.y.z] [SECURITY_COUNTER n] [IMAGE_NAME text] [DEFINES ...]
#                    [WINDOW_BASE 0x3FCDC700] [WINDOW_SIZE 0xD010]
#                    [STACK_SIZE 4096] [SHM_SIZE 16384])
#
#   PC simulator: duet_add_host_program() (sdk/CMakeLists.txt) -> bin/<name>, images/<name>.img
#   ESP32-S3:     duet_add_xtensa_program() -> xtensa/<name>/<name>.elf (cross build
#                 through ExternalProject + a toolchain file), images/<name>.esp32s3.img
#                 (`duet pack --chip esp32s3`), and the size report
#                 xtensa/<name>/<name>.size.txt (also printed when it links).
#
# Cross toolchain (DUET_XTENSA_TOOLCHAIN, cached): "auto" picks xtensa-esp32s3-elf-gcc
# (ESP-IDF, windowed, the real target) if on PATH, else xtensa-lx106-elf-gcc (Debian,
# call0: compile + link check only, see toolchain-xtensa-lx106.cmake); "esp32s3",
# "lx106" force one; "off" builds the host side only. The TSan/fuzz trees never cross
# build. Window defaults = the ESP-IDF component's default window (facts §1.3).
include_guard(GLOBAL)
include(ExternalProject)

set(DUET_XTENSA_TOOLCHAIN auto CACHE STRING "core-1 cross toolchain: auto, esp32s3, lx106, off")
set(DUET_XTENSA_TOOLCHAIN_FILE "")
set(DUET_XTENSA_ABI "")
if(NOT DUET_TSAN AND NOT DUET_FUZZ AND NOT DUET_XTENSA_TOOLCHAIN STREQUAL "off")
  find_program(DUET_XTENSA_ESP32S3_GCC xtensa-esp32s3-elf-gcc)
  find_program(DUET_XTENSA_LX106_GCC xtensa-lx106-elf-gcc)
  if(DUET_XTENSA_ESP32S3_GCC AND DUET_XTENSA_TOOLCHAIN MATCHES "^(auto|esp32s3)$")
    set(DUET_XTENSA_TOOLCHAIN_FILE ${CMAKE_CURRENT_LIST_DIR}/toolchain-xtensa-esp32s3.cmake)
    set(DUET_XTENSA_ABI windowed)
  elseif(DUET_XTENSA_LX106_GCC AND DUET_XTENSA_TOOLCHAIN MATCHES "^(auto|lx106)$")
    set(DUET_XTENSA_TOOLCHAIN_FILE ${CMAKE_CURRENT_LIST_DIR}/toolchain-xtensa-lx106.cmake)
    set(DUET_XTENSA_ABI call0)
  elseif(NOT DUET_XTENSA_TOOLCHAIN STREQUAL "auto")
    message(FATAL_ERROR "duet: DUET_XTENSA_TOOLCHAIN=${DUET_XTENSA_TOOLCHAIN} but its gcc is not on PATH")
  else()
    message(STATUS "duet: no Xtensa cross compiler (xtensa-esp32s3-elf-gcc or xtensa-lx106-elf-gcc): "
                   "core-1 programs are built for the simulator only")
  endif()
endif()
set(DUET_XTENSA_ABI ${DUET_XTENSA_ABI} CACHE INTERNAL "ABI of the Xtensa cross build")
set(DUET_XTENSA_TOOLCHAIN_FILE ${DUET_XTENSA_TOOLCHAIN_FILE} CACHE INTERNAL "")

# duet_add_xtensa_program(NAME ... SOURCES ... [same options as duet_add_program])
# Does nothing when no cross toolchain is configured. Targets: <name>_xtensa (ELF),
# <name>_esp32s3_img (packed image, needs the `duet` CLI target).
function(duet_add_xtensa_program)
  cmake_parse_arguments(P "" "NAME;VERSION;SECURITY_COUNTER;IMAGE_NAME;WINDOW_BASE;WINDOW_SIZE;STACK_SIZE;SHM_SIZE"
                        "SOURCES;DEFINES" ${ARGN})
  if(NOT DUET_XTENSA_TOOLCHAIN_FILE)
    return()
  endif()
  foreach(opt VERSION:1.0.0 SECURITY_COUNTER:0 WINDOW_BASE:0x3FCDC700 WINDOW_SIZE:0xD010
              STACK_SIZE:4096 SHM_SIZE:16384)
    string(REPLACE ":" ";" kv ${opt})
    list(GET kv 0 k)
    list(GET kv 1 v)
    if(NOT P_${k})
      set(P_${k} ${v})
    endif()
  endforeach()
  if(NOT P_IMAGE_NAME)
    set(P_IMAGE_NAME ${P_NAME})
  endif()
  set(srcs "")
  foreach(s IN LISTS P_SOURCES)
    get_filename_component(s ${s} ABSOLUTE)
    list(APPEND srcs ${s})
  endforeach()
  list(JOIN srcs "|" srcs_arg)
  list(JOIN P_DEFINES "|" defs_arg)
  set(bin ${CMAKE_BINARY_DIR}/xtensa/${P_NAME})
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
    INSTALL_COMMAND ""
    BUILD_ALWAYS ON
    BUILD_BYPRODUCTS ${elf}
    USES_TERMINAL_BUILD OFF)
  if(TARGET duet)
    set(img ${CMAKE_BINARY_DIR}/images/${P_NAME}.esp32s3.img)
    math(EXPR wsize "${P_WINDOW_SIZE}")
    add_custom_command(OUTPUT ${img}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/images
      COMMAND $<TARGET_FILE:duet> pack --chip esp32s3 --abi ${DUET_XTENSA_ABI}
              --version ${P_VERSION} --security-counter ${P_SECURITY_COUNTER}
              --name ${P_IMAGE_NAME} --window ${P_WINDOW_BASE}:${wsize}
              -o ${img} ${elf}
      DEPENDS ${P_NAME}_xtensa duet ${elf}
      COMMENT "Packing ESP32-S3 image ${P_NAME}.esp32s3.img (${DUET_XTENSA_ABI})"
      VERBATIM)
    add_custom_target(${P_NAME}_esp32s3_img ALL DEPENDS ${img})
    set_property(GLOBAL APPEND PROPERTY DUET_ESP32S3_IMAGES ${img})
  endif()
endfunction()

# Both targets from the same sources.
function(duet_add_program)
  cmake_parse_arguments(P "" "NAME;VERSION;SECURITY_COUNTER;IMAGE_NAME;WINDOW_BASE;WINDOW_SIZE;STACK_SIZE;SHM_SIZE"
                        "SOURCES;DEFINES" ${ARGN})
  set(host_args NAME ${P_NAME} SOURCES ${P_SOURCES})
  foreach(k VERSION SECURITY_COUNTER IMAGE_NAME)
    if(P_${k})
      list(APPEND host_args ${k} ${P_${k}})
    endif()
  endforeach()
  if(P_DEFINES)
    list(APPEND host_args DEFINES ${P_DEFINES})
  endif()
  duet_add_host_program(${host_args})
  duet_add_xtensa_program(${ARGN})
endfunction()
