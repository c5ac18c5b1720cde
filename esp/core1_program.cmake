# core1_program.cmake - one `idf.py build` for both cores: duet_core1_program(), called in
# an ESP-IDF project's main/CMakeLists.txt after idf_component_register():
#
#   duet_core1_program(NAME counter SOURCES ../core1/counter.c
#                      [VERSION 1.0.0] [SECURITY_COUNTER 0] [DEFINES X=1 ...]
#                      [STACK_SIZE 4096] [PARTITION duet_a | LINKED] [KEEP_STATE])
#
# builds the core-1 program with the duet SDK and the same xtensa-esp32s3-elf-gcc as the
# firmware, packs it (`duet pack`, signed with CONFIG_DUET_SIGNING_KEY when set) for the
# window, shared memory and doorbells of THIS project's sdkconfig, so the two sides
# cannot disagree, and then either
#   - PARTITION (default duet_a): `idf.py flash` also writes the image into that slot and
#     an erased duet_state (the first verified slot is adopted, as after a factory
#     flash; KEEP_STATE leaves the journal alone), and flasher_args.json lists both;
#   - LINKED: embeds it into the firmware (duet_esp_start_linked(), symbols
#     _binary_duet_linked_image_start/_end).
# The image is <build>/duet/<name>.duet.
#
# The packer is the repository's `duet` CLI, built once per project for the host with
# the host's C compiler (needs libelf, libcurl and mbedTLS development files, README
# "Build"), or taken from DUET_CLI (-D DUET_CLI=/path/to/duet or the environment).
# Reached through the "duet" component's project_include.cmake (ESP-IDF includes those
# before any component's CMakeLists, as for ulp_embed_binary()).
include_guard(GLOBAL)
include(ExternalProject)
set_property(GLOBAL PROPERTY DUET_ROOT_DIR "${CMAKE_CURRENT_LIST_DIR}/..")

# The host `duet` CLI: full path in the variable named by out_var, target in tgt_var
# (empty when DUET_CLI names a ready one).
function(_duet_host_cli out_var tgt_var)
  if(NOT DUET_CLI AND DEFINED ENV{DUET_CLI})
    set(DUET_CLI "$ENV{DUET_CLI}")
  endif()
  if(DUET_CLI)
    set(${out_var} "${DUET_CLI}" PARENT_SCOPE)
    set(${tgt_var} "" PARENT_SCOPE)
    return()
  endif()
  get_property(root GLOBAL PROPERTY DUET_ROOT_DIR)
  set(bin ${CMAKE_BINARY_DIR}/duet/host-cli)
  if(NOT TARGET duet_host_cli)
    # A plain host build of the CLI only: no cross toolchain, no tests, no simulator.
    # CC/CFLAGS of the firmware build are not passed: this runs on the build machine.
    ExternalProject_Add(duet_host_cli
      SOURCE_DIR ${root}
      BINARY_DIR ${bin}
      CMAKE_ARGS -DDUET_CLI_ONLY=ON -DCMAKE_BUILD_TYPE=Release
      BUILD_COMMAND ${CMAKE_COMMAND} --build <BINARY_DIR> --target duet
      INSTALL_COMMAND ""
      # Always: the packer must be built from the same sources as the firmware's
      # verifier (a stale one packed a format the firmware refuses). Up to date = fast.
      BUILD_ALWAYS ON
      BUILD_BYPRODUCTS ${bin}/bin/duet
      USES_TERMINAL_BUILD OFF)
  endif()
  set(${out_var} ${bin}/bin/duet PARENT_SCOPE)
  set(${tgt_var} duet_host_cli PARENT_SCOPE)
endfunction()

