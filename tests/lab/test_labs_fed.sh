#!/bin/sh
# The federation lab that stays up (edgelab lab up --topology federation):
# up leaves its five namespaces, two edges and dnsmasq running; list says
# it is ready and a federation; probe runs every flow on it;
# rules --site b replaces fw B's ruleset, and the next probe places the
# drop at fw B; exec reaches its roles (and names them when given a
# single-site one); an up of a name in use changes nothing; down leaves
# no namespace, process or directory, also after an up killed half-way,
# and with --all. Needs root; skips otherwise.
set -u
. "$(dirname "$0")/../lib.sh"
skip_slow "the federation lab"

[ "$(id -u)" -eq 0 ] || skip_all "lab tests need root (network namespaces, nftables)"
for tool in ip nft dnsmasq ss timeout flock; do
	command -v "$tool" >/dev/null || { not_ok "$tool is installed"; finish; }
done

# The labs' test lock, shared while our labs are up: another test's `lab
# down --all` (tests/lab/test_labs.sh) holds it exclusive.
exec 9>/run/edgelab-test-labs.lock
flock -s -w 300 9 || { not_ok "the labs' test lock within 300 s"; finish; }

A=f$$a B=f$$b C=f$$c
at_exit 'for n in '"$A $B $C"'; do "$EDGELAB" lab down "$n"; done'

