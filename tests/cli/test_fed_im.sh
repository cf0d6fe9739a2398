#!/bin/sh
# IM end to end between two federated edges on loopback (issue 14, point 3):
# edge A (sip.a.example, SIP domain a.example) on 127.0.0.2 and edge B
# (sip.b.example, b.example) on 127.0.0.3, each with its own lab CA (each
# edge's tls_ca holds both, for 5061), federating with each other through
# static partner lines. tests/tools/fed_im (probe/fed_im.h) plays
# alice@a.example at A's 443 and bob@b.example at B's: a MESSAGE each way,
# the callee's client checking marker, From and To and answering 200. Then
# what fails, named by its hop: a refused password, bob not registered,
# alice with the wrong CA, edge B stopped.
set -u
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../fed_edges.sh"
FED_IM=$BUILDDIR/tests/tools/fed_im
[ -x "$FED_IM" ] || { not_ok "tests/tools/fed_im is built"; finish; }

fed_edges_start "sip_user alice s3cret" || finish
ALICE="$FED_ALICE,password=s3cret"
BOB=$FED_BOB
# run ARGS...: fed_im with a 5 s bound per step, its output in $TMP/out.
run() {
	"$FED_IM" -t 5000 "$@" >"$TMP/out" 2>&1
	rc=$?
	sed 's/^/# /' "$TMP/out"
	return $rc
}
# line NAME: fed_im's line for a client ("client a") or a direction ("a->b").
line() { grep "^$1: " "$TMP/out"; }
has() { line "$1" | grep -q -- "$2"; }

run -a "$ALICE" -b "$BOB"
check "both directions delivered (exit 0)" [ "$rc" -eq 0 ]
check "alice registered at edge A after a Digest challenge (sip_user)" \
	has "client a" 'registered=1 status=200'
check "... edge A challenged her first (401)" grep -q "REGISTER -> 401 Unauthorized" "$TMP/a.log"
check "bob registered at edge B" has "client b" 'registered=1 status=200'
check "a->b: delivered, 200, bob's client checked the marker, From and To" \
	has "a->b" 'stage=delivered checked=1 status=200 reason="OK" fault=none'
check "b->a: the same the other way" \
	has "b->a" 'stage=delivered checked=1 status=200 reason="OK" fault=none'
check "... each with its own random marker" \
	sh -c '[ "$(grep -o "body=\"edgelab marker=[0-9a-f]* " "$0" | sort -u | wc -l)" -eq 2 ]' "$TMP/out"
for d in "a->b" "b->a"; do
	echo "# $d: delivery $(line "$d" | sed 's/.*delivery_ms=\([0-9.]*\).*/\1/') ms," \
		"round trip $(line "$d" | sed 's/.*rtt_ms=\([0-9.]*\).*/\1/') ms"
done
# The path: each edge carries its own users' requests on an MTLS connection
# it opens to the other's 5061 (its row 2), which the other takes as
# partner (its row 1).
check "edge A connected out to edge B's 5061 (A's row 2)" \
	grep -q "sip mtls #[0-9]* 127.0.0.3:$MB: connecting out, expecting b.example" "$TMP/a.log"
check "edge B took it as partner a.example (B's row 1)" \
	grep -q "sip mtls #[0-9]* 127.0.0.2:[0-9]*: TLS up, partner a.example" "$TMP/b.log"
check "edge B connected out to edge A's 5061 (B's row 2)" \
	grep -q "sip mtls #[0-9]* 127.0.0.2:$MA: connecting out, expecting a.example" "$TMP/b.log"
check "edge A took it as partner b.example (A's row 1)" \
	grep -q "sip mtls #[0-9]* 127.0.0.3:[0-9]*: TLS up, partner b.example" "$TMP/a.log"
messages() { metric "$TMP/$1.sock" 'edgelab_sip_requests_total{method="MESSAGE"}'; }
two_each() { [ "$(messages a)" -eq 2 ] && [ "$(messages b)" -eq 2 ]; }
check "each edge counted 2 MESSAGEs: its user's and the one for its user" two_each
check "the clients unregistered (Expires 0) before they closed" \
	sh -c 'grep -q "unregistered alice@a.example" "$0" && grep -q "unregistered bob@b.example" "$1"' \
	"$TMP/a.log" "$TMP/b.log"

run -a "$FED_ALICE,password=wrong" -b "$BOB"
check "a wrong password: fails (exit 1)" [ "$rc" -eq 1 ]
check "... alice's REGISTER refused at edge A: 401, the caller's hop" \
	has "a->b" 'stage=none .*status=0 .*fault=caller-register hop=caller'
check "... and said" has "client a" 'status=401 .*the password was refused'

run -a "$ALICE" -b "$BOB,skip" -d ab
check "bob not registered: alice's MESSAGE fails (exit 1)" [ "$rc" -eq 1 ]
check "... with 480 from edge B, named: the callee is unknown there" \
	has "a->b" 'stage=sent checked=0 status=480 reason="Temporarily Unavailable (not registered)" fault=callee-unknown hop=callee'
check "... the sentence says so" has "a->b" 'sip.b.example has no registration for bob@b.example'
check "... and only a->b ran" has "b->a" 'ran=0'

run -a "127.0.0.2:$TA,sip.a.example,$TMP/pki-b/ca.pem,alice@a.example,password=s3cret" -b "$BOB"
check "alice trusting the wrong CA: fails (exit 1)" [ "$rc" -eq 1 ]
check "... a->b: nothing sent, the TLS handshake alice -> edge A named" \
	has "a->b" 'stage=none .*fault=caller-tls hop=caller'
check "... with OpenSSL's reason" has "a->b" 'TLS handshake: edge certificate: unable to get local issuer certificate'
check "... b->a: edge A has no registration for alice (480), because of her TLS" \
	has "b->a" 'stage=sent .*status=480 .*fault=callee-tls hop=callee'

serve_stop "$PID_B"
run -a "$ALICE" -b "$BOB"
check "edge B stopped: fails (exit 1)" [ "$rc" -eq 1 ]
check "... bob's client cannot reach edge B" has "client b" 'connected=0 .*connection refused'
check "... a->b: 503 from edge A, the federation hop named" \
	has "a->b" 'stage=sent .*status=503 reason="Service Unavailable (partner unreachable)" fault=federation hop=federation'
check "... the sentence names both edges" has "a->b" 'the federation hop sip.a.example -> sip.b.example (5061) failed'
check "... b->a: nothing sent, bob's connection named" has "b->a" 'stage=none .*fault=caller-connect hop=caller'
serve_stop "$PID_A"
[ "$n_fail" -eq 0 ] || fed_edges_logs
finish
