/*
 * sdkconfig.h for core-1 programs that include ESP-IDF's register-level headers
 * (hal/<x>_ll.h, soc/...): only what those headers read. Core 1 has no ESP-IDF, so no
 * project option applies to it. HAL_ASSERT (hal/assert.h, level 2) calls
 * __assert_func, which idf_hal_shim.c turns into a duet assertion failure.
 */
#pragma once
#define CONFIG_IDF_TARGET_ESP32S3          1
#define CONFIG_IDF_TARGET                  "esp32s3"
#define CONFIG_IDF_TARGET_ARCH_XTENSA      1
#define CONFIG_SOC_CPU_CORES_NUM           2
#define CONFIG_HAL_DEFAULT_ASSERTION_LEVEL 2
