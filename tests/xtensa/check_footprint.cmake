# check_footprint.cmake - the counter's core-1 runtime footprint (start-up + vector code
# + minimal IPC) from its size report must be <= LIMIT bytes of code.
file(STRINGS ${REPORT} line REGEX "^FOOTPRINT ")
if(NOT line MATCHES "total=([0-9]+)")
  message(FATAL_ERROR "no FOOTPRINT line in ${REPORT}")
endif()
set(total ${CMAKE_MATCH_1})
message(STATUS "${line}")
if(total GREATER LIMIT)
  message(FATAL_ERROR "runtime footprint ${total} B > ${LIMIT} B")
endif()
