#!/bin/sh
# tests/idf/check_symbols.sh - every ESP-IDF identifier the esp32s3 port, the component's
# public headers and the IDF examples use must be in tests/idf/idf_symbols.txt, the list
# of identifiers checked against the ESP-IDF sources (docs/esp32s3.md says how).
#
# Usage: check_symbols.sh <repo root> [<esp-idf git dir> <tag>...]
#   With only the repo root (CI): fails if a source uses an IDF identifier that is not
#   in the list, or if the list names one no source uses any more (stale entry).
#   With an esp-idf git dir and tags (e.g. a `git clone --mirror` and v5.3 v5.5): also
#   checks that each listed identifier occurs as a word under components/, examples/ or
#   tools/ of every tag.
# Identifiers are picked by the prefixes ESP-IDF, FreeRTOS and the SoC headers use;
# duet's own names (duet_*, DUET_*, CONFIG_DUET_*) are excluded.
set -eu
root=${1:?usage: check_symbols.sh <repo root> [<idf git dir> <tag>...]}
shift
list="$root/tests/idf/idf_symbols.txt"
tmp=${TMPDIR:-/tmp}/duet_idf_syms.$$
trap 'rm -f "$tmp".*' EXIT

files=$(ls "$root"/port/esp32s3/*.c "$root"/port/esp32s3/*.h "$root"/esp/include/*.h \
           "$root"/examples/idf/*/main/*.c 2>/dev/null)
[ -n "$files" ] || { echo "check_symbols: no sources found under $root"; exit 1; }

# Strip comments (the C preprocessor in "already preprocessed" mode: no macro expansion,
# no includes) and string literals, then pick identifiers with IDF/FreeRTOS/SoC shapes.
for f in $files; do
  ${CC:-cc} -fpreprocessed -dD -E -P -x c "$f" 2>/dev/null | sed -e 's/"\([^"\\]\|\\.\)*"/""/g'
done | grep -o -E '\b(esp_[a-z0-9_]+|ESP_[A-Z0-9_]+|heap_caps_[a-z_]+|soc_[a-z_]+|SOC_[A-Z0-9_]+|SYSTEM_[A-Z0-9_]+|ETS_[A-Z0-9_]+|ets_[a-z_]+|REG_[A-Z_]+|IRAM_ATTR|httpd_[a-z_]+|HTTPD_[A-Z0-9_]+|HTTP_[A-Z_]+|http_method[a-z_]*|x[A-Z][A-Za-z]+|v[A-Z][A-Za-z]+|port[A-Z][A-Za-z_]*|pd[A-Z][A-Za-z_]*|config[A-Z][A-Z_]*|CONFIG_[A-Z0-9_]+|TRACEMEM_[A-Z0-9_]+|MAP_[A-Z_]+|walker_[a-z_]+|nvs_flash_[a-z_]+|example_connect|[A-Z][A-Za-z]*Handle_t|BaseType_t|TickType_t|intr_handle_t|intr_handler_t|shutdown_handler_t|target_add_binary_data|__real_esp_restart_noos|__wrap_esp_restart_noos)\b' \
  | grep -v -E '^(CONFIG_DUET_|DUET_|duet_|ESP_ERR_DUET_)' | sort -u > "$tmp.used"

grep -v -E '^[[:space:]]*(#|$)' "$list" | awk '{print $1}' | sort -u > "$tmp.listed"

missing=$(comm -23 "$tmp.used" "$tmp.listed")
stale=$(comm -13 "$tmp.used" "$tmp.listed" | grep -v -E '^(esp_restart_noos|target_add_binary_data|idf_component_register|target_linker_script|target_link_options|_heap_start|httpd_uri_match_wildcard)$' || true)
rc=0
if [ -n "$missing" ]; then
  echo "check_symbols: IDF identifiers used but not verified (add them to tests/idf/idf_symbols.txt after checking the ESP-IDF sources):"
  echo "$missing" | sed 's/^/  /'
  rc=1
fi
if [ -n "$stale" ]; then
  echo "check_symbols: listed but no longer used (remove from tests/idf/idf_symbols.txt):"
  echo "$stale" | sed 's/^/  /'
  rc=1
fi

if [ $# -ge 2 ]; then
  git_dir=$1
  shift
  for tag in "$@"; do
    while read -r sym; do
      case $sym in __real_*|__wrap_*) sym=${sym#__*_} ;; esac
      if ! git --git-dir="$git_dir" grep -q -w -e "$sym" "$tag" -- components examples tools 2>/dev/null; then
        echo "check_symbols: '$sym' not found in esp-idf $tag"
        rc=1
      fi
    done < "$tmp.listed"
  done
fi
[ $rc -eq 0 ] && echo "check_symbols: $(wc -l < "$tmp.used") IDF identifiers, all verified"
exit $rc
