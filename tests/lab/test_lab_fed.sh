#!/bin/sh
# edgelab lab --topology federation: two edges, each behind its own
# firewall, finding each other through a real DNS server (dnsmasq) on the
# internet segment between them. The whole lab PASSes; each broken rule,
# record or certificate gives the right verdict at the right hop; nothing
# is left behind, also on Ctrl-C. Needs root; skips otherwise.
set -u
. "$(dirname "$0")/../lib.sh"
skip_slow "the federation lab"

[ "$(id -u)" -eq 0 ] || skip_all "lab tests need root (network namespaces, nftables)"
for tool in ip nft dnsmasq; do
	command -v "$tool" >/dev/null || { not_ok "$tool is installed"; finish; }
done

# This lab's namespaces whose process is gone (other labs may run meanwhile).
leftovers() { lab_leftovers 'inet|a-fw|a-edge|b-fw|b-edge'; }
at_exit '"$EDGELAB" lab --cleanup >/dev/null'
check "no federation lab is left over from before" [ -z "$(leftovers)" ]

# fed ARGS...: runs the federation lab with a JSON report; sets rc and out.
fed() {
	timeout 90 "$EDGELAB" lab --topology federation --format json "$@" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	out=$(cat "$TMP/out")
	sed 's/^/# /' "$TMP/out" "$TMP/err"
}
# result SITE [FLOW]: the JSON line of the first flow at that site ("a>b")
# whose name starts with FLOW (default: the federation hop, "edge ").
result() { echo "$out" | grep "\"site\": \"$1\".*\"flow\": \"${2:-edge }" | head -n 1; }
im() { echo "$out" | grep "\"site\": \"$1\".*\"flow\": \"IM " | head -n 1; }
av() { echo "$out" | grep "\"site\": \"$1\".*\"flow\": \"A/V client" | head -n 1; }
# The TCP variant's: the media, edge S's relay, fw S's counters.
avt() { echo "$out" | grep "\"site\": \"$1\".*\"flow\": \"A/V over TCP " | head -n 1; }
relay_tcp() { echo "$out" | grep "\"flow\": \"edge $1 relay -> edge . A/V TCP 443" | head -n 1; }
fw_counts_tcp() { echo "$out" | grep "\"flow\": \"fw $1's counters during the A/V over TCP" | head -n 1; }
av_verdict() { av "$1" | sed 's/.*"verdict": "\([A-Z]*\)".*/\1/'; }
# fw_counts SITE: fw's counters during the A/V ("new flows: row 5 1, ...").
fw_counts() { echo "$out" | grep "\"flow\": \"fw $1's counters" | head -n 1; }
im_verdict() { im "$1" | sed 's/.*"verdict": "\([A-Z]*\)".*/\1/'; }
im_at() { im "$1" | sed 's/.*"at": "\([a-z-]*\)".*/\1/'; }
verdict() { result "$1" | sed 's/.*"verdict": "\([A-Z]*\)".*/\1/'; }
at() { result "$1" | sed 's/.*"at": "\([a-z-]*\)".*/\1/'; }
says() { result "$1" | grep -q "$2"; }

fed
check "the whole federation: exit status 0" [ "$rc" -eq 0 ]
check "... a>b (rows a2 b1) PASS" [ "$(verdict 'a>b')" = PASS ]
check "... b>a (rows b2 a1) PASS" [ "$(verdict 'b>a')" = PASS ]
check "... edge A found b.example by DNS at edge B's address and port 5061" \
	says 'a>b' 'found b.example by DNS at 203.0.113.10:5061'
check "... the OPTIONS crossed both firewalls and were answered 200" says 'a>b' 'answered 200 OK'
check "... alice registered at edge A from the internet (row 3 of A)" \
	sh -c 'echo "$0" | grep -q "\"site\": \"a\", \"rows\": \"a3\".*\"verdict\": \"PASS\""' "$out"
check "... IM alice -> bob delivered, 200 back" [ "$(im_verdict 'a>b')" = PASS ]
check "... IM bob -> alice delivered, 200 back" [ "$(im_verdict 'b>a')" = PASS ]
check "... the IM crossed rows a3 a2 b1 b3" sh -c 'echo "$0" | grep -q "\"rows\": \"a3 a2 b1 b3\""' "$(im 'a>b')"
check "... A/V client A -> client B: 500 RTP packets intact" \
	sh -c 'echo "$0" | grep -q "\"verdict\": \"PASS\", \"detail\": \"500 RTP packets of 500 intact"' "$(av 'a>b')"
check "... A/V client B -> client A: 500 RTP packets intact" \
	sh -c 'echo "$0" | grep -q "\"verdict\": \"PASS\", \"detail\": \"500 RTP packets of 500 intact"' "$(av 'b>a')"
