#!/bin/sh
# No lock-out (issue 15, docs/security.md): 1,100 idle TCP connections from
# 37 loopback sources that never shake hands, against a listener with its
# default cap (1024), do not keep a real client out: each new connection
# beyond the cap evicts the oldest one still in its handshake (counted by
# reason, logged at most 10 times a second), and the real client is served
# (its time is printed, asserted only within a generous 5 s). SIP over TLS:
# a registered connection outlives the flood, and 40 connections from one
# source still meet the per-source limit (refused and counted, evicting
# nothing); above half the cap a new connection's handshake timeout is a
# quarter. STUN/TCP: the same flood (no whole first message), a Binding
# answered, a connection with an allocation (turnc) outlives it, and above
# half the cap the first message's deadline is a quarter. The control API's
# HTTPS (cap 32): the same flood, GET /healthz with the token answered, and
# above half the cap a connection has a quarter of 10 s for its first
# request.
set -u
. "$(dirname "$0")/../lib.sh"
command -v python3 >/dev/null || skip_all "python3 is not installed"
# The flood's descriptors and the edge's: 1,100 and more each.
[ "$(ulimit -n)" = unlimited ] || [ "$(ulimit -n)" -ge 4096 ] || ulimit -n 4096 ||
	skip_all "cannot raise the descriptor limit to 4096"

TOOLS=$SRCDIR/tests/tools
TURNC=${TURNC:-$BUILDDIR/tests/tools/turnc}
[ -x "$TURNC" ] || { not_ok "turnc is built ($TURNC)"; finish; }
PKI=$TMP/pki
pki_sets "$PKI" || finish
TLS=$(free_port)
MTLS=$(free_port)
STUN=$(free_port)
HP=$(free_port)
CTL=$TMP/control.sock
LOG=$TMP/serve.log
TOKEN=tok-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
echo "$TOKEN" >"$TMP/token"
cat >"$TMP/edge.conf" <<CONF
stun_udp_listen off
stun_tcp_listen 127.0.0.1:$STUN
sip_tls_listen 127.0.0.1:$TLS
sip_mtls_listen 127.0.0.1:$MTLS
tls_certificate $PKI/edge.pem
tls_key $PKI/edge.key
tls_ca $PKI/ca.pem
control_socket $CTL
control_listen 127.0.0.1:$HP
control_token_file $TMP/token
workers 1
turn_user alice secret
CONF
serve_start "$TMP/edge.conf" "$LOG" || { not_ok "serve starts"; finish; }
m() { metric "$CTL" "$1"; }
between() { [ "$1" -ge "$2" ] && [ "$1" -le "$3" ]; }
# line PREFIX: the tool's result line starting with PREFIX.
line() { grep "^$1" "$TMP/out"; }
lockout() {
	python3 "$TOOLS/lockout.py" "$@" --ctl "$CTL" >"$TMP/out" 2>&1
	sed 's/^/# /' "$TMP/out"
}
# served LABEL RESULT WHAT: the new client's result line "LABEL: RESULT in S
# s"; S printed (the issue asks for 1 s), asserted only within 5 s.
served() {
	check "under the flood $3: $2" line "$1: $2 in "
	secs=$(line "$1: " | sed -n 's/.* in \([0-9.]*\) s$/\1/p')
	echo "# $3 took ${secs:-?} s under the flood"
	check "... within 5 s" awk -v s="${secs:-99}" 'BEGIN { exit !(s < 5) }'
}
# evictions HANDSHAKE IDLE MIN LOG: the handshake evictions counted (at
# least MIN), no idle one, and fewer lines matching LOG than evictions.
evictions() {
	evicted=$(m "$1")
	check "flood connections beyond the cap evict ones still in their handshake ($3 and more: $evicted)" \
		[ "$evicted" -ge "$3" ]
	check "... none idle" [ "$(m "$2")" -eq 0 ]
	logged=$(grep -c "$4" "$LOG")
	check "evictions are logged, at most 10 lines a second ($logged lines for $evicted)" \
		between "$logged" 1 $((evicted - 1))
}
# timed_out METRIC MIN MAX WHAT: above half the cap, WHAT's deadline is a
# quarter (2.5 s): between MIN and MAX connections closed while the flood
# was held, not all of them.
timed_out() {
	timeouts=$(m "$1")
	check "above half the cap the $4 deadline is a quarter: $timeouts closed (expected $2-$3)" \
		between "$timeouts" "$2" "$3"
}

