#!/bin/sh
# Labs that stay up (edgelab lab up/probe/check/exec/rules/list/down): two
# labs at once with different rulesets give different verdicts (no clash);
# state lives under /run/edgelab/labs/NAME; exec runs in the namespace asked
# for with the command's exit status; rules replaces fw's ruleset, and a bad
# one changes nothing; a dead edge is reported by list, probe and check;
# down works on a lab with a namespace gone, on one whose `up` was killed,
# on one left as after a reboot, and with --all; Ctrl-C in `up` leaves
# nothing. Needs root; skips otherwise.
set -u
. "$(dirname "$0")/../lib.sh"
skip_slow "the network-namespace lab"

[ "$(id -u)" -eq 0 ] || skip_all "lab tests need root (network namespaces, nftables)"
for tool in ip nft timeout; do
	command -v "$tool" >/dev/null || { not_ok "$tool is installed"; finish; }
done

# Names of our own: a letter, this shell's PID, a letter (at most 16).
A=t$$a B=t$$b C=t$$c D=t$$d E=t$$e F=t$$f
ours="$A $B $C $D $E $F"
at_exit 'for n in '"$ours"'; do "$EDGELAB" lab down "$n"; done'

. "$(dirname "$0")/labs_lib.sh" # L, run, has
lab_gone() { # NAME: no namespace, no directory, no process of the lab's
	! ip netns list | grep -qE "^edgelab-$1-(outside|fw|edge)( |\$)" &&
		[ ! -e "/run/edgelab/labs/$1" ] &&
		! pgrep -f "/run/edgelab/labs/$1/" >/dev/null
}
serve_pid() { awk '$1 == "serve_pid" { print $2 }' "/run/edgelab/labs/$1/state"; }
# The labs `lab list` shows (its lines that start with a name and a state).
labs_up() { L list | awk '$2 ~ /^(ready|edge|dns|building|broken)$/ { print $1 }'; }

# ---- two labs at once, different rulesets ----
L up --name "$A" >"$TMP/upa.out" 2>&1 &
pa=$!
L up --name "$B" --drop 3 >"$TMP/upb.out" 2>&1 &
pb=$!
wait $pa
rca=$?
wait $pb
rcb=$?
sed 's/^/# /' "$TMP/upa.out" "$TMP/upb.out"
check "two labs come up side by side" [ "$rca$rcb" = 00 ]
check "... up says how to get in" has upa.out "edgelab lab probe $A"
check "... its state is in /run/edgelab/labs/NAME" [ -s "/run/edgelab/labs/$A/state" ]
for role in outside fw edge; do
	check "... namespace edgelab-$A-$role" ip netns exec "edgelab-$A-$role" true
done
run list list
check "list: both labs ready" sh -c "grep -qE '^$A +ready +[0-9]+s +single +generated policy' '$TMP/list.out' &&
	grep -qE '^$B +ready ' '$TMP/list.out'"

run pa probe "$A" --no-strict -t 2
check "probe A (our policy): exit 0, 8 passed" sh -c "[ $rc -eq 0 ] && grep -q '^8 passed' '$TMP/pa.out'"
run pb probe --name "$B" --no-strict -t 1
check "probe B (--drop 3): row 3 BLOCKED, exit 1" \
	sh -c "[ $rc -eq 1 ] && grep -qE '^3 +client -> edge SIP/TLS +BLOCKED' '$TMP/pb.out'"
run pa2 probe "$A" --rows 3 -t 2 --no-strict
check "... and A's row 3 still PASS: the labs do not share a firewall" \
	sh -c "[ $rc -eq 0 ] && grep -qE '^3 .* PASS ' '$TMP/pa2.out'"
run ph probe "$A" --rows 1,3 --no-strict -t 2 --format html
check "probe --format html: one page, with row 1's and row 3's arrows PASS" \
	sh -c "[ $rc -eq 0 ] && grep -q '^<!DOCTYPE html>' '$TMP/ph.out' &&
		grep -q 'id=\"flow-row1\" data-verdict=\"PASS\"' '$TMP/ph.out' &&
		grep -q 'id=\"flow-row3\" data-verdict=\"PASS\"' '$TMP/ph.out'"
