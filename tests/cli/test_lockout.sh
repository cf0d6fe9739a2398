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
# half the cap the first message's deadline is a quarter.
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

# --- SIP over TLS ---------------------------------------------------------------------
# The flood is held 4 s after the client's turn: those of its connections
# accepted above half the cap time out (2.5 s), the others (10 s) do not.
lockout sip "$TLS" --ca "$PKI/ca.pem" --hold 4
check "a resident client registers before the flood" line "resident REGISTER: 200"
check "under the flood a new client's TLS handshake and REGISTER get 200" \
	line "client REGISTER: 200 in "
secs=$(line "client REGISTER: " | sed -n 's/.* in \([0-9.]*\) s$/\1/p')
echo "# the new client's TLS handshake and REGISTER took ${secs:-?} s under the flood"
check "... within 5 s (the issue asks for 1 s: see the figure above)" \
	awk -v s="${secs:-99}" 'BEGIN { exit !(s < 5) }'
check "the resident's registered connection is not evicted: OPTIONS 200" \
	line "resident OPTIONS: 200"
evicted=$(m 'edgelab_sip_evicted_total{listener="tls",reason="handshake"}')
echo "# evicted (handshake): $evicted"
check "flood connections beyond the cap evict ones still shaking hands (77 and more: $evicted)" \
	[ "$evicted" -ge 77 ]
check "... none idle" [ "$(m 'edgelab_sip_evicted_total{listener="tls",reason="idle"}')" -eq 0 ]
check "... nothing refused for the total" \
	[ "$(m 'edgelab_sip_refused_total{listener="tls",reason="limit_total"}')" -eq 0 ]
check "... and the flood saw as many of its connections closed" \
	sh -c '[ "$(sed -n "s/^flood: \([0-9]*\) of 1100 closed.*/\1/p" "$0")" -ge "$1" ]' \
	"$TMP/out" "$evicted"
check "40 connections from one source: the 8 beyond the per-source limit are closed" \
	line "one source: 8 of 40 closed"
check "... refused and counted as limit_source" \
	[ "$(m 'edgelab_sip_refused_total{listener="tls",reason="limit_source"}')" -eq 8 ]
logged=$(grep -c "evicted at sip_max_connections (1024): no TLS handshake" "$LOG")
check "evictions are logged, at most 10 lines a second ($logged lines for $evicted)" \
	between "$logged" 1 $((evicted - 1))
timeouts=$(m 'edgelab_sip_refused_total{listener="tls",reason="handshake_timeout"}')
echo "# handshake timeouts while the flood was held: $timeouts"
check "above half the cap a handshake timeout is a quarter (2.5 s): 300-800 timed out, not all" \
	between "$timeouts" 300 800

# --- STUN/TCP -------------------------------------------------------------------------
# A resident allocation on a TCP connection, refreshed after the flood.
timeout 30 "$TURNC" -t -s "127.0.0.1:$STUN" alloc sleep:9 refresh:600 >"$TMP/turnc.out" 2>&1 &
TURNC_PID=$!
at_exit "kill -9 $TURNC_PID"
wait_for 5 grep -q "^alloc 401 200" "$TMP/turnc.out"
lockout stun "$STUN" --hold 4
check "under the flood a new client's STUN Binding over TCP is answered" \
	line "client Binding: binding success in "
secs=$(line "client Binding: " | sed -n 's/.* in \([0-9.]*\) s$/\1/p')
echo "# the new client's Binding over TCP took ${secs:-?} s under the flood"
check "... within 5 s" awk -v s="${secs:-99}" 'BEGIN { exit !(s < 5) }'
wait "$TURNC_PID"
sed 's/^/# turnc: /' "$TMP/turnc.out"
check "the resident's allocation (and its connection) outlives the flood: Refresh 200" \
	grep -q "^refresh 200" "$TMP/turnc.out"
evicted=$(m 'edgelab_stun_tcp_evicted_total{reason="handshake"}')
echo "# evicted (no whole message): $evicted"
check "flood connections beyond the cap evict ones with no whole message (77 and more: $evicted)" \
	[ "$evicted" -ge 77 ]
check "... none idle" [ "$(m 'edgelab_stun_tcp_evicted_total{reason="idle"}')" -eq 0 ]
check "... nothing refused" [ "$(m edgelab_stun_tcp_refused_total)" -eq 0 ]
logged=$(grep -c "stun/tcp 127.0.0.[0-9]*:[0-9]*: evicted at stun_tcp_max_connections (1024): no whole message for" "$LOG")
check "evictions are logged, at most 10 lines a second ($logged lines for $evicted)" \
	between "$logged" 1 $((evicted - 1))
timeouts=$(m edgelab_stun_tcp_first_request_closed_total)
echo "# closed with no first message while the flood was held: $timeouts"
check "above half the cap the first message's deadline is a quarter (2.5 s): 300-800 closed, not all" \
	between "$timeouts" 300 800

finish
