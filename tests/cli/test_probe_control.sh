#!/bin/sh
# The probe as the control API's client, against a fake edge
# (tests/tools/fake_edge.py) that answers triggers with 202 and a Location,
# flow records with chosen outcomes and canary queries, and sends nothing
# (unless told to): the outbound rows' truth (reset and icmp REJECTED,
# timeout BLOCKED, tls-failed and error FAILED, no Location as before), every
# flow at once (start/end offsets overlap), HTTPS with a client certificate
# and with a token (the fake checks them), --strict's CLOSED and EXPOSED from
# canary hits, exit statuses and usage errors. In a network namespace of its
# own (unshare -n, root): the strict mode uses fixed ports (5060, 80, ...)
# and nftables drops the inbound rows so that no flow arrives.
set -u
if [ "$(id -u)" -eq 0 ] && [ -z "${PROBE_CTL_NETNS:-}" ] && command -v unshare >/dev/null; then
	PROBE_CTL_NETNS=1 exec unshare -n sh -c 'ip link set lo up && exec sh "$0"' "$0"
fi
. "$(dirname "$0")/../lib.sh"
[ -n "${PROBE_CTL_NETNS:-}" ] || skip_all "needs root and unshare (a network namespace of its own)"
for tool in python3 openssl nft curl; do
	command -v "$tool" >/dev/null || skip_all "$tool is not installed"
done
FAKE=$SRCDIR/tests/tools/fake_edge.py

# Certificates: the lab's, and a controller certificate (SAN probe.lab,
# clientAuth) as `edgelab pki` issues it, made here with openssl.
"$EDGELAB" pki --out "$TMP/pki" -q --key-type ec
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=probe.lab \
	-keyout "$TMP/pki/controller.key" -out "$TMP/controller.csr" 2>/dev/null
printf 'subjectAltName=DNS:probe.lab\nextendedKeyUsage=clientAuth\n' >"$TMP/ext"
openssl x509 -req -in "$TMP/controller.csr" -CA "$TMP/pki/ca.pem" -CAkey "$TMP/pki/ca.key" \
	-CAcreateserial -days 2 -extfile "$TMP/ext" -out "$TMP/pki/controller.pem" 2>/dev/null
mkdir "$TMP/capki" && cp "$TMP/pki/ca.pem" "$TMP/capki/" # a --pki without controller.pem
echo "s3cret-token-0123456789" >"$TMP/token"
echo "wrong-token-0123456789" >"$TMP/badtoken"

TCPP=$(free_port)
UDPP=$(free_port)
PARTNER=$(free_port)
CTLP=$(free_port)
SOCK=$TMP/fake.sock
LOG=$TMP/fake.log

# fake ARGS...: (re)starts the fake edge; over HTTPS with --https.
FAKE_PID=""
fake() {
	[ -z "$FAKE_PID" ] || { kill "$FAKE_PID"; wait "$FAKE_PID"; } 2>/dev/null
	: >"$LOG"
	# Emptied here, not by the child's redirection: that runs after the
	# fork, so a loaded machine let wait_for read the last fake's "ready".
	: >"$TMP/fake.out"
	python3 "$FAKE" --log "$LOG" --cert "$TMP/pki/edge.pem" --key "$TMP/pki/edge.key" \
		--ca "$TMP/pki/ca.pem" --token-file "$TMP/token" "$@" >"$TMP/fake.out" 2>"$TMP/fake.err" &
	FAKE_PID=$!
	at_exit "kill $FAKE_PID"
	# A bound, not a timing: python's start takes seconds on a loaded
	# machine (the suite beside make distcheck's).
	wait_for 30 grep -q ready "$TMP/fake.out" ||
		{ not_ok "the fake edge is ready ($*)"; sed 's/^/# /' "$TMP/fake.err"; }
}
fake_unix() { fake --unix "$SOCK" "$@"; }
fake_https() { fake --https "127.0.0.1:$CTLP" "$@"; }

