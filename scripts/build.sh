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
# configure's own noise (it tries to remove a file named core) goes to its log.
[ -f Makefile ] || ../configure --enable-werror "$@" >configure.log 2>&1 ||
	{ tail -n 20 configure.log >&2; exit 1; }
make -j"$(nproc)" >make.log 2>&1 || { grep -E 'error|warning' make.log >&2; exit 1; }
echo "build: $(pwd)/edgelab"
