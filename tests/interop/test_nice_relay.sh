#!/bin/sh
# TURN with a full ICE stack written by others: libnice. Two agents in one
# process (tests/interop/nice_relay), force-relay, gather through the TURN
# server, reach READY through the relay and send 50 messages each way, all
# of which must arrive intact; the selected pairs must be relayed, in
# 50000-59999. In RFC 5245 mode with TURN over UDP and over TCP to the
# server (the relayed address is UDP in both); in Microsoft's modes (MS-TURN,
# docs/msturn.md) over UDP, over TCP (MS-TURN framing; the relayed
# address is TCP) and over pseudo-TLS on edgelab's msturn_tls_listen.
# OC2007 is MS-ICE (Office Communicator 2007), OC2007R2 MS-ICE2 (2007 R2,
# Lync 2010 and 2013): both speak the same MS-TURN to the relay. Over TCP
# the runs use OC2007R2: libnice 0.1.21's OC2007 ICE-TCP never nominates on
# the controlled side when its relayed candidates are TCP (it marks the pair
# of its tcp-pass candidate, checks run on the tcp-act one), whatever the
# server.
#
# What edgelab sends in the Microsoft runs is decoded by tshark
# (-o stun.stunversion:MS-TURN); over TCP, tests/tools/msframe checks the
# framing (and the pseudo-TLS answer) of each stream first and hands the
# control messages to tshark through text2pcap, as Wireshark 4.0 does not
# take MS-TURN's TCP framing apart.
#
# TURN_SERVER=edgelab (default) runs `edgelab serve`; TURN_SERVER=coturn runs
# coturn's turnserver with the same user, realm and port range, the
# reference that the harness itself is checked against.
# NICE_RUNS lists MODE:TRANSPORT runs (see RUNS below for the defaults;
# coturn speaks no MS-TURN).
# Loopback only.
set -u
. "$(dirname "$0")/../lib.sh"
skip_slow "real peers"

BUILDDIR=${BUILDDIR:-$(dirname "$EDGELAB")}
NICE=$BUILDDIR/tests/interop/nice_relay
MSFRAME=$BUILDDIR/tests/tools/msframe
SERVER=${TURN_SERVER:-edgelab}
if [ "$SERVER" = edgelab ]; then
	RUNS=${NICE_RUNS:-rfc5245:udp rfc5245:tcp oc2007:udp oc2007r2:udp oc2007r2:tcp oc2007r2:tls}
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
	P3=$(free_port)
	CTL=$TMP/ctl.sock
	LOG=$TMP/serve.log
	cat >"$TMP/edge.conf" <<EOF
workers 1
stun_udp_listen 127.0.0.1:$P
stun_tcp_listen 127.0.0.1:$P2
msturn_tls_listen 127.0.0.1:$P3
control_socket $CTL
turn_realm edgelab
turn_user alice secret
relay_ports 50000-59999
allow_loopback_peers yes
log_level info
EOF
	if ! serve_start "$TMP/edge.conf" "$LOG"; then
		not_ok "edgelab serve starts with TURN (turn_realm, turn_user, relay_ports)"
		finish
	fi
	;;
coturn)
	command -v turnserver >/dev/null || skip_all "TURN_SERVER=coturn needs turnserver (apt-get install coturn)"
	P2=$P
	P3=$P
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

# ms_tcp_messages PCAP PORT [--tls]: what the server on TCP PORT sent, stream
# by stream, its framing checked by msframe, its control messages as UDP
# datagrams from port PORT in $TMP/ms-tcp.pcap. Fails on a framing error.
ms_tcp_messages() {
	: >"$TMP/ms-dump"
	for st in $(tshark -r "$1" -Y "tcp.srcport==$2 && tcp.len>0" -T fields -e tcp.stream \
		2>/dev/null | sort -un); do
		tshark -r "$1" -q -z "follow,tcp,raw,$st" 2>/dev/null | sed -n 's/^\t//p' |
			"$MSFRAME" ${3:-} >>"$TMP/ms-dump" 2>>"$TMP/msframe.log" || return 1
	done
	text2pcap -q -u "$2,40000" "$TMP/ms-dump" "$TMP/ms-tcp.pcap" >/dev/null 2>&1
}

