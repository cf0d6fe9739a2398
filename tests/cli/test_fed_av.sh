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

FEDAV=${FEDAV:-$BUILDDIR/tests/tools/fedav}
[ -x "$FEDAV" ] || { not_ok "fedav is built ($FEDAV)"; finish; }

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

# fedav OUT ARGS...: runs fedav, its result in $TMP/OUT.
fedav() {
	out=$TMP/$1
	shift
	timeout 60 "$FEDAV" "$@" >"$out" 2>&1
	sed "s/^/# /" "$out"
}
# val OUT KEY: KEY's value in fedav's result OUT.
val() { sed -n "s/^$2 //p" "$TMP/$1"; }
# relayed_on ADDR IP [ADDR IP...]: each ADDR is IP:50000-59999.
relayed_on() {
	while [ "$#" -ge 2 ]; do
		port=${1##*:}
		[ "${1%:*}" = "$2" ] && [ "$port" -ge 50000 ] && [ "$port" -le 59999 ] || return 1
		shift 2
	done
}
# at_least N M...: every M is at least N.
at_least() {
	n=$1
	shift
	for m; do [ "${m:-0}" -ge "$n" ] || return 1; done
}

start_edge a 127.0.0.2 alice "allow_loopback_peers yes"
SERVE_A=$SERVE_PID
start_edge b 127.0.0.3 bob "allow_loopback_peers yes"
A=127.0.0.2:$PORT_a
B=127.0.0.3:$PORT_b

CAP=""
if [ "$(id -u)" -eq 0 ] && command -v tshark >/dev/null; then
	CAP=$TMP/edges.pcapng
	capture_start "$CAP" "udp and host 127.0.0.2 and host 127.0.0.3" ||
		not_ok "tshark capture starts"
fi

# --- 500 packets each way ----------------------------------------------------
fedav ok -a "$A" -A alice:secret -b "$B" -B bob:secret -n 500 -s 160 -t 10000
check "fed_av_run: every stage done (ok 1, stage done)" \
	[ "$(val ok ok) $(val ok stage)" = "1 done" ]
for d in a_to_b b_to_a; do
	check "$d: 500 sent, 500 arrived intact, none corrupted, duplicated or lost" \
		[ "$(val ok $d.sent) $(val ok $d.intact) $(val ok $d.corrupt) $(val ok $d.duplicate) $(val ok $d.lost)" = "500 500 0 0 0" ]
done
RA=$(val ok a.relayed)
RAI=$(val ok a.inner_relayed)
RB=$(val ok b.relayed)
RBI=$(val ok b.inner_relayed)
check "client A: relayed $RA on edge A, inner $RAI on edge B, in 50000-59999" \
	relayed_on "$RA" 127.0.0.2 "$RAI" 127.0.0.3
check "client B: relayed $RB on edge B, inner $RBI on edge A, in 50000-59999" \
	relayed_on "$RB" 127.0.0.3 "$RBI" 127.0.0.2
check "edge B saw client A's inner Allocate come from A's relayed address (its signed answer)" \
	[ "$(val ok a.inner_mapped)" = "$RA" ]
check "edge A saw client B's inner Allocate come from B's relayed address" \
	[ "$(val ok b.inner_mapped)" = "$RB" ]
check "the four allocations are deleted (deleted 4), and none is left on either edge" \
	sh -c "[ $(val ok deleted) = 4 ] && [ $(metric "$CTL_a" edgelab_turn_allocations) = 0 ] &&
		[ $(metric "$CTL_b" edgelab_turn_allocations) = 0 ]"
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
	sleep 0.5
	kill -INT "$CAPTURE_PID" 2>/dev/null
	wait "$CAPTURE_PID" 2>/dev/null
	# (capture_start's pokes are TCP between 127.0.0.1's ports)
	tshark -r "$CAP" -Y "udp && ip.addr == 127.0.0.2 && ip.addr == 127.0.0.3" -T fields -e ip.src -e udp.srcport -e ip.dst -e udp.dstport \
		-e udp.payload 2>/dev/null >"$TMP/wire"
	echo "# tshark: $(wc -l <"$TMP/wire") datagrams between the edges' addresses"
	# Every datagram between the edges is row 5 (a relayed port of one to
	# the other's 3478) or its reply.
	odd=$(awk -v pa="$PORT_a" -v pb="$PORT_b" '
		{ out = ($1 == "127.0.0.2" && $4 == pb) || ($1 == "127.0.0.3" && $4 == pa)
		  back = ($1 == "127.0.0.3" && $2 == pb) || ($1 == "127.0.0.2" && $2 == pa)
		  rp = out ? $2 : $4
		  if (!(out || back) || rp < 50000 || rp > 59999) { n++; print "# odd: " $0 > "/dev/stderr" } }
		END { print n + 0 }' "$TMP/wire")
	check "the wire: every datagram between the edges is from a relay port to the other's 3478, or back ($odd others)" \
		[ "$odd" -eq 0 ]
	for pair in "$RA 127.0.0.3 $PORT_b A B" "$RB 127.0.0.2 $PORT_a B A"; do
		set -- $pair
		from=$1 to=$2 tp=$3
		awk -v ip="${from%:*}" -v p="${from##*:}" -v to="$to" -v tp="$tp" \
			'$1 == ip && $2 == p && $3 == to && $4 == tp { print $5 }' "$TMP/wire" >"$TMP/leg"
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
closed=$(free_port)
fedav reach -a "$A" -A alice:secret -b "$B" -B bob:secret -q "127.0.0.3:$closed" -t 1500
check "B's 3478 out of A's relay's reach: hop edge-a-to-edge-b, stage inner-allocate, no answer" \
	[ "$(val reach ok) $(val reach hop) $(val reach stage) $(val reach why)" = "0 edge-a-to-edge-b inner-allocate no-answer" ]
check "... the sentence names the Allocate to edge B sent through edge A's relay" \
	grep -q "^detail the Allocate to edge B (127.0.0.3:$closed) sent through edge A's relay (127\.0\.0\.2:5[0-9]*) got no answer" "$TMP/reach"
# Client B still tries its inner allocation after A's failed (fed_av's both()),
# and edge A's 3478 is in reach of B's relay: three allocations in all.
check "... client B's inner allocation was still made (its leg works)" \
	sh -c "grep -q '^b.inner_relayed 127\.0\.0\.2:5' '$TMP/reach'"
check "... the three allocations made are deleted" \
	sh -c "[ $(val reach deleted) = 3 ] && [ $(metric "$CTL_a" edgelab_turn_allocations) = 0 ] &&
		[ $(metric "$CTL_b" edgelab_turn_allocations) = 0 ]"

fedav auth -a "$A" -A alice:secret -b "$B" -B bob:wrong -t 1500
check "B's password wrong: hop client-b-to-edge-b, stage own-allocate, auth 431" \
	[ "$(val auth hop) $(val auth stage) $(val auth why) $(val auth code)" = "client-b-to-edge-b own-allocate auth 431" ]

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
