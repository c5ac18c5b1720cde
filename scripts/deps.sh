#!/bin/sh
# deps.sh - make sure the Debian packages duet's build and tests need are installed.
# As root with apt-get: installs what is missing. Otherwise: prints the exact command.
set -eu
PKGS="build-essential cmake pkg-config clang libclang-rt-14-dev libmbedtls-dev libelf-dev
libcurl4-openssl-dev libcmocka-dev libck-dev gcc-xtensa-lx106 binutils-xtensa-lx106
chromium nodejs curl nginx-light mosquitto mosquitto-clients libmosquitto-dev openssl"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
command -v npm >/dev/null || missing="$missing npm"
[ -z "$missing" ] && exit 0
echo "duet: missing Debian packages:$missing"
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq $missing
else
  echo "duet: run:  sudo apt-get install$missing"
  exit 1
fi
