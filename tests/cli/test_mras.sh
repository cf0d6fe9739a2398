#!/bin/sh
# MRAS-style relay credentials end to end: a client on the SIP TLS listener
# asks for them with SIP SERVICE (application/msrtc-media-relay-auth+xml),
# Digest-authenticated as for REGISTER; the credentialsResponse carries a
# username and password in base64, the duration and where the relay is; the
# relay then takes them: turnc (RFC 5389 dialect) allocates with them, and
# libnice in Microsoft's mode (MS-TURN) reaches READY through edgelab with
# them over UDP and over pseudo-TLS. Credentials signed with another secret,
# or tampered with, are refused; the password is the documented
# base64(HMAC-SHA256(secret, username)), checked with openssl. Loopback only.
set -u
. "$(dirname "$0")/../lib.sh"
skip_slow "about 40 s"
command -v openssl >/dev/null || { not_ok "openssl is installed"; finish; }
BUILDDIR=${BUILDDIR:-$(dirname "$EDGELAB")}
TURNC=$BUILDDIR/tests/tools/turnc
NICE=$BUILDDIR/tests/interop/nice_relay

"$EDGELAB" pki --out "$TMP/pki" -q --key-type ec
TLS=$(free_port)
UDP=$(free_port)
TCP=$(free_port)
AV=$(free_port)
CTL=$TMP/control.sock
LOG=$TMP/serve.log
cat >"$TMP/edge.conf" <<CONF
workers 1
sip_tls_listen 127.0.0.1:$TLS
sip_mtls_listen off
tls_certificate $TMP/pki/edge.pem
tls_key $TMP/pki/edge.key
tls_ca $TMP/pki/ca.pem
sip_user alice s3cret
stun_udp_listen 127.0.0.1:$UDP
stun_tcp_listen 127.0.0.1:$TCP
msturn_tls_listen 127.0.0.1:$AV
turn_realm edgelab
mras_secret lab-secret
mras_duration 60
allow_loopback_peers yes
control_socket $CTL
CONF
serve_start "$TMP/edge.conf" "$LOG" || { not_ok "serve starts"; finish; }

# service [EXTRA-HEADERS] [BODY]: SERVICE to the edge's domain over TLS,
# answer in $TMP/s.out.
service() {
	body=${2-}
	{
		printf 'SERVICE sip:edge.example SIP/2.0\r\nVia: SIP/2.0/TLS 127.0.0.1:5;branch=z9hG4bKm%s\r\n' "$$"
		printf 'Max-Forwards: 70\r\nFrom: <sip:alice@edge.example>;tag=1\r\nTo: <sip:edge.example>\r\n'
		printf 'Call-ID: m%s@test\r\nCSeq: 1 SERVICE\r\n%b' "$$" "${1-}"
		printf 'Content-Length: %s\r\n\r\n%s' "${#body}" "$body"
		sleep 1
	} | timeout 10 openssl s_client -connect 127.0.0.1:"$TLS" -CAfile "$TMP/pki/ca.pem" \
		-verify_return_error -quiet >"$TMP/s.out" 2>&1
	tr -d '\r' <"$TMP/s.out" | sed 's/^/# < /' | cut -c1-200 | head -n 12
}
status_is() { grep -q "^SIP/2.0 $1" "$TMP/s.out"; }
md5() { printf '%s' "$1" | md5sum | cut -d' ' -f1; }
CT='Content-Type: application/msrtc-media-relay-auth+xml\r\n'
BODY='<request requestID="3757984" version="2.0" to="sip:edge.example" from="sip:alice@edge.example"><credentialsRequest credentialsRequestID="3757985"><identity>sip:alice@edge.example</identity><location>internet</location><duration>480</duration></credentialsRequest></request>'

service "" "$BODY"
check "SERVICE without MRAS's content type: 415 saying which" \
	sh -c 'grep -q "^SIP/2.0 415" "$0" && grep -q "^Accept: application/msrtc-media-relay-auth+xml" "$0"' "$TMP/s.out"
service "$CT" "$BODY"
check "SERVICE without credentials: 401 with a Digest challenge" status_is 401
nonce=$(sed -n 's/.*nonce="\([^"]*\)".*/\1/p' "$TMP/s.out" | head -n 1)
resp=$(md5 "$(md5 alice:edge.example:s3cret):$nonce:$(md5 SERVICE:sip:edge.example)")
AUTH="Authorization: Digest username=\"alice\", realm=\"edge.example\", nonce=\"$nonce\", uri=\"sip:edge.example\", response=\"$resp\", algorithm=MD5\r\n"
service "$CT$AUTH" '<request requestID="1"><nothing/></request>'
check "an MRAS body without a credentialsRequest: 400" status_is 400
service "$CT$AUTH" "$BODY"
check "SERVICE with Digest: 200 with MRAS's content type" \
	sh -c 'grep -q "^SIP/2.0 200 OK" "$0" && grep -q "^Content-Type: application/msrtc-media-relay-auth+xml" "$0"' "$TMP/s.out"
