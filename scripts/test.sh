#!/bin/sh
# Installs every test dependency (as root), builds edgelab in build-test/
# with AddressSanitizer, LeakSanitizer, UBSan, -Werror and the libFuzzer
# targets (and once more optimised with -Werror, in build-test/release, as
# scripts/build.sh builds it), and runs every test: unit (cmocka), CLI, interop with real peers,
# the network-namespace lab (root only; skipped with a message otherwise) and
# the fuzzers (FUZZ_SECONDS, 60 by default). Exit status: make check's.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
if [ "$(id -u)" -eq 0 ]; then
	"$top/scripts/install-deps.sh" --test || exit 1
else
	echo "test: not root: packages not installed, lab tests will be skipped" >&2
fi
cd "$top" || exit 1
./autogen.sh >/dev/null 2>&1 || { echo "test: autogen.sh failed" >&2; exit 1; }
rm -rf build-test
mkdir build-test && cd build-test || exit 1
../configure --enable-werror --enable-sanitizers --enable-fuzz >configure.log 2>&1 ||
	{ tail -n 20 configure.log; exit 1; }
make -j"$(nproc)" >make.log 2>&1 || { grep -E 'error|warning' make.log | head -n 40; exit 1; }
echo "test: built with sanitizers"
# The README's main job builds with scripts/build.sh: optimised, -Werror.
# GCC warns at -O2 about things it does not see at the sanitizer build's
# -O1 (maybe-uninitialized), so that build must compile too.
mkdir release && (cd release && ../../configure --enable-werror >configure.log 2>&1 &&
	make -j"$(nproc)" edgelab >make.log 2>&1) ||
	{ grep -E 'error|warning' release/make.log release/configure.log | head -n 40; exit 1; }
echo "test: the optimised build (scripts/build.sh's) compiles without warnings; running make check"

make -j"$(nproc)" check
status=$?

# Every failing test's log, so that CI output says why.
for log in $(find tests -name '*.log' ! -name 'test-suite.log'); do
	trs=${log%.log}.trs
	if grep -q '^:test-result: \(FAIL\|ERROR\)' "$trs" 2>/dev/null; then
		echo "===== $log"
		cat "$log"
	fi
done
# Per-check counts from cmocka's and the shell tests' own summaries.
find tests -name '*.log' ! -name 'test-suite.log' -exec cat {} + | awk '
	/^\[  PASSED  \] [0-9]+ test/ { p += $4 }
	/^\[  FAILED  \] [0-9]+ test/ { f += $4 }
	/^[0-9]+ passed, [0-9]+ failed$/ { p += $1; f += $3 }
	/^SKIP: / { s++ }
	END { printf "checks: %d passed, %d failed, %d skipped\n", p, f, s }'
exit $status
