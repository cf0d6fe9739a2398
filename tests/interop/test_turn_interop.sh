#!/bin/sh
# TURN (rows 4 and 5's relay) against coturn's own clients: turnutils_uclient
# relays through edgelab to turnutils_peer, which echoes every message back,
# so each message crosses the relay twice. Over UDP with channels and with
# Send indications, from a TCP client (-t), with a TCP relay (RFC 6062, -T),
# with DONT-FRAGMENT (-g), an IPv6 relayed address with EVEN-PORT and a
# RESERVATION-TOKEN (-x), and REST API credentials (-W). Every run must lose
# nothing on loopback, and every relayed address must lie in relay_ports.
# Every frame on the wire must decode in tshark with no malformed packet.
set -u
. "$(dirname "$0")/../lib.sh"
skip_slow "real peers"

for tool in turnutils_uclient turnutils_peer tshark; do
	command -v "$tool" >/dev/null || { not_ok "$tool is installed (scripts/install-deps.sh)"; finish; }
done

P=$(free_port)
PEER=$(free_port)
CTL=$TMP/control.sock
CAP=$TMP/turn.pcapng
cat >"$TMP/edge.conf" <<CONF
workers 2
stun_udp_listen 127.0.0.1:$P
stun_tcp_listen 127.0.0.1:$P
control_socket $CTL
sip_tls_listen off
sip_mtls_listen off
turn_user alice secret
use_auth_secret yes
static_auth_secret lab-rest-secret
relay_ports 50000-59999
relay_address6 ::1
allow_loopback_peers yes
CONF
serve_start "$TMP/edge.conf" "$TMP/serve.log" || { not_ok "serve starts"; finish; }
turnutils_peer -p "$PEER" -L 127.0.0.1 -L ::1 >"$TMP/peer.log" 2>&1 &
at_exit "kill -9 $!"

if [ "$(id -u)" -eq 0 ]; then
	tshark -q -i lo -f "port $P" -w "$CAP" 2>"$TMP/tshark.log" &
	TSHARK=$!
	at_exit "kill -9 $TSHARK"
	wait_for 10 grep -q "Capturing on" "$TMP/tshark.log" || not_ok "tshark capture starts"
fi

# uclient NAME OPTIONS...: 2 clients x 50 messages of 172 bytes (an audio
# frame's size), 0 loss, every relayed address in 50000-59999.
uclient() {
	name=$1
	shift
	out=$(timeout 60 turnutils_uclient "$@" -p "$P" -r "$PEER" -n 50 -m 2 -l 172 -z 5 -v \
		127.0.0.1 2>&1)
	echo "$out" | grep -E "relay addr|tot_send_msgs=[0-9]+, tot_recv_msgs=[0-9]+$|lost" |
		sed "s/^/# $name: /"
	sent=$(echo "$out" | sed -n 's/.*tot_send_msgs=\([0-9]*\), tot_recv_msgs=\([0-9]*\)$/\1 \2/p' | tail -n 1)
	check "$name: 100 messages relayed both ways, none lost ($sent)" [ "$sent" = "100 100" ]
	ports=$(echo "$out" | sed -n 's/.*Received relay addr: .*:\([0-9]*\)$/\1/p')
	check "$name: relayed ports in 50000-59999 ($(echo $ports))" \
		sh -c '[ -n "$0" ] && for p in $0; do [ "$p" -ge 50000 ] && [ "$p" -le 59999 ] || exit 1; done' "$ports"
}

uclient "UDP, channels" -u alice -w secret -e 127.0.0.1 -X
uclient "UDP, Send indications" -u alice -w secret -e 127.0.0.1 -X -s
uclient "TCP client, channels" -u alice -w secret -e 127.0.0.1 -t
uclient "TCP client, Send indications" -u alice -w secret -e 127.0.0.1 -t -s
uclient "TCP relay (RFC 6062)" -u alice -w secret -e 127.0.0.1 -T
uclient "DONT-FRAGMENT" -u alice -w secret -e 127.0.0.1 -g
uclient "IPv6 relay, EVEN-PORT pair" -u alice -w secret -e ::1 -x
uclient "REST API credentials" -u bob -W lab-rest-secret -e 127.0.0.1

# 7 UDP-relayed runs of 100 messages (the TCP relay's bytes are a stream).
to_peer=$(metric "$CTL" 'edgelab_turn_relayed_packets_total{direction="to_peer"}')
to_client=$(metric "$CTL" 'edgelab_turn_relayed_packets_total{direction="to_client"}')
check "relayed packets are counted ($to_peer to peers, $to_client to clients)" \
	[ "$((to_peer >= 700 && to_client >= 700))" -eq 1 ]

if [ -n "${TSHARK:-}" ]; then
	sleep 1
	kill -INT "$TSHARK" 2>/dev/null
	wait "$TSHARK" 2>/dev/null
	# Both ends decode as STUN/TURN (ChannelData included).
	tshark -r "$CAP" -d "udp.port==$P,stun" -d "tcp.port==$P,stun" -Y stun \
		-T fields -e frame.number >"$TMP/stun_frames" 2>/dev/null
	tshark -r "$CAP" -d "udp.port==$P,stun" -d "tcp.port==$P,stun" -Y _ws.malformed \
		-T fields -e frame.number >"$TMP/malformed" 2>/dev/null
	check "tshark decodes the TURN traffic ($(wc -l <"$TMP/stun_frames") frames)" \
		[ "$(wc -l <"$TMP/stun_frames")" -ge 100 ]
	check "... with no malformed frame" [ ! -s "$TMP/malformed" ]
	tshark -r "$CAP" -d "udp.port==$P,stun" -Y "stun.type == 0x0103" -T fields \
		-e stun.att.ipv4 -e stun.att.port 2>/dev/null | head -n 3 | sed 's/^/# allocate success: /'
else
	echo "# not root: no capture"
fi
finish
