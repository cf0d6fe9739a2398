#!/bin/sh
# Federation by DNS through the real path: edgelab serve with dns_server on
# loopback, partners with no HOST (or a HOST that is a name), row 2 on
# demand (POST /rows/2) and each way its lookup can end, read in the flow's
# record (GET /flows/ID): a working SRV and a HOST name (the probe answers:
# PASS), NXDOMAIN, no SRV record, REFUSED (dnsmasq), SERVFAIL and a server
# that never answers (tests/tools/dns_fake.py), an SRV target whose
# certificate names another host (tls-failed naming both); the probe's
# verdict on a failed lookup; a request for such a partner gets 503.
# And the SIP loop stays free while a lookup hangs: 20 OPTIONS round trips
# on 443 and 20 on 5061 all get their 200 while that flow is still pending
# (with the blocking lookup of old, POST /rows/2 itself took the 2 s and
# answered 503). A reload to another dns_server moves the lookups under
# way; serve stops cleanly with one in flight.
set -u
. "$(dirname "$0")/../lib.sh"
skip_slow "about 20 s"
for t in dnsmasq openssl python3 curl; do
	command -v "$t" >/dev/null && continue
	[ "$(id -u)" -ne 0 ] || { not_ok "$t is installed (scripts/install-deps.sh)"; finish; }
	skip_all "needs $t"
done
TOOLS=$SRCDIR/tests/tools

pki_sets "$TMP/pki" || finish
DNS=$(free_port)
PROBE=$(free_port)  # the probe plays sip.partner.example here
WRONG=$(free_port)  # openssl s_server: a certificate for partner.example, not sip.wrong.example
dnsmasq -k --conf-file=/dev/null --no-resolv --no-hosts --bind-interfaces \
	--listen-address=127.0.0.1 --port="$DNS" --pid-file="$TMP/dnsmasq.pid" --local=/example/ \
	$( [ "$(id -u)" -eq 0 ] && echo --user=root ) \
	--srv-host=_sipfederationtls._tcp.good.example,sip.partner.example,"$PROBE",10,50 \
	--host-record=sip.partner.example,127.0.0.1 \
	--txt-record=_sipfederationtls._tcp.nodata.example,"no SRV here" \
	--srv-host=_sipfederationtls._tcp.wrong.example,sip.wrong.example,"$WRONG" \
	--host-record=sip.wrong.example,127.0.0.1 2>"$TMP/dnsmasq.log" &
at_exit "kill -9 $!"
openssl s_server -quiet -accept 127.0.0.1:"$WRONG" -cert "$TMP/pki/partner.pem" \
	-key "$TMP/pki/partner.key" </dev/null >/dev/null 2>&1 &
at_exit "kill $!"
check "dnsmasq answers" wait_for 5 sh -c 'ss -Hlun "( sport = :$0 )" | grep -q .' "$DNS"

# edge_conf TLS MTLS SOCKET DNS PARTNER...: a SIP edge asking DNS.
edge_conf() {
	printf '%s\n' "stun_udp_listen off" "stun_tcp_listen off" "workers 1" \
		"sip_tls_listen 127.0.0.1:$1" "sip_mtls_listen 127.0.0.1:$2" "control_socket $3" \
		"dns_server 127.0.0.1:$4" "sip_partner_keepalive 0" \
		"tls_certificate $TMP/pki/edge.pem" "tls_key $TMP/pki/edge.key" "tls_ca $TMP/pki/ca.pem"
	shift 4
	for p; do echo "federation_partner $p"; done
}
TLS=$(free_port)
CTL=$TMP/control.sock
edge_conf "$TLS" "$(free_port)" "$CTL" "$DNS" good.example nx.example nodata.example \
	refused.invalid wrong.example "byname.example sip.partner.example:$PROBE" \
	"ghost.example sip.ghost.example" msg.example >"$TMP/edge.conf"
serve_start "$TMP/edge.conf" || { not_ok "serve starts"; finish; }
EDGE1=$SERVE_PID

# row2 CTL NAME DOMAIN: POST /rows/2 for DOMAIN; the record, once ended, in
# $TMP/rec.NAME (empty when the trigger was not 202).
row2() {
	: >"$TMP/rec.$2"
	curl -s -D "$TMP/hdr.$2" -o "$TMP/body.$2" --max-time 5 -X POST --unix-socket "$1" \
		"http://e/rows/2?partner=$3"
	loc=$(sed -n 's#^Location: \(/flows/[0-9]*\)\r*$#\1#p' "$TMP/hdr.$2")
	[ -n "$loc" ] || return 0
	curl -s --max-time 10 --unix-socket "$1" "http://e$loc?wait=8000" >"$TMP/rec.$2"
	sed "s/^/# $2: /" "$TMP/rec.$2"
}
# has NAME LINE...: the record has every line; like NAME PATTERN: a line matches.
has() {
	rec=$TMP/rec.$1
	shift
	for l in "$@"; do grep -qx -- "$l" "$rec" || return 1; done
}
like() { grep -q -- "$2" "$TMP/rec.$1"; }

