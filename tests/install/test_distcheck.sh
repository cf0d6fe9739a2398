#!/bin/sh
# make distcheck on the sources under test, from a configure of their own in
# a temporary directory (nothing shared with the build under test): the
# tarball holds everything the build, the man page, the unit and a quick
# make check need; the unpacked tree builds out of tree, read-only, with
# -Werror; its quick check passes (the slow tests skip, saying so); staged
# installs and uninstalls leave nothing. Minutes long: skipped in a quick
# check (distcheck's own, which would recurse) and with
# EDGELAB_SKIP_DISTCHECK=1.
set -u
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/install_lib.sh"

skip_slow "make distcheck (it runs this quick check itself)"
[ "${EDGELAB_SKIP_DISTCHECK:-0}" = 0 ] || skip_all "EDGELAB_SKIP_DISTCHECK=$EDGELAB_SKIP_DISTCHECK"
[ -x "$SRCDIR/configure" ] || skip_all "no configure in $SRCDIR (run ./autogen.sh)"
# configure refuses a build elsewhere when the sources are configured in place.
[ ! -f "$SRCDIR/config.status" ] ||
	skip_all "$SRCDIR is configured in place: run make distcheck there instead"

B=$TMP/build
mkdir -p "$B"
start=$(date +%s)
(cd "$B" && "$SRCDIR/configure" >configure.log 2>&1)
check "configure in $B (out of tree)" [ $? -eq 0 ]
(cd "$B" && plain_make -j2 distcheck >distcheck.log 2>&1)
rc=$?
echo "# make -j2 distcheck: $(($(date +%s) - start)) s"
L=$B/distcheck.log
check "make distcheck passes" [ "$rc" -eq 0 ]
version=$(sed -n 's/^PACKAGE_VERSION = //p' "$B/Makefile")
if [ "$rc" -ne 0 ]; then
	tail -n 20 "$L" | sed 's/^/#   /'
	# The logs of the tests that failed in the unpacked tree's build.
	find "$B/edgelab-$version/_build" -name '*.trs' -exec grep -l '^:test-result: \(FAIL\|ERROR\)' {} + |
		while read -r trs; do
			echo "# ${trs%.trs}.log, its failed checks:"
			grep '^not ok' "${trs%.trs}.log" | sed 's/^/#   /'
			echo "# ... and its end:"
			tail -n 40 "${trs%.trs}.log" | sed 's/^/#   /'
		done
fi
check "... and says its tarball is ready" grep -q "edgelab-$version archives ready for distribution" "$L"
# The quick check inside: its summary, what ran and what skipped.
grep -E '^# (TOTAL|PASS|SKIP|FAIL|ERROR):' "$L" | sed 's/^/# distcheck: /'
check "... its make check ran the install tests" \
	sh -c 'grep -q "^PASS: tests/install/test_install.sh" "$0" &&
		grep -q "^PASS: tests/install/test_notify.sh" "$0"' "$L"
check "... and serve's" grep -q "^PASS: tests/cli/test_serve.sh" "$L"
check "... the slow ones skipped: the lab" grep -q "^SKIP: tests/lab/test_lab.sh" "$L"
check "... and distcheck itself" grep -q "^SKIP: tests/install/test_distcheck.sh" "$L"
check "... nothing failed" sh -c '! grep -Eq "^(FAIL|ERROR): " "$0"' "$L"

T=$B/edgelab-$version.tar.gz
tar -tzf "$T" >"$TMP/tarball.txt" 2>/dev/null
for f in systemd/edgelab.service.in conf/edgelab.conf docs/edgelab.1 docs/install.md \
	tests/install/test_install.sh tests/tools/notify_listen.py lab/scenarios/tcp-stun.nft \
	lab/embed_scenarios.sh scripts/install-deps.sh configure; do
	check "the tarball has $f" grep -qx "edgelab-$version/$f" "$TMP/tarball.txt"
done
check "... and no build output (lab/scenario_files.c, the unit, objects)" \
	sh -c '! grep -Eq "(scenario_files\.c|/edgelab\.service|\.o)$" "$0"' "$TMP/tarball.txt"
finish