LAB_TIMEOUT=90
. "$(dirname "$0")/labs_lib.sh" # L, run, has
key() { awk -v k="$2" '$1 == k { print $2 }' "/run/edgelab/labs/$1/state" 2>/dev/null; }
# running PID: a process that has not exited (a zombie has).
running() {
	st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1)
	[ -n "$st" ] && [ "$st" != Z ]
}
# gone NAME PID...: no namespace, no directory, none of the PIDs running.
gone() {
	n=$1
	shift
	! ip netns list 2>/dev/null | grep -qE "^edgelab-$n-(inet|a-fw|a-edge|b-fw|b-edge)( |\$)" &&
		[ ! -e "/run/edgelab/labs/$n" ] || return 1
	for p in "$@"; do
		[ "$p" = 0 ] || ! running "$p" || return 1
	done
}
# The flow at SITE ("a>b") in a JSON report: its verdict and where.
# verdict FILE SITE, at FILE SITE: of the federation hop at that site ("a>b").
hop() { grep "\"site\": \"$2\".*\"flow\": \"edge " "$TMP/$1" | head -n 1; }
verdict() { hop "$1" "$2" | sed 's/.*"verdict": "\([A-Z]*\)".*/\1/'; }
at() { hop "$1" "$2" | sed 's/.*"at": "\([a-z-]*\)".*/\1/'; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# ---- up, list, probe ----
t0=$(now_ms)
run up up --name "$A" --topology federation
echo "# lab up --topology federation: $(($(now_ms) - t0)) ms"
check "up --topology federation: status 0" [ "$rc" -eq 0 ]
check "... says how to get in" has up.out "edgelab lab rules $A --site b FILE"
for role in inet a-fw a-edge b-fw b-edge; do
	check "... namespace edgelab-$A-$role" ip netns exec "edgelab-$A-$role" true
done
check "... its state says federation" [ "$(key "$A" topology)" = federation ]
pids="$(key "$A" serve_a_pid) $(key "$A" serve_b_pid) $(key "$A" dns_pid)"
check "... both edges and dnsmasq recorded, and running after up returned" \
	sh -c 'for p in $0; do [ "$p" -gt 0 ] && kill -0 "$p" || exit 1; done' "$pids"
run list list
check "list: ready, a federation, both fws with our policy" \
	has list.out "^$A +ready +[0-9]+s +federation +A: generated policy; B: generated policy"

run p1 probe "$A" --format json
check "probe: status 0" [ "$rc" -eq 0 ]
check "... a>b (rows a2 b1) PASS" [ "$(verdict p1.out 'a>b')" = PASS ]
check "... b>a (rows b2 a1) PASS" [ "$(verdict p1.out 'b>a')" = PASS ]
run c1 check "$A"
check "check: status 0, every flow PASSes" sh -c "[ $rc -eq 0 ] && grep -q 'every flow PASSes' '$TMP/c1.out'"

# ---- a drop on connections the edges already have (no SYN on the wire) ----
run x1 exec "$A" b-fw -- nft insert rule inet edgelab forward tcp dport 5061 drop
run p1b probe "$A" --format json
check "a drop at fw B on the edges' connections already up: a>b BLOCKED at fw B, not fw A" \
	sh -c '[ "$0" = BLOCKED ] && [ "$1" = fw-b ]' "$(verdict p1b.out 'a>b')" "$(at p1b.out 'a>b')"

# ---- rules --site b: row 1 dropped at fw B ----
"$EDGELAB" rules --lab --edge 203.0.113.10 --dns 192.0.2.53 --av-edge 203.0.113.11 --drop 1 >"$TMP/b.nft"
run r1 rules "$A" --site b "$TMP/b.nft"
check "rules --site b: status 0" [ "$rc" -eq 0 ]
run p2 probe "$A" --format json
check "... probe: a>b BLOCKED" [ "$(verdict p2.out 'a>b')" = BLOCKED ]
check "... at fw B" [ "$(at p2.out 'a>b')" = fw-b ]
check "... b>a still PASS" [ "$(verdict p2.out 'b>a')" = PASS ]
check "... status 1" [ "$rc" -eq 1 ]
run list2 list
check "... list names B's file" has list2.out "^$A +ready .*B: .*b.nft \\(nft\\)"
run r2 rules "$A" "$TMP/b.nft"
check "rules without --site on a federation lab: status 2, says so" \
	sh -c "[ $rc -eq 2 ] && grep -q 'site a or --site b' '$TMP/r2.err'"
run p3 probe "$A" --rows 1
check "probe --rows on a federation lab: status 2" [ "$rc" -eq 2 ]

# ---- rules --site b: a correct ruleset of the user's (no counters of ours) ----
"$EDGELAB" rules --lab --edge 203.0.113.10 --dns 192.0.2.53 --av-edge 203.0.113.11 >"$TMP/b-ok.nft"
run r3 rules "$A" --site b "$TMP/b-ok.nft"
run c2 check "$A" --format json
check "your correct ruleset at fw B: check status 0 (every flow PASS)" [ "$rc" -eq 0 ]
check "... fw B's counters are not judged (they are ours only), fw A's are" \
	sh -c "! grep -q \"fw B's counters\" '$TMP/c2.out' && grep -q \"fw A's counters.*PASS\" '$TMP/c2.out'"

# ---- exec ----
run ex1 exec "$A" inet -- nft list table bridge edgelab_wire
check "exec inet -- nft list table bridge edgelab_wire: the wire's counters" \
	sh -c "[ $rc -eq 0 ] && grep -q 'counter a_syn' '$TMP/ex1.out'"
run ex2 exec "$A" b-edge ip -4 -o addr show fw0
check "exec b-edge: edge B's address" has ex2.out "203.0.113.10/24"
run ex3 exec "$A" fw -- true
check "exec fw on a federation lab: status 4, naming its roles" \
	sh -c "[ $rc -eq 4 ] && grep -q 'not inet, a-fw, a-edge, b-fw or b-edge' '$TMP/ex3.err'"

# ---- a name in use ----
run again up --name "$A" --topology federation
check "up of a name in use: status 4, says so" sh -c "[ $rc -eq 4 ] && grep -q 'exists' '$TMP/again.err'"
run again2 up --name "$A-b"
check "up of NAME-b (a federation lab's namespaces): status 4" [ "$rc" -eq 4 ]
run list3 list
check "... the lab is still ready" has list3.out "^$A +ready "

# ---- down ----
t0=$(now_ms)
run d1 down "$A"
echo "# lab down (federation): $(($(now_ms) - t0)) ms"
check "down: status 0" [ "$rc" -eq 0 ]
# shellcheck disable=SC2086
check "... nothing left: namespaces, edges, dnsmasq, directory" gone "$A" $pids

# ---- an up killed -9 half-way (once dnsmasq runs, before the edges are ready) ----
"$EDGELAB" lab up --name "$B" --topology federation >/dev/null 2>&1 &
pb=$!
wait_for 20 sh -c "[ \"\$(awk '\$1 == \"dns_pid\" { print \$2 }' /run/edgelab/labs/$B/state)\" -gt 0 ]"
kill -9 "$pb"
wait "$pb" 2>/dev/null
bpids="$(key "$B" serve_a_pid) $(key "$B" serve_b_pid) $(key "$B" dns_pid)"
[ "$(key "$B" ready)" = 0 ] || echo "# (its up had finished before the kill)"
run list4 list
check "up killed half-way: list says broken" has list4.out "^$B +broken +.* federation "
run d2 down "$B"
check "... down: status 0" [ "$rc" -eq 0 ]
# shellcheck disable=SC2086
check "... nothing left" gone "$B" $bpids

# ---- down --all: only when no lab but ours is up (a user's labs are
# theirs), and with the lock exclusive (no other test's labs coming up).
if ! flock -x -w 300 9; then
	not_ok "the labs' test lock within 300 s (down --all not run)"
	finish
fi
run up3 up --name "$C" --topology federation
cpids="$(key "$C" serve_a_pid) $(key "$C" serve_b_pid) $(key "$C" dns_pid)"
others=$(L list | awk 'NR > 1 && $2 ~ /^(ready|edge|dns|building|broken)$/ { print $1 }' | grep -vx "$C")
if [ "$rc" -ne 0 ]; then
	not_ok "up $C for down --all"
elif [ -n "$others" ]; then
	echo "# SKIP: down --all not run: labs other than this test's are up: $others"
	L down "$C" >/dev/null
else
	run all down --all
	check "down --all: status 0, a federation lab among them" \
		sh -c "[ $rc -eq 0 ] && grep -q 'lab $C is down' '$TMP/all.out'"
	# shellcheck disable=SC2086
	check "... nothing left of it" gone "$C" $cpids
fi
finish