check "... edge B saw the inner allocation come from a relay port of edge A" \
	sh -c 'echo "$0" | grep -q "edge A relay -> edge B.*come from 198.51.100.10:5[0-9][0-9][0-9][0-9] (a relay port"' "$out"
check "... fw A counted the A/V on rows 5 and 6 only: one new flow out, two in, nothing dropped" \
	sh -c 'echo "$0" | grep -q "PASS.*new flows: row 5 1, row 6 2, rows 1-4 0; replies and later packets [0-9]*; dropped by the policy 0"' "$(fw_counts A)"
check "... and fw B the same" \
	sh -c 'echo "$0" | grep -q "PASS.*new flows: row 5 1, row 6 2, rows 1-4 0; replies and later packets [0-9]*; dropped by the policy 0"' "$(fw_counts B)"
check "... the 2000 RTP packets crossing each fw are replies of those flows" \
	sh -c '[ "$(echo "$0" | sed "s/.*later packets \([0-9]*\);.*/\1/")" -ge 2000 ]' "$(fw_counts A)"
check "... A/V over TCP client A -> client B: 500 RTP packets intact" \
	sh -c 'echo "$0" | grep -q "\"verdict\": \"PASS\", \"detail\": \"500 RTP packets of 500 intact"' "$(avt 'a>b')"
check "... A/V over TCP client B -> client A: 500 RTP packets intact" \
	sh -c 'echo "$0" | grep -q "\"verdict\": \"PASS\", \"detail\": \"500 RTP packets of 500 intact"' "$(avt 'b>a')"
check "... edge B's A/V TCP 443 saw edge A's relay connect from a relay port (row 4 of A)" \
	sh -c 'echo "$0" | grep -q "\"rows\": \"a4\".*PASS.*come from 198.51.100.10:5[0-9][0-9][0-9][0-9] (a relay port"' "$(relay_tcp A)"
check "... and edge A's saw edge B's relay (row 4 of B)" \
	sh -c 'echo "$0" | grep -q "\"rows\": \"b4\".*PASS.*come from 203.0.113.10:5[0-9][0-9][0-9][0-9] (a relay port"' "$(relay_tcp B)"
check "... fw A counted the TCP A/V on row 4 and the A/V edge rule only: one out, two in, nothing dropped" \
	sh -c 'echo "$0" | grep -q "PASS.*new flows: row 4 1, A/V edge TCP 443 2, other rows 0; replies and later packets [0-9]*; dropped by the policy 0"' "$(fw_counts_tcp A)"
check "... and fw B the same" \
	sh -c 'echo "$0" | grep -q "PASS.*new flows: row 4 1, A/V edge TCP 443 2, other rows 0; replies and later packets [0-9]*; dropped by the policy 0"' "$(fw_counts_tcp B)"
check "... the report carries each flow's site and rows" \
	sh -c 'echo "$0" | grep -q "\"site\": \"a>b\", \"rows\": \"a2 b1\""' "$out"
check "... nothing left behind" [ -z "$(leftovers)" ]

fed --drop-b 1
check "row 1 dropped at fw B: a>b BLOCKED" [ "$(verdict 'a>b')" = BLOCKED ]
check "... at fw B" [ "$(at 'a>b')" = fw-b ]
check "... the SYN crossed the internet, nothing came back" says 'a>b' 'crossed the internet, but nothing came back'
check "... b>a still PASS" [ "$(verdict 'b>a')" = PASS ]
check "... IM alice -> bob BLOCKED at fw B too" \
	sh -c '[ "$0" = BLOCKED ] && [ "$1" = fw-b ]' "$(im_verdict 'a>b')" "$(im_at 'a>b')"
check "... IM bob -> alice still PASS" [ "$(im_verdict 'b>a')" = PASS ]
check "... exit status 1" [ "$rc" -eq 1 ]

timeout 90 "$EDGELAB" lab --topology federation --drop-b 1 --format html >"$TMP/fed.html" 2>/dev/null
check "--format html: the federation's picture" grep -q '<svg class="diagram federation"' "$TMP/fed.html"
check "... the a>b arrow BLOCKED, with a cross on fw B" \
	sh -c 'grep -q "id=\"flow-fed1\" data-verdict=\"BLOCKED\" data-site=\"a&gt;b\" data-at=\"fw-b\"" "$0" &&
		grep -q "<g class=\"break\" id=\"break-fed1\" data-at=\"fw-b\">" "$0"' "$TMP/fed.html"

fed --reject-a 2
check "row 2 rejected at fw A: a>b REJECTED" [ "$(verdict 'a>b')" = REJECTED ]
check "... at fw A: it never reached the internet" \
	sh -c '[ "$0" = fw-a ] && echo "$1" | grep -q "never reached the internet"' "$(at 'a>b')" "$(result 'a>b')"
