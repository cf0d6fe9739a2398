#!/bin/sh
# The Access Edge's SIP front on loopback: rows 1 and 3 through the probe,
# refusals on 5061 (no client certificate, another CA, a domain that is not
# a partner), each with the connection closed, counted and logged; and the
# edge's own answers to hand-written requests over openssl s_client.
set -u
. "$(dirname "$0")/../lib.sh"
skip_slow "about 100 s"
command -v openssl >/dev/null || { not_ok "openssl is installed"; finish; }

"$EDGELAB" pki --out "$TMP/pki" -q --key-type ec
"$EDGELAB" pki --out "$TMP/other" -q --key-type ec
"$EDGELAB" pki --out "$TMP/evil" -q --key-type ec --ca-dir "$TMP/pki" --partner-domain evil.example
TLS=$(free_port)
MTLS=$(free_port)
PARTNER=$(free_port)
CTL=$TMP/control.sock
LOG=$TMP/serve.log
cat >"$TMP/edge.conf" <<CONF
stun_udp_listen off
stun_tcp_listen off
sip_tls_listen 127.0.0.1:$TLS
sip_mtls_listen 127.0.0.1:$MTLS
tls_certificate $TMP/pki/edge.pem
tls_key $TMP/pki/edge.key
tls_ca $TMP/pki/ca.pem
federation_partner partner.example 127.0.0.1:$PARTNER
sip_partner_keepalive 2
control_socket $CTL
workers 1
CONF
serve_start "$TMP/edge.conf" "$LOG" || { not_ok "serve starts"; finish; }

probe() {
	"$EDGELAB" probe --edge 127.0.0.1 --sip-tls-port "$TLS" --sip-mtls-port "$MTLS" -t 3 \
		--format json "$@" >"$TMP/probe.json" 2>&1
	sed 's/^/# /' "$TMP/probe.json"
}
row_is() { grep -q "\"row\": $1,.*\"verdict\": \"$2\"" "$TMP/probe.json"; }

probe --pki "$TMP/pki" --rows 1,3
check "row 1: OPTIONS over MTLS as partner.example gets 200" row_is 1 PASS
check "row 3: REGISTER over TLS gets 200" row_is 3 PASS
check "the registration is logged" grep -q "registered probe-[0-9a-f]*@edge.example" "$LOG"

# Row 2: the probe listens as the partner; the control API has the edge send
# OPTIONS now, and without it the keep-alive (2 s here) does the same.
probe --pki "$TMP/pki" --rows 2 --partner-port "$PARTNER" --control "$CTL"
check "row 2 on demand: the edge connects out with its certificate, OPTIONS answered" \
	grep -q '"verdict": "PASS", "detail": "the edge connected from 127.0.0.1:[0-9]* with certificate sip.edge.example; OPTIONS answered 200"' "$TMP/probe.json"
check "... and the edge logs the partner's 200" wait_for 3 grep -q "partner partner.example answered OPTIONS: 200 OK" "$LOG"
probe --pki "$TMP/pki" --rows 2 --partner-port "$PARTNER"
check "row 2 with no trigger: the keep-alive comes within the timeout" row_is 2 PASS
check "POST /rows/2 for an unknown partner: 404" \
	sh -c '[ "$(curl -s -o /dev/null -w "%{http_code}" -X POST --unix-socket "$0" "http://e/rows/2?partner=nobody.example")" = 404 ]' "$CTL"

probe --pki "$TMP/other" --rows 3
check "an edge certificate from an unknown CA: row 3 FAILED, with the reason" \
	grep -q '"verdict": "FAILED", "detail": "TLS handshake: edge certificate: unable to get local issuer certificate"' "$TMP/probe.json"
probe --pki "$TMP/pki" --edge-fqdn wrong.example --rows 3
check "an edge certificate for another name: FAILED" \
	grep -qi '"verdict": "FAILED".*hostname mismatch' "$TMP/probe.json"

