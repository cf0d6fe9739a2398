#!/bin/sh
# IM between two federated edges with a client written by others: baresip
# 1.0 is bob@b.example, registered over TLS at edge B's 443 (verifying it
# against site B's CA); tests/tools/fed_im (probe/fed_im.h) is
# alice@a.example at edge A and sends bob a MESSAGE, bob's side marked
# external. It crosses edge A -> edge B over MTLS 5061 and reaches baresip,
# whose 200 comes back. The two edges as in tests/cli/test_fed_im.sh
# (tests/fed_edges.sh). The other way needs a client of ours waiting for a
# MESSAGE it did not cause, which fed_im is not: not tested here.
set -u
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../fed_edges.sh"
skip_slow "real peers"
FED_IM=$BUILDDIR/tests/tools/fed_im
[ -x "$FED_IM" ] || { not_ok "tests/tools/fed_im is built"; finish; }
if ! command -v baresip >/dev/null 2>&1; then
	[ "$(id -u)" -ne 0 ] && skip_all "baresip is not installed (scripts/install-deps.sh --test, as root)"
	not_ok "baresip is installed (scripts/install-deps.sh --test installs it)"
	finish
fi
show_logs() {
	fed_edges_logs
	echo "# --- baresip (last 40 lines)"
	tr -d '\r' <"$BLOG" | grep -v '^ *$' | tail -n 40 | sed 's/^/#   /'
}

fed_edges_start || finish
BLOG=$TMP/baresip.log
# baresip's TLS transport listens on sip_listen's port + 1: both free.
while :; do
	PB=$(free_port)
	ss -Hlntu "( sport = :$((PB + 1)) )" 2>/dev/null | grep -q . || break
done

# baresip as bob, verifying edge B against site B's CA.
baresip_start "$TMP/baresip" \
	"<sip:bob@b.example;transport=tls>;outbound=\"sip:127.0.0.3:$TB;transport=tls\";regint=600" \
	"$BLOG" 30 "sip_listen 127.0.0.1:$PB" "sip_cafile $TMP/pki-b/ca.pem"

check "baresip registers bob at edge B over TLS: 200" \
	wait_for 10 grep -q "useragent registered successfully" "$BLOG"
check "edge B logged the registration of bob@b.example" grep -q "registered bob@b.example" "$TMP/b.log"

"$FED_IM" -t 5000 -d ab -a "$FED_ALICE" -b "-,-,-,bob@b.example,external" >"$TMP/out" 2>&1
rc=$?
sed 's/^/# /' "$TMP/out"
check "alice's MESSAGE to bob: delivered (exit 0)" [ "$rc" -eq 0 ]
check "... baresip's 200 came back through both edges, unchecked by us" \
	grep -q '^a->b: ran=1 stage=delivered checked=0 status=200 .*fault=none' "$TMP/out"
body=$(sed -n 's/^a->b: .* body="\([^"]*\)".*/\1/p' "$TMP/out")
check "baresip printed the text with alice's marker, from alice@a.example" \
	wait_for 5 grep -qF "sip:alice@a.example: \"$body\"" "$BLOG"
check "edge A carried it to edge B's 5061 (A's row 2), B took it as partner a.example (B's row 1)" \
	sh -c 'grep -q "connecting out, expecting b.example" "$0" && grep -q "TLS up, partner a.example" "$1"' \
	"$TMP/a.log" "$TMP/b.log"
[ "$n_fail" -eq 0 ] || show_logs
finish
