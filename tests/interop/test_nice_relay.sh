#!/bin/sh
# TURN with a full ICE stack written by others: libnice. Two agents in one
# process (tests/interop/nice_relay), force-relay, gather through the TURN
# server, reach READY through the relay and send 50 messages each way, all
# of which must arrive intact; the selected pairs must be relayed, in
# 50000-59999. In RFC 5245 mode with TURN over UDP and over TCP to the
# server (the relayed address is UDP in both), and in OC2007 mode (MS-TURN,
# ../shared/MSTURN.md) over UDP.
#
# TURN_SERVER=edgelab (default) runs `edgelab serve`; TURN_SERVER=coturn runs
# coturn's turnserver with the same user, realm and port range, the
# reference that the harness itself is checked against.
# NICE_RUNS lists MODE:TRANSPORT runs ("rfc5245:udp rfc5245:tcp oc2007:udp"
# by default against edgelab; coturn speaks no MS-TURN).
# Loopback only.
set -u
. "$(dirname "$0")/../lib.sh"

BUILDDIR=${BUILDDIR:-$(dirname "$EDGELAB")}
NICE=$BUILDDIR/tests/interop/nice_relay
SERVER=${TURN_SERVER:-edgelab}
if [ "$SERVER" = edgelab ]; then
	RUNS=${NICE_RUNS:-rfc5245:udp rfc5245:tcp oc2007:udp}
else
	RUNS=${NICE_RUNS:-rfc5245:udp rfc5245:tcp}
fi
COUNT=50

if [ ! -x "$NICE" ]; then
	why="tests/interop/nice_relay not built: configure found no libnice (apt-get install libnice-dev, or scripts/install-deps.sh --test, then configure again)"
	# CI installs libnice-dev: there a missing harness is a failure.
	if [ "${CI:-}" = true ]; then
		not_ok "$why"
		finish
	fi
	skip_all "$why"
fi

P=$(free_port)
case $SERVER in
edgelab)
	P2=$(free_port)
	CTL=$TMP/ctl.sock
	LOG=$TMP/serve.log
	cat >"$TMP/edge.conf" <<EOF
workers 1
stun_udp_listen 127.0.0.1:$P
stun_tcp_listen 127.0.0.1:$P2
control_socket $CTL
turn_realm edgelab
turn_user alice secret
relay_ports 50000-59999
allow_loopback_peers yes
log_level info
EOF
	"$EDGELAB" serve --config "$TMP/edge.conf" 2>"$LOG" &
	SERVE=$!
	at_exit "kill -9 $SERVE"
	if ! wait_for 10 ctl_get "$CTL" /healthz; then
		not_ok "edgelab serve starts with TURN (turn_realm, turn_user, relay_ports)"
		sed 's/^/# serve: /' "$LOG"
		finish
	fi
	;;
coturn)
	command -v turnserver >/dev/null || skip_all "TURN_SERVER=coturn needs turnserver (apt-get install coturn)"
	P2=$P
	LOG=$TMP/coturn.log
	turnserver -n -v --no-cli --allow-loopback-peers --listening-ip 127.0.0.1 \
		--listening-port "$P" --min-port 50000 --max-port 59999 --lt-cred-mech \
		--user alice:secret --realm edgelab --no-tls --no-dtls --simple-log \
		--log-file "$LOG" --pidfile "$TMP/turn.pid" --userdb "$TMP/turndb" \
		>/dev/null 2>&1 &
	at_exit "kill -9 $!"
	listening() { ss -Hlnu "( sport = :$P )" | grep -q . && ss -Hlnt "( sport = :$P )" | grep -q .; }
	if ! wait_for 10 listening; then
		not_ok "turnserver listens on UDP and TCP $P"
		sed 's/^/# coturn: /' "$LOG" 2>/dev/null
		finish
	fi
	;;
*)
	not_ok "TURN_SERVER is edgelab or coturn, not '$SERVER'"
	finish
	;;
esac

# in_range ADDR:PORT: a loopback relayed address in 50000-59999.
in_range() {
	case $1 in 127.0.0.1:5[0-9][0-9][0-9][0-9]) return 0 ;; esac
	return 1
}