# probe ARGS...: the JSON report in $TMP/p.json, the status in rc.
probe() {
	"$EDGELAB" probe --client-tcp-port "$TCPP" --client-udp-port "$UDPP" \
		--partner-port "$PARTNER" -t 2 --format json "$@" >"$TMP/p.json" 2>"$TMP/p.err"
	rc=$?
	sed 's/^/# /' "$TMP/p.json" "$TMP/p.err"
}
# verdict ROW [DIALECT]: the verdicts of a row's results; "closed FLOW" a negative flow's.
json() { python3 -c "import json,sys; r=json.load(open('$TMP/p.json')); $1"; }
verdict() {
	json "print(' '.join(x['verdict'] for x in r['results'] if x['row']==$1 and '${2:-}' in x['dialect']))"
}
detail() {
	json "print(' '.join(x['detail'] for x in r['results'] if x['row']==$1 and '${2:-}' in x['dialect']))"
}
closed() { json "print(' '.join(x['verdict']+': '+x['detail'] for x in r['closed'] if x['flow']=='$1'))"; }
has() { case $1 in *"$2"*) return 0 ;; esac; echo "# '$1' lacks '$2'"; return 1; }

# --- the outbound rows' truth, every flow at once (unix socket) ---------------
# The edge's inbound ports dropped: no flow of any row arrives.
EDGE_TLS=$(free_port)
EDGE_MTLS=$(free_port)
EDGE_STUN=$(free_port)
nft add table ip probe_ctl
nft add chain ip probe_ctl in "{ type filter hook input priority filter; }"
nft add rule ip probe_ctl in tcp dport "{ $EDGE_TLS, $EDGE_MTLS }" drop
nft add rule ip probe_ctl in udp dport "$EDGE_STUN" drop
at_exit "nft delete table ip probe_ctl"
INBOUND="--edge 127.0.0.1 --sip-tls-port $EDGE_TLS --sip-mtls-port $EDGE_MTLS --stun-port $EDGE_STUN --pki $TMP/pki"

fake_unix --outcome row2=reset --outcome row4=timeout --outcome row5:rfc5389=icmp \
	--outcome row5:msturn=pending
# shellcheck disable=SC2086
probe $INBOUND --rows all --control "$SOCK"
check "row 2, the edge's SYN answered with RST: REJECTED, the edge's view in the detail" \
	[ "$(verdict 2): $(detail 2)" = "REJECTED: the edge's SYN to 127.0.0.1:5061 was answered with RST" ]
check "row 4, the edge saw no SYN-ACK (timeout): BLOCKED" \
	has "$(verdict 4): $(detail 4)" "BLOCKED: no connection from the edge to our TCP $TCPP in 2.0 s; the edge saw no answer: no SYN-ACK"
check "row 5 (rfc5389), ICMP back to the edge: REJECTED, with type, code and sender" \
	[ "$(verdict 5 rfc5389): $(detail 5 rfc5389)" = "REJECTED: the edge's STUN request to 127.0.0.1:$UDPP drew ICMP port unreachable (type 3 code 3) from 127.0.0.9" ]
check "row 5 (msturn), the edge's flow still pending: FAILED, BLOCKED and REJECTED untold" \
	[ "$(verdict 5 msturn): $(detail 5 msturn)" = "FAILED: no STUN request from the edge to our UDP $UDPP in 2.0 s; the edge's flow had not ended when asked, so BLOCKED cannot be told from REJECTED" ]
# The edge ends its flows 3 s after the trigger; with -t 2 the probe waits
# out the rest of that, 1.5 s (3 s + 0.5 s - 2 s).
check "each outbound flow's record was asked for, waiting out the edge's 3 s" \
	[ "$(grep -c '^GET /flows/[0-9]*?wait=1500 none 200$' "$LOG")" -eq 4 ]
