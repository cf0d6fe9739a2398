#!/bin/sh
# Runs libFuzzer targets for ${FUZZ_SECONDS:-60} seconds each on a copy of
# their seed corpus (tests/fuzz/corpus/NAME); fails when one finds anything.
# Usage: run_fuzz.sh [NAME...] (default: every target, i.e. "stun"); from
# `make check` it takes no argument and finds the build through BUILDDIR.
set -u

here=$(cd "$(dirname "$0")" && pwd)
srcdir=${SRCDIR:-$(cd "$here/../.." && pwd)}
builddir=${BUILDDIR:-$(pwd)}
seconds=${FUZZ_SECONDS:-60}
status=0
passed=0
failed=0

run_one() {
	name=$1
	bin=$builddir/tests/fuzz/fuzz_$name
	seeds=$srcdir/tests/fuzz/corpus/$name
	if [ ! -x "$bin" ]; then
		echo "run_fuzz: $bin is not built (configure --enable-fuzz)"
		return 1
	fi
	if [ ! -d "$seeds" ]; then
		echo "run_fuzz: no seed corpus at $seeds"
		return 1
	fi
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/fuzz_$name.XXXXXX") || return 1
	mkdir "$tmp/corpus" "$tmp/artifacts"
	cp "$seeds"/* "$tmp/corpus/"
	nseeds=$(ls "$tmp/corpus" | wc -l)
	echo "run_fuzz: fuzz_$name for $seconds s on $nseeds seeds"
	"$bin" -max_total_time="$seconds" -print_final_stats=1 \
		-artifact_prefix="$tmp/artifacts/" "$tmp/corpus" >"$tmp/log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$tmp/log" | tail -n 1)
	found=$(ls "$tmp/artifacts" | wc -l)
	if [ "$rc" -ne 0 ] || [ "$found" -ne 0 ]; then
		tail -n 80 "$tmp/log"
		# keep what it found next to the binary, to reproduce with
		# `tests/fuzz/fuzz_NAME FILE`
		cp "$tmp/artifacts"/* "$builddir/tests/fuzz/" 2>/dev/null
		echo "run_fuzz: fuzz_$name FAILED (exit $rc, $found artifacts, ${runs:-?} runs)"
		rm -rf "$tmp"
		return 1
	fi
	ncorpus=$(ls "$tmp/corpus" | wc -l)
	echo "run_fuzz: fuzz_$name ok: ${runs:-?} runs in $seconds s, corpus $nseeds -> $ncorpus"
	rm -rf "$tmp"
	return 0
}

[ $# -gt 0 ] || set -- stun
for target in "$@"; do
	if run_one "$target"; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		status=1
	fi
done
echo "$passed passed, $failed failed"
exit $status