# check_ms_decode COMPAT RELAY PORT CAP: tshark decodes what edgelab sent.
check_ms_decode() {
	pcap=$4
	case $2 in
	udp) where="udp.srcport==$3" ;;
	*)
		tls=""
		[ "$2" = tls ] && tls=--tls
		: >"$TMP/msframe.log"
		check "$1 TURN/$2: every stream edgelab sent is whole MS-TURN frames (0x02 control, 0x03 data)${tls:+ after the pseudo-TLS answer}" \
			ms_tcp_messages "$4" "$3" $tls
		sed 's/^/# /' "$TMP/msframe.log"
		if [ "$2" = tls ]; then
			hello=$(tshark -r "$4" -d "tcp.port==$3,tls" -Y "tcp.srcport==$3 && tls.handshake.type==2" \
				-T fields -e tls.handshake.type 2>/dev/null | grep -c '^2,14$')
			check "$1 TURN/tls: tshark reads edgelab's pseudo-TLS answers as ServerHello + ServerHelloDone ($hello)" \
				[ "$hello" -ge 2 ]
		fi
		pcap=$TMP/ms-tcp.pcap
		where="udp.srcport==$3"
		;;
	esac
	# tshark gives messages without RFC 5389's cookie in the header
	# (libnice's transaction ids) to its classic dissector, which knows
	# MS-TURN's types.
	from_edge="-o stun.stunversion:MS-TURN -d udp.port==$3,stun -Y $where&&(stun||classicstun)"
	# shellcheck disable=SC2086 # $from_edge is a list of options
	tshark -r "$pcap" $from_edge -T fields -e classicstun.type -e stun.type \
		2>/dev/null | tr -d '\t' | sort | uniq -c >"$TMP/types"
	sed 's/^/# tshark, what edgelab sent: /' "$TMP/types"
	# shellcheck disable=SC2086
	malformed=$(tshark -r "$pcap" $from_edge -Y "$where && _ws.malformed" \
		-T fields -e frame.number 2>/dev/null | wc -l)
	for t in 0x0113 0x0103 0x0106 0x0115; do
		check "$1 TURN/$2: tshark decodes edgelab's MS-TURN $t" grep -q " $t\$" "$TMP/types"
	done
	check "$1 TURN/$2: ... and finds no malformed message from edgelab" [ "$malformed" -eq 0 ]
}

runs=0
for run in $RUNS; do
	runs=$((runs + 1))
	compat=${run%%:*}
	relay=${run#*:}
	case $relay in udp) port=$P ;; tcp) port=$P2 ;; *) port=$P3 ;; esac
	# What edgelab sends in MS-TURN is checked in tshark afterwards.
	TSHARK=""
	case $compat in oc2007*) ms=yes ;; *) ms=no ;; esac
	if [ $ms = yes ] && [ "$(id -u)" -eq 0 ] && command -v tshark >/dev/null; then
		CAP=$TMP/$compat-$relay.pcapng
		capture_start "$CAP" "port $port" || not_ok "tshark capture starts"
		TSHARK=$CAPTURE_PID
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
		check_ms_decode "$compat" "$relay" "$port" "$CAP"
	fi
	for side in L R; do
		sel=$(sed -n "s/^nice_relay: $side selected pair: local relay \([a-z-]*\) \([0-9.]*:[0-9]*\) .*/\1 \2/p" "$out")
		addr=${sel#* }
		check "$compat TURN/$relay: $side's selected local candidate is relayed on 127.0.0.1:50000-59999 (${addr:-none})" \
			in_range "$addr"
		# [MS-TURN]: an Allocate over TCP gets a TCP relayed address.
		case $ms$relay in
		yesudp | no*) want=udp ;;
		*) want=tcp ;;
		esac
		transport=${sel%% *}
		check "$compat TURN/$relay: $side's relayed candidate is $want ($transport)" \
			[ "${transport%%-*}" = "$want" ]
	done
done

if [ "$SERVER" = edgelab ]; then
	check "edgelab is still serving after the libnice runs" wait_for 2 ctl_get "$CTL" /healthz
	n=$(metric "$CTL" edgelab_turn_allocations_total)
	check "edgelab counted the agents' allocations ($n; two per run)" [ "$n" -ge $((2 * runs)) ]
	no_allocations() { [ "$(metric "$CTL" edgelab_turn_allocations)" = 0 ]; }
	check "libnice's close (Refresh, lifetime 0) leaves no allocation behind" wait_for 3 no_allocations
	# A sanitizer build reports leaks and errors at exit, as a non-zero status.
	serve_stop
	rc=$?
	check "SIGTERM stops edgelab with status 0" [ "$rc" -eq 0 ]
	[ "$rc" -eq 0 ] || tail -n 60 "$LOG" | sed 's/^/# serve: /'
fi
finish