check "the inbound rows (dropped) BLOCKED" [ "$(verdict 1) $(verdict 3) $(verdict 6)" = "BLOCKED BLOCKED BLOCKED BLOCKED" ]
check "... exit status 1" [ "$rc" -eq 1 ]
check "every flow at once: all 8 results overlap in time (max start < min end)" \
	json "s=[x['start'] for x in r['results']]; e=[x['end'] for x in r['results']]; print(len(s), max(s), min(e)); sys.exit(not (len(s)==8 and max(s) < min(e)))"
# Not a timed assertion: the run against the flows' own durations, which a
# slow machine stretches alike (in turn: the run at least their sum).
check "... the whole matrix in well under the sum of its flows' times" \
	json "sys.exit(not r['seconds'] < sum(x['seconds'] for x in r['results']) / 2)"
check "... results in the fixed row and dialect order" \
	[ "$(json "print(' '.join(str(x['row'])+x['dialect'] for x in r['results']))")" = "1 2 3 4 5rfc5389 5msturn 6rfc5389 6msturn" ]

fake_unix --outcome row2=tls-failed --outcome row4=error --outcome row5=connected
probe --rows 2,4,5 --control "$SOCK" --dialect rfc5389 --edge 127.0.0.1
check "row 2, tls-failed while the probe saw no connection: FAILED" \
	has "$(verdict 2): $(detail 2)" "FAILED: the edge's TLS handshake with 127.0.0.1:5061 failed (certificate verify failed), yet no connection reached the probe: something between answered TLS"
check "row 4, error: FAILED with the edge's reason" \
	[ "$(verdict 4): $(detail 4)" = "FAILED: the edge could not send it: no relay port free" ]
check "row 5, connected per the edge but nothing arrived: FAILED" \
	has "$(verdict 5): $(detail 5)" "FAILED: the edge's STUN request to 127.0.0.1:$UDPP was answered (connected), yet nothing reached the probe"

fake_unix --no-location --outcome row4=reset
probe --rows 4 --control "$SOCK" --edge 127.0.0.1
check "an edge without Location: BLOCKED as before, no record asked for" \
	sh -c '[ "$0" = "BLOCKED: no connection from the edge to our TCP $1 in 2.0 s" ] && ! grep -q /flows/ "$2"' \
	"$(verdict 4): $(detail 4)" "$TCPP" "$LOG"

# --- HTTPS: the edge's certificate verified; a client certificate or a token --------
fake_https --outcome row4=reset
probe --rows 4 --edge 127.0.0.1 --pki "$TMP/pki" --control "https://127.0.0.1:$CTLP"
check "HTTPS with --pki's controller.pem: REJECTED from the edge's record" \
	[ "$(verdict 4)" = REJECTED ]
check "... the fake saw the certificate (probe.lab) on the trigger and the record" \
	[ "$(grep -c ' cert:probe.lab 20[02]$' "$LOG")" -eq 2 ]
probe --rows 4 --edge 127.0.0.1 --pki "$TMP/capki" --control "https://127.0.0.1:$CTLP" \
	--control-token-file "$TMP/token"
check "HTTPS with a bearer token: REJECTED" [ "$(verdict 4)" = REJECTED ]
check "... the fake saw the token" [ "$(grep -c ' token 20[02]$' "$LOG")" -eq 2 ]
probe --rows 4 --edge 127.0.0.1 --pki "$TMP/capki" --control "https://127.0.0.1:$CTLP" \
	--control-token-file "$TMP/badtoken"
check "a wrong token: FAILED with the edge's 401" \
	[ "$(verdict 4): $(detail 4)" = "FAILED: control API https://127.0.0.1:$CTLP: 401 bad_token" ]
check "... exit status 1" [ "$rc" -eq 1 ]
probe --rows 4 --edge 127.0.0.1 --pki "$TMP/pki" --edge-fqdn wrong.example \
	--control "https://127.0.0.1:$CTLP"
check "an edge certificate without the --edge-fqdn name: FAILED, OpenSSL's reason" \
	has "$(verdict 4): $(detail 4)" "FAILED: control API https://127.0.0.1:$CTLP: TLS handshake: hostname mismatch"