# s_client HOST:PORT ARGS...: a TLS session fed stdin, its output in $TMP/s.out.
s_client() {
	port=$1
	shift
	timeout 10 openssl s_client -connect 127.0.0.1:"$port" -CAfile "$TMP/pki/ca.pem" \
		-verify_return_error -quiet "$@" >"$TMP/s.out" 2>&1
}
refused() { metric "$CTL" "edgelab_sip_refused_total{listener=\"mtls\",reason=\"$1\"}"; }

s_client "$MTLS" </dev/null
check "5061 without a client certificate: refused" [ "$(refused handshake)" -eq 1 ]
check "... logged with the reason" grep -q "refused: TLS handshake failed: peer did not return a certificate" "$LOG"
printf 'OPTIONS sip:sip.edge.example SIP/2.0\r\n\r\n' |
	s_client "$MTLS" -cert "$TMP/other/partner.pem" -key "$TMP/other/partner.key"
check "5061 with a certificate from another CA: refused" [ "$(refused handshake)" -eq 2 ]
check "... logged with the reason" grep -q "refused: TLS handshake failed: certificate verify failed" "$LOG"
(sleep 1; printf 'OPTIONS sip:sip.edge.example SIP/2.0\r\n\r\n') |
	s_client "$MTLS" -cert "$TMP/evil/partner.pem" -key "$TMP/evil/partner.key"
check "5061 with a trusted certificate for evil.example: refused, not a partner" [ "$(refused not_partner)" -eq 1 ]
check "... the connection is closed without an answer" sh -c '! grep -q "^SIP/2.0" "$0"' "$TMP/s.out"
check "... logged with the names seen" grep -q "certificate for sip.evil.example, evil.example names no federation partner" "$LOG"
probe --pki "$TMP/pki" --cert "$TMP/other/partner.pem" --key "$TMP/other/partner.key" --rows 1
check "row 1 with a partner certificate from another CA: FAILED, the edge refused it" \
	grep -q '"verdict": "FAILED", "detail": "TLS [a-z]* (the edge closed: was our certificate refused?)' "$TMP/probe.json"


# sip_request PORT: sends stdin over TLS (443 without, 5061 with the partner's certificate).
sip_request() {
	port=$1
	cert=""
	[ "$port" = "$MTLS" ] && cert="-cert $TMP/pki/partner.pem -key $TMP/pki/partner.key"
	# shellcheck disable=SC2086
	(cat; sleep 1) | s_client "$port" $cert
	sed 's/^/# < /' "$TMP/s.out" | tr -d '\r' | head -n 12
}
req() { # METHOD URI TO [EXTRA]: a request with every mandatory header
	printf '%s %s SIP/2.0\r\nVia: SIP/2.0/TLS 127.0.0.1:5;branch=z9hG4bKt%s\r\nMax-Forwards: 70\r\n' "$1" "$2" "$$"
	printf 'From: <sip:t@partner.example>;tag=1\r\nTo: <%s>\r\nCall-ID: c%s@test\r\nCSeq: 1 %s\r\n%bContent-Length: 0\r\n\r\n' "$3" "$$" "$1" "${4:-}"
}
status_is() { grep -q "^SIP/2.0 $1" "$TMP/s.out"; }

