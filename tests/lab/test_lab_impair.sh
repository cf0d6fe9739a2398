#!/bin/sh
# shellcheck disable=SC2016 # sh -c scripts take "$0" and "$1"
# A lab's impaired links (lab up --impair, lab impair; issue 16 point 2)
# measured by lab assess: a delay D both ways gives a round trip of 2D
# (within +3 ms: the impairer's wake-ups and the path's own 0.5 ms); a loss
# p both ways, a round-trip loss 1-(1-p)^2 within its binomial 99.9 %
# interval; reorder is seen as reorder; off, every target is met again.
# The impairment stays through `lab rules` with a ruleset that flushes
# every table; a bad spec changes nothing. Needs root; skips otherwise.
set -u
. "$(dirname "$0")/../lib.sh"
skip_slow "the network-namespace lab"

[ "$(id -u)" -eq 0 ] || skip_all "lab tests need root (network namespaces, nftables)"
for tool in ip nft iptables python3 timeout; do
	command -v "$tool" >/dev/null || { not_ok "$tool is installed"; finish; }
done
exec 9>/run/edgelab-test-labs.lock
flock -s -w 300 9 || { not_ok "the labs' test lock within 300 s"; finish; }

. "$(dirname "$0")/labs_lib.sh" # L, run, has
N=i$$x
at_exit "\"$EDGELAB\" lab down $N"
run up up --name "$N" --impair "delay 20ms"
check "lab up --impair 'delay 20ms': status 0" [ "$rc" -eq 0 ]
check "... fw queues both directions to the impairer" sh -c '
	r=$("$0" lab exec "$1" fw -- iptables -t mangle -S FORWARD)
	echo "$r" | grep -q -- "-i outside0 -o edge0 -j NFQUEUE --queue-num 7301 --queue-bypass" &&
	echo "$r" | grep -q -- "-i edge0 -o outside0 -j NFQUEUE --queue-num 7302 --queue-bypass"' "$EDGELAB" "$N"

# figures JSON PY: a python expression over the calls c (a list) is true.
figures() {
	python3 -c 'import json, sys
c = json.load(open(sys.argv[1]))["steps"][0]["call"]
print("# " + "; ".join("rtt %.2f ms, loss %.4f, reorder %.4f, %d/%d" % (x["rtt_ms"], x["loss"], x["reorder"], x["received"], x["sent"]) for x in c))
sys.exit(0 if eval(sys.argv[2]) else 1)' "$1" "$2"
}
LAB_TIMEOUT=120 run a1 assess "$N" --calls 3 --duration 4 --json "$TMP/delay.json"
check "delay 20ms both ways: every call's mean round trip within 40-43 ms" \
	figures "$TMP/delay.json" 'all(40 <= x["rtt_ms"] <= 43 for x in c) and len(c) == 3'
check "... nothing lost, nothing reordered" \
	figures "$TMP/delay.json" 'all(x["received"] == x["sent"] == 200 and x["reorder"] == 0 for x in c)'

run imp impair "$N" "loss 5%"
check "lab impair 'loss 5%': status 0, said" \
	sh -c '[ "$0" -eq 0 ] && grep -q "in (outside to edge) loss 5%; out (edge to outside) loss 5%" "$1"' "$rc" "$TMP/imp.out"
LAB_TIMEOUT=120 run a2 assess "$N" --calls 4 --duration 10 --json "$TMP/loss.json"
# Each packet crosses fw once in and once out: lost with 1-(0.95)^2 =
# 9.75 %; over n packets sent, 99.9 % of runs are within 3.29 standard
# deviations.
check "loss 5% both ways: the round-trip loss within 9.75 % +- 3.29 sigma" figures "$TMP/loss.json" '
(lambda n, r: abs((n - r) / n - 0.0975) <= 3.29 * (0.0975 * 0.9025 / n) ** 0.5)(sum(x["sent"] for x in c), sum(x["received"] for x in c))'
check "... and assess says the calls miss the loss target" has a2.out "missed: .*loss"

run imp2 impair "$N" "delay 10ms reorder 50%"
LAB_TIMEOUT=120 run a3 assess "$N" --calls 2 --duration 4 --json "$TMP/reorder.json"
check "reorder 50% (with delay 10ms): every call sees reorder" \
	figures "$TMP/reorder.json" 'all(x["reorder"] > 0.01 for x in c)'
check "... and misses the reorder target" has a3.out "missed: .*reorder"

# A ruleset that flushes every table (the lab's policy, flushed first): the
# impairment is put back.
{ echo "flush ruleset"; "$EDGELAB" rules --lab; } >"$TMP/flush.nft"
run rules rules "$N" "$TMP/flush.nft"
check "lab rules with 'flush ruleset': status 0, the queues are back" sh -c '
	[ "$0" -eq 0 ] && "$1" lab exec "$2" fw -- iptables -t mangle -S FORWARD | grep -c NFQUEUE | grep -qx 2' \
	"$rc" "$EDGELAB" "$N"

run bad impair "$N" "delay forever"
check "a bad spec: status 2, said" \
	sh -c '[ "$0" -eq 2 ] && grep -q "is not a time up to 10s" "$1"' "$rc" "$TMP/bad.err"
run now impair "$N"
check "... and changed nothing (lab impair NAME says what is on)" \
	has now.out "in \(outside to edge\) delay 10ms reorder 50%; out"

run off impair "$N" off
LAB_TIMEOUT=120 run a4 assess "$N" --calls 3 --duration 3
check "lab impair off: lab assess exits 0" [ "$rc" -eq 0 ]
check "... every call meets every target again" has a4.out "^verdict: all 3 calls met every client target$"
check "... no queue rule left in fw" sh -c '! "$0" lab exec "$1" fw -- iptables -t mangle -S FORWARD | grep -q NFQUEUE' "$EDGELAB" "$N"
finish