"$EDGELAB" pki --out "$TMP/other" -q --key-type ec
probe --rows 4 --edge 127.0.0.1 --pki "$TMP/other" --control "https://127.0.0.1:$CTLP" \
	--control-cert "$TMP/pki/controller.pem" --control-key "$TMP/pki/controller.key"
check "an edge certificate from another CA: FAILED in the handshake" \
	has "$(verdict 4): $(detail 4)" "FAILED: control API https://127.0.0.1:$CTLP: TLS handshake: "
# A control port that takes the connection and never speaks TLS: the
# handshake ends at the flow's deadline, not the socket's per-read timeout.
MUTE=$(free_port)
python3 -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(8); s.settimeout(0.2); held = []
end = time.time() + 10
while time.time() < end:
    try: held.append(s.accept()[0])
    except socket.timeout: pass
' "$MUTE" &
MUTE_PID=$!
at_exit "kill $MUTE_PID"
wait_for 5 sh -c "ss -ltn | grep -q ':$MUTE '"
probe --rows 4 --edge 127.0.0.1 --pki "$TMP/pki" --control "https://127.0.0.1:$MUTE" -t 1
check "a control port that never answers the TLS handshake: FAILED, no answer in time" \
	[ "$(verdict 4): $(detail 4)" = "FAILED: control API https://127.0.0.1:$MUTE: TLS handshake: no answer in time" ]
kill "$MUTE_PID" 2>/dev/null

# --- --strict ------------------------------------------------------------------------
# The edge is 127.0.0.2, so that the probe's own listeners (127.0.0.1:5060
# for the edge's strict TCP) are not what the inbound flows reach. Canaries
# on UDP 3479 and TCP 5062; the edge's strict TCP to our 443 (TCPP here) gets
# out and reaches us (row 4's listener, routed by marker), the one to 5060 is
# reset.
# It says canaries listen on UDP 5060 and TCP 80 too (none is there: what
# an RST or ICMP from those ports means is that nothing got through to a
# canary), but not on TCP 3478.
fake_https --edge 127.0.0.2 --canary-udp 3479 --canary-tcp 5062 \
	--listening-udp 5060 --listening-tcp 80 \
	--outcome "strict-tcp:$TCPP=send" --outcome strict-tcp:5060=reset --outcome row4=timeout
probe --rows 4 --edge 127.0.0.2 --pki "$TMP/pki" --control "https://127.0.0.1:$CTLP" --strict
check "strict: 10 negative flows, apart from the rows" json "sys.exit(len(r['closed']) != 10 or len(r['results']) != 1)"
check "TCP 5062 (a canary listens): EXPOSED, confirmed by the canary" \
	has "$(closed 'client -> edge TCP/5062')" "EXPOSED: connected to 127.0.0.2:5062 and sent our marker; confirmed by the canary, hit from 127.0.0.1:"
check "UDP 3479 (a canary listens): EXPOSED from the canary's hit" \
	has "$(closed 'client -> edge UDP/3479')" "EXPOSED: the canary on 127.0.0.2:3479 saw our datagram, from 127.0.0.1:"
check "UDP 5060 (nothing there): CLOSED, with the ICMP that came back" \
	[ "$(closed 'client -> edge UDP/5060')" = "CLOSED: no hit at the canary on 127.0.0.2:5060 in 2.0 s; ICMP port unreachable came back" ]
check "TCP 80 (nothing there): CLOSED by RST" \
	[ "$(closed 'client -> edge TCP/80')" = "CLOSED: TCP RST from 127.0.0.2:80" ]
check "TCP 3478, where the edge runs no canary: FAILED, an RST proves nothing" \
	[ "$(closed 'client -> edge TCP/3478')" = "FAILED: TCP RST from 127.0.0.2:3478, but the edge runs no canary on TCP 3478 (canary_tcp): whether it got through cannot be told" ]
check "UDP 59999, no canary either: FAILED" \
	has "$(closed 'client -> edge UDP/59999')" "FAILED: ICMP port unreachable came back from 127.0.0.2:59999, but the edge runs no canary on UDP 59999 (canary_udp)"