check "... b>a still PASS" [ "$(verdict 'b>a')" = PASS ]
check "... IM alice -> bob REJECTED at fw A, after edge A's 503" \
	sh -c '[ "$0" = REJECTED ] && [ "$1" = fw-a ] && echo "$2" | grep -q "503"' \
	"$(im_verdict 'a>b')" "$(im_at 'a>b')" "$(im 'a>b')"

fed --fault no-srv-b
check "b.example's SRV record removed: a>b FAILED at the DNS, NXDOMAIN" \
	sh -c '[ "$0" = FAILED ] && [ "$1" = dns ] && echo "$2" | grep -q "nxdomain: SRV _sipfederationtls._tcp.b.example"' \
	"$(verdict 'a>b')" "$(at 'a>b')" "$(result 'a>b')"
check "... so is IM alice -> bob, after edge A's 503 (partner not found in DNS)" \
	sh -c '[ "$0" = FAILED ] && [ "$1" = dns ] && echo "$2" | grep -q "partner not found in DNS"' \
	"$(im_verdict 'a>b')" "$(im_at 'a>b')" "$(im 'a>b')"
check "... b>a still PASS" [ "$(verdict 'b>a')" = PASS ]

fed --drop-a 5
check "row 5 dropped at fw A: edge A's relay to edge B BLOCKED at fw A" \
	sh -c 'echo "$0" | grep -q "\"site\": \"a>b\", \"rows\": \"a5 b6\", \"at\": \"fw-a\".*\"verdict\": \"BLOCKED\".*never reached the internet"' "$out"
check "... the A/V end to end BLOCKED, at fw A" \
	sh -c '[ "$0" = BLOCKED ] && echo "$1" | grep -q "\"at\": \"fw-a\""' "$(av_verdict 'a>b')" "$(av 'a>b')"
check "... fw A's counters: row 5 took nothing, the policy dropped the relay's datagrams" \
	sh -c 'echo "$0" | grep -q "FAILED.*new flows: row 5 0, .*dropped by the policy [1-9]"' "$(fw_counts A)"
check "... fw B dropped nothing" sh -c 'echo "$0" | grep -q "PASS.*dropped by the policy 0"' "$(fw_counts B)"
check "... IM still works both ways" \
	sh -c '[ "$0" = PASS ] && [ "$1" = PASS ]' "$(im_verdict 'a>b')" "$(im_verdict 'b>a')"
check "... edge B's relay to edge A still PASS (its inner allocation on edge A answered)" \
	sh -c 'echo "$0" | grep -q "\"site\": \"b>a\", \"rows\": \"b5 a6\", \"at\": \"\".*\"verdict\": \"PASS\""' "$out"

fed --drop-a 4
check "row 4 dropped at fw A: edge A's relay to edge B's A/V TCP 443 BLOCKED at fw A" \
	sh -c 'echo "$0" | grep -q "\"rows\": \"a4\", \"at\": \"fw-a\".*\"verdict\": \"BLOCKED\".*never reached the internet"' "$(relay_tcp A)"
check "... the A/V over TCP end to end BLOCKED, at fw A" \
	sh -c 'echo "$0" | grep -q "\"at\": \"fw-a\".*\"verdict\": \"BLOCKED\""' "$(avt 'a>b')"
check "... fw A's counters: row 4 took nothing, the policy dropped the relay's SYNs" \
	sh -c 'echo "$0" | grep -q "FAILED.*new flows: row 4 0, .*dropped by the policy [1-9]"' "$(fw_counts_tcp A)"
check "... the A/V over UDP still PASS both ways, and IM" \
	sh -c '[ "$0" = PASS ] && [ "$1" = PASS ] && [ "$2" = PASS ]' "$(av_verdict 'a>b')" "$(av_verdict 'b>a')" "$(im_verdict 'a>b')"

fed --reject-a 4
check "row 4 rejected at fw A: edge A's relay to edge B's A/V TCP 443 REJECTED at fw A" \
	sh -c 'echo "$0" | grep -q "\"rows\": \"a4\", \"at\": \"fw-a\".*\"verdict\": \"REJECTED\".*never reached the internet"' "$(relay_tcp A)"
check "... the A/V over UDP still PASS" [ "$(av_verdict 'a>b')" = PASS ]

fed --drop-b 5
check "row 5 dropped at fw B: edge B's relay to edge A BLOCKED at fw B" \
	sh -c 'echo "$0" | grep -q "\"site\": \"b>a\", \"rows\": \"b5 a6\", \"at\": \"fw-b\".*\"verdict\": \"BLOCKED\""' "$out"
