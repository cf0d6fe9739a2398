#!/bin/sh
# A firewall that starts dropping mid-flow (issue 15, point 5), in a pair
# of network namespaces of the test's own (root only): edge (serve on
# 192.0.2.1) and out (the TURN client 192.0.2.10 and a peer 192.0.2.20),
# one veth between them. Media flows through the relay while:
#   1. the edge's own firewall gets a drop rule for the peer (nft, output):
#      nothing reaches the peer any more, serve counts each packet as
#      send_failed (the kernel refuses the send: EPERM); once the rule is
#      deleted the same allocation carries traffic again;
#   2. the client's stateful firewall (inbound: replies only) loses its
#      state (conntrack -F) while the peer streams to the client: the
#      firewall drops what the relay sends (its counter; serve, whose sends
#      succeed, counts them relayed), until the client's next Refresh opens
#      the way again.
set -u
. "$(dirname "$0")/../lib.sh"
skip_slow "network namespaces, about 30 s"
[ "$(id -u)" -eq 0 ] || skip_all "root only (network namespaces, nftables, conntrack)"
for t in ip nft conntrack python3; do
	command -v "$t" >/dev/null || { not_ok "$t is installed (scripts/install-deps.sh)"; finish; }
done
need_turnc

NS=elff-$$
E=$NS-edge
O=$NS-out
at_exit "ip netns del $E; ip netns del $O"
in_e() { ip netns exec "$E" "$@"; }
in_o() { ip netns exec "$O" "$@"; }
{ ip netns add "$E" && ip netns add "$O" &&
	ip link add e0 netns "$E" type veth peer name o0 netns "$O" &&
	in_e ip addr add 192.0.2.1/24 dev e0 && in_e ip link set e0 up && in_e ip link set lo up &&
	in_o ip addr add 192.0.2.10/24 dev o0 && in_o ip addr add 192.0.2.20/24 dev o0 &&
	in_o ip link set o0 up && in_o ip link set lo up; } ||
	{ not_ok "the namespaces are built"; finish; }

# serve in the edge namespace: serve_start runs $EDGELAB, here a wrapper
# (ip netns exec execs, so the PID is serve's).
printf '#!/bin/sh\nexec ip netns exec %s %s "$@"\n' "$E" "$EDGELAB" >"$TMP/edgelab-edge"
chmod +x "$TMP/edgelab-edge"
CTL=$TMP/ctl.sock
printf '%s\n' "stun_udp_listen 192.0.2.1:3478" "stun_tcp_listen off" "sip_tls_listen off" \
	"sip_mtls_listen off" "control_socket $CTL" "workers 1" "turn_user alice secret" \
	>"$TMP/edge.conf"
EDGELAB=$TMP/edgelab-edge serve_start "$TMP/edge.conf" || { not_ok "serve starts"; finish; }
PID=$SERVE_PID
PEER=4000   # turnutils_peer: an echo
SENDER=4100 # part 2's stream (turnutils_peer holds 4001 too)
# (In the background, ip netns exec itself, not in_o: it execs, so $! is the
# process to kill at exit.)
ip netns exec "$O" turnutils_peer -p "$PEER" -L 192.0.2.20 >"$TMP/peer.log" 2>&1 &
at_exit "kill -9 $!"
# client OUT ARGS...: turnc in the out namespace, in the background.
client() {
	out=$1
	shift
	ip netns exec "$O" timeout 60 "$TURNC" -s 192.0.2.1:3478 -L 192.0.2.10 "$@" >"$out" 2>&1 &
	CLIENT=$!
	at_exit "kill -9 $CLIENT"
}
show() { sed "s/^/# $1: /" "$2"; }
nth() { sed -n "s/^$1 //p" "$3" | sed -n "$2p"; }
failed() { metric "$CTL" 'edgelab_turn_dropped_total{reason="send_failed"}'; }

