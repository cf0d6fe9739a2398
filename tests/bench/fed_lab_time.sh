#!/bin/sh
# The federation lab's wall time (`edgelab lab --topology federation`, from
# start to torn down), with everything passing and with one thing broken at
# a time: a flow that gets no answer waits out its time, so the figures show
# what each breakage costs. Also the DNS queries each edge made and the RTP
# packets relayed, from the report. A benchmark, not a test: it asserts
# nothing and prints medians. Needs root.
#
#   tests/bench/fed_lab_time.sh [--runs N] [BIN]
#
# BIN defaults to build/edgelab.
set -eu
runs=3
while [ $# -gt 0 ]; do
	case $1 in
	--runs) runs=$2; shift 2 ;;
	-h | --help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) break ;;
	esac
done
[ "$(id -u)" -eq 0 ] || { echo "fed_lab_time.sh: needs root (edgelab lab)" >&2; exit 1; }
top=$(cd "$(dirname "$0")/../.." && pwd)
bin=${1:-$top/build/edgelab}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

median() { sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
now() { date +%s.%N; }

printf '%-22s  %8s  %s\n' "case" "median" "runs (s)"
for case in "" "--drop-b 1" "--reject-a 2" "--drop-a 5" "--drop-a 4" "--fault no-srv-b" "--fault dns-silent"; do
	: >"$tmp/times"
	for _ in $(seq "$runs"); do
		t0=$(now)
		# shellcheck disable=SC2086 # the case's words are options
		"$bin" lab --topology federation --format json $case >"$tmp/out.json" 2>/dev/null || true
		awk -v a="$(now)" -v b="$t0" 'BEGIN { print a - b }' >>"$tmp/times"
	done
	printf '%-22s  %7.2fs  %s\n' "${case:-everything passes}" "$(median <"$tmp/times")" \
		"$(tr '\n' ' ' <"$tmp/times" | xargs printf '%.2f ')"
	[ -n "$case" ] || cp "$tmp/out.json" "$tmp/pass.json"
done
echo
echo "from the last run where everything passed:"
grep -o 'edge [AB] found [a-z.]* by DNS at [0-9.:]* ([0-9]* queries)' "$tmp/pass.json" | sed 's/^/  /'
grep -o '"A/V \(over TCP \)\{0,1\}client [AB] -> client [AB][^"]*", "verdict": "[A-Z]*", "detail": "[0-9]* RTP packets of [0-9]* intact' \
	"$tmp/pass.json" | sed 's/", "verdict": "/: /; s/", "detail": "/, /; s/^"/  /'
grep -o "fw [AB]'s counters[^\"]*\", \"verdict\": \"[A-Z]*\", \"detail\": \"[^\"]*" "$tmp/pass.json" |
	sed 's/", "verdict": "/: /; s/", "detail": "/, /; s/^/  /'
