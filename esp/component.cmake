# duet - the ESP-IDF component (core 0 on the ESP32-S3).
#
# Included by the repository-root CMakeLists.txt when ESP_PLATFORM is set (the repository
# root is then the component directory), and by esp/duet/CMakeLists.txt (a thin component
# directory whose name is always "duet", used by the examples through EXTRA_COMPONENT_DIRS).
#
# Organisation: portable core (core/*.c, no OS or chip calls) + the esp32s3 port
# (port/esp32s3/*.c) + the embedded web page, one component library.
# Linked as an ordinary archive, so a firmware carries only what it uses (without the
# HTTP API no esp_http_server, lwIP or web page). Must not change: the
# SOC_RESERVE_MEMORY_REGION entries live in port/esp32s3/duet_esp_mem.c together with
# duet_esp_mem_check(), which every start path calls, so they are linked whenever core 1
# can be started (ESP-IDF's sections.ld KEEPs .reserved_memory_address; duet_esp_mem_check
# verifies it at run time - facts §1.4); the auto-start constructor is pulled in with -u;
# the esp_restart_noos wrap pulls in duet_esp_core1.c.

get_filename_component(DUET_ROOT "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)

if(IDF_TARGET AND NOT "${IDF_TARGET}" STREQUAL "esp32s3")
  message(FATAL_ERROR "duet: the ESP-IDF component supports IDF_TARGET=esp32s3 only (got '${IDF_TARGET}')")
endif()

# Portable core: every core/*.c (image, crypto, ring, shm, sup, slot, loader, ota, api,
# crash_fmt, err, crc32, json, ...). Globbed so new portable files need no change here.
file(GLOB DUET_CORE_SRCS "${DUET_ROOT}/core/*.c")
file(GLOB DUET_PORT_SRCS "${DUET_ROOT}/port/esp32s3/*.c")

set(DUET_WEB_SRC)
set(DUET_LF)
if(NOT CMAKE_BUILD_EARLY_EXPANSION)
  # ldgen fragment naming this component's archive (lib<COMPONENT_NAME>.a).
  set(DUET_LF "${CMAKE_CURRENT_BINARY_DIR}/duet_linker.lf")
  configure_file("${DUET_ROOT}/esp/linker.lf.in" "${DUET_LF}" @ONLY)

  # The web page of the HTTP API (include/duet/api.h: duet_web_index_html) as a C array.
  # Generated here unless a core/*.c already provides it.
  set(_duet_has_web FALSE)
  foreach(_f ${DUET_CORE_SRCS})
    file(STRINGS "${_f}" _hit REGEX "duet_web_index_html\\[\\] *=")
    if(_hit)
      set(_duet_has_web TRUE)
    endif()
  endforeach()
  if(NOT _duet_has_web)
    set(DUET_WEB_SRC "${CMAKE_CURRENT_BINARY_DIR}/duet_web_index.c")
    set(_html "${DUET_ROOT}/web/index.html")
    if(NOT EXISTS "${_html}")
      set(_html "")
    endif()
    execute_process(COMMAND ${CMAKE_COMMAND} -DIN=${_html} -DOUT=${DUET_WEB_SRC}
                    -P "${DUET_ROOT}/esp/gen_web.cmake" RESULT_VARIABLE _rc)
    if(NOT _rc EQUAL 0)
      message(FATAL_ERROR "duet: could not generate ${DUET_WEB_SRC}")
    endif()
  endif()
endif()

idf_component_register(
  SRCS ${DUET_CORE_SRCS} ${DUET_PORT_SRCS} ${DUET_WEB_SRC}
  INCLUDE_DIRS "${DUET_ROOT}/include" "${DUET_ROOT}/esp/include"
  PRIV_INCLUDE_DIRS "${DUET_ROOT}/port/esp32s3"
  REQUIRES esp_partition esp_http_server
  PRIV_REQUIRES esp_system esp_hw_support esp_rom esp_timer esp_pm heap soc log freertos mbedtls
                nvs_flash esp_http_client mqtt esp_mm spi_flash hal
  LDFRAGMENTS ${DUET_LF})

if(NOT CMAKE_BUILD_EARLY_EXPANSION)
  # The portable core is C11 without GNU extensions on the host; IDF builds with gnu17,
  # which is a superset. Keep IDF's -Werror; add the warnings the host build uses.
  target_compile_options(${COMPONENT_LIB} PRIVATE -Wall -Wextra -Werror -Wshadow
                         -Wstrict-prototypes -Wno-unused-parameter)

  # Stop core 1 before any restart or panic of core 0 (facts §7): every caller of
  # esp_restart_noos (esp_restart, panic_restart, cpu_start.c, usb_console.c) is in
  # another object than its definition (esp_system/port/soc/esp32s3/system_internal.c),
  # so --wrap catches all of them.
  target_link_options(${COMPONENT_LIB} INTERFACE "-Wl,--wrap=esp_restart_noos")
  # XIP flash lockout (port/esp32s3/duet_esp_flash_guard.c): park core 1 around every
  # cache-disabling flash operation. All callers of these four (spi_flash_os_func_app.c,
  # flash_ops.c, esp_mmu_map.c, mspi_timing_by_mspi_delay.c, core_dump_flash.c) are in
  # other objects than their definitions (spi_flash/cache_utils.c), v5.3-v5.5.
  if(CONFIG_DUET_LOAD_XIP)
    target_link_options(${COMPONENT_LIB} INTERFACE
      "-Wl,--wrap=spi_flash_disable_interrupts_caches_and_other_cpu"
      "-Wl,--wrap=spi_flash_enable_interrupts_caches_and_other_cpu"
      "-Wl,--wrap=spi_flash_disable_interrupts_caches_and_other_cpu_no_os"
      "-Wl,--wrap=spi_flash_enable_interrupts_caches_no_os")
  endif()
  # CONFIG_DUET_AUTOSTART: a constructor in duet_esp.c that nothing calls; take that
  # object even when the application never calls duet_esp_*.
  if(CONFIG_DUET_AUTOSTART)
    target_link_options(${COMPONENT_LIB} INTERFACE "-Wl,-u,duet_esp_config_default")
  endif()

  # Link-time checks on the window (needs CONFIG_* values: generate the script).
  set(DUET_CHECKS_LD "${CMAKE_CURRENT_BINARY_DIR}/duet_checks.ld")
  configure_file("${DUET_ROOT}/esp/duet_checks.ld.in" "${DUET_CHECKS_LD}" @ONLY)
  target_linker_script(${COMPONENT_LIB} INTERFACE "${DUET_CHECKS_LD}")
endif()