srv() { echo "_sipfederationtls._tcp.$1"; }
row2 "$CTL" nx nx.example
check "NXDOMAIN: outcome dns, the name looked up, detail nxdomain:" has nx "outcome: dns" \
	"dns-name: $(srv nx.example)" \
	"detail: nxdomain: SRV $(srv nx.example): no such name (NXDOMAIN from 127.0.0.1:$DNS)"
check "... and no target: the edge never had an address" sh -c '! grep -q "^target:" "$0"' "$TMP/rec.nx"
row2 "$CTL" nodata nodata.example
check "a name without an SRV record: dns, nodata:" has nodata "outcome: dns" \
	"detail: nodata: SRV $(srv nodata.example): no such record at 127.0.0.1:$DNS"
row2 "$CTL" refused refused.invalid
check "REFUSED: dns, refused:" has refused "outcome: dns" \
	"detail: refused: SRV $(srv refused.invalid): 127.0.0.1:$DNS answered REFUSED"
row2 "$CTL" ghost ghost.example
check "a HOST name that does not exist: dns, the HOST's A lookup" has ghost "outcome: dns" \
	"dns-name: sip.ghost.example"
check "... nxdomain:" like ghost "^detail: nxdomain: A\{1,4\} sip.ghost.example: no such name"
row2 "$CTL" wrong wrong.example
check "an SRV target whose certificate names another host: tls-failed" has wrong \
	"outcome: tls-failed" "target: 127.0.0.1:$WRONG"
check "... naming what it names and what was expected" like wrong \
	"^detail: TCP up, but the TLS handshake with 127.0.0.1:$WRONG failed: certificate verify failed: certificate names sip.partner.example, partner.example; expected sip.wrong.example (the SRV target)$"

probe() {
	"$EDGELAB" probe --edge 127.0.0.1 --pki "$TMP/pki" -t 3 --format json --rows 2 \
		--control "$CTL" "$@" >"$TMP/probe.json" 2>&1
	sed 's/^/# probe: /' "$TMP/probe.json"
}
probe --partner-port "$PROBE" --partner-domain good.example
check "a working SRV: the edge reaches the probe at the SRV target, row 2 PASS" \
	grep -q '"row": 2,.*"verdict": "PASS"' "$TMP/probe.json"
check "... expecting the SRV target's name" \
	grep -q "connecting out, expecting sip.partner.example (the SRV target)" "$TMP/serve.log"
probe --partner-port "$PROBE" --partner-domain byname.example
check "a HOST name, looked up (A/AAAA): row 2 PASS" \
	grep -q '"row": 2,.*"verdict": "PASS"' "$TMP/probe.json"
check "... expecting the HOST's name" \
	grep -q "connecting out, expecting sip.partner.example (the partner's HOST)" "$TMP/serve.log"
probe --partner-port "$(free_port)" --partner-domain nx.example
check "the probe's verdict on a failed lookup: FAILED, saying which lookup and why" \
	grep -q "\"verdict\": \"FAILED\", \"detail\": \"the edge's DNS lookup of $(srv nx.example) failed: NXDOMAIN (no such domain)" "$TMP/probe.json"

"$TOOLS/sip_client.py" "$TLS" --ca "$TMP/pki/ca.pem" message sip:bob@msg.example >"$TMP/msg.out" 2>&1
sed 's/^/# MESSAGE: /' "$TMP/msg.out"
check "a MESSAGE for a partner whose lookup fails: 503, saying DNS" \
	grep -qx "SIP/2.0 503 Service Unavailable (partner not found in DNS)" "$TMP/msg.out"
check "... and the connection's end is logged with the lookup's reason" \
	grep -q "sip mtls #[0-9]* $(srv msg.example): closed: SRV $(srv msg.example): no such name" "$TMP/serve.log"

# A second edge asks a server that answers SERVFAIL for names with
# "servfail" and nothing at all for the rest.
FAKE=$(free_port)
python3 "$TOOLS/dns_fake.py" "$FAKE" "$TMP/fake.log" 2>"$TMP/fake.err" &
at_exit "kill $!"
check "the fake DNS server is up" wait_for 5 sh -c 'ss -Hlun "( sport = :$0 )" | grep -q .' "$FAKE"
TLS2=$(free_port)
MTLS2=$(free_port)
CTL2=$TMP/control2.sock
edge_conf "$TLS2" "$MTLS2" "$CTL2" "$FAKE" silent.example servfail.example \
	"partner.example 127.0.0.1:1" >"$TMP/edge2.conf"
serve_start "$TMP/edge2.conf" "$TMP/serve2.log" || { not_ok "the second edge starts"; finish; }

