#!/bin/sh
# The lab's wall time, all rules accepted and all rules dropped, per
# binary: how long `edgelab lab` takes from start to torn down. With every
# rule dropped each flow waits its whole timeout, so the figure shows whether
# the flows run one after another (the sum of the timeouts) or at once (about
# one timeout). A benchmark, not a test: it asserts nothing and prints a
# table of medians. Needs root (the lab).
#
#   tests/bench/lab_time.sh [--runs N] [--timeout SECS] [--before REV] [BIN...]
#
# BIN defaults to build/edgelab. --before REV also builds REV (e.g. the
# commit before a change) in a temporary worktree and times it first. A
# binary that has --no-strict (issue 11 and later) is timed twice: the six
# rows alone (--no-strict, the same flows as before) and with the strict
# mode's negative flows (the lab's default).
set -eu
runs=3 timeout=3 before=
while [ $# -gt 0 ]; do
	case $1 in
	--runs) runs=$2; shift 2 ;;
	--timeout) timeout=$2; shift 2 ;;
	--before) before=$2; shift 2 ;;
	-h | --help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) break ;;
	esac
done
[ "$(id -u)" -eq 0 ] || { echo "lab_time.sh: needs root (edgelab lab)" >&2; exit 1; }
top=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'git -C "$top" worktree remove --force "$tmp/before" 2>/dev/null || true; rm -rf "$tmp"' EXIT

bins=
if [ -n "$before" ]; then
	echo "building $before in $tmp/before ..." >&2
	git -C "$top" worktree add -q --detach "$tmp/before" "$before"
	(cd "$tmp/before" && ./autogen.sh && mkdir -p b && cd b && ../configure && make -j"$(nproc)") \
		>"$tmp/build.log" 2>&1 || { tail -20 "$tmp/build.log" >&2; exit 1; }
	cp "$tmp/before/b/edgelab" "$tmp/edgelab-$before"
	bins="$tmp/edgelab-$before"
fi
[ $# -gt 0 ] || set -- "$top/build/edgelab"
bins="$bins $*"

# median of the numbers on stdin
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# time_lab BIN ARGS...: prints "median min max flows" over $runs runs
time_lab() {
	bin=$1
	shift
	: >"$tmp/times"
	for i in $(seq "$runs"); do
		s=$(date +%s.%N)
		"$bin" lab --format json --timeout "$timeout" "$@" >"$tmp/out" 2>"$tmp/err" || true
		e=$(date +%s.%N)
		echo "$e - $s" | bc >>"$tmp/times"
	done
	flows=$(grep -c '"verdict"' "$tmp/out" || true)
	printf '%s %s %s %s\n' "$(median <"$tmp/times")" "$(sort -n "$tmp/times" | head -1)" \
		"$(sort -n "$tmp/times" | tail -1)" "$flows"
}

printf '%-34s %-22s %7s %7s %7s %6s\n' binary policy median min max flows
for bin in $bins; do
	name=$(basename "$bin")
	[ "$bin" = "$top/build/edgelab" ] && name="build/edgelab ($(git -C "$top" rev-parse --short HEAD))"
	modes="default"
	"$bin" lab --help 2>&1 | grep -q -- --no-strict && modes="--no-strict default"
	for mode in $modes; do
		extra=
		label=
		[ "$mode" = --no-strict ] && extra=--no-strict && label=" (6 rows)"
		[ "$mode" = default ] && [ "$modes" != default ] && label=" (+strict)"
		for policy in accepted dropped; do
			drop=
			[ $policy = dropped ] && drop="--drop all"
			# shellcheck disable=SC2086 # extra and drop are words or nothing
			set -- $(time_lab "$bin" $extra $drop)
			printf '%-34s %-22s %6.2fs %6.2fs %6.2fs %6s\n' "$name" "all $policy$label" \
				"$1" "$2" "$3" "$4"
		done
	done
done
echo "($runs runs each, --timeout $timeout; $(nproc) CPUs, $(uname -r))"