req OPTIONS sip:sip.edge.example sip:sip.edge.example | sip_request "$MTLS"
check "OPTIONS to the edge: 200 with Allow" sh -c 'grep -q "^SIP/2.0 200 OK" "$0" && grep -q "^Allow: .*MESSAGE" "$0"' "$TMP/s.out"
check "... To gets a tag, Call-ID and CSeq are echoed" sh -c 'grep -q "^To: <sip:sip.edge.example>;tag=" "$0" && grep -q "^CSeq: 1 OPTIONS" "$0"' "$TMP/s.out"
req REGISTER sip:other.example sip:bob@other.example "Contact: <sip:bob@127.0.0.1>\r\n" | sip_request "$TLS"
check "REGISTER for another domain: 403" status_is 403
req MESSAGE sip:nobody@edge.example sip:nobody@edge.example | sip_request "$MTLS"
check "MESSAGE to a user who is not registered: 480" status_is 480
req MESSAGE sip:x@elsewhere.example sip:x@elsewhere.example | sip_request "$MTLS"
check "MESSAGE for a domain that is not a partner: 403" status_is 403
req OPTIONS sip:bob@edge.example sip:bob@edge.example "Max-Forwards: 0\r\n" | sed '3d' | sip_request "$MTLS"
check "Max-Forwards 0: 483" status_is 483
# Nothing listens on the partner's HOST now (the probe has gone): the edge's
# connection attempt fails and the sender gets 503, not silence.
req MESSAGE sip:bob@partner.example sip:bob@partner.example | sip_request "$TLS"
check "MESSAGE to a partner that cannot be reached: 503" status_is 503
printf 'OPTIONS sip:sip.edge.example SIP/2.0\r\nVia: SIP/2.0/TLS 127.0.0.1:5;branch=z9hG4bKx\r\nFrom: <sip:t@partner.example>;tag=1\r\nTo: <sip:sip.edge.example>\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n' |
	sip_request "$MTLS"
check "a request without Call-ID: 400 saying so" grep -q "^SIP/2.0 400 Bad Request (Missing Call-ID)" "$TMP/s.out"
printf 'OPTIONS sip:sip.edge.example SIP/2.0\r\nContent-Length: 99999999\r\n\r\n' | sip_request "$MTLS"
check "a framing error closes the connection, counted" [ "$(metric "$CTL" edgelab_sip_framing_closed_total)" -ge 1 ]
# Proxying partner -> registered client: alice keeps a TLS connection open
# (a FIFO feeds openssl s_client), partner.example sends her a MESSAGE with a
# forged trust header; what reaches alice is what the edge forwarded.
mkfifo "$TMP/alice.in"
timeout 20 openssl s_client -connect 127.0.0.1:"$TLS" -CAfile "$TMP/pki/ca.pem" -quiet \
	<"$TMP/alice.in" >"$TMP/alice.out" 2>/dev/null &
at_exit "kill $!" # TERM: timeout passes it on to openssl
exec 4>"$TMP/alice.in"
req REGISTER sip:edge.example sip:alice@edge.example "Contact: <sip:alice@127.0.0.1:7;transport=tls>\r\n" >&4
check "alice registers" wait_for 5 grep -q "registered alice@edge.example" "$LOG"
printf 'MESSAGE sip:alice@edge.example SIP/2.0\r\nVia: SIP/2.0/TLS 127.0.0.1:9;branch=z9hG4bKp%s\r\nMax-Forwards: 70\r\nFrom: <sip:bob@partner.example>;tag=b\r\nTo: <sip:alice@edge.example>\r\nCall-ID: p%s@test\r\nCSeq: 1 MESSAGE\r\nms-edge-proxy-message-trust: ms-source-type=AuthorizedServer;ms-source-verified-user=forged\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello' "$$" "$$" |
	sip_request "$MTLS"
fwd=$(tr -d '\r' <"$TMP/alice.out" | sed -n '/^MESSAGE /,/^hello/p')
echo "$fwd" | sed 's/^/# alice < /'
has() { echo "$fwd" | grep -q "$1"; }
check "partner -> alice: forwarded down alice's connection to her Contact" has "^MESSAGE sip:alice@127.0.0.1:7;transport=tls SIP/2.0$"
check "... the edge's Via on top, naming the 443 side" has "^Via: SIP/2.0/TLS sip.edge.example:$TLS;branch=z9hG4bK-el[0-9a-f]*;el-conn=[0-9]*$"
check "... Max-Forwards decremented" has "^Max-Forwards: 69$"
check "... the forged trust header removed" sh -c '! echo "$0" | grep -q forged' "$fwd"
check "... the edge's own trust header added: federation, verified, partner.example" \
	has "^ms-edge-proxy-message-trust: ms-source-type=AuthorizedServer;ms-ep-fqdn=sip.edge.example;ms-source-network=federation;ms-source-verified-user=verified;ms-remote-fqdn=partner.example$"