# --- 1. the edge's firewall drops the peer ----------------------------------------
client "$TMP/a" alloc perm:192.0.2.20 "bind:4001:192.0.2.20:$PEER" pace:4001:3:100 sleep:2 \
	pace:4001:3:100 sleep:2 pace:4001:3:100 refresh:600
wait_for 15 grep -q '^pace' "$TMP/a"
failed0=$(failed)
in_e nft -f - <<NFT
table ip fault {
	chain out {
		type filter hook output priority filter; policy accept;
		ip daddr 192.0.2.20 udp dport $PEER counter drop
	}
}
NFT
wait_for 10 sh -c "[ \$(grep -c '^pace' $TMP/a) -ge 2 ]"
dropped=$(in_e nft list chain ip fault out | sed -n 's/.*counter packets \([0-9]*\).*/\1/p')
in_e nft delete table ip fault
wait "$CLIENT"
show a "$TMP/a"
check "media flows through the relay (pace: all of it echoed)" \
	[ "$(nth pace 1 "$TMP/a")" = "sent 300 got 300" ]
check "a drop rule for the peer on the edge: nothing comes back" \
	[ "$(nth pace 2 "$TMP/a")" = "sent 300 got 0" ]
check "... the rule dropped them ($dropped), serve counts each as send_failed ($(($(failed) - failed0)))" \
	[ "${dropped:-0}" -ge 250 ] && [ "$(($(failed) - failed0))" -ge 250 ]
got=$(nth pace 3 "$TMP/a" | sed 's/.* got //')
check "the rule deleted: the same allocation carries media again (got $got of 300)" \
	[ "${got:-0}" -ge 150 ]
check "... and its Refresh succeeds" grep -qx 'refresh 200 lifetime=600' "$TMP/a"

# --- 2. the client's stateful firewall forgets its flows ----------------------------------
in_o nft -f - <<'NFT'
table ip client {
	chain in {
		type filter hook input priority filter; policy accept;
		ip daddr 192.0.2.10 ct state established,related accept
		ip daddr 192.0.2.10 counter drop
	}
}
NFT
client "$TMP/b" alloc perm:192.0.2.20 "bind:4001:192.0.2.20:$SENDER" sleep:2 listen:4001:2 \
	sleep:4 listen:4001:2 refresh:600 listen:4001:2
wait_for 5 grep -q '^bind 200' "$TMP/b"
relayed=$(sed -n 's/.*relayed=\([0-9.:]*\).*/\1/p' "$TMP/b")
# The peer streams to the client: 100 packets a second.
ip netns exec "$O" python3 -c "
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('192.0.2.20', $SENDER))
while True:
    s.sendto(b'x' * 100, ('${relayed%:*}', ${relayed##*:}))
    time.sleep(0.01)
" &
at_exit "kill -9 $!"
wait_for 10 grep -q '^listen' "$TMP/b"
in_o conntrack -F 2>/dev/null
wait_for 10 sh -c "[ \$(grep -c '^listen' $TMP/b) -ge 2 ]"
dropped=$(in_o nft list chain ip client in | sed -n 's/.*counter packets \([0-9]*\).*/\1/p')
wait "$CLIENT"
show b "$TMP/b"
g1=$(nth listen 1 "$TMP/b" | sed 's/got //')
g2=$(nth listen 2 "$TMP/b" | sed 's/got //')
g3=$(nth listen 3 "$TMP/b" | sed 's/got //')
check "the peer's stream reaches the client through its firewall (got $g1 in 2 s)" \
	[ "${g1:-0}" -ge 100 ]
check "conntrack -F there: the stream stops (got $g2 in 2 s, what came before the flush)" \
	[ "$((${g2:-999} * 4))" -lt "${g1:-0}" ]
check "... dropped by the client's firewall (its counter: $dropped), not by serve" \
	[ "${dropped:-0}" -ge 100 ]
check "the client's Refresh succeeds and lets the stream in again (got $g3 in 2 s)" \
	sh -c "grep -qx 'refresh 200 lifetime=600' $TMP/b && [ ${g3:-0} -ge 100 ]"
check "serve is still up" kill -0 "$PID"
finish