run pn probe
check "probe without a name, two labs up: says to name one (status 4)" \
	sh -c "[ $rc -eq 4 ] && grep -q 'name one' '$TMP/pn.err'"
run again up --name "$A"
check "up of a name that is up: status 4, says so" sh -c "[ $rc -eq 4 ] && grep -q 'exists' '$TMP/again.err'"

# ---- exec ----
run ex exec "$A" fw -- nft list ruleset
check "exec fw -- nft list ruleset: fw's ruleset, on its interfaces" \
	has ex.out 'iifname "outside0" oifname "edge0" ip daddr 198.51.100.10 tcp dport 443 accept'
run ex2 exec "$A" edge ip -4 -o addr show fw0
check "exec edge: the edge's access address on fw0" has ex2.out "198.51.100.10/24"
L exec "$A" outside -- sh -c 'exit 7' >/dev/null 2>&1
check "exec: the command's exit status (7)" [ $? -eq 7 ]
run ex3 exec "$A" router -- true
check "exec: an unknown namespace, status 4" sh -c "[ $rc -eq 4 ] && grep -q 'not outside, fw or edge' '$TMP/ex3.err'"

# ---- rules: replace, and a bad ruleset changes nothing ----
"$EDGELAB" rules --lab >"$TMP/good.nft"
run r1 rules "$B" "$TMP/good.nft"
check "rules B good.nft: loaded" [ "$rc" -eq 0 ]
run pb2 probe "$B" --rows 3 --no-strict -t 2
check "... B's row 3 now PASS" sh -c "[ $rc -eq 0 ] && grep -qE '^3 .* PASS ' '$TMP/pb2.out'"
run list2 list
check "... list names the file" grep -qE "^$B +ready .*good.nft \\(nft\\)" "$TMP/list2.out"
sed 's/tcp dport 443 accept/tcp dport 443 acept/' "$TMP/good.nft" >"$TMP/bad.nft"
run r2 rules "$B" "$TMP/bad.nft"
check "rules B bad.nft: status 4, quoting nft with the file and line" \
	sh -c "[ $rc -eq 4 ] && grep -q 'nft says:' '$TMP/r2.err' && grep -qE 'bad.nft:[0-9]+:[0-9-]+: Error' '$TMP/r2.err'"
run pb3 probe "$B" --rows 3 --no-strict -t 2
check "... fw keeps the ruleset it had (row 3 PASS)" sh -c "[ $rc -eq 0 ] && grep -qE '^3 .* PASS ' '$TMP/pb3.out'"
"$EDGELAB" rules --lab --format iptables --drop 1 >"$TMP/v4.rules"
printf '*filter\n:FORWARD DROP [0:0]\n-A FORWARD -p ipv6-icmp -j ACCEPT\nCOMMIT\n' >"$TMP/v6.rules"
run r3 rules "$B" "$TMP/v4.rules" "$TMP/v6.rules"
check "rules B v4.rules v6.rules (iptables-restore, ip6tables-restore): loaded" [ "$rc" -eq 0 ]
run ip6 exec "$B" fw -- ip6tables -S FORWARD
check "... ip6tables has the v6 file's rule" has ip6.out "-A FORWARD -p (ipv6-icmp|icmpv6) -j ACCEPT"
run pb4 probe "$B" --rows 1,3 --no-strict -t 1
check "... and the v4 file is what fw enforces (row 1 dropped there: BLOCKED; row 3 PASS)" \
	sh -c "grep -qE '^1 .* BLOCKED ' '$TMP/pb4.out' && grep -qE '^3 .* PASS ' '$TMP/pb4.out'"
run list3 list
check "... list says which format each file was" grep -q "v4.rules (iptables), .*v6.rules (ip6tables)" "$TMP/list3.out"

# ---- a dead edge ----
kill -9 "$(serve_pid "$A")"
wait_for 5 sh -c "[ \"\$(timeout 20 '$EDGELAB' lab list | awk '\$1 == \"$A\" { print \$2 }')\" = edge ]"
run list4 list
check "the edge killed: list says 'edge down', with where its log is" \
	sh -c "grep -qE '^$A +edge down ' '$TMP/list4.out' && grep -q '/run/edgelab/labs/$A/edge.log' '$TMP/list4.out'"