function(duet_core1_program)
  cmake_parse_arguments(P "LINKED;KEEP_STATE" "NAME;VERSION;SECURITY_COUNTER;STACK_SIZE;PARTITION"
                        "SOURCES;DEFINES" ${ARGN})
  if(CMAKE_BUILD_EARLY_EXPANSION)
    return()
  endif()
  if(NOT P_NAME OR NOT P_SOURCES)
    message(FATAL_ERROR "duet_core1_program: NAME and SOURCES are required")
  endif()
  if(NOT CONFIG_DUET_LOAD_RAM)
    message(FATAL_ERROR "duet_core1_program: only CONFIG_DUET_LOAD_RAM programs can be built")
  endif()
  # The SDK's cross build (sdk/cmake/DuetProgram.cmake) with ESP-IDF's own compiler.
  get_property(root GLOBAL PROPERTY DUET_ROOT_DIR)
  get_filename_component(DUET_ROOT "${root}" ABSOLUTE) # read by duet_add_xtensa_program
  set(DUET_XTENSA_TOOLCHAIN esp32s3)
  include(${DUET_ROOT}/sdk/cmake/DuetProgram.cmake)
  if(NOT DUET_XTENSA_TOOLCHAIN_FILE)
    message(FATAL_ERROR "duet_core1_program: xtensa-esp32s3-elf-gcc not found on PATH")
  endif()
  duet_default_args(P VERSION:1.0.0 SECURITY_COUNTER:0 STACK_SIZE:4096 PARTITION:duet_a)

  # The signing key, resolved like CONFIG_SECURE_BOOT_SIGNING_KEY (project-relative).
  set(sign_args "")
  if(CONFIG_DUET_SIGNING_KEY)
    idf_build_get_property(project_dir PROJECT_DIR)
    get_filename_component(key "${CONFIG_DUET_SIGNING_KEY}" ABSOLUTE BASE_DIR "${project_dir}")
    if(NOT EXISTS "${key}")
      message(FATAL_ERROR "duet_core1_program: CONFIG_DUET_SIGNING_KEY ${key} does not exist "
                          "(make one with `duet keygen -o KEY.pem`)")
    endif()
    set(sign_args --sign ${key})
  elseif(CONFIG_DUET_REQUIRE_SIGNATURE)
    message(FATAL_ERROR "duet_core1_program: CONFIG_DUET_REQUIRE_SIGNATURE is set but "
                        "CONFIG_DUET_SIGNING_KEY is empty: the program would be refused")
  endif()

  set(srcs "")
  foreach(s IN LISTS P_SOURCES)
    get_filename_component(s "${s}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
    list(APPEND srcs ${s})
  endforeach()
  _duet_host_cli(cli cli_target)
  set(img ${CMAKE_BINARY_DIR}/duet/${P_NAME}.duet)
  # Window, shared memory and doorbells from this project's sdkconfig.
  duet_add_xtensa_program(NAME ${P_NAME} SOURCES ${srcs} DEFINES ${P_DEFINES}
    VERSION ${P_VERSION} SECURITY_COUNTER ${P_SECURITY_COUNTER} STACK_SIZE ${P_STACK_SIZE}
    WINDOW_BASE ${CONFIG_DUET_WINDOW_START} WINDOW_SIZE ${CONFIG_DUET_WINDOW_SIZE}
    SHM_SIZE ${CONFIG_DUET_SHM_SIZE} DOORBELL_TO_C0 ${CONFIG_DUET_DOORBELL_TO_CORE0}
    DOORBELL_TO_C1 ${CONFIG_DUET_DOORBELL_TO_CORE1}
    BINARY_DIR ${CMAKE_BINARY_DIR}/duet/${P_NAME} IMAGE ${img}
    CLI ${cli} CLI_TARGET "${cli_target}" PACK_ARGS ${sign_args})
  set(img_target ${P_NAME}_esp32s3_img)

  if(P_LINKED)
    target_add_binary_data(${COMPONENT_LIB} "${img}" BINARY RENAME_TO duet_linked_image
                           DEPENDS ${img_target})
    return()
  endif()
  partition_table_get_partition_info(slot_off "--partition-name ${P_PARTITION}" "offset")
  if(NOT slot_off)
    message(FATAL_ERROR "duet_core1_program: the partition table has no '${P_PARTITION}' "
                        "(add the lines of esp/partitions_duet.csv)")
  endif()
  partition_table_get_partition_info(slot_size "--partition-name ${P_PARTITION}" "size")
  # Too big for its slot: fail the build, not the device.
  idf_build_get_property(python PYTHON)
  add_custom_command(TARGET ${img_target} POST_BUILD
    COMMAND ${python} -c "import os,sys;n=os.path.getsize(sys.argv[1]);m=int(sys.argv[2],0);\
sys.exit(0 if n<=m else f'duet: {sys.argv[1]} is {n} bytes, partition {sys.argv[3]} holds {m}')"
            ${img} ${slot_size} ${P_PARTITION}
    VERBATIM)
  esptool_py_flash_to_partition(flash "${P_PARTITION}" "${img}")
  add_dependencies(flash ${img_target})
  if(NOT P_KEEP_STATE)
    # The slot journal erased with it: a fresh journal adopts the first verified slot.
    partition_table_get_partition_info(st_size "--partition-name duet_state" "size")
    if(st_size)
      set(blank ${CMAKE_BINARY_DIR}/duet/duet_state.blank)
      add_custom_command(OUTPUT ${blank}
        COMMAND ${python} -c "import sys;open(sys.argv[1],'wb').write(bytes([255])*int(sys.argv[2],0))"
                ${blank} ${st_size}
        VERBATIM)
      add_custom_target(duet_state_blank ALL DEPENDS ${blank})
      esptool_py_flash_to_partition(flash duet_state "${blank}")
      add_dependencies(flash duet_state_blank)
    endif()
  endif()
endfunction()
