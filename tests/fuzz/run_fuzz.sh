#!/bin/sh
# Runs libFuzzer targets on a copy of their seed corpus
# (tests/fuzz/corpus/NAME); fails when one finds anything. The codec (stun)
# runs for ${FUZZ_SECONDS:-60} seconds, the requirement being 60 s clean
# under ASan+UBSan; binding, conf and sip for ${FUZZ_SECONDS_OTHER:-30} each;
# policy (a small pure module) for ${FUZZ_SECONDS_POLICY:-15}; turn (the TURN
# request handler and data path) for ${FUZZ_SECONDS_OTHER:-30}; rtp (row 4's
# RFC 4571 decoder), canary (the marker in a canary hit), control (the
# control API's requests, admission and token parsers), ctl_reply (the
# probe's parsers of the control API's answers), ruleset (a ruleset's
# format from its content) and fed_av (what the federation A/V test reads
# from the network) for ${FUZZ_SECONDS_POLICY:-15}.
# Usage: run_fuzz.sh [NAME...] (default: every target: stun binding conf sip
# policy turn rtp canary control ctl_reply ruleset fed_av);
# from `make check` it takes no argument and finds the build through BUILDDIR.
set -u
# A quick check (tests/lib.sh's skip_slow) has no minutes for fuzzing.
if [ "$#" -eq 0 ] && [ "${EDGELAB_QUICK_CHECK:-no}" = yes ]; then
	echo "SKIP: quick check (QUICK_CHECK=yes, as in make distcheck): the fuzzers"
	exit 77
fi

here=$(cd "$(dirname "$0")" && pwd)
srcdir=${SRCDIR:-$(cd "$here/../.." && pwd)}
builddir=${BUILDDIR:-$(pwd)}
stun_seconds=${FUZZ_SECONDS:-60}
other_seconds=${FUZZ_SECONDS_OTHER:-30}
policy_seconds=${FUZZ_SECONDS_POLICY:-15}
status=0
passed=0
failed=0

run_one() {
	name=$1
	case $name in
	stun) seconds=$stun_seconds ;;
	policy | rtp | canary | control | ctl_reply | ruleset | fed_av) seconds=$policy_seconds ;;
	*) seconds=$other_seconds ;;
	esac
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
	start=$(date +%s)
	"$bin" -max_total_time="$seconds" -print_final_stats=1 \
		-artifact_prefix="$tmp/artifacts/" "$tmp/corpus" >"$tmp/log" 2>&1
	rc=$?
	took=$(($(date +%s) - start))
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$tmp/log" | tail -n 1)
	found=$(ls "$tmp/artifacts" | wc -l)
	if [ "$rc" -ne 0 ] || [ "$found" -ne 0 ]; then
		tail -n 80 "$tmp/log"
		# keep what it found next to the binary, to reproduce with
		# `tests/fuzz/fuzz_NAME FILE`
		for f in "$tmp/artifacts"/*; do
			[ -e "$f" ] || continue
			cp "$f" "$builddir/tests/fuzz/" &&
				echo "run_fuzz: kept $builddir/tests/fuzz/$(basename "$f")"
		done
		echo "run_fuzz: fuzz_$name FAILED (exit $rc, $found artifacts, ${runs:-?} runs in $took s)"
		rm -rf "$tmp"
		return 1
	fi
	ncorpus=$(ls "$tmp/corpus" | wc -l)
	echo "run_fuzz: fuzz_$name ok: ${runs:-?} runs in $took s, corpus $nseeds -> $ncorpus"
	rm -rf "$tmp"
	return 0
}

[ $# -gt 0 ] || set -- stun binding conf sip policy turn rtp canary control ctl_reply ruleset fed_av
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
