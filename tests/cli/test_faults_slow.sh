#!/bin/sh
# SIP clients that stop reading (issue 15, point 5), over TLS on loopback:
# one that sends requests and reads none of the answers, and a registered
# one that reads nothing while another client floods it with MESSAGEs. The
# edge's memory stays bounded (what waits for a client is capped: the rest
# is dropped and counted), and a connection that takes nothing for
# sip_idle_timeout is closed and counted. (A TCP relay client that stops
# reading: tests/cli/test_faults_relay.sh.)
set -u
. "$(dirname "$0")/../lib.sh"

TOOLS=$SRCDIR/tests/tools
pki_sets "$TMP/pki" || finish
TLS=$(free_port)
CTL=$TMP/ctl.sock
LOG=$TMP/serve.log
printf '%s\n' "stun_udp_listen off" "stun_tcp_listen off" "sip_tls_listen 127.0.0.1:$TLS" \
	"sip_mtls_listen off" "tls_certificate $TMP/pki/edge.pem" "tls_key $TMP/pki/edge.key" \
	"tls_ca $TMP/pki/ca.pem" "control_socket $CTL" "workers 1" "sip_idle_timeout 3" \
	>"$TMP/edge.conf"
rss_honest
serve_start "$TMP/edge.conf" "$LOG" || { not_ok "serve starts"; finish; }
PID=$SERVE_PID
# stall NAME ARGS...: sip_stall.py in the background, its output in NAME.
stall() {
	out=$TMP/$1
	shift
	"$TOOLS/sip_stall.py" "$TLS" --ca "$TMP/pki/ca.pem" "$@" >"$out" 2>&1 &
	at_exit "kill -9 $!"
}
conns() { metric "$CTL" edgelab_sip_connections; }

# --- requests, no answer read ------------------------------------------------------
rss0=$(rss_kb "$PID")
stall options options 200000
check "a client sends OPTIONS and reads no answer: the edge stops reading it" \
	wait_for 60 grep -q '^sent' "$TMP/options"
sed 's/^/# client: /' "$TMP/options"
rss1=$(rss_kb "$PID")
check "serve's memory stays bounded meanwhile (RSS $rss0 -> $rss1 kB)" \
	[ $((rss1 - rss0)) -lt 16384 ]
check "the connection is closed once it took nothing for sip_idle_timeout (3 s)" \
	wait_for 10 sh -c "[ \$(curl -s --unix-socket $CTL http://e/metrics |
		awk '\$1 == \"edgelab_sip_connections\" { print \$2 }') -eq 0 ]"
check "... counted" [ "$(metric "$CTL" edgelab_sip_stalled_closed_total)" -eq 1 ]
check "... and logged" grep -q "closed: the peer reads nothing" "$LOG"

# --- a registered client that reads nothing, flooded by another ----------------------
stall alice register alice@edge.example
check "alice registers, then reads nothing" wait_for 5 grep -q '^SIP/2.0 200' "$TMP/alice"
rss0=$(rss_kb "$PID")
stall bob message alice@edge.example 40000 1000
check "bob sends alice 40000 MESSAGEs of 1000 bytes (40 MB)" wait_for 60 grep -q '^sent' "$TMP/bob"
sed 's/^/# bob: /' "$TMP/bob"
rss1=$(rss_kb "$PID")
check "serve's memory stays bounded (RSS $rss0 -> $rss1 kB)" [ $((rss1 - rss0)) -lt 16384 ]
dropped=$(metric "$CTL" edgelab_sip_stalled_dropped_total)
check "what did not fit in alice's queue is dropped and counted ($dropped)" [ "$dropped" -gt 0 ]
check "alice's connection is closed once it took nothing for 3 s; bob's stays" \
	wait_for 10 sh -c "[ \$(curl -s --unix-socket $CTL http://e/metrics |
		awk '\$1 == \"edgelab_sip_connections\" { print \$2 }') -eq 1 ]"
check "... counted" [ "$(metric "$CTL" edgelab_sip_stalled_closed_total)" -eq 2 ]
check "serve is still up" kill -0 "$PID"
finish
