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
# quarter. The same flood on SIP over mutual TLS (5061), then a partner's
# OPTIONS. STUN/TCP: the same flood (no whole first message), a Binding
# answered, a connection with an allocation (turnc) outlives it, and above
# half the cap the first message's deadline is a quarter; on an edge with
# room for 2, the order: no hello (pseudo-TLS) before idle, idle longest
# first, and refused when both places hold allocations. The control API's
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
federation_partner partner.example 127.0.0.1:9
sip_partner_keepalive 0
CONF
serve_start "$TMP/edge.conf" "$LOG" || { not_ok "serve starts"; finish; }
EDGE1=$SERVE_PID
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

# --- SIP over mutual TLS (5061; the same cap) ------------------------------------------
lockout sip-mtls "$MTLS" --ca "$PKI/ca.pem" --cert "$PKI/partner.pem" --key "$PKI/partner.key"
served "partner OPTIONS" 200 "a partner's TLS handshake (its certificate) and OPTIONS"
evictions 'edgelab_sip_evicted_total{listener="mtls",reason="handshake"}' \
	'edgelab_sip_evicted_total{listener="mtls",reason="idle"}' 77 \
	"sip mtls #[0-9]* 127.0.0.[0-9]*:[0-9]*: evicted at sip_max_connections (1024): no TLS handshake for"
check "... nothing refused for the total" \
	[ "$(m 'edgelab_sip_refused_total{listener="mtls",reason="limit_total"}')" -eq 0 ]

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

# --- STUN/TCP's order, on an edge with room for 2 (3478 and pseudo-TLS together) ------
STUN2=$(free_port)
PT2=$(free_port)
CTL2=$TMP/control2.sock
printf '%s\n' "stun_udp_listen off" "stun_tcp_listen 127.0.0.1:$STUN2" "sip_tls_listen off" \
	"sip_mtls_listen off" "msturn_tls_listen 127.0.0.1:$PT2" "stun_tcp_max_connections 2" \
	"control_socket $CTL2" "workers 1" "turn_user alice secret" >"$TMP/edge2.conf"
serve_start "$TMP/edge2.conf" "$TMP/serve2.log" || not_ok "the second edge starts"
m2() { metric "$CTL2" "$1"; }
python3 - "$STUN2" "$PT2" >"$TMP/order" 2>&1 <<'PY'
import os, socket, struct, sys, time
stun, pt = int(sys.argv[1]), int(sys.argv[2])
def conn(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=3)
    time.sleep(0.2)  # the edge has taken it
    return s
def binding(s):
    s.sendall(struct.pack("!HHI", 1, 0, 0x2112A442) + os.urandom(12))
    return "answered" if len(s.recv(512)) >= 20 else "short"
def state(s):
    s.settimeout(0)
    try:
        return "closed" if s.recv(1) == b"" else "data"
    except BlockingIOError:
        return "open"
    except OSError:
        return "closed"
a = conn(stun)
print("a binding", binding(a))
b = conn(pt)  # pseudo-TLS, never a hello
c = conn(stun)
print("c: a", state(a), "b", state(b))
print("c binding", binding(c))
d = conn(stun)
print("d: a", state(a), "c", state(c))
PY
sed 's/^/# /' "$TMP/order"
check "a third connection evicts the one without a hello (pseudo-TLS), not the older idle one" \
	grep -q "^c: a open b closed" "$TMP/order"
check "a fourth, with both idle, evicts the one idle longest" grep -q "^d: a closed c open" "$TMP/order"
check "... counted by reason" sh -c '[ "$0" -eq 1 ] && [ "$1" -eq 1 ]' \
	"$(m2 'edgelab_stun_tcp_evicted_total{reason="handshake"}')" \
	"$(m2 'edgelab_stun_tcp_evicted_total{reason="idle"}')"
for i in 1 2; do
	timeout 10 "$TURNC" -t -s "127.0.0.1:$STUN2" alloc sleep:2 >"$TMP/alloc$i" 2>&1 &
	at_exit "kill -9 $!"
	wait_for 5 grep -q "^alloc 401 200" "$TMP/alloc$i"
done
python3 -c 'import socket, sys; s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=3); s.settimeout(2); sys.exit(s.recv(1) != b"")' "$STUN2"
check "with two allocations holding both places, a new connection is closed at once" [ $? -eq 0 ]
check "... refused and counted" [ "$(m2 edgelab_stun_tcp_refused_total)" -eq 1 ]
check "... the allocations' connections are not evicted" sh -c '[ "$0" -eq 1 ] && [ "$1" -eq 1 ]' \
	"$(m2 'edgelab_stun_tcp_evicted_total{reason="handshake"}')" \
	"$(m2 'edgelab_stun_tcp_evicted_total{reason="idle"}')"
check "the second edge stops cleanly" serve_stop "$SERVE_PID"

# --- the control API over HTTPS (control_max_connections 32) ---------------------------
lockout https "$HP" --ca "$PKI/ca.pem" --token "$TOKEN" --hold 4
served "client GET /healthz" 200 "a new client's TLS handshake and GET /healthz with the token"
evictions 'edgelab_control_evicted_total{reason="handshake"}' \
	'edgelab_control_evicted_total{reason="idle"}' 1069 \
	"control: evicted 127.0.0.[0-9]*:[0-9]* at control_max_connections (32): no TLS handshake for"
check "... nothing refused" [ "$(m 'edgelab_control_refused_total{reason="too_many_connections"}')" -eq 0 ]
timed_out 'edgelab_control_refused_total{reason="request_timeout"}' 16 33 "first request's"
check "serve stops cleanly (nothing leaked, under the sanitizers' build)" serve_stop "$EDGE1"
finish
