#!/bin/sh
# TURN safety and protocol checks with turnc (tests/tools/turnc.c), a
# scriptable client, on loopback: the peer policy (every address that must be
# refused gets 403), quotas (486, 508), a full port range (508, then a
# released port is used again), the 401 rate limit, stale nonces (438),
# lifetimes and expiry, the bandwidth cap, EVEN-PORT with RESERVATION-TOKEN,
# and the errors for what edgelab cannot do (400, 437, 440, 442). Data goes
# through the relay to turnutils_peer, which echoes it back.
set -u
. "$(dirname "$0")/../lib.sh"

need_turnc

# start_edge NAME [KEY VALUE lines]: a serve of its own (tests/lib.sh's
# turn_edge, two workers).
start_edge() {
	se_name=$1
	shift
	turn_edge "$se_name" "workers 2" "$@"
}

# turnc NAME ARGS...: runs turnc against that edge, output in $TMP/out.
tc() {
	name=$1
	shift
	eval "port=\$PORT_$name"
	timeout 60 "$TURNC" -s "127.0.0.1:$port" "$@" >"$TMP/out" 2>&1
	sed "s/^/# $name: /" "$TMP/out"
}
has() { grep -qx "$1" "$TMP/out"; }
has_re() { grep -q "$1" "$TMP/out"; }

PEER=$(free_port)
turnutils_peer -p "$PEER" -L 127.0.0.1 >"$TMP/peer.log" 2>&1 &
at_exit "kill -9 $!"

# --- peer policy -----------------------------------------------------------
start_edge def
refused="127.0.0.1 127.0.0.2 255.255.255.255 169.254.0.1 0.0.0.0 [::1] [::] [fe80::1] [::ffff:127.0.0.1]"
args=""
for a in $refused; do args="$args perm:$a:9"; done
tc def alloc $args perm:192.0.2.5:9 perm:10.1.2.3:9
check "Allocate: 401 with a nonce, then 200 with a relayed port in 50000-59999" \
	has_re '^alloc 401 200 relayed=127\.0\.0\.1:5[0-9][0-9][0-9][0-9] '
i=0
for a in $refused; do
	i=$((i + 1))
	check "CreatePermission to $a: 403" \
		sh -c "sed -n 's/^perm //p' $TMP/out | sed -n ${i}p | grep -qx 403"
done
check "... while a public (192.0.2.5) and a private (10.1.2.3) peer get 200" \
	sh -c "[ \"\$(sed -n 's/^perm //p' $TMP/out | tail -n 2 | tr '\n' ' ')\" = '200 200 ' ]"
tc def alloc "perm:[2001:db8::1]:9" "bind:4001:127.0.0.1:$PEER" "bind:3fff:192.0.2.5:9"
check "an IPv6 peer for an IPv4 relayed address: 443" has "perm 443"
check "ChannelBind to a refused peer: 403" has "bind 403"
check "a channel number below 0x4000: 400" has "bind 400"
check "refusals are counted" \
	[ "$(metric "$CTL_def" 'edgelab_turn_requests_total{result="403"}')" -ge 10 ]

start_edge pol "allow_loopback_peers yes" "peer_deny 192.0.2.0/24" "peer_allow 169.254.7.0/24"
tc pol alloc perm:127.0.0.1:9 "perm:[::1]:9" perm:192.0.2.5:9 perm:169.254.7.1:9 perm:169.254.8.1:9 \
	perm:198.51.100.1:9
check "allow_loopback_peers yes: 127.0.0.1 and ::1 allowed (::1 on IPv4: 443)" \
	sh -c "[ \"\$(sed -n 's/^perm //p' $TMP/out | head -n 2 | tr '\n' ' ')\" = '200 443 ' ]"
check "peer_deny 192.0.2.0/24: 403; peer_allow wins over a built-in denial; the rest as before" \
	sh -c "[ \"\$(sed -n 's/^perm //p' $TMP/out | tail -n 4 | tr '\n' ' ')\" = '403 200 403 200 ' ]"

