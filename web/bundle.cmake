# bundle.cmake - the web page as served: web/index.html with uPlot's minified JS and CSS
# (npm package "uplot", pinned by web/package-lock.json) inlined at its two markers, so
# the firmware serves one self-contained page and no copy of uPlot lives in git.
#
#   cmake -DPAGE=web/index.html -DWORK=<dir> -DOUT=<page.html> [-DNPM=<npm>]
#         [-DCHARTS=OFF] -P web/bundle.cmake
#
# WORK receives package.json + package-lock.json and `npm ci` installs into it (again
# only when the lock file changed). CHARTS=OFF leaves the markers (plain comments): the
# page then works without charts. Used by web/CMakeLists.txt (host) and
# esp/gen_web.cmake (ESP-IDF component). Fails with a clear message without npm.
cmake_minimum_required(VERSION 3.18)
get_filename_component(_web "${PAGE}" DIRECTORY)
set(_js_marker "/*@UPLOT_JS@*/")
set(_css_marker "/*@UPLOT_CSS@*/")
file(READ "${PAGE}" _page)

if(CHARTS STREQUAL "OFF")
  file(WRITE "${OUT}.tmp" "${_page}")
  file(RENAME "${OUT}.tmp" "${OUT}")
  return()
endif()

if(NOT NPM)
  find_program(NPM npm)
endif()
if(NOT NPM)
  message(FATAL_ERROR "duet: the web page bundles the uPlot charting library from npm "
    "(web/package-lock.json), but npm is not on PATH. Install Node.js and npm (Debian: "
    "apt-get install nodejs npm; scripts/deps.sh does it), or build the host tree with "
    "-DDUET_WEB_CHARTS=OFF for a page without charts.")
endif()

file(MAKE_DIRECTORY "${WORK}")
set(_stamp "${WORK}/node_modules/.duet-installed")
set(_lock "${_web}/package-lock.json")
set(_fresh FALSE)
if(EXISTS "${_stamp}")
  file(SHA256 "${_stamp}" _a)
  file(SHA256 "${_lock}" _b)
  if(_a STREQUAL _b)
    set(_fresh TRUE)
  endif()
endif()
if(NOT _fresh)
  file(REMOVE_RECURSE "${WORK}/node_modules")
  file(COPY "${_web}/package.json" "${_lock}" DESTINATION "${WORK}")
  execute_process(COMMAND "${NPM}" ci --no-audit --no-fund --ignore-scripts --loglevel=error
                  WORKING_DIRECTORY "${WORK}" RESULT_VARIABLE _rc)
  if(NOT _rc EQUAL 0)
    message(FATAL_ERROR "duet: `npm ci` for the web page's uPlot failed in ${WORK} (${_rc}); "
      "the npm registry must be reachable once (later builds reuse ${WORK}/node_modules)")
  endif()
  file(COPY_FILE "${_lock}" "${_stamp}")
endif()

set(_dist "${WORK}/node_modules/uplot/dist")
file(READ "${_dist}/uPlot.iife.min.js" _js)
file(READ "${_dist}/uPlot.min.css" _css)
string(TOLOWER "${_js}" _js_lower)
string(FIND "${_js_lower}" "</script" _bad)
if(NOT _bad EQUAL -1)
  message(FATAL_ERROR "duet: uPlot's JS contains '</script': it cannot be inlined")
endif()

# Split at the markers (each must appear exactly once) and write the pieces.
foreach(_m IN ITEMS _css_marker _js_marker)
  string(FIND "${_page}" "${${_m}}" _first)
  string(FIND "${_page}" "${${_m}}" _last REVERSE)
  if(_first EQUAL -1 OR NOT _first EQUAL _last)
    message(FATAL_ERROR "duet: ${PAGE} must contain ${${_m}} exactly once")
  endif()
endforeach()
string(FIND "${_page}" "${_css_marker}" _c)
string(FIND "${_page}" "${_js_marker}" _j)
if(_j LESS _c)
  message(FATAL_ERROR "duet: ${PAGE}: the CSS marker must come before the JS marker")
endif()
string(LENGTH "${_css_marker}" _cl)
string(LENGTH "${_js_marker}" _jl)
string(SUBSTRING "${_page}" 0 ${_c} _p1)
math(EXPR _c_end "${_c} + ${_cl}")
math(EXPR _mid_len "${_j} - ${_c_end}")
string(SUBSTRING "${_page}" ${_c_end} ${_mid_len} _p2)
math(EXPR _j_end "${_j} + ${_jl}")
string(SUBSTRING "${_page}" ${_j_end} -1 _p3)
file(WRITE "${OUT}.tmp" "${_p1}")
file(APPEND "${OUT}.tmp" "${_css}")
file(APPEND "${OUT}.tmp" "${_p2}")
file(APPEND "${OUT}.tmp" "${_js}")
file(APPEND "${OUT}.tmp" "${_p3}")
file(RENAME "${OUT}.tmp" "${OUT}")

file(SIZE "${OUT}" _raw)
file(ARCHIVE_CREATE OUTPUT "${OUT}.gz" PATHS "${OUT}" FORMAT raw COMPRESSION GZip
     COMPRESSION_LEVEL 9)
file(SIZE "${OUT}.gz" _gz)
message(STATUS "duet: web page with uPlot: ${_raw} bytes (${_gz} gzip -9)")
