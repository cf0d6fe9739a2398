#!/bin/sh
# shellcheck disable=SC2016,SC2317 # sh -c scripts take "$1"; helpers run through check
# edgelab pki: the files, their SANs/EKUs/modes, the CLI's exit statuses, and
# real TLS handshakes (openssl s_server/s_client on loopback) with them.
# Needs EDGELAB (the binary) and the openssl command; skips (77) without it.
set -u

: "${EDGELAB:?EDGELAB must name the edgelab binary}"
command -v openssl >/dev/null 2>&1 || { echo "SKIP: no openssl command"; exit 77; }

T=$(mktemp -d "${TMPDIR:-/tmp}/edgelab-pki.XXXXXX") || exit 1
SRV_PID=

cleanup() {
	if [ -n "$SRV_PID" ]; then
		kill "$SRV_PID" 2>/dev/null
		wait "$SRV_PID" 2>/dev/null
	fi
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

n=0
fails=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; }
# check DESCRIPTION COMMAND...: ok when the command succeeds.
check() {
	d=$1
	shift
	if "$@"; then ok "$d"; else notok "$d"; fi
}
# status WANT DESCRIPTION COMMAND...: ok when the command exits with WANT;
# its stdout/stderr are kept in $T/out and $T/err.
status() {
	want=$1
	d=$2
	shift 2
	"$@" >"$T/out" 2>"$T/err"
	got=$?
	if [ "$got" -eq "$want" ]; then
		ok "$d"
	else
		notok "$d (exit $got, want $want)"
		sed 's/^/# /' "$T/err"
	fi
}
has() { grep -qF -- "$2" "$1"; }
lacks() { ! grep -qF -- "$2" "$1"; }
ext() { openssl x509 -in "$1" -noout -ext "$2" 2>/dev/null; }
ext_has() { ext "$1" "$2" | grep -qF -- "$3"; }
mode_is() { [ "$(stat -c %a "$1")" = "$2" ]; }
sum() { cksum <"$1"; }
# The public key of a certificate, of a key file, and of the key in a bundle
# (openssl pkey reads the first key in a file, skipping the certificate).
pub_cert() { openssl x509 -in "$1" -noout -pubkey; }
pub_key() { openssl pkey -in "$1" -pubout; }
key_matches() { [ -n "$(pub_cert "$1")" ] && [ "$(pub_cert "$1")" = "$(pub_key "$2")" ]; }

A=$T/a
B=$T/b
C=$T/c

# --- a lab set with the defaults (RSA) -------------------------------------
status 0 "pki writes a lab set" "$EDGELAB" pki --out "$A"
if [ ! -s "$A/ca.pem" ]; then
	echo "Bail out! the first lab set was not written; nothing else can be checked"
	sed 's/^/# /' "$T/err"
	exit 1
fi
check "no diagnostics on success" test ! -s "$T/err"
check "summary names the edge bundle and its SANs" \
	has "$T/out" "$A/edge-bundle.pem"
check "summary lists the edge SANs" has "$T/out" "DNS:sip.edge.example, DNS:edge.example"
for f in ca.pem ca.key edge.pem edge.key edge-bundle.pem partner.pem partner.key \
	partner-bundle.pem client.pem client.key client-bundle.pem controller.pem controller.key; do
	check "$f written" test -s "$A/$f"
done
check "no controller bundle" test ! -e "$A/controller-bundle.pem"
check "controller.key is mode 600" mode_is "$A/controller.key" 600
check "ca.key, edge.key, partner.key, client.key and bundles are mode 600" \
	sh -c 'for f in "$@"; do [ "$(stat -c %a "$f")" = 600 ] || exit 1; done' sh \
	"$A/ca.key" "$A/edge.key" "$A/partner.key" "$A/client.key" \
	"$A/edge-bundle.pem" "$A/partner-bundle.pem" "$A/client-bundle.pem"
check "certificates are mode 644" mode_is "$A/edge.pem" 644
status 0 "openssl verify: edge, partner, client, controller against ca.pem" \
	openssl verify -CAfile "$A/ca.pem" "$A/edge.pem" "$A/partner.pem" "$A/client.pem" \
	"$A/controller.pem"
check "verify printed OK for all four" test "$(grep -c ': OK$' "$T/out")" -eq 4

# --- extensions -------------------------------------------------------------
check "CA: basicConstraints critical CA:TRUE" \
	sh -c 'openssl x509 -in "$1" -noout -ext basicConstraints | tr -d "\n" |
		grep -q "critical.*CA:TRUE"' sh "$A/ca.pem"