# --- data through the relay ------------------------------------------------
tc pol alloc "send:127.0.0.1:$PEER:nopermission" recv:nopermission perm:127.0.0.1 \
	"send:127.0.0.1:$PEER:hello" recv:hello "bind:4001:127.0.0.1:$PEER" chan:4001:hi recv:hi
check "Send without a permission is dropped" has "recv timeout"
check "Send indication to the peer, its echo back as a Data indication" has "recv data"
check "ChannelData to the peer, its echo back as ChannelData" has "recv channel"
check "drops without a permission are counted" \
	[ "$(metric "$CTL_pol" 'edgelab_turn_dropped_total{reason="no_permission"}')" -ge 1 ]
tc pol -t alloc perm:127.0.0.1 "bind:4002:127.0.0.1:$PEER" chan:4002:overtcp recv:overtcp
check "TURN over TCP: ChannelData both ways (padded framing)" has "recv channel"
tc pol -t alloc:tcp alloc "perm:127.0.0.1"
check "RFC 6062: REQUESTED-TRANSPORT TCP over TCP gets a relayed TCP port" \
	has_re '^alloc 401 200 relayed=127\.0\.0\.1:5[0-9]*'
# Connect: the relay opens TCP to a peer (def's STUN/TCP listener serves as
# one) from the relayed address; the peer sees a source port in the range.
tc pol -t alloc:tcp perm:127.0.0.1 "connect:127.0.0.1:$PORT_def" "connect:127.0.0.1:$PORT_def" \
	sleep:2 &
CONNECT=$!
at_exit "kill -9 $CONNECT"
wait_for 5 sh -c "ss -Htn state established '( dport = :$PORT_def )' | grep -q ."
relayed_sport=$(ss -Htn state established "( dport = :$PORT_def )" | awk '{print $3}' | sed 's/.*://' | head -n 1)
check "Connect: the peer's connection comes from a relay port ($relayed_sport in 50000-59999)" \
	[ "$((${relayed_sport:-0} >= 50000 && ${relayed_sport:-0} <= 59999))" -eq 1 ]
wait "$CONNECT"
check "... the Connect succeeds with a CONNECTION-ID, a second one to the same peer gets 446" \
	sh -c "grep -q '^connect 200 id=[0-9]*$' $TMP/out && grep -qx 'connect 446' $TMP/out"
tc pol -t alloc:tcp "connect:127.0.0.1:1" "bind:4001:127.0.0.1:$PEER"
check "Connect to a closed port: 447" has "connect 447"
check "ChannelBind on a TCP allocation: 400 (RFC 6062 section 4)" has "bind 400"

# A dual-stack listener ([::]) serves an IPv4 client: relayed data goes back
# to its IPv4-mapped address, from the address it used.
LISTEN="[::]" start_edge dual "allow_loopback_peers yes"
tc dual alloc perm:127.0.0.1 "bind:4001:127.0.0.1:$PEER" chan:4001:dualstack recv:dualstack
check "a dual-stack listener relays to and from an IPv4 client" has "recv channel"

# --- errors ----------------------------------------------------------------
tc def refresh:600 alloc:tcp alloc:transport=1 alloc:v6 alloc refresh:0 refresh:600
check "Refresh with no allocation: 437" has "refresh 401 437"
check "REQUESTED-TRANSPORT TCP over UDP: 400 (RFC 6062 5.1)" has "alloc 400"
check "REQUESTED-TRANSPORT ICMP: 442" has "alloc 442"
check "REQUESTED-ADDRESS-FAMILY IPv6 with no IPv6 relay address: 440" has "alloc 440"
check "LIFETIME 0 deletes the allocation; the next Refresh gets 437" \
	sh -c "grep -qx 'refresh 200 lifetime=0' $TMP/out && tail -n 1 $TMP/out | grep -qx 'refresh 437'"
tc def alloc alloc
check "a second Allocate on the same 5-tuple: 437" has "alloc 437"

# --- EVEN-PORT and RESERVATION-TOKEN ------------------------------------------
tc def alloc:even-r
first=$(sed -n 's/.*relayed=127\.0\.0\.1:\([0-9]*\).*/\1/p' "$TMP/out")
token=$(sed -n 's/.*token=\([0-9a-f]*\).*/\1/p' "$TMP/out")
check "EVEN-PORT with R: an even port ($first) and a RESERVATION-TOKEN" \
	sh -c "[ -n '$token' ] && [ \$(($first % 2)) -eq 0 ]"
