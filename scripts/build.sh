#!/bin/sh
# Installs the build and lab dependencies (as root) and builds edgelab in
# build/ (out of tree). Extra arguments go to configure.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
if [ "$(id -u)" -eq 0 ]; then
	"$top/scripts/install-deps.sh" --run
else
	echo "build: not root, skipping package installation" >&2
fi
cd "$top"
[ -x configure ] && [ configure -nt configure.ac ] || ./autogen.sh >/dev/null
mkdir -p build
cd build
[ -f Makefile ] || ../configure --enable-werror "$@" >/dev/null
make -j"$(nproc)" >/dev/null
echo "build: $(pwd)/edgelab"
