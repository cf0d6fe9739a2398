#!/bin/sh
# A/V between two federated edges (probe/fed_av.h, docs/federation-av.md):
# two serves on loopback, edge A on 127.0.0.2 and edge B on 127.0.0.3, and
# fed_av_run through tests/tools/fedav playing a client of each. 500 RTP
# packets each way must arrive intact through TURN over TURN; the wire
# (tshark on lo, as root) must show that what passes between the edges is
# rows 5 and 6 only, from a relayed port of one to the other's 3478, with
# the inner Allocate first; the edges' counters must agree. Then the
# failures, each with its hop: edge B's 3478 out of edge A's reach, edge B's
# password wrong, and an edge whose peer policy refuses its own relayed
# addresses (and the conf line that mends it).
set -u
. "$(dirname "$0")/../lib.sh"

. "$(dirname "$0")/fed_av_lib.sh" # fedav, val, fed_av_ok, wire_odd...

# start_edge NAME IP USER [KEY VALUE lines]: a serve of its own on IP; sets
# PORT_<NAME> and CTL_<NAME> (and SERVE_PID).
start_edge() {
	name=$1 ip=$2 user=$3
	shift 3
	port=$(free_port)
	ctl=$TMP/$name.sock
	{
		echo "workers 2"
		echo "stun_udp_listen $ip:$port"
		echo "stun_tcp_listen off"
		echo "sip_tls_listen off"
		echo "sip_mtls_listen off"
		echo "control_socket $ctl"
		echo "turn_user $user secret"
		for line in "$@"; do echo "$line"; done
	} >"$TMP/$name.conf"
	eval "PORT_$name=$port CTL_$name=$ctl"
	serve_start "$TMP/$name.conf" "$TMP/$name.log" || not_ok "serve $name starts"
}

start_edge a 127.0.0.2 alice "allow_loopback_peers yes"
SERVE_A=$SERVE_PID
start_edge b 127.0.0.3 bob "allow_loopback_peers yes"
A=127.0.0.2:$PORT_a
B=127.0.0.3:$PORT_b

edges_capture udp

# --- 500 packets each way ----------------------------------------------------
fedav ok -a "$A" -A alice:secret -b "$B" -B bob:secret -n 500 -s 160 -t 10000
fed_av_ok ok "$CTL_a" "$CTL_b"
# Each edge relayed its client's media out (its allocation to the far
# edge's 3478) and the far client's on (the inner allocation to its
# client's allocation): towards peers twice; to its client once.
for e in a b; do
	eval "ctl=\$CTL_$e"
	to_peer=$(metric "$ctl" 'edgelab_turn_relayed_packets_total{direction="to_peer"}')
	to_client=$(metric "$ctl" 'edgelab_turn_relayed_packets_total{direction="to_client"}')
	check "edge $e relayed >= 1000 packets towards peers ($to_peer) and >= 500 to clients ($to_client)" \
		sh -c "[ $to_peer -ge 1000 ] && [ $to_client -ge 500 ]"
	check "edge $e counted two allocations made" \
		[ "$(metric "$ctl" edgelab_turn_allocations_total)" -eq 2 ]
done

if [ -n "$CAP" ]; then
	edges_captured
	# (capture_start's pokes are TCP between 127.0.0.1's ports)
	tshark -r "$CAP" -Y "udp && ip.addr == 127.0.0.2 && ip.addr == 127.0.0.3" -T fields -e ip.src -e udp.srcport -e ip.dst -e udp.dstport \
		-e udp.payload 2>/dev/null >"$TMP/wire"
	echo "# tshark: $(wc -l <"$TMP/wire") datagrams between the edges' addresses"
	# Every datagram between the edges is row 5 (a relayed port of one to
	# the other's 3478) or its reply.
	odd=$(wire_odd "$TMP/wire" "$PORT_a" "$PORT_b")
	check "the wire: every datagram between the edges is from a relay port to the other's 3478, or back ($odd others)" \
		[ "$odd" -eq 0 ]
	for pair in "$RA 127.0.0.3 $PORT_b A B" "$RB 127.0.0.2 $PORT_a B A"; do
		set -- $pair
		from=$1
		wire_leg "$from" "$2" "$3"
		n=$(wc -l <"$TMP/leg")
		check "the wire: $n datagrams from edge $4's relayed $from to edge $5's 3478 (>= 500: the media)" \
			[ "$n" -ge 500 ]
		# An MS-TURN Allocate: type 0003, MAGIC-COOKIE the first attribute
		# (bytes 20-27).
		first=$(head -n 1 "$TMP/leg" | cut -c1-56)
		check "the wire: ... the first of them is an MS-TURN Allocate ($first)" \
			sh -c "echo $first | grep -q '^0003.\{36\}000f000472c64bc6$'"
		rtp=$(grep -c '^80[08]0' "$TMP/leg")
		check "the wire: ... and 500 of them are RTP (version 2, PCMU) ($rtp)" [ "$rtp" -ge 500 ]
	done
