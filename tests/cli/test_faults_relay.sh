#!/bin/sh
# Faults on the relay's far side, on loopback (issue 15, point 5): a UDP
# peer that vanishes (its ICMP port unreachable comes back to the relayed
# socket: counted, the relay keeps serving, the allocation reaches another
# peer), a TCP peer that resets mid-stream (RFC 6062: the client's data
# connection is closed, every descriptor freed; MS-TURN over pseudo-TLS,
# tests/tools/msturnc: the next Send connects again), a full port range (508,
# counted, and ports come back when allocations go), and a TCP peer that
# floods a client that stops reading (memory stays bounded, the flow ends
# with its allocation).
set -u
. "$(dirname "$0")/../lib.sh"

need_turnc

# start_edge NAME [LINE...]: a serve of its own (tests/lib.sh's turn_edge),
# one worker, loopback peers allowed.
start_edge() {
	se_name=$1
	shift
	turn_edge "$se_name" "workers 1" "allow_loopback_peers yes" "$@"
}
# bg NAME OUT ARGS...: turnc against that edge in the background, its
# output in OUT; sets BG (killed at exit).
bg() {
	eval "bg_port=\$PORT_$1"
	bg_out=$2
	shift 2
	timeout 60 "$TURNC" -s "127.0.0.1:$bg_port" "$@" >"$bg_out" 2>&1 &
	BG=$!
	at_exit "kill -9 $BG"
}
# fds PID: how many descriptors it has open. Compared with -le: a baseline
# may still count a control connection that a check had just closed.
fds() { ls "/proc/$1/fd" | wc -l; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
show() { sed "s/^/# $1: /" "$2"; }

# --- 1. a UDP peer vanishes --------------------------------------------------
start_edge udp
P1=$(free_port)
P2=$(free_port)
turnutils_peer -p "$P1" -L 127.0.0.1 >"$TMP/p1.log" 2>&1 &
PEER1=$!
at_exit "kill -9 $PEER1"
turnutils_peer -p "$P2" -L 127.0.0.1 >"$TMP/p2.log" 2>&1 &
at_exit "kill -9 $!"
# After it went, packets to it come in batches (flood), and one is sent
# right before one to another peer on the same relayed socket: no send may
# fail for an earlier packet's ICMP error.
bg udp "$TMP/u.out" alloc perm:127.0.0.1 "bind:4001:127.0.0.1:$P1" "bind:4002:127.0.0.1:$P2" \
	chan:4001:one recv:one sleep:2 flood:4001:50:100 chan:4001:lost1 chan:4002:two recv:two chan:4001:lost2 \
	chan:4002:three recv:three chan:4001:lost3 chan:4002:four recv:four refresh:600
UDP_CLIENT=$BG
wait_for 10 grep -q '^recv' "$TMP/u.out"
kill -9 "$PEER1" # its port is closed now: the kernel answers with ICMP
wait "$UDP_CLIENT"
show udp "$TMP/u.out"
check "a UDP peer echoes through the relay before it goes" \
	sh -c "sed -n 's/^recv //p' $TMP/u.out | head -n 1 | grep -qx channel"
unreachable=$(metric "$CTL_udp" 'edgelab_turn_dropped_total{reason="peer_unreachable"}')
check "after it went, its ICMP port unreachable is counted (peer_unreachable: $unreachable)" \
	[ "$unreachable" -ge 1 ]
check "... and the same allocation reaches another peer (ChannelData both ways, 3 times)" \
	[ "$(grep -cx 'recv channel' "$TMP/u.out")" -eq 4 ]
check "... no send failed for an earlier packet's ICMP error (send_failed 0)" \
	[ "$(metric "$CTL_udp" 'edgelab_turn_dropped_total{reason="send_failed"}')" -eq 0 ]
check "... and the allocation is refreshed (200)" grep -qx 'refresh 200 lifetime=600' "$TMP/u.out"
# An error left on the socket's queue would wake the loop again and again.
t0=$(cpu_ticks "$PID_udp")
sleep 2
check "serve is idle afterwards, not woken by the error over and over (CPU ticks in 2 s: $(($(cpu_ticks "$PID_udp") - t0)))" \
	[ "$(($(cpu_ticks "$PID_udp") - t0))" -lt 50 ]

# --- 1. a TCP peer resets mid-stream (RFC 6062) --------------------------------
start_edge tcp
TP=$(free_port)
"$TOOLS/tcp_peer.py" "$TP" echo >"$TMP/tp.log" 2>&1 &
at_exit "kill -9 $!"
wait_for 5 grep -q listening "$TMP/tp.log"
base0=$(fds "$PID_tcp")
bg tcp "$TMP/t.out" -t alloc:tcp perm:127.0.0.1 sleep:1 "connect:127.0.0.1:$TP" cbind dsend:ping \
	drecv:ping dsend:reset dwait:5 sleep:3
TCP_CLIENT=$BG
wait_for 5 grep -q '^perm' "$TMP/t.out"
base1=$(fds "$PID_tcp")
wait_for 10 grep -q '^dwait' "$TMP/t.out"
check "RFC 6062: data flows on the bound data connection" grep -qx 'drecv ok' "$TMP/t.out"
check "the peer's RST closes the client's data connection" grep -Eqx 'dwait (eof|reset)' "$TMP/t.out"
check "... and frees the peer's and the data connection's descriptors ($base1 with the allocation)" \
	wait_for 3 sh -c "[ \$(ls /proc/$PID_tcp/fd | wc -l) -le $base1 ]"
check "... the allocation itself stays (gauge 1, one STUN/TCP connection)" \
	sh -c "[ $(metric "$CTL_tcp" edgelab_turn_allocations) -eq 1 ] &&
		[ $(metric "$CTL_tcp" edgelab_stun_tcp_connections) -eq 1 ]"
wait "$TCP_CLIENT"
show tcp "$TMP/t.out"
check "once the client goes, serve is back to its $base0 descriptors, no allocation" \
	wait_for 3 sh -c "[ \$(ls /proc/$PID_tcp/fd | wc -l) -le $base0 ] &&
		[ \$(curl -s --unix-socket $CTL_tcp http://e/metrics | awk '\$1 == \"edgelab_turn_allocations\" { print \$2 }') -eq 0 ]"

# --- 1. an MS-TURN TCP peer resets mid-stream (pseudo-TLS on the A/V edge's 443) ----
MSTURNC=$BUILDDIR/tests/tools/msturnc
TLSP=$(free_port)
start_edge ms "msturn_tls_listen 127.0.0.1:$TLSP"
base0=$(fds "$PID_ms")
timeout 30 "$MSTURNC" -T -s "127.0.0.1:$TLSP" alloc "send:127.0.0.1:$TP:ping" recv:ping \
	"send:127.0.0.1:$TP:reset" sleep:1 "send:127.0.0.1:$TP:again" recv:again delete \
	>"$TMP/ms.out" 2>&1
show ms "$TMP/ms.out"
check "MS-TURN over pseudo-TLS: Send to a TCP peer, its echo in a Data indication" \
	[ "$(grep -cx 'recv data' "$TMP/ms.out")" -eq 2 ]
check "... after the peer's RST the next Send connects again (2 connections out)" \
	[ "$(metric "$CTL_ms" 'edgelab_msturn_tcp_peer_connections_total{direction="outbound"}')" -eq 2 ]
check "... and once the allocation is deleted serve is back to its $base0 descriptors" \
	wait_for 3 sh -c "grep -qx 'delete 200' $TMP/ms.out && [ \$(ls /proc/$PID_ms/fd | wc -l) -le $base0 ]"

# --- 6. a full port range -----------------------------------------------------
# Four consecutive ports nothing on the host uses.
while :; do
	lo=$((50000 + $(od -An -N2 -tu2 /dev/urandom) % 9990))
	ss -Hantu "( sport >= :$lo and sport <= :$((lo + 3)) )" | grep -q . || break
done
start_edge full "relay_ports $lo-$((lo + 3))" "turn_user carol secret" "turn_user dave secret"
HOLDERS=""
bg full "$TMP/h1" alloc sleep:4 refresh:0 sleep:30
HOLDERS="$HOLDERS $BG"
bg full "$TMP/h2" -t -u bob alloc:tcp sleep:4 refresh:0 sleep:30
HOLDERS="$HOLDERS $BG"
bg full "$TMP/h3" -u carol alloc perm:127.0.0.1 "bind:4001:127.0.0.1:$P2" flood:4001:2000:200 sleep:30
HOLDERS="$HOLDERS $BG"
bg full "$TMP/h4" -t -u dave alloc:tcp sleep:30
HOLDERS="$HOLDERS $BG"
check "relay_ports $lo-$((lo + 3)): four allocations (UDP and TCP) take the four ports" \
	wait_for 5 sh -c "grep -q 'alloc 401 200' $TMP/h1 && grep -q 'alloc 401 200' $TMP/h2 &&
		grep -q 'alloc 401 200' $TMP/h3 && grep -q 'alloc 401 200' $TMP/h4"
timeout 10 "$TURNC" -s "127.0.0.1:$PORT_full" alloc >"$TMP/f5" 2>&1
timeout 10 "$TURNC" -t -s "127.0.0.1:$PORT_full" -u bob alloc:tcp >"$TMP/f6" 2>&1
show full "$TMP/f5"
check "a fifth, UDP or TCP, gets 508 while the range is full and traffic flows" \
	sh -c "grep -qx 'alloc 401 508' $TMP/f5 && grep -qx 'alloc 401 508' $TMP/f6"
check "... counted: edgelab_turn_requests_total{result=\"508\"} 2" \
	[ "$(metric "$CTL_full" 'edgelab_turn_requests_total{result="508"}')" -eq 2 ]
check "two allocations deleted (LIFETIME 0)" \
	wait_for 10 sh -c "grep -q 'refresh 200 lifetime=0' $TMP/h1 && grep -q 'refresh 200 lifetime=0' $TMP/h2"
timeout 10 "$TURNC" -s "127.0.0.1:$PORT_full" -u carol alloc >"$TMP/f7" 2>&1
timeout 10 "$TURNC" -t -s "127.0.0.1:$PORT_full" alloc:tcp >"$TMP/f8" 2>&1
check "... their ports serve new allocations, UDP and TCP" \
	sh -c "grep -q '^alloc 401 200 relayed=127.0.0.1:' $TMP/f7 && grep -q '^alloc 401 200 relayed=127.0.0.1:' $TMP/f8"
kill -9 $HOLDERS

# --- 7. a TCP peer floods a client that stops reading --------------------------
rss_honest
start_edge slow "turn_lifetime 8"
FP=$(free_port)
"$TOOLS/tcp_peer.py" "$FP" flood >"$TMP/fp.log" 2>&1 &
at_exit "kill -9 $!"
wait_for 5 grep -q listening "$TMP/fp.log"
rss0=$(rss_kb "$PID_slow")
bg slow "$TMP/s.out" -t alloc:tcp perm:127.0.0.1 "connect:127.0.0.1:$FP" cbind sleep:20
SLOW_CLIENT=$BG
wait_for 5 grep -q '^cbind' "$TMP/s.out"
sleep 1
rss1=$(rss_kb "$PID_slow")
sleep 3
rss2=$(rss_kb "$PID_slow")
show slow "$TMP/s.out"
check "the data connection is bound while the peer floods" grep -qx 'cbind 200' "$TMP/s.out"
check "serve's memory stays bounded while the client reads nothing (RSS ${rss0} -> ${rss1} -> ${rss2} kB)" \
	[ $((rss2 - rss1)) -lt 8192 ] && [ $((rss2 - rss0)) -lt 32768 ]
check "the flow ends with its allocation (turn_lifetime 8): the peer's writes fail" \
	wait_for 15 grep -q '^flood wrote' "$TMP/fp.log"
sed 's/^/# peer: /' "$TMP/fp.log"
check "... the data connection is closed by serve, the allocation gone" \
	wait_for 3 sh -c "[ \$(curl -s --unix-socket $CTL_slow http://e/metrics | awk '\$1 == \"edgelab_turn_allocations\" { print \$2 }') -eq 0 ]"
kill -9 "$SLOW_CLIENT"
check "serve is still up" kill -0 "$PID_udp" "$PID_tcp" "$PID_full" "$PID_slow"
finish