check "CA: keyUsage keyCertSign, cRLSign" ext_has "$A/ca.pem" keyUsage "Certificate Sign, CRL Sign"
check "CA: subject key identifier" ext_has "$A/ca.pem" subjectKeyIdentifier ":"
check "CA: authority key identifier" ext_has "$A/ca.pem" authorityKeyIdentifier ":"
check "edge SANs" ext_has "$A/edge.pem" subjectAltName "DNS:sip.edge.example, DNS:edge.example"
check "partner SANs" ext_has "$A/partner.pem" subjectAltName \
	"DNS:sip.partner.example, DNS:partner.example"
check "client SAN URI" ext_has "$A/client.pem" subjectAltName "URI:sip:alice@edge.example"
check "client CN is user@domain" \
	sh -c 'openssl x509 -in "$1" -noout -subject | grep -qF "CN = alice@edge.example"' sh \
	"$A/client.pem"
for r in edge partner; do
	check "$r EKU serverAuth+clientAuth" ext_has "$A/$r.pem" extendedKeyUsage \
		"TLS Web Server Authentication, TLS Web Client Authentication"
	check "$r not a CA" ext_has "$A/$r.pem" basicConstraints "CA:FALSE"
	check "$r keyUsage digitalSignature, keyEncipherment (RSA)" ext_has "$A/$r.pem" keyUsage \
		"Digital Signature, Key Encipherment"
done
check "client EKU clientAuth" ext_has "$A/client.pem" extendedKeyUsage "TLS Web Client Authentication"
check "client EKU has no serverAuth" \
	sh -c '! openssl x509 -in "$1" -noout -ext extendedKeyUsage | grep -q Server' sh \
	"$A/client.pem"
check "client not a CA" ext_has "$A/client.pem" basicConstraints "CA:FALSE"
check "controller SAN DNS:probe.lab (control_client probe.lab)" \
	ext_has "$A/controller.pem" subjectAltName "DNS:probe.lab"
check "controller EKU clientAuth only" sh -c '
	e=$(openssl x509 -in "$1" -noout -ext extendedKeyUsage)
	echo "$e" | grep -q "TLS Web Client Authentication" && ! echo "$e" | grep -q Server' \
	sh "$A/controller.pem"
check "controller not a CA" ext_has "$A/controller.pem" basicConstraints "CA:FALSE"
check "RSA 2048 by default" \
	sh -c 'openssl pkey -in "$1" -noout -text | grep -q "2048 bit"' sh "$A/edge.key"
for r in ca edge partner client controller; do
	check "$r.key matches $r.pem" key_matches "$A/$r.pem" "$A/$r.key"
done
for r in edge partner client; do
	check "$r-bundle.pem holds $r.pem and its key" \
		sh -c 'head -c "$(wc -c <"$1")" "$2" | cmp -s - "$1"' sh "$A/$r.pem" "$A/$r-bundle.pem"
	check "$r-bundle.pem key matches" key_matches "$A/$r.pem" "$A/$r-bundle.pem"
done
check "serial numbers differ" test "$(for r in ca edge partner client controller; do
	openssl x509 -in "$A/$r.pem" -noout -serial; done | sort -u | wc -l)" -eq 5
now=$(date +%s)
start=$(date -d "$(openssl x509 -in "$A/edge.pem" -noout -startdate | cut -d= -f2)" +%s)
check "notBefore is now - 1 h" test $((now - 3600 - start)) -ge -120 -a $((now - 3600 - start)) -le 120
check "valid for 824 more days" \
	sh -c 'openssl x509 -in "$1" -noout -checkend $((824 * 86400)) >/dev/null' sh "$A/edge.pem"
check "not valid for 826 more days" \
	sh -c '! openssl x509 -in "$1" -noout -checkend $((826 * 86400)) >/dev/null' sh "$A/edge.pem"

# --- overwrite protection ----------------------------------------------------
before=$(sum "$A/ca.pem")
status 1 "a second run into the same directory fails" "$EDGELAB" pki --out "$A"
check "the message names the file" has "$T/err" "$A/ca.pem exists"
check "nothing was replaced" test "$(sum "$A/ca.pem")" = "$before"
check "no temporary files left" test "$(find "$A" -type f | wc -l)" -eq 13
status 0 "--force replaces the set" "$EDGELAB" pki --out "$A" --force -q
check "--quiet prints nothing" test ! -s "$T/out"
check "ca.pem was replaced" test "$(sum "$A/ca.pem")" != "$before"
check "keys still mode 600 after --force" mode_is "$A/edge.key" 600
status 0 "the replaced set verifies" \
	openssl verify -CAfile "$A/ca.pem" "$A/edge.pem" "$A/partner.pem" "$A/client.pem"

# --- another CA (EC), and a trusted certificate for a non-partner domain ----
status 0 "a second lab set (EC P-256) in another directory" \
	"$EDGELAB" pki --out "$B" --key-type ec --days 30
