#!/bin/sh
# Rows 4 and 5 on loopback: serve's POST /rows/4 and /rows/5, and the probe
# as the client checking source address, source port range and marker; row
# 5 in both STUN dialects (RFC 5389: marker in SOFTWARE; MS-TURN: in USERNAME).
# As root the test runs in a network namespace of its own (unshare -n): the
# relay ports 50000-59999 are then the edge's alone (a relay or benchmark on
# the host may hold them), and nftables there drops the edge's flows
# (BLOCKED) or rewrites their source port out of the range (FAILED).
# Without root, those parts are skipped.
set -u
if [ "$(id -u)" -eq 0 ] && [ -z "${ROWS_MEDIA_NETNS:-}" ] && command -v unshare >/dev/null; then
	ROWS_MEDIA_NETNS=1 exec unshare -n sh -c 'ip link set lo up && exec sh "$0"' "$0"
fi
. "$(dirname "$0")/../lib.sh"

P=$(free_port)
TCPP=$(free_port)
UDPP=$(free_port)
CTL=$TMP/control.sock
LOG=$TMP/serve.log
cat >"$TMP/edge.conf" <<CONF
stun_udp_listen 127.0.0.1:$P
stun_tcp_listen 127.0.0.1:$P
control_socket $CTL
workers 1
CONF
serve_start "$TMP/edge.conf" "$LOG" || { not_ok "serve starts"; finish; }

# probe ROWS [ARGS...]: the JSON report in $TMP/probe.json, the status in rc.
probe() {
	rows=$1
	shift
	"$EDGELAB" probe --edge 127.0.0.1 --rows "$rows" --client-tcp-port "$TCPP" \
		--client-udp-port "$UDPP" -t 2 --format json "$@" >"$TMP/probe.json" 2>&1
	rc=$?
	sed 's/^/# /' "$TMP/probe.json"
}
# A row's result lines; "5 msturn" narrows row 5 to one dialect.
result() { grep "\"row\": $1,${2:+.*\"dialect\": \"$2\"}" "$TMP/probe.json"; }
row_is() { result "$1" | grep -q "\"verdict\": \"$2\""; }
detail_has() { result "$1" | grep -q "$2"; }
# row5_is DIALECT VERDICT [DETAIL-PATTERN]: row 5's result in that dialect.
row5_is() { result 5 "$1" | grep -q "\"verdict\": \"$2\", \"detail\": \"${3:-}"; }
# src_port ROW [DIALECT]: the source port the probe saw ("from 127.0.0.1:PORT").
src_port() { result "$1" "${2:-}" | sed -n 's/.*from 127\.0\.0\.1:\([0-9]*\).*/\1/p'; }
in_range() { [ -n "$1" ] && [ "$1" -ge 50000 ] && [ "$1" -le 59999 ]; }
post() { # PATH: the HTTP status of a POST on the control socket
	curl -s -o "$TMP/body" -w "%{http_code}" --max-time 5 -X POST --unix-socket "$CTL" "http://e$1"
}

# --- the rows pass ---------------------------------------------------------
probe 4,5 --control "$CTL"
check "row 4: RTP/TCP from the edge with our marker, PASS" row_is 4 PASS
check "row 5 in RFC 5389: a Binding request from the edge with our marker, PASS" \
	row5_is rfc5389 PASS "RFC 5389 Binding request from"
check "row 5 in MS-TURN (default: both dialects): PASS" \
	row5_is msturn PASS "MS-TURN Binding request from"
check "... one result per dialect, RFC 5389 first" \
	[ "$(result 5 | sed -n 's/.*"dialect": "\([a-z0-9]*\)".*/\1/p' | tr '\n' ' ')" = "rfc5389 msturn " ]
check "... exit status 0" [ "$rc" -eq 0 ]
p4=$(src_port 4)
p5=$(src_port 5 rfc5389)
p5ms=$(src_port 5 msturn)
check "row 4 came from the relay range 50000-59999 (port $p4)" in_range "$p4"
check "row 5 came from the relay range 50000-59999 (port $p5)" in_range "$p5"
check "... in MS-TURN too (port $p5ms)" in_range "$p5ms"
check "row 4: RFC 4571 framing, 3 RTP packets" detail_has 4 "3 RTP packets framed per RFC 4571"
check "the edge logs row 4's end: sent, and the client closed first" \
	wait_for 3 grep -q "row 4: RTP/TCP from port $p4 to 127.0.0.1:$TCPP: 3 RTP packets sent; the client closed" "$LOG"