run pd probe "$A"
check "... probe refuses: status 4, 'edge down'" sh -c "[ $rc -eq 4 ] && grep -q 'edge down' '$TMP/pd.err'"
run cd check "$A"
check "... check too" sh -c "[ $rc -eq 4 ] && grep -q 'edge down' '$TMP/cd.err'"
run da down "$A"
check "... down: status 0" [ "$rc" -eq 0 ]
check "... nothing of it left" lab_gone "$A"

# ---- half-broken: a namespace gone ----
ip netns del "edgelab-$B-fw"
run list5 list
check "fw's namespace deleted: list says broken, and why" \
	sh -c "grep -qE '^$B +broken ' '$TMP/list5.out' && grep -q 'edgelab-$B-fw is gone' '$TMP/list5.out'"
run db down "$B"
check "... down: status 0" [ "$rc" -eq 0 ]
check "... nothing left (its edge stopped)" lab_gone "$B"
run db2 down "$B"
check "... down again: status 4, no such lab" sh -c "[ $rc -eq 4 ] && grep -q 'no lab called' '$TMP/db2.err'"

# ---- a killed up (kill -9 on edgelab itself, no timeout in between) ----
"$EDGELAB" lab up --name "$C" >/dev/null 2>&1 &
pc=$!
wait_for 10 test -s "/run/edgelab/labs/$C/state"
kill -9 $pc
wait $pc 2>/dev/null
run list5b list
check "up killed half-way: list says broken, and what to do" \
	sh -c "grep -qE '^$C +broken ' '$TMP/list5b.out' && grep -q 'did not finish: .edgelab lab down $C.' '$TMP/list5b.out'"
run dc down "$C"
check "... down: status 0" [ "$rc" -eq 0 ]
check "... nothing left (no namespace, no edge)" lab_gone "$C"

# ---- as after a reboot with a /run that kept its files ----
run upd up --name "$D"
kill -9 "$(serve_pid "$D")"
for role in outside fw edge; do ip netns del "edgelab-$D-$role"; done
run list6 list
check "namespaces and edge gone, state left: list says broken" grep -qE "^$D +broken " "$TMP/list6.out"
run dd down "$D"
check "... down: status 0" [ "$rc" -eq 0 ]
check "... nothing left" lab_gone "$D"

# ---- Ctrl-C in up: SIGINT to its process group, as a terminal sends it ----
setsid "$EDGELAB" lab up --name "$E" >"$TMP/int.out" 2>"$TMP/int.err" &
pe=$!
wait_for 10 test -s "/run/edgelab/labs/$E/state"
kill -s INT -- "-$pe"
i=0
while kill -0 "$pe" 2>/dev/null && [ $i -lt 150 ]; do sleep 0.1; i=$((i + 1)); done
wait "$pe"
rc=$?
sed 's/^/# /' "$TMP/int.err"
check "Ctrl-C in up: status 4" [ "$rc" -eq 4 ]
check "... nothing left" lab_gone "$E"

# ---- down --all: only when no lab but ours is up (a user's labs are theirs).
# tests/lab/test_scenarios.sh holds this lock shared while its labs are up.
exec 9>/run/edgelab-test-labs.lock
if ! flock -x -w 300 9; then
	not_ok "the labs' test lock within 300 s (down --all not run)"
	finish
fi
L up "$E" >/dev/null 2>&1 && L up --name "$F" >/dev/null 2>&1
others=$(labs_up | grep -vE "^($E|$F)\$")
if [ -n "$others" ]; then
	echo "# SKIP: down --all not run: labs other than this test's are up: $others"
	L down "$E" >/dev/null
	L down "$F" >/dev/null
else
	run all down --all
	check "down --all: status 0" [ "$rc" -eq 0 ]
	check "... both labs are down" lab_gone "$E"
	check "... both labs are down" lab_gone "$F"
	run list7 list
	check "... list: no labs are up" has list7.out "^no labs are up"
fi

finish
