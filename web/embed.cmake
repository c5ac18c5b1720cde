# embed.cmake - turn the bundled page (bundle.cmake's output) into a C array (no xxd).
#   cmake -DIN=index.html -DOUT=web_index.c -P embed.cmake
# Produces: const char duet_web_index_html[] (NUL-terminated) and
#           const size_t duet_web_index_html_len (bytes without the NUL), see duet/api.h.
# Fails if the page grows past 96 KiB: it must stay small enough to embed in firmware
# (with uPlot about 66 KB raw, 28 KB gzip; docs/timing.md).
file(READ "${IN}" hex HEX)
string(LENGTH "${hex}" n)
math(EXPR bytes "${n} / 2")
if(bytes GREATER 98304)
  message(FATAL_ERROR "the web page is ${bytes} bytes; keep it under 96 KiB")
endif()
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," body "${hex}")
file(WRITE "${OUT}.tmp"
  "/* Generated from web/index.html by web/embed.cmake. Do not edit. */\n"
  "#include <stddef.h>\n"
  "const char duet_web_index_html[] = {\n${body}0x00};\n"
  "const size_t duet_web_index_html_len = ${bytes};\n")
file(RENAME "${OUT}.tmp" "${OUT}")