check "the edge logs the probe's answer to row 5, mapping the same port" \
	wait_for 3 grep -q "row 5: STUN/UDP from port $p5 to 127.0.0.1:$UDPP: answered: Binding success, mapped 127.0.0.1:$p5" "$LOG"
check "the edge logs the probe's MS-TURN answer to row 5, its mapped address decoded" \
	wait_for 3 grep -q "row 5: MS-TURN/UDP from port $p5ms to 127.0.0.1:$UDPP: answered: Binding success, mapped 127.0.0.1:$p5ms" "$LOG"
check "the triggers are logged with their status" grep -q "control: POST /rows/4: 202 RTP/TCP connecting to 127.0.0.1:$TCPP from port $p4" "$LOG"
check "... row 5's MS-TURN one too" grep -q "control: POST /rows/5: 202 MS-TURN Binding request sent to 127.0.0.1:$UDPP from port $p5ms" "$LOG"
probe 5 --control "$CTL" --dialect msturn
check "--dialect msturn: one row 5 result, MS-TURN, PASS" \
	sh -c '[ "$(grep -c "\"row\": 5," "$0")" -eq 1 ] && grep -q "\"dialect\": \"msturn\", \"verdict\": \"PASS\"" "$0"' "$TMP/probe.json"
check "... exit status 0" [ "$rc" -eq 0 ]
probe 5 --control "$CTL" --dialect rfc5389
check "--dialect rfc5389: one row 5 result, RFC 5389, PASS" \
	sh -c '[ "$(grep -c "\"row\": 5," "$0")" -eq 1 ] && grep -q "\"dialect\": \"rfc5389\", \"verdict\": \"PASS\"" "$0"' "$TMP/probe.json"

# --- --report: more formats from one run -------------------------------------
# Row 6 to a closed port (REJECTED) beside rows 4 and 5 (PASS): verdicts
# that differ, for the formats to agree on.
mkdir "$TMP/reports"
probe 4,5,6 --control "$CTL" --stun-port "$(free_port)" \
	--report "junit:$TMP/reports/a.xml" --report "html:$TMP/reports/b.html"
check "--format json with --report junit and --report html: exit status 1 (row 6)" [ "$rc" -eq 1 ]
check "... the JSON, the JUnit and the HTML are all there" \
	test -s "$TMP/probe.json" -a -s "$TMP/reports/a.xml" -a -s "$TMP/reports/b.html"
check "... and no .tmp left behind" [ "$(ls "$TMP/reports")" = "$(printf 'a.xml\nb.html')" ]
# report_py CODE: runs CODE with r (the JSON report), flows (its results,
# then the negative flows) and verdicts (theirs, in order).
report_py() {
	python3 -c "import json, re, sys, xml.etree.ElementTree as ET
r = json.load(open('$TMP/probe.json'))
flows = r['results'] + r['closed']
verdicts = [x['verdict'] for x in flows]
$1"
}
check "... the JUnit parses, one testcase per flow of the JSON" report_py "
n = len(list(ET.parse('$TMP/reports/a.xml').getroot().iter('testcase')))
print('# testcases', n, 'flows', len(flows)); sys.exit(n != len(flows) or n != 5)"
check "... the HTML's table has the JSON's verdicts, in order" report_py "
html = open('$TMP/reports/b.html').read()
got = re.findall(r'<tr [^>]*id=\"row-[^\"]*\" data-verdict=\"([A-Z]+)\"', html)
print('# html', got, 'json', verdicts); sys.exit(got != verdicts or len(set(got)) < 2)"
before=$(grep -c "control: POST /rows" "$LOG")
probe 4,5 --control "$CTL" --report bogus:x
check "--report bogus:x: a usage error (status 2)" [ "$rc" -eq 2 ]
probe 4,5 --control "$CTL" --report "junit:/nonexistent/dir/x.xml"
check "--report into a directory that is not there: status 2" [ "$rc" -eq 2 ]
check "... saying which" grep -q "^edgelab probe: --report junit:/nonexistent/dir/x.xml: /nonexistent/dir: No such file or directory$" "$TMP/probe.json"
check "... before any flow ran: the edge was asked nothing" \
	[ "$(grep -c "control: POST /rows" "$LOG")" -eq "$before" ]

