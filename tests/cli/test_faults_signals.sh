#!/bin/sh
# Signals under load (issue 15, point 5): TURN allocations over UDP and TCP
# carrying ChannelData, an RFC 6062 data connection, TLS connections on 443
# and MTLS from a partner on 5061, all held while serve gets SIGHUP (the
# allocations and connections survive it and go on working) or SIGTERM (it
# exits within 5 s with status 0 and, in a sanitizer build, no leak or
# error report).
set -u
. "$(dirname "$0")/../lib.sh"

need_turnc
pki_sets "$TMP/pki" || finish

PEER=$(free_port)
turnutils_peer -p "$PEER" -L 127.0.0.1 >"$TMP/peer.log" 2>&1 &
at_exit "kill -9 $!"
TP=$(free_port)
"$TOOLS/tcp_peer.py" "$TP" echo >"$TMP/tp.log" 2>&1 &
at_exit "kill -9 $!"
wait_for 5 grep -q listening "$TMP/tp.log"

# after FILE: a line on stdout once FILE exists (60 s at most).
after() {
	wait_for 60 test -e "$1"
	echo
}
# load NAME: a serve with SIP and the relay, and its load: N.udp and N.tcp
# (allocations sending ChannelData for 8 s at 200/s, then Refresh), N.6062
# (a data connection used before and after a pause), N.tls and N.mtls
# (sip_client: a first OPTIONS, the second once the file N.go exists).
# Returns once all of it is under way; sets LOAD_<N>.
load() {
	n=$1
	tls=$(free_port)
	mtls=$(free_port)
	turn_edge "$n" "workers 2" "allow_loopback_peers yes" "sip_tls_listen 127.0.0.1:$tls" \
		"sip_mtls_listen 127.0.0.1:$mtls" "tls_certificate $TMP/pki/edge.pem" \
		"tls_key $TMP/pki/edge.key" "tls_ca $TMP/pki/ca.pem" \
		"federation_partner partner.example 127.0.0.1:$(free_port)"
	eval "port=\$PORT_$n"
	pids=""
	for how in udp tcp; do
		flag=""
		[ "$how" = udp ] || flag=-t
		timeout 60 "$TURNC" $flag -s "127.0.0.1:$port" alloc perm:127.0.0.1 \
			"bind:4001:127.0.0.1:$PEER" pace:4001:8:200 refresh:600 >"$TMP/$n.$how" 2>&1 &
		pids="$pids $!"
	done
	timeout 60 "$TURNC" -t -s "127.0.0.1:$port" alloc:tcp perm:127.0.0.1 "connect:127.0.0.1:$TP" \
		cbind dsend:before drecv:before sleep:6 dsend:after drecv:after >"$TMP/$n.6062" 2>&1 &
	pids="$pids $!"
	after "$TMP/$n.go" | "$TOOLS/sip_client.py" "$tls" --ca "$TMP/pki/ca.pem" --step \
		options 2 >"$TMP/$n.tls" 2>&1 &
	pids="$pids $!"
	after "$TMP/$n.go" | "$TOOLS/sip_client.py" "$mtls" --ca "$TMP/pki/ca.pem" \
		--cert "$TMP/pki/partner.pem" --key "$TMP/pki/partner.key" --step options 2 \
		>"$TMP/$n.mtls" 2>&1 &
	pids="$pids $!"
	at_exit "kill -9 $pids"
	eval "LOAD_$n=\"$pids\""
	wait_for 10 sh -c "grep -q '^bind 200' $TMP/$n.udp && grep -q '^bind 200' $TMP/$n.tcp &&
		grep -qx 'drecv ok' $TMP/$n.6062 && grep -q '^SIP/2.0 200' $TMP/$n.tls &&
		grep -q '^SIP/2.0 200' $TMP/$n.mtls"
}
show() { for f; do sed "s|^|# ${f#"$TMP"/}: |" "$f"; done; }
# paced FILE...: in each, at least half of what turnc's pace sent came
# back (on loopback all of it, unless traffic stopped for seconds).
paced() {
	for f; do
		sed -n 's/^pace sent \([0-9]*\) got \([0-9]*\)$/\1 \2/p' "$f" |
			{ read -r sent got && [ "$sent" -gt 0 ] && [ "$((got * 2))" -ge "$sent" ]; } ||
			return 1
	done
}

# --- SIGHUP --------------------------------------------------------------------
load hup
check "the load is under way: 3 allocations, 2 SIP connections" \
	sh -c "[ $(metric "$CTL_hup" edgelab_turn_allocations) -eq 3 ] &&
		[ $(metric "$CTL_hup" edgelab_sip_connections) -eq 2 ]"
sleep 1
echo "turn_user carol secret" >>"$TMP/hup.conf"
kill -HUP "$PID_hup"
check "SIGHUP: the configuration is reloaded" wait_for 5 grep -q "reloaded configuration" "$TMP/hup.log"
check "... the allocations are all still there (gauge 3)" \
	[ "$(metric "$CTL_hup" edgelab_turn_allocations)" -eq 3 ]
touch "$TMP/hup.go"
wait $LOAD_hup
show "$TMP/hup.udp" "$TMP/hup.tcp" "$TMP/hup.6062" "$TMP/hup.tls" "$TMP/hup.mtls"
check "... ChannelData flowed through the reload, UDP and TCP (at least half echoed)" \
	paced "$TMP/hup.udp" "$TMP/hup.tcp"
check "... a Refresh of each allocation made before it succeeds" \
	sh -c "grep -qx 'refresh 200 lifetime=600' $TMP/hup.udp && grep -qx 'refresh 200 lifetime=600' $TMP/hup.tcp"
check "... the RFC 6062 data connection carries data after it" \
	[ "$(grep -cx 'drecv ok' "$TMP/hup.6062")" -eq 2 ]
check "... the TLS (443) and MTLS (5061) connections answer a second request" \
	sh -c "[ \$(grep -c '^SIP/2.0 200' $TMP/hup.tls) -eq 2 ] && [ \$(grep -c '^SIP/2.0 200' $TMP/hup.mtls) -eq 2 ]"
timeout 10 "$TURNC" -u carol -s "127.0.0.1:$PORT_hup" alloc >"$TMP/carol" 2>&1
check "... and the new configuration is in force (carol, added, allocates)" \
	grep -q '^alloc 401 200' "$TMP/carol"

# --- SIGTERM -------------------------------------------------------------------
load term
check "a second serve under the same load" \
	sh -c "[ $(metric "$CTL_term" edgelab_turn_allocations) -eq 3 ] &&
		[ $(metric "$CTL_term" edgelab_sip_connections) -eq 2 ]"
sleep 1 # ChannelData flows meanwhile
t0=$(date +%s%N)
serve_stop "$PID_term"
status=$?
ms=$((($(date +%s%N) - t0) / 1000000))
check "SIGTERM with the load held: serve exits with status 0 ($status) in $ms ms" \
	[ "$status" -eq 0 ]
check "... within 5 s" [ "$ms" -lt 5000 ]
check "... saying so" grep -q "stopped" "$TMP/term.log"
if ldd "$EDGELAB" 2>/dev/null | grep -q libasan; then
	check "... with no sanitizer report (leaks, memory errors, undefined behaviour)" \
		sh -c "! grep -E 'Sanitizer|runtime error' $TMP/term.log"
else
	echo "# not a sanitizer build (configure --enable-sanitizers): no leak check"
fi
grep -E -A12 'Sanitizer|runtime error' "$TMP/term.log" | sed 's/^/#   /'
finish