check "EC P-256 keys" sh -c 'openssl pkey -in "$1" -noout -text | grep -q "prime256v1\|P-256"' \
	sh "$B/edge.key"
check "EC leaf keyUsage digitalSignature only" \
	sh -c 'openssl x509 -in "$1" -noout -ext keyUsage | tail -n1 | grep -qx " *Digital Signature"' \
	sh "$B/edge.pem"
check "EC edge.key matches" key_matches "$B/edge.pem" "$B/edge.key"
status 0 "the second set verifies against its own CA" \
	openssl verify -CAfile "$B/ca.pem" "$B/edge.pem" "$B/partner.pem" "$B/client.pem"
for r in edge partner client controller; do
	check "$r.pem of the second set does not verify against the first CA" \
		sh -c '! openssl verify -CAfile "$1" "$2" >/dev/null 2>&1' sh "$A/ca.pem" "$B/$r.pem"
done
check "the two CAs have different names" test "$(openssl x509 -in "$A/ca.pem" -noout -subject)" \
	!= "$(openssl x509 -in "$B/ca.pem" -noout -subject)"

status 0 "--ca-dir issues from an existing CA" "$EDGELAB" pki --out "$C" --ca-dir "$A" \
	--partner-domain evil.example --sip-domain contoso.example \
	--edge-fqdn access.contoso.example --client-user bob.smith
check "--ca-dir: ca.pem copied" cmp -s "$A/ca.pem" "$C/ca.pem"
check "--ca-dir: the CA key is not copied" test ! -e "$C/ca.key"
status 0 "--ca-dir: the set verifies against the first CA" \
	openssl verify -CAfile "$A/ca.pem" "$C/edge.pem" "$C/partner.pem" "$C/client.pem" \
	"$C/controller.pem"
check "non-partner SANs" ext_has "$C/partner.pem" subjectAltName \
	"DNS:sip.evil.example, DNS:evil.example"
check "non-partner cert has no partner.example name" \
	sh -c '! openssl x509 -in "$1" -noout -ext subjectAltName | grep -q "partner.example"' sh \
	"$C/partner.pem"
check "edge FQDN, SIP domain and sip.<domain>" ext_has "$C/edge.pem" subjectAltName \
	"DNS:access.contoso.example, DNS:contoso.example, DNS:sip.contoso.example"
check "client URI follows --client-user and --sip-domain" ext_has "$C/client.pem" subjectAltName \
	"URI:sip:bob.smith@contoso.example"
ca_before=$(sum "$A/ca.pem")
key_before=$(sum "$A/ca.key")
status 1 "--ca-dir into the CA's own directory, no --force: refused" \
	"$EDGELAB" pki --out "$A" --ca-dir "$A"
check "the refusal names a leaf, not the CA's own ca.pem" has "$T/err" "$A/edge.pem exists"
status 0 "--ca-dir into the CA's own directory with --force" \
	"$EDGELAB" pki --out "$A" --ca-dir "$A" --force
check "ca.pem and ca.key kept" test "$(sum "$A/ca.pem")$(sum "$A/ca.key")" = "$ca_before$key_before"
status 0 "the reissued leaves verify against the kept CA" \
	openssl verify -CAfile "$A/ca.pem" "$A/edge.pem" "$A/partner.pem" "$A/client.pem"
status 1 "--ca-dir without a CA key fails" "$EDGELAB" pki --out "$T/d" --ca-dir "$C"
check "the message names the missing key" has "$T/err" "$C/ca.key"

# --- usage errors --------------------------------------------------------------
status 0 "--help" "$EDGELAB" pki --help
check "--help shows usage" has "$T/out" "usage: edgelab pki"
status 2 "unknown option" "$EDGELAB" pki --bogus
status 2 "--days 0" "$EDGELAB" pki --out "$T/u" --days 0
status 2 "--days not a number" "$EDGELAB" pki --out "$T/u" --days 12x
status 2 "--key-type dsa" "$EDGELAB" pki --out "$T/u" --key-type dsa
status 2 "--sip-domain with a space" "$EDGELAB" pki --out "$T/u" --sip-domain "bad domain"
check "the message names the bad value" has "$T/err" "bad domain"
status 2 "--edge-fqdn with a comma" "$EDGELAB" pki --out "$T/u" --edge-fqdn "a.example,DNS:b"
status 2 "--partner-fqdn that is an IP address" "$EDGELAB" pki --out "$T/u" --partner-fqdn 10.0.0.1
status 2 "--client-user with an @" "$EDGELAB" pki --out "$T/u" --client-user "a@b"
status 2 "a missing option argument" "$EDGELAB" pki --out
status 2 "a stray argument" "$EDGELAB" pki --out "$T/u" extra
check "usage errors wrote nothing" test ! -e "$T/u"
status 1 "an output path that is a file" "$EDGELAB" pki --out "$A/ca.pem"

