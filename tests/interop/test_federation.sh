#!/bin/sh
# Rows 1-3 with real SIP peers written by others, on loopback:
#   kamailio 5.6 plays the federation partner partner.example (mutual TLS
#   both ways, tests/interop/federation/*.in), baresip 1.0 the remote client
#   alice@edge.example (REGISTER and MESSAGE over TLS to the edge's 443).
# Always: kamailio's OPTIONS reaches the edge over MTLS and gets 200 (row 1),
# baresip registers over TLS (row 3), kamailio's MESSAGE for alice reaches the
# edge and its answer comes back through kamailio.
# Through the edge's proxy: MESSAGE partner -> edge -> alice,
# then, once kamailio's connection has closed, alice -> edge -> partner on an
# MTLS connection the edge opens (row 2); each answered 200 end to end.
# EDGELAB_FED_TRACE=1 makes kamailio log every SIP message it sends and gets
# (baresip's output always has its SIP trace); the logs' tails are printed as
# "#" lines when a check fails.
set -u
. "$(dirname "$0")/../lib.sh"
skip_slow "real peers"
FED=$SRCDIR/tests/interop/federation

missing=""
for tool in kamailio baresip openssl curl setsid; do
	command -v "$tool" >/dev/null 2>&1 || missing="$missing $tool"
done
if [ -n "$missing" ]; then
	[ "$(id -u)" -ne 0 ] && skip_all "not installed:$missing (scripts/install-deps.sh --test, as root)"
	not_ok "installed:$missing (scripts/install-deps.sh --test installs them)"
	finish