# --- SIP over TLS ---------------------------------------------------------------------
# The flood is held 4 s after the client's turn: those of its connections
# accepted above half the cap time out (2.5 s), the others (10 s) do not.
lockout sip "$TLS" --ca "$PKI/ca.pem" --hold 4
check "a resident client registers before the flood" line "resident REGISTER: 200"
served "client REGISTER" 200 "a new client's TLS handshake and REGISTER"
check "the resident's registered connection is not evicted: OPTIONS 200" \
	line "resident OPTIONS: 200"
evictions 'edgelab_sip_evicted_total{listener="tls",reason="handshake"}' \
	'edgelab_sip_evicted_total{listener="tls",reason="idle"}' 77 \
	"sip tls #[0-9]* 127.0.0.[0-9]*:[0-9]*: evicted at sip_max_connections (1024): no TLS handshake for"
check "... nothing refused for the total" \
	[ "$(m 'edgelab_sip_refused_total{listener="tls",reason="limit_total"}')" -eq 0 ]
check "... and the flood saw as many of its connections closed" \
	sh -c '[ "$(sed -n "s/^flood: \([0-9]*\) of 1100 closed.*/\1/p" "$0")" -ge "$1" ]' \
	"$TMP/out" "$evicted"
check "40 connections from one source: the 8 beyond the per-source limit are closed" \
	line "one source: 8 of 40 closed"
check "... refused and counted as limit_source" \
	[ "$(m 'edgelab_sip_refused_total{listener="tls",reason="limit_source"}')" -eq 8 ]
timed_out 'edgelab_sip_refused_total{listener="tls",reason="handshake_timeout"}' 300 800 handshake

# --- STUN/TCP -------------------------------------------------------------------------
# A resident allocation on a TCP connection, refreshed after the flood.
timeout 30 "$TURNC" -t -s "127.0.0.1:$STUN" alloc sleep:9 refresh:600 >"$TMP/turnc.out" 2>&1 &
TURNC_PID=$!
at_exit "kill -9 $TURNC_PID"
wait_for 5 grep -q "^alloc 401 200" "$TMP/turnc.out"
lockout stun "$STUN" --hold 4
served "client Binding" "binding success" "a new client's STUN Binding over TCP"
wait "$TURNC_PID"
sed 's/^/# turnc: /' "$TMP/turnc.out"
check "the resident's allocation (and its connection) outlives the flood: Refresh 200" \
	grep -q "^refresh 200" "$TMP/turnc.out"
evictions 'edgelab_stun_tcp_evicted_total{reason="handshake"}' \
	'edgelab_stun_tcp_evicted_total{reason="idle"}' 77 \
	"stun/tcp 127.0.0.[0-9]*:[0-9]*: evicted at stun_tcp_max_connections (1024): no whole message for"
check "... nothing refused" [ "$(m edgelab_stun_tcp_refused_total)" -eq 0 ]
timed_out edgelab_stun_tcp_first_request_closed_total 300 800 "first message's"

# --- the control API over HTTPS (control_max_connections 32) ---------------------------
lockout https "$HP" --ca "$PKI/ca.pem" --token "$TOKEN" --hold 4
served "client GET /healthz" 200 "a new client's TLS handshake and GET /healthz with the token"
evictions 'edgelab_control_evicted_total{reason="handshake"}' \
	'edgelab_control_evicted_total{reason="idle"}' 1069 \
	"control: evicted 127.0.0.[0-9]*:[0-9]* at control_max_connections (32): no TLS handshake for"
check "... nothing refused" [ "$(m 'edgelab_control_refused_total{reason="too_many_connections"}')" -eq 0 ]
timed_out 'edgelab_control_refused_total{reason="request_timeout"}' 16 33 "first request's"

finish
