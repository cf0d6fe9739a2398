#!/bin/sh
# What a lab that stays up costs, step by step: `lab up`, `lab probe
# --no-strict` (the six rows), `lab check` (with the strict flows), `lab
# rules` (replace fw's ruleset) and `lab down`, and two `lab up` side by side
# against one; with --federation, the same of the federation lab (`lab up
# --topology federation`: its probe and check run both federation hops,
# its rules replace fw B's). A benchmark, not a test: it asserts nothing
# and prints the median, min and max wall time of each step over N runs.
# Needs root.
#
#   tests/bench/lab_up.sh [--runs N] [--federation] [BIN]
#
# BIN defaults to build/edgelab. Its labs are called bench-up-PID-*; each is
# taken down at the end of its run, and at exit whatever is left.
set -eu
runs=5
fed=""
while [ $# -gt 0 ]; do
	case $1 in
	--runs) runs=$2; shift 2 ;;
	--federation) fed=yes; shift ;;
	-h | --help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) break ;;
	esac
done
[ "$(id -u)" -eq 0 ] || { echo "lab_up.sh: needs root (edgelab lab up)" >&2; exit 1; }
top=$(cd "$(dirname "$0")/../.." && pwd)
bin=${1:-$top/build/edgelab}
tmp=$(mktemp -d)
a=bu$$a b=bu$$b
trap '"$bin" lab down "$a" >/dev/null 2>&1; "$bin" lab down "$b" >/dev/null 2>&1; rm -rf "$tmp"' EXIT
if [ -n "$fed" ]; then
	up="--topology federation" probe="" site="--site b" kind=" (federation)" check="every flow"
	"$bin" rules --lab --edge 203.0.113.10 --dns 192.0.2.53 >"$tmp/rules.nft"
else
	up="" probe="--no-strict" site="" kind="" check="strict"
	"$bin" rules --lab >"$tmp/rules.nft"
fi

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# step NAME CMD...: times the command, seconds appended to $tmp/NAME
step() {
	name=$1
	shift
	s=$(date +%s.%N)
	"$@" >/dev/null 2>&1 || true
	e=$(date +%s.%N)
	echo "$e - $s" | bc >>"$tmp/$name"
}
for i in $(seq "$runs"); do
	# shellcheck disable=SC2086 # $up, $probe, $site: words or nothing
	step up "$bin" lab up --name "$a" $up
	# shellcheck disable=SC2086
	step probe "$bin" lab probe "$a" $probe
	step check "$bin" lab check "$a"
	# shellcheck disable=SC2086
	step rules "$bin" lab rules "$a" $site "$tmp/rules.nft"
	step down "$bin" lab down "$a"
	step two_up sh -c "'$bin' lab up --name $a $up & '$bin' lab up --name $b $up & wait"
	"$bin" lab down "$a" >/dev/null 2>&1 || true
	"$bin" lab down "$b" >/dev/null 2>&1 || true
done
printf '%-32s %8s %8s %8s\n' step median min max
for s in up probe check rules down two_up; do
	case $s in
	up) what="lab up$kind" ;; probe) what="lab probe ${probe:-(every flow)}" ;;
	check) what="lab check ($check)" ;;
	rules) what="lab rules (nft, replace)" ;; down) what="lab down" ;; two_up) what="two lab up side by side" ;;
	esac
	printf '%-32s %7.2fs %7.2fs %7.2fs\n' "$what" "$(median <"$tmp/$s")" \
		"$(sort -n "$tmp/$s" | head -1)" "$(sort -n "$tmp/$s" | tail -1)"
done
