# The repository root as an ESP-IDF component (idf_component.yml): see
# esp/duet/project_include.cmake.
include(${CMAKE_CURRENT_LIST_DIR}/esp/core1_program.cmake)