check "... the body intact" has "^hello"
exec 4>&-

check "requests are counted by method" [ "$(metric "$CTL" 'edgelab_sip_requests_total{method="OPTIONS"}')" -ge 2 ]
# Limits: a second edge with 2 connections per source, a 1 s handshake and
# a 1 s first request.
TLS2=$(free_port)
NH=$(free_port)
CTL2=$TMP/control2.sock
sed -e "s/^sip_tls_listen .*/sip_tls_listen 127.0.0.1:$TLS2/" -e "s/^sip_mtls_listen .*/sip_mtls_listen off/" \
	-e "s#^control_socket .*#control_socket $CTL2#" "$TMP/edge.conf" >"$TMP/edge2.conf"
printf 'sip_max_connections_per_source 2\nsip_handshake_timeout 1\nsip_user alice s3cret\nsip_next_hop 127.0.0.1:%s\nsip_idle_timeout 2\nsip_first_request_timeout 1\n' "$NH" >>"$TMP/edge2.conf"
serve_start "$TMP/edge2.conf" "$TMP/serve2.log" || not_ok "the second edge starts"
# Three idle TCP connections that never start TLS.
for i in 1 2 3; do
	bash -c "exec 3<>/dev/tcp/127.0.0.1/$TLS2; sleep 3" 2>/dev/null &
	sleep 0.2
done
refused2() { metric "$CTL2" "edgelab_sip_refused_total{listener=\"tls\",reason=\"$1\"}"; }
check "the third connection from one source is refused" wait_for 3 sh -c "[ \"\$(curl -sf --unix-socket $CTL2 http://e/metrics | grep -c 'reason=\"limit_source\"} 1')\" -eq 1 ]"
check "... and logged" grep -q "refused 127.0.0.1:[0-9]*: sip_max_connections_per_source reached" "$TMP/serve2.log"
check "the two that never shake hands are closed after 1 s, counted" \
	wait_for 5 sh -c "curl -sf --unix-socket $CTL2 http://e/metrics | grep -q 'reason=\"handshake_timeout\"} 2'"
check "... and logged" grep -q "refused: no TLS handshake in time" "$TMP/serve2.log"

sleep 3 | s_client "$TLS2"
check "a TLS connection with no request is closed after sip_first_request_timeout (1 s), counted" \
	[ "$(refused2 request_timeout)" -eq 1 ]
check "... and logged" grep -q "refused: no request in time" "$TMP/serve2.log"
(req OPTIONS sip:sip.edge.example sip:sip.edge.example; sleep 4) | s_client "$TLS2"
check "an idle TLS connection is closed after sip_idle_timeout (2 s), counted" \
	[ "$(metric "$CTL2" edgelab_sip_idle_closed_total)" -ge 1 ]

# sip_max_connections (in total): a third edge allows one connection. A new
# one evicts a connection that never shook hands, else one idle with no
# registration; a registered one stays, and then the new one is refused.
TLS4=$(free_port)
sed -e "s/^sip_tls_listen .*/sip_tls_listen 127.0.0.1:$TLS4/" -e "s/^sip_mtls_listen .*/sip_mtls_listen off/" \
	-e "s#^control_socket .*#control_socket $TMP/control4.sock#" "$TMP/edge.conf" >"$TMP/edge4.conf"
