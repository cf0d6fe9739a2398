#!/bin/sh
# Verdict truth: random firewall policies (each row's rule accepted, dropped
# or rejected) in the lab, and every verdict, inbound and outbound, in each
# STUN dialect, must be what the policy implies: PASS, BLOCKED, REJECTED.
# The strict mode's negative flows must stay CLOSED under every one of them
# (no row's rule opens anything else). The seed is printed; EDGELAB_SEED=N
# replays a run, EDGELAB_POLICIES=N runs more policies (default 3). Needs
# root; skips otherwise.
set -u
. "$(dirname "$0")/../lib.sh"
skip_slow "the network-namespace lab"

[ "$(id -u)" -eq 0 ] || skip_all "lab tests need root (network namespaces, nftables)"
for tool in ip nft awk; do
	command -v "$tool" >/dev/null || { not_ok "$tool is installed"; finish; }
done
at_exit '"$EDGELAB" lab --cleanup >/dev/null'

seed=${EDGELAB_SEED:-$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')}
policies=${EDGELAB_POLICIES:-3}
echo "# seed $seed: replay with EDGELAB_SEED=$seed"

# One line per policy: six words, accept|drop|reject for rows 1..6. The
# first policy rejects every outbound row and the second drops them, so that
# each run shows both outbound outcomes whatever the seed; the rest are
# random.
awk -v seed="$seed" -v n="$policies" 'BEGIN {
	srand(seed); split("accept drop reject", act, " ")
	for (p = 1; p <= n; p++) {
		line = ""
		for (row = 1; row <= 6; row++) {
			a = act[int(rand() * 3) + 1]
			if (p == 1 && (row == 2 || row == 4 || row == 5)) a = "reject"
			if (p == 2 && (row == 2 || row == 4 || row == 5)) a = "drop"
			line = line (row > 1 ? " " : "") a
		}
		print line
	}
}' >"$TMP/policies"

expect_of() { case $1 in accept) echo PASS ;; drop) echo BLOCKED ;; reject) echo REJECTED ;; esac; }

n=0
while read -r p1 p2 p3 p4 p5 p6; do
	n=$((n + 1))
	drop= reject=
	row=0
	for a in $p1 $p2 $p3 $p4 $p5 $p6; do
		row=$((row + 1))
		[ "$a" = drop ] && drop="$drop${drop:+,}$row"
		[ "$a" = reject ] && reject="$reject${reject:+,}$row"
	done
	echo "# policy $n: $p1 $p2 $p3 $p4 $p5 $p6 (--drop '${drop:-}' --reject '${reject:-}')"
	timeout 90 "$EDGELAB" lab --format json -t 2 ${drop:+--drop "$drop"} \
		${reject:+--reject "$reject"} >"$TMP/out" 2>"$TMP/err"
	rc=$?
	sed 's/^/# /' "$TMP/out" "$TMP/err"
	out=$(cat "$TMP/out")
	row=0
	all_pass=yes
	for a in $p1 $p2 $p3 $p4 $p5 $p6; do
		row=$((row + 1))
		want=$(expect_of "$a")
		[ "$want" = PASS ] || all_pass=no
		got=$(echo "$out" | grep "\"row\": $row," | sed 's/.*"verdict": "\([A-Z]*\)".*/\1/' | tr '\n' ' ')
		case $row in 5 | 6) wants="$want $want " ;; *) wants="$want " ;; esac
		check "policy $n, row $row $a: $want" [ "$got" = "$wants" ]
	done
	check "policy $n: every negative flow CLOSED" \
		sh -c '[ "$(echo "$0" | grep -c "\"verdict\": \"CLOSED\"")" -ge 10 ] &&
			! echo "$0" | grep -q "\"verdict\": \"EXPOSED\""' "$out"
	if [ $all_pass = yes ]; then
		check "policy $n: exit status 0" [ "$rc" -eq 0 ]
	else
		check "policy $n: exit status 1" [ "$rc" -eq 1 ]
	fi
done <"$TMP/policies"
finish
