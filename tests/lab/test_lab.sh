#!/bin/sh
# edgelab lab: the whole network in namespaces, with the real nftables policy.
# Every row is PASS with the full policy and BLOCKED with its own rule
# dropped (the others still PASS), rows 5 and 6 (STUN on UDP 3478) in each
# dialect, RFC 5389 and MS-TURN; row 6 REJECTED with a reject rule in its
# place; no namespace or process is ever left behind, also on Ctrl-C and on
# failure. Needs root; skips otherwise.
set -u
. "$(dirname "$0")/../lib.sh"
skip_slow "the network-namespace lab"

[ "$(id -u)" -eq 0 ] || skip_all "lab tests need root (network namespaces, nftables)"
for tool in ip nft; do
	command -v "$tool" >/dev/null || { not_ok "$tool is installed"; finish; }
done

# A lab's namespaces whose process is gone: another test's lab running at
# the same time (make -j) is not ours to judge or remove.
leftovers() { lab_leftovers 'outside|fw|edge'; }
at_exit '"$EDGELAB" lab --cleanup >/dev/null'
check "no lab is left over from before" [ -z "$(leftovers)" ]

# lab ARGS...: runs the lab with a JSON report; sets rc and out.
lab() {
	timeout 60 "$EDGELAB" lab --format json "$@" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	out=$(cat "$TMP/out")
	sed 's/^/# /' "$TMP/out" "$TMP/err"
}
field_of() { # ROW FIELD: that field of the row's results in $out, in order, space-separated
	echo "$out" | grep "\"row\": $1," | sed "s/.*\"$2\": \"\([A-Za-z0-9-]*\)\".*/\1/" | tr '\n' ' ' | sed 's/ $//'
}
verdict_of() { field_of "$1" verdict; }
# want ROW VERDICT: what verdict_of gives when every result of the row has
# that verdict: rows 5 and 6 report once per dialect (the probe's default).
want() { case $1 in 5 | 6) echo "$2 $2" ;; *) echo "$2" ;; esac; }

lab --rows 6 -t 2
check "full policy: row 6 PASS in both dialects" [ "$(verdict_of 6)" = "PASS PASS" ]
check "... RFC 5389, then MS-TURN" [ "$(field_of 6 dialect)" = "rfc5389 msturn" ]
check "... exit status 0" [ "$rc" -eq 0 ]
check "... the probe's own address was mapped, in each dialect" \
	[ "$(echo "$out" | grep -c '"row": 6,.*mapped 192.0.2.10:[0-9]*, our own address')" -eq 2 ]
check "... in MS-TURN by the MS XOR-MAPPED-ADDRESS" \
	sh -c 'echo "$0" | grep -q "\"dialect\": \"msturn\".*our own address; MS-TURN XOR-MAPPED-ADDRESS (0x8020)"' "$out"
check "... nothing left behind" [ -z "$(leftovers)" ]

lab --drop 6 --rows 6 -t 1
check "--drop 6: row 6 BLOCKED in both dialects" [ "$(verdict_of 6)" = "BLOCKED BLOCKED" ]
check "... exit status 1" [ "$rc" -eq 1 ]
check "... nothing left behind" [ -z "$(leftovers)" ]

lab --reject 6 --rows 6 -t 2
check "--reject 6: row 6 REJECTED in both dialects" [ "$(verdict_of 6)" = "REJECTED REJECTED" ]
check "... by ICMP port unreachable" sh -c 'echo "$0" | grep -q "ICMP port unreachable"' "$out"
check "... exit status 1" [ "$rc" -eq 1 ]
check "... nothing left behind" [ -z "$(leftovers)" ]

lab -t 2
# "row 5 (rfc5389 msturn)" in a check's name; "row 1" for a row with one result.
row_name() { d=$(field_of "$1" dialect) && echo "row $1${d:+ ($d)}"; }
for row in 1 2 3 4 5 6; do
	check "all rows (the README's main job): $(row_name $row) PASS" \
		[ "$(verdict_of $row)" = "$(want $row PASS)" ]