# --- the probe's own checks -------------------------------------------------
probe 4,5 --control "$CTL" --edge 127.0.0.2
check "another edge address expected: row 4 FAILED" detail_has 4 'FAILED.*connection from 127.0.0.1:[0-9]*, not from the edge.s 127.0.0.2'
for d in rfc5389 msturn; do
	check "... row 5 ($d) FAILED" row5_is $d FAILED 'STUN request from 127.0.0.1:[0-9]*, not from the edge.s 127.0.0.2'
done
check "... exit status 1" [ "$rc" -eq 1 ]
probe 4,5
check "no control socket: row 4 FAILED, saying why" detail_has 4 'FAILED.*give its control API (--control)'
check "... row 5 too, in both dialects" [ "$(result 5 | grep -c '"verdict": "FAILED"')" -eq 2 ]
probe 5 --dialect tls
check "--dialect tls: a usage error (status 2)" [ "$rc" -eq 2 ]

# --- the control API ----------------------------------------------------------
check "GET /rows/5: 405" [ "$(curl -s -o /dev/null -w "%{http_code}" --unix-socket "$CTL" "http://e/rows/5")" = 405 ]
check "no target: 400" [ "$(post "/rows/4?marker=abc")" = 400 ]
check "... with a one-line reason" grep -q "^target must be IP:PORT" "$TMP/body"
check "row 4 needs the client's port: 400" [ "$(post "/rows/4?target=127.0.0.1&marker=abc")" = 400 ]
check "a marker with a space: 400" [ "$(post "/rows/5?target=127.0.0.1:$UDPP&marker=a%20b")" = 400 ]
check "no marker: 400" [ "$(post "/rows/5?target=127.0.0.1:$UDPP")" = 400 ]
check "a target that is no address: 400" [ "$(post "/rows/5?target=client.example:3478&marker=abc")" = 400 ]
check "row 5 without a port goes to 3478: 202" [ "$(post "/rows/5?target=127.0.0.1&marker=abc")" = 202 ]
check "... naming target and source port" grep -q "^STUN Binding request sent to 127.0.0.1:3478 from port 5[0-9]\{4\}$" "$TMP/body"
check "row 5 with dialect=msturn: 202" [ "$(post "/rows/5?target=127.0.0.1&marker=abc&dialect=msturn")" = 202 ]
check "... an MS-TURN request, naming target and source port" grep -q "^MS-TURN Binding request sent to 127.0.0.1:3478 from port 5[0-9]\{4\}$" "$TMP/body"
check "row 5 with dialect=rfc5389 (the default, said): 202" [ "$(post "/rows/5?target=127.0.0.1&marker=abc&dialect=rfc5389")" = 202 ]
check "... a STUN (RFC 5389) request" grep -q "^STUN Binding request sent to 127.0.0.1:3478" "$TMP/body"
check "row 5 with dialect=classic: 400" [ "$(post "/rows/5?target=127.0.0.1&marker=abc&dialect=classic")" = 400 ]
check "... saying which dialects there are" grep -q "^dialect must be rfc5389 (the default) or msturn$" "$TMP/body"
check "row 5 with an empty dialect: 400" [ "$(post "/rows/5?target=127.0.0.1&marker=abc&dialect=")" = 400 ]
check "row 4 with a dialect: 400" [ "$(post "/rows/4?target=127.0.0.1:$TCPP&marker=abc&dialect=msturn")" = 400 ]
check "row 4 to a closed port: 202 (connecting) ..." [ "$(post "/rows/4?target=127.0.0.1:$TCPP&marker=abc")" = 202 ]
check "... and the refusal is logged" wait_for 3 grep -q "row 4: RTP/TCP from port 5[0-9]* to 127.0.0.1:$TCPP: Connection refused" "$LOG"

# --- through nftables (root, in this test's own namespace) -----------------------
if [ -n "${ROWS_MEDIA_NETNS:-}" ] && command -v nft >/dev/null; then
	# On input: a drop on output would fail the edge's send() with EPERM.
	nft add table ip rows_media
	nft add chain ip rows_media in "{ type filter hook input priority filter; }"
	nft add rule ip rows_media in tcp sport 50000-59999 drop
	nft add rule ip rows_media in udp dport "$UDPP" drop
	no_answer="row 5: STUN/UDP from port 5[0-9]* to 127.0.0.1:$UDPP: sent; no answer in 3.0 s"
	no_answer_ms="row 5: MS-TURN/UDP from port 5[0-9]* to 127.0.0.1:$UDPP: sent; no answer in 3.0 s"
	no_conn="row 4: RTP/TCP from port 5[0-9]* to 127.0.0.1:$TCPP: no connection in 3.0 s"
	n5=$(grep -c "$no_answer" "$LOG")
	n5ms=$(grep -c "$no_answer_ms" "$LOG")
	n4=$(grep -c "$no_conn" "$LOG")
	probe 4,5 --control "$CTL" -t 1
	check "the edge's flows dropped: row 4 BLOCKED" detail_has 4 "BLOCKED.*no connection from the edge to our TCP $TCPP"
	for d in rfc5389 msturn; do
		check "... row 5 ($d) BLOCKED" row5_is $d BLOCKED "no STUN request from the edge to our UDP $UDPP"
	done
	check "... exit status 1" [ "$rc" -eq 1 ]
	check "... and the edge logs that nothing came back" \
		wait_for 5 sh -c '[ "$(grep -c "$0" "$1")" -gt "$2" ]' "$no_answer" "$LOG" "$n5"
	check "... to the MS-TURN request either" \
		wait_for 5 sh -c '[ "$(grep -c "$0" "$1")" -gt "$2" ]' "$no_answer_ms" "$LOG" "$n5ms"
	check "... nor a connection" \
		wait_for 5 sh -c '[ "$(grep -c "$0" "$1")" -gt "$2" ]' "$no_conn" "$LOG" "$n4"
	nft delete table ip rows_media

	# A NAT that rewrites the edge's source ports: the probe sees a port
	# outside 50000-59999 and says so. UDP gets a range: row 5's two
	# dialects go to the same client address, and the first one's conntrack
	# entry holds 40000 (a clash fails the second send with EPERM).
	nft -f - <<'NFT'
table ip rows_media {
	chain post {
		type nat hook postrouting priority srcnat;
		udp sport 50000-59999 snat to 127.0.0.1:40002-40099
		tcp sport 50000-59999 snat to 127.0.0.1:40001
	}
}
NFT
	probe 4,5 --control "$CTL"
	check "source port rewritten to 40001: row 4 FAILED" \
		detail_has 4 "FAILED.*connection from 127.0.0.1:40001: source port 40001 is outside the edge's 50000-59999"
	for d in rfc5389 msturn; do
		check "... to 400xx: row 5 ($d) FAILED" \
			row5_is $d FAILED "STUN request from 127.0.0.1:400[0-9]*: source port 400[0-9]* is outside the edge's 50000-59999"
	done
	nft delete table ip rows_media

	# SIGTERM with a flow in flight: it is ended, its port given back, and
	# serve exits cleanly (the sanitizer build also checks for leaks).
	nft add table ip rows_media
	nft add chain ip rows_media in "{ type filter hook input priority filter; }"
	nft add rule ip rows_media in udp dport "$UDPP" drop
	post "/rows/5?target=127.0.0.1:$UDPP&marker=term" >/dev/null
	serve_stop
	rc=$?
	check "SIGTERM with a flow in flight: serve exits 0" [ "$rc" -eq 0 ]
	check "... the flow is cancelled, and logged" grep -q "row 5: STUN/UDP from port 5[0-9]* to 127.0.0.1:$UDPP: cancelled (shutting down)" "$LOG"
	nft delete table ip rows_media
else
	echo "# skipped: nftables checks need root (unshare -n) and nft"
fi
[ "$n_fail" -eq 0 ] || sed 's/^/# serve: /' "$LOG"
finish