check "... edge A's relay to edge B PASS" \
	sh -c 'echo "$0" | grep -q "\"site\": \"a>b\", \"rows\": \"a5 b6\", \"at\": \"\".*\"verdict\": \"PASS\""' "$out"
check "... fw A's counters PASS, fw B's FAILED (it dropped the relay's datagrams)" \
	sh -c 'echo "$0" | grep -q "PASS" && echo "$1" | grep -q "FAILED.*dropped by the policy [1-9]"' "$(fw_counts A)" "$(fw_counts B)"

fed --drop-a 3
check "row 3 dropped at fw A: alice's REGISTER BLOCKED at fw A" \
	sh -c 'echo "$0" | grep -q "\"site\": \"a\", \"rows\": \"a3\", \"at\": \"fw-a\".*\"verdict\": \"BLOCKED\""' "$out"
check "... so IM alice -> bob is BLOCKED at fw A" \
	sh -c '[ "$0" = BLOCKED ] && [ "$1" = fw-a ]' "$(im_verdict 'a>b')" "$(im_at 'a>b')"
check "... the federation hops still PASS" \
	sh -c '[ "$0" = PASS ] && [ "$1" = PASS ]' "$(verdict 'a>b')" "$(verdict 'b>a')"

fed --fault cert-name-b
check "B's certificate for the wrong name: a>b FAILED at edge B" \
	sh -c '[ "$0" = FAILED ] && [ "$1" = edge-b ]' "$(verdict 'a>b')" "$(at 'a>b')"
check "... its certificate names b-corp.example, not the SRV target" \
	says 'a>b' "certificate names sip.b-corp.example, b-corp.example; expected sip.b.example (the SRV target)"
check "... and b>a fails too (A refuses B's certificate)" [ "$(verdict 'b>a')" != PASS ]

fed --fault dns-silent
check "the DNS server silent: both hops FAILED at the DNS, timed out" \
	sh -c '[ "$0" = FAILED ] && [ "$1" = dns ] && echo "$2" | grep -q "timeout: SRV" && [ "$3" = dns ]' \
	"$(verdict 'a>b')" "$(at 'a>b')" "$(result 'a>b')" "$(at 'b>a')"

fed --fault srv-port-b
check "b.example's SRV record on port 5062: a>b BLOCKED, naming the port" \
	sh -c '[ "$0" = BLOCKED ] && echo "$1" | grep -q "sends it to port 5062, not 5061"' \
	"$(verdict 'a>b')" "$(result 'a>b')"

# Your own ruleset for one site: our policy without the DNS rule.
"$EDGELAB" rules --lab --edge 198.51.100.10 >"$TMP/a.nft"
fed --rules-a "$TMP/a.nft"
check "--rules-a without a DNS rule: edge A cannot find b.example" [ "$(verdict 'a>b')" != PASS ]
check "... BLOCKED at fw A: its queries never reached the DNS server" \
	sh -c '[ "$0" = BLOCKED ] && [ "$1" = fw-a ] && echo "$2" | grep -q "never reached the DNS server"' \
	"$(verdict 'a>b')" "$(at 'a>b')" "$(result 'a>b')"
check "... b>a still PASS (fw B has our policy)" [ "$(verdict 'b>a')" = PASS ]

# Usage: the federation's options need it, the single lab's are refused.
"$EDGELAB" lab --drop-a 1 >/dev/null 2>"$TMP/err"
check "--drop-a without --topology federation: usage error (2)" [ $? -eq 2 ]
"$EDGELAB" lab --topology federation --drop 1 >/dev/null 2>"$TMP/err"
check "--topology federation with --drop: usage error (2)" [ $? -eq 2 ]
"$EDGELAB" lab --topology federation --fault nope >/dev/null 2>"$TMP/err"
check "--fault nope: usage error naming the faults" grep -q "dns-silent" "$TMP/err"

# Ctrl-C while it runs: torn down, nothing left.
"$EDGELAB" lab --topology federation --drop-a 2 --drop-a 6 >/dev/null 2>&1 &
pid=$!
sleep 3 # into the flows (the lab is up in about 1.5 s); they would take 10 s more
kill -INT "$pid"
wait_pid_bounded() { n=0; while kill -0 "$1" 2>/dev/null && [ $n -lt 300 ]; do sleep 0.1; n=$((n + 1)); done; }
wait_pid_bounded "$pid"
check "interrupted: it ended" sh -c '! kill -0 "$0" 2>/dev/null' "$pid"
wait "$pid"
check "... with status 4 (interrupted), not a report" [ $? -eq 4 ]
check "... nothing left behind" [ -z "$(leftovers)" ]
finish
