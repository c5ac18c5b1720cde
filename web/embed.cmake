# embed.cmake - turn web/index.html into a C array (no xxd needed).
#   cmake -DIN=index.html -DOUT=web_index.c -P embed.cmake
# Produces: const char duet_web_index_html[] (NUL-terminated) and
#           const size_t duet_web_index_html_len (bytes without the NUL), see duet/api.h.
# Fails if the page grows past 16 KiB: it must stay small enough to embed in firmware.
file(READ "${IN}" hex HEX)
string(LENGTH "${hex}" n)
math(EXPR bytes "${n} / 2")
if(bytes GREATER 16384)
  message(FATAL_ERROR "web/index.html is ${bytes} bytes; keep it under 16 KiB")
endif()
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," body "${hex}")
file(WRITE "${OUT}.tmp"
  "/* Generated from web/index.html by web/embed.cmake. Do not edit. */\n"
  "#include <stddef.h>\n"
  "const char duet_web_index_html[] = {\n${body}0x00};\n"
  "const size_t duet_web_index_html_len = ${bytes};\n")
file(RENAME "${OUT}.tmp" "${OUT}")