fi

# --- edge B's 3478 out of edge A's reach ---------------------------------------
fed_av_unreached "$CTL_a" "$CTL_b" -a "$A" -A alice:secret -b "$B" -B bob:secret -t 1500
check "... the sentence names the Allocate to edge B sent through edge A's relay" \
	grep -q "^detail the Allocate to edge B (127.0.0.3:$closed) sent through edge A's relay (127\.0\.0\.2:5[0-9]*) got no answer" "$TMP/reach"

fedav auth -a "$A" -A alice:secret -b "$B" -B bob:wrong -t 1500
fed_av_auth auth

# --- an edge that may not relay to its own relayed addresses -------------------
# Edge C may relay to edge A (127.0.0.2) but not to its own 127.0.0.4.
start_edge c 127.0.0.4 carol "peer_allow 127.0.0.2/32"
SERVE_C=$SERVE_PID
C=127.0.0.4:$PORT_c
fedav self -a "$A" -A alice:secret -b "$C" -B carol:secret -t 1500
check "edge C's policy refuses its own address: hop edge-b-relay, stage inner-active-destination, 403" \
	[ "$(val self hop) $(val self stage) $(val self why) $(val self code)" = "edge-b-relay inner-active-destination error 403" ]
check "... the sentence says what to allow" grep -q "^detail edge B refuses to relay from client A's inner allocation.*peer_allow" "$TMP/self"
echo "peer_allow 127.0.0.4/32" >>"$TMP/c.conf"
kill -HUP "$SERVE_C"
wait_for 5 grep -q "reloaded configuration" "$TMP/c.log"
fedav self2 -a "$A" -A alice:secret -b "$C" -B carol:secret -t 10000
check "with peer_allow 127.0.0.4/32 (its own address) reloaded: 500 intact each way" \
	[ "$(val self2 ok) $(val self2 a_to_b.intact) $(val self2 b_to_a.intact)" = "1 500 500" ]

# --- media lost on a path whose set-up went through --------------------------
# turn_max_bps lets edge C's allocations carry the set-up (a few hundred
# bytes) but not 500 x 172 bytes of RTP.
echo "turn_max_bps 4000" >>"$TMP/c.conf"
: >"$TMP/c.log"
kill -HUP "$SERVE_C"
wait_for 5 grep -q "reloaded configuration" "$TMP/c.log"
fedav lost -a "$A" -A alice:secret -b "$C" -B carol:secret -t 10000
check "edge C's turn_max_bps 4000: hop path-a-to-b, stage media, lost" \
	[ "$(val lost hop) $(val lost stage) $(val lost why)" = "path-a-to-b media lost" ]
lost_counts() {
	[ "$(val lost a_to_b.intact)" -lt 500 ] && [ "$(val lost a_to_b.sent)" = 500 ] &&
		[ "$(val lost a_to_b.corrupt)" = 0 ]
}
check "... fewer than 500 intact ($(val lost a_to_b.intact)), all 500 sent, none corrupted" \
	lost_counts
check "... and edge C counted its bandwidth drops" \
	[ "$(metric "$CTL_c" 'edgelab_turn_dropped_total{reason="bandwidth"}')" -gt 0 ]

for pid in $SERVE_A $SERVE_C; do
	serve_stop "$pid"
	check "serve $pid stops cleanly on SIGTERM" [ "$?" -eq 0 ]
done
finish
