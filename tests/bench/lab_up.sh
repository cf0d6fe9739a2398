#!/bin/sh
# What a lab that stays up costs, step by step: `lab up`, `lab probe
# --no-strict` (the six rows), `lab check` (with the strict flows), `lab
# rules` (replace fw's ruleset) and `lab down`, and two `lab up` side by side
# against one. A benchmark, not a test: it asserts nothing and prints the
# median, min and max wall time of each step over N runs. Needs root.
#
#   tests/bench/lab_up.sh [--runs N] [BIN]
#
# BIN defaults to build/edgelab. Its labs are called bench-up-PID-*; each is
# taken down at the end of its run, and at exit whatever is left.
set -eu
runs=5
while [ $# -gt 0 ]; do
	case $1 in
	--runs) runs=$2; shift 2 ;;
	-h | --help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) break ;;
	esac
done
[ "$(id -u)" -eq 0 ] || { echo "lab_up.sh: needs root (edgelab lab up)" >&2; exit 1; }
top=$(cd "$(dirname "$0")/../.." && pwd)
bin=${1:-$top/build/edgelab}
tmp=$(mktemp -d)
a=bu$$a b=bu$$b
trap '"$bin" lab down "$a" >/dev/null 2>&1; "$bin" lab down "$b" >/dev/null 2>&1; rm -rf "$tmp"' EXIT
"$bin" rules --lab >"$tmp/rules.nft"

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
	step up "$bin" lab up --name "$a"
	step probe "$bin" lab probe "$a" --no-strict
	step check "$bin" lab check "$a"
	step rules "$bin" lab rules "$a" "$tmp/rules.nft"
	step down "$bin" lab down "$a"
	step two_up sh -c "'$bin' lab up --name $a & '$bin' lab up --name $b & wait"
	"$bin" lab down "$a" >/dev/null 2>&1 || true
	"$bin" lab down "$b" >/dev/null 2>&1 || true
done
printf '%-32s %8s %8s %8s\n' step median min max
for s in up probe check rules down two_up; do
	case $s in
	up) what="lab up" ;; probe) what="lab probe --no-strict" ;; check) what="lab check (strict)" ;;
	rules) what="lab rules (nft, replace)" ;; down) what="lab down" ;; two_up) what="two lab up side by side" ;;
	esac
	printf '%-32s %7.2fs %7.2fs %7.2fs\n' "$what" "$(median <"$tmp/$s")" \
		"$(sort -n "$tmp/$s" | head -1)" "$(sort -n "$tmp/$s" | tail -1)"
done