xml=$(tr -d '\r\n' <"$TMP/s.out" | sed -n 's/.*\(<response .*<\/response>\).*/\1/p')
field() { echo "$xml" | sed -n "s/.*<$1>\([^<]*\)<\/$1>.*/\1/p"; }
check "... the request ids are echoed" sh -c 'echo "$0" | grep -q "requestID=\"3757984\".*credentialsRequestID=\"3757985\""' "$xml"
check "... the duration is mras_duration, the lower of it and the 480 asked ($(field duration))" [ "$(field duration)" = 60 ]
check "... the relay is the edge's FQDN with its UDP port and its pseudo-TLS port" \
	[ "$(field hostName) $(field udpPort) $(field tcpPort) $(field location)" = "sip.edge.example $UDP $AV internet" ]
user=$(field username | base64 -d)
pass=$(field password | base64 -d)
echo "# username $user"
check "... the username is a signed token for alice" sh -c 'echo "$0" | grep -Eq "^mras1:[0-9]+:[0-9a-f]{16}:[0-9a-f]{40}$"' "$user"
want=$(printf '%s' "$user" | openssl dgst -sha256 -hmac lab-secret -binary | base64)
check "... the password is base64(HMAC-SHA256(mras_secret, username)) (openssl)" [ "$pass" = "$want" ]
check "... and the edge logs what it issued" grep -q "MRAS credentials for sip:alice@edge.example, 60 minutes" "$LOG"

# The relay takes them, in RFC 5389's dialect (turnc) and MS-TURN's (libnice).
timeout 20 "$TURNC" -s 127.0.0.1:"$UDP" -u "$user" -p "$pass" alloc >"$TMP/out" 2>&1
sed 's/^/# turnc: /' "$TMP/out"
check "turnc allocates with the MRAS credentials (401, then 200)" grep -q "^alloc 401 200" "$TMP/out"
other=$("$EDGELAB" mras --secret another-secret --identity sip:alice@edge.example)
ou=$(echo "$other" | sed -n 's/^username //p')
op=$(echo "$other" | sed -n 's/^password //p')
timeout 20 "$TURNC" -s 127.0.0.1:"$UDP" -u "$ou" -p "$op" alloc >"$TMP/out" 2>&1
sed 's/^/# turnc: /' "$TMP/out"
check "credentials signed with another secret are refused (436/401)" grep -Eq "^alloc 401 (401|436)" "$TMP/out"
tampered=$(echo "$user" | sed 's/:\([0-9]*\):/:9\1:/')
timeout 20 "$TURNC" -s 127.0.0.1:"$UDP" -u "$tampered" -p "$pass" alloc >"$TMP/out" 2>&1
check "a username with a changed expiry is refused" grep -Eq "^alloc 401 (401|436)" "$TMP/out"
mine=$("$EDGELAB" mras --config "$TMP/edge.conf" --identity sip:bob@edge.example)
mu=$(echo "$mine" | sed -n 's/^username //p')
mp=$(echo "$mine" | sed -n 's/^password //p')
timeout 20 "$TURNC" -s 127.0.0.1:"$UDP" -u "$mu" -p "$mp" alloc >"$TMP/out" 2>&1
check "edgelab mras --config issues credentials the edge takes" grep -q "^alloc 401 200" "$TMP/out"

if [ -x "$NICE" ]; then
	for run in udp:$UDP tls:$AV; do
		timeout 60 "$NICE" --server 127.0.0.1:"${run#*:}" --user "$user" --pass "$pass" \
			--compat oc2007r2 --relay "${run%%:*}" --timeout 10 --count 20 >"$TMP/nice.out" 2>&1
		rc=$?
		sed 's/^/# /' "$TMP/nice.out" | tail -n 3
		check "libnice (OC2007R2, MS-TURN over ${run%%:*}) with the MRAS credentials: READY, data through the relay" [ "$rc" -eq 0 ]
	done
elif [ "${CI:-}" = true ]; then
	not_ok "tests/interop/nice_relay is built (CI installs libnice-dev)"
else
	echo "# SKIP libnice runs: tests/interop/nice_relay not built (no libnice-dev)"
fi

serve_stop
check "SIGTERM stops edgelab with status 0" [ "$?" -eq 0 ]
finish
