# What the federation A/V tests share (tests/cli/test_fed_av.sh over UDP,
# test_fed_av_tcp.sh over TCP); sourced after tests/lib.sh. FEDAV_OPTS:
# what each fedav run gets first (-T for TCP).

FEDAV=${FEDAV:-$BUILDDIR/tests/tools/fedav}
[ -x "$FEDAV" ] || { not_ok "fedav is built ($FEDAV)"; finish; }

# fedav OUT ARGS...: runs fedav, its result and its exit status ("exit N")
# in $TMP/OUT.
fedav() {
	out=$TMP/$1
	shift
	timeout 60 "$FEDAV" ${FEDAV_OPTS:-} "$@" >"$out" 2>&1
	echo "exit $?" >>"$out"
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
# none_left CTL...: no allocation left on any of these edges.
none_left() {
	for ctl; do [ "$(metric "$ctl" edgelab_turn_allocations)" = 0 ] || return 1; done
}
# deleted OUT N CTL...: the run OUT deleted N allocations, and none is left.
deleted() {
	[ "$(val "$1" deleted)" = "$2" ] || return 1
	shift 2
	none_left "$@"
}

# edges_capture PROTO: tshark on lo (as root, when installed) of PROTO
# between edge A's and edge B's addresses into $CAP, which stays empty
# when there is no capture; edges_captured ends it.
edges_capture() {
	CAP=""
	if [ "$(id -u)" -eq 0 ] && command -v tshark >/dev/null; then
		CAP=$TMP/edges.pcapng
		capture_start "$CAP" "$1 and host 127.0.0.2 and host 127.0.0.3" ||
			not_ok "tshark capture starts"
	fi
}
edges_captured() {
	sleep 0.5
	kill -INT "$CAPTURE_PID" 2>/dev/null
	wait "$CAPTURE_PID" 2>/dev/null
}

# fed_av_ok OUT CTL_A CTL_B: the run OUT between edge A (127.0.0.2) and
# edge B (127.0.0.3) went through: 500 packets intact each way, the four
# relayed addresses on the right edges, the inner Allocates seen from the
# own relayed addresses, all four deleted. Sets RA, RAI, RB, RBI.
fed_av_ok() {
	check "fed_av_run: every stage done (ok 1, stage done, exit 0)" \
		[ "$(val "$1" ok) $(val "$1" stage) $(val "$1" exit)" = "1 done 0" ]
	for d in a_to_b b_to_a; do
		check "$d: 500 sent, 500 arrived intact, none corrupted, duplicated or lost" \
			[ "$(val "$1" $d.sent) $(val "$1" $d.intact) $(val "$1" $d.corrupt) $(val "$1" $d.duplicate) $(val "$1" $d.lost)" = "500 500 0 0 0" ]
	done
	RA=$(val "$1" a.relayed)
	RAI=$(val "$1" a.inner_relayed)
	RB=$(val "$1" b.relayed)
	RBI=$(val "$1" b.inner_relayed)
	check "client A: relayed $RA on edge A, inner $RAI on edge B, in 50000-59999" \
		relayed_on "$RA" 127.0.0.2 "$RAI" 127.0.0.3
	check "client B: relayed $RB on edge B, inner $RBI on edge A, in 50000-59999" \
		relayed_on "$RB" 127.0.0.3 "$RBI" 127.0.0.2
	check "edge B saw client A's inner Allocate come from A's relayed address (its signed answer)" \
		[ "$(val "$1" a.inner_mapped)" = "$RA" ]
	check "edge A saw client B's inner Allocate come from B's relayed address" \
		[ "$(val "$1" b.inner_mapped)" = "$RB" ]
	check "the four allocations are deleted (deleted 4), and none is left on either edge" \
		deleted "$1" 4 "$2" "$3"
}

# wire_odd FILE PORT_A PORT_B: how many lines of FILE (tshark fields: source
# address and port, destination address and port) between edge A
# (127.0.0.2, listening on PORT_A) and edge B (127.0.0.3, PORT_B) are not
# from a relayed port (50000-59999) of one to the other's listener, or back
# (each printed as a comment).
wire_odd() {
	awk -v pa="$2" -v pb="$3" '
		{ out = ($1 == "127.0.0.2" && $4 == pb) || ($1 == "127.0.0.3" && $4 == pa)
		  back = ($1 == "127.0.0.3" && $2 == pb) || ($1 == "127.0.0.2" && $2 == pa)
		  rp = out ? $2 : $4
		  if (!(out || back) || rp < 50000 || rp > 59999) { n++; print "# odd: " $0 > "/dev/stderr" } }
		END { print n + 0 }' "$1"
}

# wire_leg FROM TO_IP TO_PORT: the lines of $TMP/wire (as for wire_odd)
# from the address FROM to TO_IP:TO_PORT into $TMP/leg, each without its
# four address fields.
wire_leg() {
	awk -F '\t' -v ip="${1%:*}" -v p="${1##*:}" -v to="$2" -v tp="$3" '
		$1 == ip && $2 == p && $3 == to && $4 == tp {
			for (i = 0; i < 4; i++) $0 = substr($0, index($0, "\t") + 1)
			print }' "$TMP/wire" >"$TMP/leg"
}

# fed_av_unreached CTL_A CTL_B ARGS...: runs fedav reach ARGS with edge B's
# listener, as edge A's relay reaches it, on a closed port ($closed, set);
# the run must fail between the edges at the inner Allocate, client B's
# inner allocation still made, and the three allocations made deleted.
fed_av_unreached() {
	closed=$(free_port)
	ctl_a=$1 ctl_b=$2
	shift 2
	fedav reach "$@" -q "127.0.0.3:$closed"
	check "B's listener out of A's relay's reach: hop edge-a-to-edge-b, stage inner-allocate, no answer, exit 1" \
		[ "$(val reach ok) $(val reach hop) $(val reach stage) $(val reach why) $(val reach exit)" = "0 edge-a-to-edge-b inner-allocate no-answer 1" ]
	# Client B still tries its inner allocation after A's failed (fed_av's
	# both()), and edge A's listener is in reach of B's relay.
	check "... client B's inner allocation was still made (its leg works)" \
		grep -q '^b.inner_relayed 127\.0\.0\.2:5' "$TMP/reach"
	check "... the three allocations made are deleted, none left" deleted reach 3 "$ctl_a" "$ctl_b"
}

# fed_av_auth OUT: the run OUT, with edge B's password wrong, failed there.
fed_av_auth() {
	check "B's password wrong: hop client-b-to-edge-b, stage own-allocate, auth 431, exit 1" \
		[ "$(val "$1" hop) $(val "$1" stage) $(val "$1" why) $(val "$1" code) $(val "$1" exit)" = "client-b-to-edge-b own-allocate auth 431 1" ]
}