tc def "alloc:token=$token"
check "an Allocate with the token gets the odd port next to it" \
	has_re "^alloc 401 200 relayed=127\.0\.0\.1:$((first + 1)) "
tc def "alloc:token=$token"
check "... once only: the same token again gets 508" has "alloc 401 508"

# --- quotas and a full port range ---------------------------------------------
start_edge quota "turn_user_quota 2" "turn_total_quota 3" "turn_user carol secret"
TURNC_BG=""
for i in 1 2; do
	"$TURNC" -s "127.0.0.1:$PORT_quota" alloc sleep:8 >"$TMP/q$i" 2>&1 &
	TURNC_BG="$TURNC_BG $!"
done
at_exit "kill -9 $TURNC_BG"
wait_for 5 sh -c "grep -q 'alloc 401 200' $TMP/q1 && grep -q 'alloc 401 200' $TMP/q2"
tc quota alloc
check "turn_user_quota 2: a third allocation for alice gets 486" has "alloc 401 486"
"$TURNC" -s "127.0.0.1:$PORT_quota" -u carol alloc sleep:8 >"$TMP/q3" 2>&1 &
at_exit "kill -9 $!"
wait_for 5 grep -q 'alloc 401 200' "$TMP/q3"
tc quota -u bob alloc
check "turn_total_quota 3: a fourth allocation, another user's, gets 508" has "alloc 401 508"

start_edge full "relay_ports 50990-50991"
"$TURNC" -s "127.0.0.1:$PORT_full" alloc sleep:3 refresh:0 >"$TMP/f1" 2>&1 &
at_exit "kill -9 $!"
"$TURNC" -s "127.0.0.1:$PORT_full" -u bob alloc sleep:30 >"$TMP/f2" 2>&1 &
at_exit "kill -9 $!"
wait_for 5 sh -c "grep -q 'alloc 401 200' $TMP/f1 && grep -q 'alloc 401 200' $TMP/f2"
tc full alloc
check "relay_ports 50990-50991, both taken: the next Allocate gets 508" \
	has "alloc 401 508"
wait_for 10 grep -q 'refresh 200' "$TMP/f1"
tc full alloc
check "a port released (LIFETIME 0) is handed out again" \
	has_re '^alloc 401 200 relayed=127\.0\.0\.1:5099[01] '
check "pool exhaustion is counted" \
	[ "$(metric "$CTL_full" 'edgelab_turn_requests_total{result="508"}')" -ge 1 ]

# --- 401 rate limit, stale nonces, lifetimes, bandwidth -----------------------
start_edge rate "turn_401_rate 5" "turn_nonce_lifetime 1" "turn_lifetime 2" \
	"allow_loopback_peers yes" "turn_max_bps 2000"
tc rate noauth:40
answered=$(sed -n 's/^noauth 40 answered \([0-9]*\)$/\1/p' "$TMP/out")
check "turn_401_rate 5: 40 unauthenticated Allocates at once get $answered 401s (a burst of 10)" \
	[ "$((${answered:-99} <= 11 && ${answered:-0} >= 5))" -eq 1 ]
check "withheld 401s are counted" \
	[ "$(metric "$CTL_rate" 'edgelab_turn_dropped_total{reason="rate_401"}')" -ge 29 ]
sleep 3 # the bucket refills
tc rate alloc:lifetime=10 sleep:2 refresh:10
check "turn_nonce_lifetime 1: a Refresh 2 s later gets 438 Stale Nonce, then 200 with the new one" \
	has "refresh 438 200 lifetime=10"
tc rate alloc sleep:3 refresh:2
check "turn_lifetime 2: an allocation left alone expires (Refresh: 437)" has_re "^refresh 4.. 437$"
tc rate alloc perm:127.0.0.1 "bind:4001:127.0.0.1:$PEER" flood:4001:40:500
sleep 0.5
to_peer=$(metric "$CTL_rate" 'edgelab_turn_relayed_packets_total{direction="to_peer"}')
check "turn_max_bps 2000: 40 x 500 bytes at once, $to_peer relayed (a second's worth: 4)" \
	[ "$((to_peer <= 5 && to_peer >= 3))" -eq 1 ]