printf 'sip_max_connections 1\n' >>"$TMP/edge4.conf"
serve_start "$TMP/edge4.conf" "$TMP/serve4.log" || not_ok "the fourth edge starts"
metric4() { curl -sf --unix-socket "$TMP/control4.sock" http://e/metrics | grep -q "$1"; }
bash -c "exec 3<>/dev/tcp/127.0.0.1/$TLS4; sleep 2" 2>/dev/null &
sleep 0.3
# held_tls NAME FD: a TLS connection to the fourth edge fed by a FIFO on FD.
held_tls() {
	mkfifo "$TMP/$1.in"
	timeout 10 openssl s_client -connect 127.0.0.1:"$TLS4" -CAfile "$TMP/pki/ca.pem" -quiet \
		<"$TMP/$1.in" >"$TMP/$1.out" 2>/dev/null &
	at_exit "kill $!" # TERM: timeout passes it on to openssl
	eval "exec $2>\"\$TMP/$1.in\""
}
held_tls carol 7
check "beyond sip_max_connections: the one that never shook hands is evicted, counted" \
	wait_for 3 metric4 'edgelab_sip_evicted_total{listener="tls",reason="handshake"} 1'
check "... and logged" grep -q "evicted at sip_max_connections (1): no TLS handshake for" "$TMP/serve4.log"
wait_for 3 grep -q "TLS up" "$TMP/serve4.log"
held_tls bob 6
check "then a TLS connection idle with no registration is evicted, counted" \
	wait_for 3 metric4 'edgelab_sip_evicted_total{listener="tls",reason="idle"} 1'
check "... and logged" grep -q "evicted at sip_max_connections (1): idle, no registration for" "$TMP/serve4.log"
exec 7>&-
req REGISTER sip:edge.example sip:bob@edge.example "Contact: <sip:bob@127.0.0.1:7;transport=tls>\r\n" >&6
check "bob registers on the new connection" wait_for 5 grep -q "registered bob@edge.example" "$TMP/serve4.log"
bash -c "exec 3<>/dev/tcp/127.0.0.1/$TLS4; sleep 2" 2>/dev/null &
check "with only a registered connection to evict: refused, counted and logged" \
	wait_for 3 sh -c "curl -sf --unix-socket $TMP/control4.sock http://e/metrics | grep -q 'listener=\"tls\",reason=\"limit_total\"} 1' && grep -q 'sip_max_connections reached' $TMP/serve4.log"
check "... bob's connection is still there" sh -c '! grep -q "#[0-9]* 127.0.0.1:[0-9]*: closed" "$0"' "$TMP/serve4.log"
exec 6>&-

# Digest (sip_user lines): REGISTER is challenged, then accepted with the
# right response (RFC 2617 without qop: MD5(HA1:nonce:HA2)).
md5() { printf '%s' "$1" | md5sum | cut -d' ' -f1; }
req REGISTER sip:edge.example sip:alice@edge.example "Contact: <sip:alice@127.0.0.1:7;transport=tls>\r\n" |
	(cat; sleep 1) | s_client "$TLS2"
check "REGISTER without credentials: 401 with a Digest challenge" \
	sh -c 'grep -q "^SIP/2.0 401 Unauthorized" "$0" && grep -q "^WWW-Authenticate: Digest realm=\"edge.example\", nonce=\"[0-9a-f]*\.[0-9a-f]*\", algorithm=MD5" "$0"' "$TMP/s.out"
nonce=$(sed -n 's/.*nonce="\([^"]*\)".*/\1/p' "$TMP/s.out" | head -n 1)
resp=$(md5 "$(md5 alice:edge.example:s3cret):$nonce:$(md5 REGISTER:sip:edge.example)")
auth="Authorization: Digest username=\"alice\", realm=\"edge.example\", nonce=\"$nonce\", uri=\"sip:edge.example\", response=\"$resp\", algorithm=MD5\r\n"
req REGISTER sip:edge.example sip:alice@edge.example "Contact: <sip:alice@127.0.0.1:7;transport=tls>\r\n$auth" |
	(cat; sleep 1) | s_client "$TLS2"
check "... with the right Digest response: 200" grep -q "^SIP/2.0 200 OK" "$TMP/s.out"
wrong=$(md5 "$(md5 alice:edge.example:guess):$nonce:$(md5 REGISTER:sip:edge.example)")
req REGISTER sip:edge.example sip:alice@edge.example "Contact: <sip:alice@127.0.0.1:7;transport=tls>\r\n$(printf '%s' "$auth" | sed "s/$resp/$wrong/")" |
	(cat; sleep 1) | s_client "$TLS2"
check "... with a wrong password: 401 again" grep -q "^SIP/2.0 401 Unauthorized" "$TMP/s.out"

# The internal next hop takes what the edge cannot route: a TLS server with
# a certificate naming sip_domain (the edge's own here) stands in for it.
mkfifo "$TMP/nh.in"
timeout 10 openssl s_server -accept 127.0.0.1:"$NH" -cert "$TMP/pki/edge.pem" -key "$TMP/pki/edge.key" \
	-quiet <"$TMP/nh.in" >"$TMP/nh.out" 2>/dev/null &
at_exit "kill $!" # TERM: timeout passes it on to openssl
exec 5>"$TMP/nh.in"
sleep 0.5
req MESSAGE sip:carol@elsewhere.example sip:carol@elsewhere.example | (cat; sleep 1) | s_client "$TLS2"
check "sip_next_hop: a MESSAGE for an unknown domain goes to the next hop" \
	wait_for 3 grep -q "^MESSAGE sip:carol@elsewhere.example SIP/2.0" "$TMP/nh.out"
check "... with the edge's Via on top" grep -q "^Via: SIP/2.0/TLS sip.edge.example:" "$TMP/nh.out"
exec 5>&-

# A partner without HOST: the edge looks up _sipfederationtls._tcp SRV on
# dns_server (dnsmasq here) and connects to the target, expecting its name.
if command -v dnsmasq >/dev/null; then
	DNS=$(free_port)
	SRVP=$(free_port)
	dnsmasq -k --conf-file=/dev/null --no-resolv --no-hosts --bind-interfaces \
		--listen-address=127.0.0.1 --port="$DNS" --pid-file="$TMP/dnsmasq.pid" \
		$( [ "$(id -u)" -eq 0 ] && echo --user=root ) \
		--srv-host=_sipfederationtls._tcp.partner2.example,sip.partner.example,"$SRVP",10,50 \
		--host-record=sip.partner.example,127.0.0.1 2>"$TMP/dnsmasq.log" &
	at_exit "kill -9 $!"
	sleep 0.5
	sed -e "s/^federation_partner .*/federation_partner partner2.example/" \
		-e "s#^control_socket .*#control_socket $TMP/control3.sock#" \
		-e "s/^sip_tls_listen .*/sip_tls_listen off/" -e "s/^sip_mtls_listen .*/sip_mtls_listen off/" \
		-e "s/^sip_partner_keepalive .*/sip_partner_keepalive 0/" "$TMP/edge.conf" >"$TMP/edge3.conf"
	echo "dns_server 127.0.0.1:$DNS" >>"$TMP/edge3.conf"
	serve_start "$TMP/edge3.conf" "$TMP/serve3.log" || not_ok "the third edge starts"
	probe --pki "$TMP/pki" --rows 2 --partner-port "$SRVP" --partner-domain partner2.example \
		--control "$TMP/control3.sock"
	check "SRV: the edge finds partner2.example's edge and connects (row 2 PASS)" row_is 2 PASS
	check "... expecting the SRV target's name" grep -q "connecting out, expecting sip.partner.example" "$TMP/serve3.log"
elif [ "$(id -u)" -eq 0 ]; then
	not_ok "dnsmasq is installed (scripts/install-deps.sh)"
else
	echo "SKIP: SRV check needs dnsmasq"
fi

finish
