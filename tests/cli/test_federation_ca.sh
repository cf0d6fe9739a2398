#!/bin/sh
# tls_federation_ca on loopback: two lab PKIs, ours (the edge, its
# controller) and theirs (the partner's company). With tls_federation_ca
# naming their CA, their partner certificate is accepted on 5061 (row 1) and
# their partner's server is trusted when the edge connects out (row 2),
# while a partner certificate from our own CA (tls_ca) is refused both ways;
# the control API's HTTPS clients are still checked against tls_ca. After a
# reload without the key (auto: tls_ca), the other way round.
set -u
. "$(dirname "$0")/../lib.sh"
skip_slow "about 30 s"
for t in curl openssl; do command -v "$t" >/dev/null || skip_all "needs $t"; done

OURS=$TMP/ours
THEIRS=$TMP/theirs
pki_sets "$OURS" "$THEIRS" || finish
MTLS=$(free_port)
PARTNER=$(free_port)
HP=$(free_port)
CTL=$TMP/control.sock
control_conf "$OURS" "$CTL" "$HP" "control_client probe.lab" "sip_mtls_listen 127.0.0.1:$MTLS" \
	"sip_partner_keepalive 0" "federation_partner partner.example 127.0.0.1:$PARTNER" |
	grep -v "^sip_mtls_listen off" >"$TMP/base.conf"
{ cat "$TMP/base.conf"; echo "tls_federation_ca $THEIRS/ca.pem"; } >"$TMP/edge.conf"
serve_start "$TMP/edge.conf" || { not_ok "serve starts"; finish; }

# row N PKI: the probe as PKI's partner (our CA checks the edge's certificate).
row() {
	"$EDGELAB" probe --edge 127.0.0.1 --sip-mtls-port "$MTLS" --pki "$OURS" \
		--cert "$2/partner.pem" --key "$2/partner.key" --rows "$1" --partner-port "$PARTNER" \
		--control "$CTL" -t 3 --format json >"$TMP/probe.json" 2>&1
	sed "s/^/# row $1 as $(basename "$2"): /" "$TMP/probe.json"
}
verdict() { grep -q "\"row\": $1,.*\"verdict\": \"$2\"" "$TMP/probe.json"; }
# https PKI: the status of GET /metrics with PKI's controller certificate.
https() {
	curl -s -o /dev/null --max-time 5 --cacert "$OURS/ca.pem" \
		--resolve "sip.edge.example:$HP:127.0.0.1" --cert "$1/controller.pem" \
		--key "$1/controller.key" -w "%{http_code}" "https://sip.edge.example:$HP/metrics"
}
refused() { metric "$CTL" "edgelab_sip_refused_total{listener=\"mtls\",reason=\"handshake\"}"; }

row 1 "$THEIRS"
check "tls_federation_ca names their CA: their partner certificate is accepted on 5061" verdict 1 PASS
row 1 "$OURS"
check "... a partner certificate from tls_ca's CA is refused" verdict 1 FAILED
check "... in the handshake, counted" [ "$(refused)" -eq 1 ]
check "... logged with the verify error" grep -Eq "refused: TLS handshake failed: certificate verify failed: (self-signed certificate in certificate chain|unable to get local issuer certificate)$" "$TMP/serve.log"
row 2 "$THEIRS"
check "row 2: the edge trusts their partner's server" verdict 2 PASS
row 2 "$OURS"
check "... and not a server with a certificate from tls_ca's CA" verdict 2 FAILED
check "... the edge says why" wait_for 3 grep -Eq "row 2: TCP up, but the TLS handshake with 127.0.0.1:$PARTNER failed: certificate verify failed: (self-signed certificate in certificate chain|unable to get local issuer certificate)$" "$TMP/serve.log"
check "the control API still takes our controller (tls_ca)" [ "$(https "$OURS")" = 200 ]
check "... and not theirs" [ "$(https "$THEIRS")" = 403 ]

# Without the key (auto): partners chain to tls_ca again.
cp "$TMP/base.conf" "$TMP/edge.conf"
kill -HUP "$SERVE_PID"
reloaded() { [ "$(metric "$CTL" 'edgelab_config_reloads_total{result="ok"}')" -eq 1 ]; }
check "a reload without tls_federation_ca takes" wait_for 5 reloaded
row 1 "$OURS"
check "auto: a partner certificate from tls_ca's CA is accepted" verdict 1 PASS
row 1 "$THEIRS"
check "... and theirs refused" verdict 1 FAILED
row 2 "$OURS"
check "... row 2 trusts a server from tls_ca's CA" verdict 2 PASS

check "serve stops cleanly (exit 0)" serve_stop
check "... the sanitizers found nothing" sh -c '! grep -q Sanitizer "$0"' "$TMP/serve.log"
[ "$n_fail" -eq 0 ] || sed "s/^/# serve: /" "$TMP/serve.log"
finish