runs=0
for run in $RUNS; do
	runs=$((runs + 1))
	compat=${run%%:*}
	relay=${run#*:}
	case $relay in udp) port=$P ;; *) port=$P2 ;; esac
	# What edgelab sends in MS-TURN is checked in tshark afterwards.
	TSHARK=""
	if [ "$compat" = oc2007 ] && [ "$(id -u)" -eq 0 ] && command -v tshark >/dev/null; then
		CAP=$TMP/$compat-$relay.pcapng
		tshark -q -i lo -f "port $port" -w "$CAP" 2>"$TMP/tshark.log" &
		TSHARK=$!
		at_exit "kill -9 $TSHARK"
		wait_for 10 grep -q "Capturing on" "$TMP/tshark.log" || not_ok "tshark capture starts"
	fi
	out=$TMP/nice-$compat-$relay.out
	dbg=$TMP/nice-$compat-$relay.debug
	timeout 60 "$NICE" --server 127.0.0.1:"$port" --user alice --pass secret --compat "$compat" \
		--relay "$relay" --timeout 10 --count "$COUNT" --debug >"$out" 2>"$dbg"
	rc=$?
	sed 's/^/# /' "$out"
	what="libnice $compat, TURN/$relay to $SERVER: both agents READY through the relay, $COUNT messages each way intact"
	if [ "$rc" -eq 0 ]; then
		ok "$what"
	else
		not_ok "$what (exit $rc)"
		echo "# last lines of libnice's debug output ($dbg):"
		tail -n 60 "$dbg" | sed 's/^/#   /'
		echo "# last lines of the $SERVER log:"
		tail -n 40 "$LOG" | sed 's/^/#   /'
	fi
	if [ -n "$TSHARK" ]; then
		sleep 0.5
		kill -INT "$TSHARK" 2>/dev/null
		wait "$TSHARK" 2>/dev/null
		# tshark gives messages without RFC 5389's cookie in the header
		# (libnice's OC2007 transaction ids) to its classic dissector, which
		# knows MS-TURN's types.
		from_edge="-o stun.stunversion:MS-TURN -d udp.port==$port,stun -Y udp.srcport==$port&&(stun||classicstun)"
		# shellcheck disable=SC2086 # $from_edge is a list of options
		tshark -r "$CAP" $from_edge -T fields -e classicstun.type -e stun.type \
			2>/dev/null | tr -d '\t' | sort | uniq -c >"$TMP/types"
		sed 's/^/# tshark, what edgelab sent: /' "$TMP/types"
		# shellcheck disable=SC2086
		malformed=$(tshark -r "$CAP" $from_edge -Y "udp.srcport==$port && _ws.malformed" \
			-T fields -e frame.number 2>/dev/null | wc -l)
		for t in 0x0113 0x0103 0x0106 0x0115; do
			check "$compat: tshark decodes edgelab's MS-TURN $t" grep -q " $t\$" "$TMP/types"
		done
		check "$compat: ... and finds no malformed frame from edgelab" [ "$malformed" -eq 0 ]
	fi
	for side in L R; do
		addr=$(sed -n "s/^nice_relay: $side selected pair: local relay [a-z]* \([0-9.]*:[0-9]*\) .*/\1/p" "$out")
		check "$compat TURN/$relay: $side's selected local candidate is relayed on 127.0.0.1:50000-59999 (${addr:-none})" \
			in_range "$addr"
	done
done

if [ "$SERVER" = edgelab ]; then
	check "edgelab is still serving after the libnice runs" wait_for 2 ctl_get "$CTL" /healthz
	n=$(metric "$CTL" edgelab_turn_allocations_total)
	check "edgelab counted the agents' allocations ($n; two per run)" [ "$n" -ge $((2 * runs)) ]
	no_allocations() { [ "$(metric "$CTL" edgelab_turn_allocations)" = 0 ]; }
	check "libnice's close (Refresh, lifetime 0) leaves no allocation behind" wait_for 3 no_allocations
	# A sanitizer build reports leaks and errors at exit, as a non-zero status.
	stop_term "$SERVE"
	rc=$?
	check "SIGTERM stops edgelab with status 0" [ "$rc" -eq 0 ]
	[ "$rc" -eq 0 ] || tail -n 60 "$LOG" | sed 's/^/# serve: /'
fi
finish
