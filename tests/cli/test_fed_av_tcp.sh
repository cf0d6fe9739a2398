#!/bin/sh
# A/V between two federated edges over TCP (probe/fed_av.h's tcp,
# docs/federation-av.md "The TCP variant"): two serves on loopback, edge A
# on 127.0.0.2 and edge B on 127.0.0.3, each with an MS-TURN pseudo-TLS
# listener (msturn_tls_listen, on a free port), and fedav -T playing a
# client of each. 500 RTP packets each way must arrive intact through TURN
# over TURN on TCP; the wire (tshark on lo, as root) must show each edge's
# relay connecting from a relayed port to the other's listener with the
# pseudo-TLS ClientHello first; the edges' counters must agree. Then the
# failures, each with its hop: edge B's listener out of edge A's reach,
# client A's own listener closed, and edge B's password wrong.
set -u
. "$(dirname "$0")/../lib.sh"

FEDAV_OPTS=-T
. "$(dirname "$0")/fed_av_lib.sh" # fedav, val, fed_av_ok, wire_odd...

# start_edge NAME IP USER: a serve of its own on IP, MS-TURN on TCP only;
# sets TLS_<NAME> (its pseudo-TLS listener's port) and CTL_<NAME>.
start_edge() {
	name=$1 ip=$2 user=$3
	port=$(free_port)
	ctl=$TMP/$name.sock
	cat >"$TMP/$name.conf" <<-EOF
		workers 2
		stun_udp_listen off
		stun_tcp_listen off
		msturn_tls_listen $ip:$port
		sip_tls_listen off
		sip_mtls_listen off
		control_socket $ctl
		relay_address $ip
		allow_loopback_peers yes
		turn_user $user secret
	EOF
	eval "TLS_$name=$port CTL_$name=$ctl"
	serve_start "$TMP/$name.conf" "$TMP/$name.log" || not_ok "serve $name starts"
}

start_edge a 127.0.0.2 alice
SERVE_A=$SERVE_PID
start_edge b 127.0.0.3 bob
SERVE_B=$SERVE_PID
A=127.0.0.2:$TLS_a
B=127.0.0.3:$TLS_b

edges_capture tcp

# --- 500 packets each way ----------------------------------------------------
fedav ok -a "$A" -A alice:secret -b "$B" -B bob:secret -n 500 -s 160 -t 10000
check "the run was over TCP (transport tcp)" [ "$(val ok transport)" = tcp ]
fed_av_ok ok "$CTL_a" "$CTL_b"
check "none out of order, no strays at either client" \
	[ "$(val ok a_to_b.out_of_order) $(val ok b_to_a.out_of_order) $(val ok a.stray) $(val ok b.stray)" = "0 0 0 0" ]
# Each edge's own allocation connected out twice (to the far edge's
# listener, and to the far client's inner allocation with the permit); its
# inner allocation took that second connection in.
for e in a b; do
	eval "ctl=\$CTL_$e"
	outbound=$(metric "$ctl" 'edgelab_msturn_tcp_peer_connections_total{direction="outbound"}')
	inbound=$(metric "$ctl" 'edgelab_msturn_tcp_peer_connections_total{direction="inbound"}')
	check "edge $e: MS-TURN TCP peer connections, 2 outbound ($outbound) and 1 inbound ($inbound)" \
		[ "$outbound $inbound" = "2 1" ]
	check "edge $e: two pseudo-TLS hellos answered (its client's and the far relay's)" \
		[ "$(metric "$ctl" edgelab_msturn_pseudo_tls_total)" -eq 2 ]
	check "edge $e counted two allocations made" \
		[ "$(metric "$ctl" edgelab_turn_allocations_total)" -eq 2 ]
done

if [ -n "$CAP" ]; then
	edges_captured
	tshark -r "$CAP" -o tcp.analyze_sequence_numbers:FALSE \
		-Y "tcp && ip.addr == 127.0.0.2 && ip.addr == 127.0.0.3" -T fields \
		-e ip.src -e tcp.srcport -e ip.dst -e tcp.dstport -e tcp.flags.syn -e tcp.flags.ack \
		-e tcp.len -e tcp.payload 2>/dev/null >"$TMP/wire"
	echo "# tshark: $(wc -l <"$TMP/wire") TCP segments between the edges' addresses"
	# Every segment between the edges is on a connection from a relayed
	# port of one to the other's listener.
	odd=$(wire_odd "$TMP/wire" "$TLS_a" "$TLS_b")
	check "the wire: every TCP segment between the edges is between a relay port and the other's listener ($odd others)" \
		[ "$odd" -eq 0 ]
	for pair in "$RA 127.0.0.3 $TLS_b A B" "$RB 127.0.0.2 $TLS_a B A"; do
		set -- $pair
		from=$1 to=$2 tp=$3
		wire_leg "$from" "$to" "$tp" # SYN, ACK, length, payload
		syn=$(awk '$1 == 1 && $2 == 0' "$TMP/leg" | wc -l)
		check "the wire: edge $4's relayed $from opened a TCP connection to edge $5's listener $to:$tp (SYN: $syn)" \
			[ "$syn" -ge 1 ]
		first=$(awk '$3 > 0 { print $3, $4; exit }' "$TMP/leg")
		check "the wire: ... its first payload is the 50-byte pseudo-TLS ClientHello (${first%% *} bytes)" \
			sh -c "echo '$first' | grep -qi '^50 160301002d010000290301[0-9a-f]\{64\}00000200180100$'"
		bytes=$(awk '{ n += $3 } END { print n + 0 }' "$TMP/leg")
		# Each RTP packet of client A's: an inner data frame's header, RFC
		# 4571's length and the 172-byte packet (edge A took the outer frame's).
		check "the wire: ... and carries at least 500 x 178 bytes of framed RTP ($bytes)" \
			[ "$bytes" -ge 89000 ]
	done
fi

# --- edge B's listener out of edge A's reach ----------------------------------
fed_av_unreached "$CTL_a" "$CTL_b" -a "$A" -A alice:secret -b "$B" -B bob:secret -t 1500
check "... the sentence: the hello through A's relay got no reply; A's relay does not reach B's TCP 443" \
	grep -q "^detail client A's pseudo-TLS hello to edge B's TCP 443 (127.0.0.3:$closed), sent through edge A's relay (127\.0\.0\.2:5[0-9]*), got no reply.*edge A's relay does not reach edge B's TCP 443 (firewall A row 4 out, firewall B TCP 443 in)" "$TMP/reach"

# --- client A's own listener closed ---------------------------------------------
fedav refused -a "127.0.0.2:$closed" -A alice:secret -b "$B" -B bob:secret -t 1500
check "A's listener closed: hop client-a-to-edge-a, stage own-allocate, unreachable, exit 1" \
	[ "$(val refused hop) $(val refused stage) $(val refused why) $(val refused exit)" = "client-a-to-edge-a own-allocate unreachable 1" ]
check "... client B's own allocation still made" grep -q '^b.relayed 127\.0\.0\.3:5' "$TMP/refused"
check "... and deleted, none left" deleted refused 1 "$CTL_a" "$CTL_b"

# --- edge B's password wrong ------------------------------------------------------
fedav auth -a "$A" -A alice:secret -b "$B" -B bob:wrong -t 1500
fed_av_auth auth
check "... client A's allocation deleted, none left" deleted auth 1 "$CTL_a" "$CTL_b"

for pid in $SERVE_A $SERVE_B; do
	serve_stop "$pid"
	check "serve $pid stops cleanly on SIGTERM" [ "$?" -eq 0 ]
done
finish