# --- TLS handshakes with the certificates ----------------------------------
# tls_server CERT KEY: s_server on a random free loopback port, requiring a
# client certificate from A's CA (-verify_return_error: a bad one ends the
# handshake, not just a log line). Sets SRV_PID and PORT.
tls_server() {
	tries=0
	while [ "$tries" -lt 10 ]; do
		tries=$((tries + 1))
		PORT=$((20000 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 40000))
		: >"$T/srv.log"
		timeout 60 openssl s_server -cert "$1" -key "$2" -CAfile "$A/ca.pem" -Verify 1 \
			-verify_return_error -accept "127.0.0.1:$PORT" -www </dev/null \
			>"$T/srv.log" 2>&1 &
		SRV_PID=$!
		i=0
		while [ "$i" -lt 50 ]; do
			grep -q '^ACCEPT' "$T/srv.log" && return 0
			kill -0 "$SRV_PID" 2>/dev/null || break
			sleep 0.1
			i=$((i + 1))
		done
		tls_server_stop
	done
	return 1
}
tls_server_stop() {
	[ -n "$SRV_PID" ] || return 0
	kill "$SRV_PID" 2>/dev/null
	wait "$SRV_PID" 2>/dev/null
	SRV_PID=
}
# tls_client NAME CERT KEY [s_client options]: output in $T/cli.log.
tls_client() {
	name=$1
	cert=$2
	key=$3
	shift 3
	timeout 10 openssl s_client -connect "127.0.0.1:$PORT" -cert "$cert" -key "$key" \
		-CAfile "$A/ca.pem" -verify_hostname "$name" -verify_return_error "$@" \
		</dev/null >"$T/cli.log" 2>&1
}
# Waits up to 5 s for the server log to show STRING.
srv_log_has() {
	i=0
	while [ "$i" -lt 50 ]; do
		grep -qF -- "$1" "$T/srv.log" && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

if tls_server "$A/edge.pem" "$A/edge.key"; then
	ok "s_server with edge.pem listening on 127.0.0.1:$PORT"
	check "partner -> edge (row 1): MTLS handshake" \
		tls_client sip.edge.example "$A/partner.pem" "$A/partner.key"
	check "partner -> edge: Verify return code: 0" has "$T/cli.log" "Verify return code: 0 (ok)"
	check "edge saw the partner's certificate and verified it" \
		srv_log_has "depth=0 CN = sip.partner.example"
	check "edge found no fault in the partner's certificate" lacks "$T/srv.log" "verify error"
	check "client -> edge (row 3) with a client certificate" \
		tls_client edge.example "$A/client.pem" "$A/client.key"
	check "client -> edge: Verify return code: 0" has "$T/cli.log" "Verify return code: 0 (ok)"
	check "edge saw the client's certificate" srv_log_has "depth=0 CN = alice@edge.example"
	if tls_client sip.other.example "$A/partner.pem" "$A/partner.key"; then
		notok "a host name not in the edge's SANs is refused"
	else
		ok "a host name not in the edge's SANs is refused"
		check "refused for the host name" has "$T/cli.log" "hostname mismatch"
	fi
	# TLS 1.2: the server's verdict on the client certificate ends the
	# handshake that s_client sees (in 1.3 it comes after s_client is done).
	if tls_client sip.edge.example "$B/partner.pem" "$B/partner.key" -tls1_2; then
		notok "a partner certificate from another CA is refused"
	else
		ok "a partner certificate from another CA is refused"
	fi
	check "edge logged the failed verification" srv_log_has "certificate verify failed"
	tls_server_stop
else
	notok "s_server with edge.pem did not start"
	sed 's/^/# /' "$T/srv.log"
fi

if tls_server "$A/partner.pem" "$A/partner.key"; then
	ok "s_server with partner.pem listening on 127.0.0.1:$PORT"
	check "edge -> partner (row 2): MTLS handshake" \
		tls_client sip.partner.example "$A/edge.pem" "$A/edge.key"
	check "edge -> partner: Verify return code: 0" has "$T/cli.log" "Verify return code: 0 (ok)"
	check "partner saw the edge's certificate" srv_log_has "depth=0 CN = sip.edge.example"
	tls_server_stop
else
	notok "s_server with partner.pem did not start"
	sed 's/^/# /' "$T/srv.log"
fi

echo "1..$n"
if [ "$fails" -ne 0 ]; then
	echo "# $fails of $n failed"
	exit 1
fi
exit 0