fi
tls_so=""
for f in /usr/lib/*/kamailio/modules/tls.so /usr/lib/kamailio/modules/tls.so; do
	[ -f "$f" ] && tls_so=$f
done
if [ -z "$tls_so" ]; then
	[ "$(id -u)" -ne 0 ] && skip_all "kamailio's tls module is not installed (kamailio-tls-modules)"
	not_ok "kamailio-tls-modules is installed (scripts/install-deps.sh --test)"
	finish
fi

# Distinct free ports; baresip's TLS transport listens on sip_listen's port + 1.
used=" "
port() {
	while :; do
		p=$(free_port)
		case "$used" in *" $p "*) continue ;; esac
		echo "$p"
		return
	done
}
P443=$(port); used="$used$P443 "
P5061=$(port); used="$used$P5061 "
PK=$(port); used="$used$PK "
PKU=$(port); used="$used$PKU "
while :; do
	PB=$(free_port)
	case "$used" in *" $PB "* | *" $((PB + 1)) "*) continue ;; esac
	ss -Hlntu "( sport = :$((PB + 1)) )" 2>/dev/null | grep -q . || break
done
CTL=$TMP/ctl.sock
LOG=$TMP/edge.log
KLOG=$TMP/kamailio.log
BLOG=$TMP/baresip.log
TO_ALICE="hello-alice-from-partner-$$"
TO_BOB="hello-bob-from-alice-$$"

not_in() { ! tr -d '\r' <"$2" | grep -q "$1"; }
show_logs() {
	for f in "$LOG" "$KLOG" "$BLOG"; do
		[ -f "$f" ] || continue
		echo "# --- $(basename "$f") (last 40 lines)"
		tr -d '\r' <"$f" | grep -v '^ *$' | tail -n 40 | sed 's/^/#   /'
	done
}
fail_now() {
	not_ok "$1"
	show_logs
	finish
}

# 1. The lab PKI: CA, edge (sip.edge.example, edge.example), partner
# (sip.partner.example, partner.example), client (alice@edge.example).
"$EDGELAB" pki --out "$TMP/pki" --key-type ec -q || fail_now "edgelab pki writes the lab PKI"

# 2. The edge.
cat >"$TMP/edge.conf" <<CONF
stun_udp_listen off
stun_tcp_listen off
sip_tls_listen 127.0.0.1:$P443
sip_mtls_listen 127.0.0.1:$P5061
tls_certificate $TMP/pki/edge.pem
tls_key $TMP/pki/edge.key
tls_ca $TMP/pki/ca.pem
federation_partner partner.example 127.0.0.1:$PK
control_socket $CTL
workers 1
CONF
serve_start "$TMP/edge.conf" "$LOG" || fail_now "edgelab serve starts"

# 3. kamailio, the partner: in its own session (so that its children go with
# it), in the foreground (-DD), logging to stderr (-E), runtime files (-Y)
# and working directory (-w) in $TMP: no root needed, no user switching.
mkdir -p "$TMP/kamailio"
sed -e "s|@DIR@|$TMP|g" -e "s|@EDGE_FQDN@|sip.edge.example|g" \
	"$FED/tls.cfg.in" >"$TMP/tls.cfg"
sed -e "s|@DIR@|$TMP|g" -e "s|@ADDR@|127.0.0.1|g" -e "s|@PORT@|$PK|g" \
	-e "s|@UDP_PORT@|$PKU|g" -e "s|@EDGE_ADDR@|127.0.0.1|g" -e "s|@EDGE_MTLS@|$P5061|g" \
	-e "s|@EDGE_DOMAIN@|edge.example|g" -e "s|@EDGE_FQDN@|sip.edge.example|g" \
	-e "s|@EDGE_AOR@|alice@edge.example|g" -e "s|@MESSAGE_TEXT@|$TO_ALICE|g" \
	"$FED/kamailio.cfg.in" >"$TMP/kamailio.cfg"
kam_trace=""
[ "${EDGELAB_FED_TRACE:-0}" = 1 ] && kam_trace="-A WITH_TRACE"
kam() {
	# shellcheck disable=SC2086
	kamailio -f "$TMP/kamailio.cfg" -Y "$TMP/kamailio" -w "$TMP/kamailio" $kam_trace "$@"
}
kam -c >"$TMP/kamailio-check.log" 2>&1
kam_check=$?
check "kamailio accepts its configuration (kamailio -c)" [ "$kam_check" -eq 0 ]
[ "$kam_check" -eq 0 ] || { sed 's/^/# /' "$TMP/kamailio-check.log" | grep -i 'error\|crit'; finish; }

# shellcheck disable=SC2086
setsid kamailio -f "$TMP/kamailio.cfg" -Y "$TMP/kamailio" -w "$TMP/kamailio" $kam_trace \
	-DD -E -m 64 -M 8 -P "$TMP/kamailio/kamailio.pid" >"$KLOG" 2>&1 &
KPID=$!
# kamailio stops its children on TERM; whatever is left of its group gets KILL.
# (kill -SIG -PGID: dash's kill takes no "--".)
at_exit "kill -TERM -$KPID; i=0; while kill -0 -$KPID && [ \$i -lt 30 ]; do sleep 0.1; i=\$((i + 1)); done; kill -9 -$KPID"
check "kamailio starts and listens on TLS 127.0.0.1:$PK" \
	wait_for 10 sh -c 'ss -Hlnt "( sport = :$0 )" | grep -q .' "$PK"

# Row 1 with a real peer: kamailio's timer pings the edge every second with
# OPTIONS over mutual TLS (its certificate verified by the edge and matched
# to partner.example; the edge's verified by kamailio).
check "kamailio's OPTIONS over MTLS gets 200 from the edge (kamailio's log)" \
	wait_for 10 grep -q "UAC REPLY OPTIONS 200" "$KLOG"
check "the edge took kamailio's connection as partner partner.example" \
	grep -q "sip mtls #[0-9]* 127.0.0.1:[0-9]*: TLS up, partner partner.example" "$LOG"
check "the edge counted the OPTIONS" \
	[ "$(metric "$CTL" 'edgelab_sip_requests_total{method="OPTIONS"}')" -ge 1 ]
check "no connection was refused" not_in "refused" "$LOG"

# 4. baresip, the remote client alice@edge.example, headless: no audio
# modules; stdio.so prints incoming MESSAGEs and reads commands from a FIFO
# this script holds open on fd 3; -s traces every SIP message; -t bounds it.
mkdir -p "$TMP/baresip"
echo '"Bob" <sip:bob@partner.example>' >"$TMP/baresip/contacts"
baresip_start "$TMP/baresip" \
	"<sip:alice@edge.example;transport=tls>;outbound=\"sip:127.0.0.1:$P443;transport=tls\";regint=600" \
	"$BLOG" 45 "sip_listen 127.0.0.1:$PB" "sip_certificate $TMP/pki/client-bundle.pem" \
	"sip_cafile $TMP/pki/ca.pem" "module_app contact.so"

check "baresip registers alice over TLS: 200 (baresip's output)" \
	wait_for 10 grep -q "useragent registered successfully" "$BLOG"
check "the edge logged the registration of alice@edge.example" \
	grep -q "registered alice@edge.example" "$LOG"
check "the edge's 200 to baresip's REGISTER went over its TLS connection" \
	grep -q "alice@edge.example: {0/TLS/v4} 200 OK" "$BLOG"

# kamailio's user bob@partner.example sends a MESSAGE to alice every second
# through kamailio (Record-Route, relayed over MTLS to the edge's 5061) until
# one gets 200. Today it reaches the edge and its answer comes back (480/501).
check "kamailio's MESSAGE for alice reaches the edge and an answer comes back through kamailio" \
	wait_for 10 grep -q "UAC REPLY MESSAGE [1-6][0-9][0-9]" "$KLOG"
check "the edge counted MESSAGEs" \
	[ "$(metric "$CTL" 'edgelab_sip_requests_total{method="MESSAGE"}')" -ge 1 ]

# 6. Through the edge's proxy, both directions.

# partner -> edge -> alice: baresip prints the text, kamailio's UAC gets 200.
check "bob@partner.example's MESSAGE reaches baresip through the edge" \
	wait_for 10 grep -q "sip:bob@partner.example: \"$TO_ALICE\"" "$BLOG"
check "... and baresip's 200 comes back to kamailio through the edge" \
	wait_for 5 grep -q "UAC REPLY MESSAGE 200" "$KLOG"

# alice -> edge -> partner. The edge sends requests to a partner on an MTLS
# connection of its own to the partner's HOST (row 2), never on the
# partner's inbound one: kamailio's server profile verifies the edge's
# client certificate, logs the text and answers 200.
printf '/message %s\n' "$TO_BOB" >&3
check "alice's MESSAGE reaches kamailio through the edge" \
	wait_for 10 grep -q "PARTNER GOT MESSAGE for sip:bob@partner.example from sip:alice@edge.example: \[$TO_BOB]" "$KLOG"
got=$(grep "PARTNER GOT MESSAGE sip:bob@partner.example over TLS" "$KLOG" | tail -n 1)
echo "# kamailio: ${got#*<script>: }"
check "... the edge connected out to the partner's 127.0.0.1:$PK (row 2)" \
	grep -q "sip mtls #[0-9]* 127.0.0.1:$PK: connecting out" "$LOG"
check "... on a connection the edge opened, not on kamailio's (source port not $P5061)" \
	sh -c 'echo "$0" | grep -q "from 127\.0\.0\.1:[0-9]*," && ! echo "$0" | grep -q "from 127\.0\.0\.1:$1,"' "$got" "$P5061"
check "... where the edge presented its certificate (CN and SAN sip.edge.example)" \
	sh -c 'echo "$0" | grep -q "peer CN sip.edge.example SAN sip.edge.example"' "$got"
check "... without the Route naming the edge's 443 (RFC 3261 16.4: a proxy removes its own Route)" \
	sh -c 'echo "$0" | grep -q "Route \[<null>\]"' "$got"
# baresip prints nothing on success: its SIP trace must show a 200 for it.
got_200() {
	tr -d '\r' <"$BLOG" | sed 's/\x1b\[[0-9;]*m//g' | awk '
		/^#$/ { st = "" }
		/^SIP\/2\.0 / { st = $2 }
		/^CSeq: [0-9]+ MESSAGE$/ && st == "200" { found = 1 }
		END { exit !found }'
}
check "... and kamailio's 200 reaches baresip through the edge" wait_for 5 got_200
check "baresip saw no error for its MESSAGE" not_in "^ *.\[31m[3-6][0-9][0-9] " "$BLOG"

# A second MESSAGE to the partner goes on the same MTLS connection.
printf '/message %s\n' "$TO_BOB-again" >&3
check "a second MESSAGE to the partner reaches kamailio" \
	wait_for 10 grep -q "PARTNER GOT MESSAGE for sip:bob@partner.example from sip:alice@edge.example: \[$TO_BOB-again]" "$KLOG"
check "... on the connection the edge already had (one connect for both)" \
	[ "$(grep -c "sip mtls #[0-9]* 127.0.0.1:$PK: connecting out" "$LOG")" -eq 1 ]
[ "$n_fail" -eq 0 ] || show_logs
finish