check "... the rest dropped and counted" \
	[ "$(metric "$CTL_rate" 'edgelab_turn_dropped_total{reason="bandwidth"}')" -ge 35 ]

# --- relay_udp_offload: GSO runs out, GRO runs in -----------------------------
# 200 ChannelData through coturn's echo peer come back as 200 (a run sent as
# one datagram would come back as one). turnc then sends 40 as one GSO
# packet, which the listener reads whole (GRO) and cuts into 40 again: 32
# fill the forward queue and go as one run, then 8. Then, with serve held
# (SIGSTOP) so that one read takes them all, 64 Binding requests in one GSO
# packet and 10 single ones: more answers than a queue holds (32), around a
# run.
start_edge gso "allow_loopback_peers yes" "relay_udp_offload yes"
SERVE_GSO=$SERVE_PID
tc gso alloc perm:127.0.0.1 "bind:4001:127.0.0.1:$PEER" flood:4001:200:160 listen:4001:4 \
	gflood:4001:40:160 listen:4001:3
check "relay_udp_offload yes: 200 ChannelData of 160 bytes through coturn's echo peer, 200 back" \
	has "listen got 200"
check "40 ChannelData in one GSO packet: 40 back" has "listen got 40"
gso=$(metric "$CTL_gso" edgelab_udp_gso_datagrams_total)
check "... $gso datagrams went in UDP_SEGMENT runs the kernel took (at least the 40)" \
	[ "$gso" -ge 40 ]
kill -STOP "$SERVE_GSO"
at_exit "kill -CONT $SERVE_GSO"
"$TURNC" -s "127.0.0.1:$PORT_gso" gbind:64:10 >"$TMP/g1" 2>&1 &
GSO_CLIENT=$!
sleep 1
kill -CONT "$SERVE_GSO"
wait "$GSO_CLIENT"
sed 's/^/# gso: /' "$TMP/g1"
check "64 Binding requests in one GSO packet and 10 single, in one read: 74 answers" \
	grep -qx 'gbind 74 answered 74' "$TMP/g1"
check "... serve still runs" kill -0 "$SERVE_GSO"
gro=$(metric "$CTL_gso" edgelab_udp_gro_datagrams_total)
check "... both GSO packets read as GRO runs and cut: $gro datagrams (40 + 64)" [ "$gro" -eq 104 ]
to_peer=$(metric "$CTL_gso" 'edgelab_turn_relayed_packets_total{direction="to_peer"}')
failed=$(metric "$CTL_gso" 'edgelab_turn_dropped_total{reason="send_failed"}')
check "... $to_peer relayed to the peer (240), $failed refused (0)" \
	[ "$((to_peer == 240 && failed == 0))" -eq 1 ]

# --- SIGHUP: a new peer policy, the allocations stay ---------------------------
start_edge hup "allow_loopback_peers yes"
SERVE_HUP=$SERVE_PID
"$TURNC" -s "127.0.0.1:$PORT_hup" alloc perm:198.51.100.7 sleep:3 refresh:600 perm:198.51.100.8 \
	>"$TMP/h1" 2>&1 &
HUP_CLIENT=$!
at_exit "kill -9 $HUP_CLIENT"
wait_for 5 grep -q 'alloc 401 200' "$TMP/h1"
echo "peer_deny 198.51.100.0/24" >>"$TMP/hup.conf"
kill -HUP "$SERVE_HUP"
wait_for 5 grep -q "reloaded configuration" "$TMP/hup.log"
wait "$HUP_CLIENT"
sed 's/^/# hup: /' "$TMP/h1"
check "SIGHUP: the allocation made before the reload is still there (Refresh 200)" \
	grep -qx 'refresh 200 lifetime=600' "$TMP/h1"
check "... and its new permissions follow the new policy (peer_deny: 403)" \
	sh -c "sed -n 's/^perm //p' $TMP/h1 | tr '\n' ' ' | grep -qx '200 403 '"
finish