done
check "... row 2 came from the edge's address with its certificate" \
	sh -c 'echo "$0" | grep -q "the edge connected from 198.51.100.10:[0-9]* with certificate sip.edge.example; OPTIONS answered 200"' "$out"
check "... exit status 0 (every row passing)" [ "$rc" -eq 0 ]
# Rows 4 and 5: from the edge's address, from a source port in 50000-59999.
src_port_of() { # ROW [DIALECT]: the edge's source port the probe saw
	echo "$out" | grep "\"row\": $1,${2:+.*\"dialect\": \"$2\"}" |
		sed -n 's/.*from 198\.51\.100\.10:\([0-9]*\).*/\1/p'
}
for flow in 4: 5:rfc5389 5:msturn; do # ROW:DIALECT
	d=${flow#*:}
	p=$(src_port_of "${flow%%:*}" "$d")
	check "... row ${flow%%:*}${d:+ ($d)} came from the edge's relay port range (port $p)" \
		sh -c '[ -n "$0" ] && [ "$0" -ge 50000 ] && [ "$0" -le 59999 ]' "$p"
done
check "... row 4 carried RTP framed per RFC 4571 with the probe's marker" \
	sh -c 'echo "$0" | grep -q "\"row\": 4,.*RTP packets framed per RFC 4571, SSRC [0-9a-f]*, with our marker"' "$out"
check "... row 5 a STUN Binding request with the probe's marker" \
	sh -c 'echo "$0" | grep -q "\"row\": 5,.*\"rfc5389\".*RFC 5389 Binding request from 198.51.100.10:[0-9]* (relay port range 50000-59999) with our marker; answered"' "$out"
check "... and an MS-TURN one, the marker in USERNAME" \
	sh -c 'echo "$0" | grep -q "\"row\": 5,.*\"msturn\".*MS-TURN Binding request from 198.51.100.10:[0-9]* (relay port range 50000-59999) with our marker; answered"' "$out"
check "... row 1 as the partner, the edge's certificate verified" \
	sh -c 'echo "$0" | grep -q "200 to OPTIONS over MTLS; edge certificate sip.edge.example verified; we were partner.example"' "$out"

# Each row's own rule: dropped, that row is BLOCKED and the others pass.
for row in 1 2 3 4 5; do
	lab --drop $row -t 1
	check "--drop $row: $(row_name $row) BLOCKED" \
		[ "$(verdict_of $row)" = "$(want $row BLOCKED)" ]
	for other in 1 2 3 4 5 6; do
		[ "$other" = "$row" ] && continue
		check "... row $other still PASS" [ "$(verdict_of $other)" = "$(want $other PASS)" ]
	done
	check "... nothing left behind" [ -z "$(leftovers)" ]
done
lab --reject 1,3 --rows 1,3 -t 2
check "--reject 1,3: row 1 REJECTED by a TCP RST" sh -c 'echo "$0" | grep -q "\"row\": 1,.*REJECTED.*TCP RST"' "$out"
check "... row 3 REJECTED" [ "$(verdict_of 3)" = REJECTED ]
# Outbound rows rejected: the RST or ICMP goes to the edge, which tells the
# probe through the control API; dropped, the edge saw nothing come back.
lab --reject 2,4,5 --rows 2,4,5 -t 1 --no-strict
check "--reject 2,4,5: row 2 REJECTED" [ "$(verdict_of 2)" = REJECTED ]
check "... the edge's SYN to the partner answered with RST" \
	sh -c 'echo "$0" | grep -q "\"row\": 2,.*SYN to 192.0.2.10:5061 was answered with RST"' "$out"
check "... row 4 REJECTED, by RST too" \
	sh -c 'echo "$0" | grep -q "\"row\": 4,.*REJECTED.*SYN to 192.0.2.10:443 was answered with RST"' "$out"
check "... row 5 REJECTED in both dialects" [ "$(verdict_of 5)" = "REJECTED REJECTED" ]
check "... by the firewall's ICMP port unreachable" \
	[ "$(echo "$out" | grep -c '"row": 5,.*ICMP port unreachable (type 3 code 3) from 198.51.100.1')" -eq 2 ]
lab --drop 2,4,5 --rows 2,4,5 -t 1 --no-strict
for row in 2 4 5; do
	check "--drop 2,4,5: $(row_name $row) BLOCKED" [ "$(verdict_of $row)" = "$(want $row BLOCKED)" ]
done
check "... the edge saw nothing come back" \
	[ "$(echo "$out" | grep -c '"verdict": "BLOCKED".*the edge saw')" -eq 4 ]

# The probe shares nothing with the edge but the network: its own
# directory, the edge's hidden from it, the control API over HTTPS only.
lab -t 2 -v
check "strict (the lab's default), full policy: every row PASS" \
	[ "$(echo "$out" | grep -c '"verdict": "PASS"')" -eq 8 ]
check "... every negative flow CLOSED (10)" \
	[ "$(echo "$out" | grep -c '"verdict": "CLOSED"')" -eq 10 ]
check "... exit status 0" [ "$rc" -eq 0 ]
check "... the probe was given only --control https://203.0.113.1:8443" \
	sh -c 'grep "^lab: in edgelab-.*-outside" "$0" | grep -q -- "--control https://203.0.113.1:8443" &&
		! grep "^lab: in edgelab-.*-outside" "$0" | grep -q "control.sock"' "$TMP/err"
check "... with the edge's directory hidden from it" \
	grep -q "^lab: in edgelab-.*-outside, with /tmp/edgelab-lab-.*/edge hidden" "$TMP/err"

# A forward chain that accepts everything: the rows pass, and every
# negative flow is EXPOSED, which fails the run.
printf 'table inet open {\n\tchain forward { type filter hook forward priority 0; policy accept; }\n}\n' \
	>"$TMP/open.nft"
lab -t 2 --rules "$TMP/open.nft"
check "--rules accept-everything: every row PASS" \
	[ "$(echo "$out" | grep -c '"verdict": "PASS"')" -eq 8 ]
check "... every negative flow EXPOSED (10)" \
	[ "$(echo "$out" | grep -c '"verdict": "EXPOSED"')" -eq 10 ]
check "... exit status 1" [ "$rc" -eq 1 ]
check "... nothing left behind" [ -z "$(leftovers)" ]

# Ctrl-C while the probe waits: SIGINT to the lab's process group, as a
# terminal sends it.
setsid "$EDGELAB" lab --drop 6 --rows 6 -t 30 >"$TMP/int.out" 2>"$TMP/int.err" &
LAB=$!
check "the interrupted lab comes up" wait_for 10 sh -c "ip netns list | grep -q '^edgelab-$LAB-edge'"
sleep 0.5
kill -s INT -- "-$LAB"
i=0
while kill -0 "$LAB" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
wait "$LAB"
rc=$?
sed 's/^/# /' "$TMP/int.err"
check "Ctrl-C: the lab stops with status 4 within 10 s" [ "$rc" -eq 4 ]
check "... and says it was interrupted" grep -q "interrupted" "$TMP/int.err"
check "... nothing left behind" [ -z "$(leftovers)" ]

# A failure half-way (no nft on PATH): a clear error, and the teardown.
mkdir -p "$TMP/bin"
for tool in ip sysctl; do ln -s "$(command -v $tool)" "$TMP/bin/$tool"; done
PATH="$TMP/bin" "$EDGELAB" lab -t 1 >"$TMP/fail.out" 2>"$TMP/fail.err"
rc=$?
sed 's/^/# /' "$TMP/fail.err"
check "a missing tool stops the lab with status 4" [ "$rc" -eq 4 ]
check "... naming the command that failed" grep -q "nft -c -f .* in edgelab-[0-9]*-fw: not found" "$TMP/fail.err"
check "... nothing left behind" [ -z "$(leftovers)" ]

# A lab killed with SIGKILL leaves namespaces; --cleanup removes them.
ip netns add edgelab-4194303-fw
"$EDGELAB" lab --cleanup >"$TMP/clean.out"
check "--cleanup removes namespaces of labs that are gone" [ -z "$(leftovers)" ]
finish
