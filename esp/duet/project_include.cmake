# Included by ESP-IDF in every project that has the "duet" component, before the
# components' CMakeLists: makes duet_core1_program() available to main/CMakeLists.txt.
include(${CMAKE_CURRENT_LIST_DIR}/../core1_program.cmake)