check "the edge's TCP to our 443 from a port below 50000 arrived: EXPOSED, its source named" \
	has "$(closed 'edge -> client TCP/443 from port < 50000')" "EXPOSED: the edge connected from 127.0.0.1:"
check "... routed by its marker: row 4 on the same listener stays BLOCKED" [ "$(verdict 4)" = BLOCKED ]
check "the edge's TCP to our 5060, reset: CLOSED with the edge's view" \
	[ "$(closed 'edge -> client TCP/5060')" = "CLOSED: the edge's SYN to 127.0.0.1:5060 was answered with RST" ]
check "EXPOSED: exit status 1" [ "$rc" -eq 1 ]
check "the table shows them apart: what must stay closed" \
	sh -c '"$0" probe --rows 4 --edge 127.0.0.2 --pki "$1" --control "$2" --strict -t 1 --client-tcp-port "$3" |
		grep -q "^MUST STAY CLOSED  *VERDICT  *TIME  *DETAIL$"' "$EDGELAB" "$TMP/pki" "https://127.0.0.1:$CTLP" "$TCPP"

fake_unix --edge 127.0.0.2 --ghost-hits
probe --rows 4 --edge 127.0.0.2 --control "$SOCK" --strict -t 1
check "RST, but the canary saw the marker: EXPOSED" \
	has "$(closed 'client -> edge TCP/80')" "EXPOSED: TCP RST from 127.0.0.2:80, yet the canary saw our marker"

# Every negative flow CLOSED and the rows passing: exit status 0. Row 6
# against a real edge's STUN on 127.0.0.2, the rest from the fake.
STUNP=$(free_port)
printf 'stun_udp_listen 127.0.0.2:%s\nstun_tcp_listen off\nsip_tls_listen off\nsip_mtls_listen off\ncontrol_socket %s\nworkers 1\n' \
	"$STUNP" "$TMP/edge.sock" >"$TMP/edge.conf"
if serve_start "$TMP/edge.conf" "$TMP/serve.log"; then
	fake_unix --edge 127.0.0.2 --listening-tcp 5060 --listening-tcp 5062 --listening-tcp 80 \
		--listening-tcp 3478 --listening-tcp 59999 --listening-udp 5060 --listening-udp 3479 \
		--listening-udp 59999
	probe --rows 6 --edge 127.0.0.2 --stun-port "$STUNP" --control "$SOCK" --strict
	check "strict, nothing exposed, row 6 PASS: exit status 0" \
		sh -c '[ "$0" -eq 0 ] && [ "$1" = "PASS PASS" ]' "$rc" "$(verdict 6)"
	check "... 10 CLOSED" [ "$(json "print(sum(x['verdict']=='CLOSED' for x in r['closed']))")" -eq 10 ]
else
	not_ok "serve starts"
fi

# --- usage errors ----------------------------------------------------------------
usage() { # DESCRIPTION MESSAGE ARGS...: exit status 2 and MESSAGE on stderr
	desc=$1 msg=$2
	shift 2
	"$EDGELAB" probe "$@" >/dev/null 2>"$TMP/u.err"
	urc=$?
	check "$desc: status 2" sh -c '[ "$0" -eq 2 ] && grep -qF -- "$1" "$2"' "$urc" "$msg" "$TMP/u.err"
}
usage "--strict without --control" "--strict needs the edge's control API (--control)" --strict
usage "https without credentials" "needs credentials" --pki "$TMP/capki" --control https://127.0.0.1:8443
usage "plain http" "https://HOST:PORT" --control http://127.0.0.1:8443
usage "--control-cert without --control-key" "go together" --control https://127.0.0.1:8443 \
	--control-cert "$TMP/pki/controller.pem"
echo short >"$TMP/short"
usage "a token under 16 characters" "16-256 printable" --control https://127.0.0.1:8443 \
	--control-token-file "$TMP/short"
usage "a token for the unix socket" "are for --control https://" --control "$SOCK" \
	--control-token-file "$TMP/token"
finish