row2 "$CTL2" servfail servfail.example
check "SERVFAIL: dns, servfail:" has servfail "outcome: dns" \
	"detail: servfail: SRV $(srv servfail.example): 127.0.0.1:$FAKE answered SERVFAIL"

# The latency test: a client has its connections to 443 and 5061 up and
# waits; the hanging lookup starts (the trigger answers at once, its SRV
# query has gone out); the client does 20 + 20 round trips; then the record.
mkfifo "$TMP/go"
"$TOOLS/sip_client.py" "$TLS2,$MTLS2" --ca "$TMP/pki/ca.pem" --cert "$TMP/pki/partner.pem" \
	--key "$TMP/pki/partner.key" --ready options 20 <"$TMP/go" >"$TMP/rtt.out" 2>&1 &
RTT=$!
exec 3>"$TMP/go"
check "a SIP client has its two connections up" wait_for 10 grep -qx ready "$TMP/rtt.out"
curl -s -D "$TMP/hdr.silent" -o /dev/null --max-time 10 -X POST --unix-socket "$CTL2" \
	"http://e/rows/2?partner=silent.example"
loc=$(sed -n 's#^Location: \(/flows/[0-9]*\)\r*$#\1#p' "$TMP/hdr.silent")
check "POST /rows/2 for a partner whose DNS server is silent: 202 at once" [ -n "$loc" ]
check "... its SRV query reached the silent server" \
	wait_for 5 grep -qx "query $(srv silent.example)" "$TMP/fake.log"
echo go >&3
exec 3>&-
wait $RTT
ctl_get "$CTL2" "${loc:-/flows/0}" >"$TMP/rec.during"
sed 's/^/# during: /' "$TMP/rec.during"
check "while the lookup hangs: 20 OPTIONS on 443 and 20 on 5061, each answered 200" \
	[ "$(grep -cx "SIP/2.0 200 OK" "$TMP/rtt.out")" -eq 40 ]
check "... all before the lookup's end: its flow is still pending after them" \
	has during "outcome: pending"
curl -s --max-time 10 --unix-socket "$CTL2" "http://e${loc:-/flows/0}?wait=8000" >"$TMP/rec.silent"
sed 's/^/# silent: /' "$TMP/rec.silent"
check "then the lookup ends: dns, timeout:" has silent "outcome: dns" \
	"dns-name: $(srv silent.example)" \
	"detail: timeout: SRV $(srv silent.example): no answer from 127.0.0.1:$FAKE (timed out)"

# A reload that changes dns_server: the lookup under way starts again on the
# new server (dnsmasq, where silent.example does not exist), not on the old.
reloads_are() { [ "$(metric "$CTL2" 'edgelab_config_reloads_total{result="ok"}')" -eq "$1" ]; }
curl -s -D "$TMP/hdr.moved" -o /dev/null --max-time 5 -X POST --unix-socket "$CTL2" \
	"http://e/rows/2?partner=silent.example"
loc=$(sed -n 's#^Location: \(/flows/[0-9]*\)\r*$#\1#p' "$TMP/hdr.moved")
sed -i "s/^dns_server .*/dns_server 127.0.0.1:$DNS/" "$TMP/edge2.conf"
kill -HUP "$SERVE_PID"
curl -s --max-time 10 --unix-socket "$CTL2" "http://e${loc:-/flows/0}?wait=8000" >"$TMP/rec.moved"
sed 's/^/# moved: /' "$TMP/rec.moved"
check "a reload to another dns_server: the lookup under way is asked again there" has moved \
	"outcome: dns" \
	"detail: nxdomain: SRV $(srv silent.example): no such name (NXDOMAIN from 127.0.0.1:$DNS)"
check "... the reload took" wait_for 5 reloads_are 1

# And back to the silent server: a lookup in flight when serve stops is
# cancelled with its connection.
sed -i "s/^dns_server .*/dns_server 127.0.0.1:$FAKE/" "$TMP/edge2.conf"
kill -HUP "$SERVE_PID"
check "a second reload takes" wait_for 5 reloads_are 2
curl -s -o /dev/null --max-time 5 -X POST --unix-socket "$CTL2" "http://e/rows/2?partner=silent.example"
check "... the next lookup goes to the silent server again" \
	wait_for 5 sh -c '[ "$(grep -cx "query $0" "$1")" -ge 3 ]' "$(srv silent.example)" "$TMP/fake.log"
check "serve stops cleanly with a lookup in flight (exit 0)" serve_stop "$SERVE_PID"
check "... and the other one too" serve_stop "$EDGE1"
check "... the sanitizers found nothing" sh -c '! grep -q Sanitizer "$0" "$1"' "$TMP/serve.log" "$TMP/serve2.log"
[ "$n_fail" -eq 0 ] || sed 's/^/# serve: /' "$TMP/serve.log" "$TMP/serve2.log" | tail -n 60
finish
