#!/bin/sh
# Relayed ports are edgelab's alone (issue 15, point 2): a relayed port that
# another process holds is never handed out, UDP or TCP, even when that
# process set SO_REUSEPORT; and a process that binds a TCP relayed port
# after edgelab (Linux lets a same-user SO_REUSEPORT socket in, see
# media/relay_sock.h) is never handed one of its connections. Loopback only;
# the relay ports are below the kernel's ephemeral range and outside the
# default relay_ports, so that no other test's sockets take them.
set -u
. "$(dirname "$0")/../lib.sh"

TURNC=${TURNC:-$BUILDDIR/tests/tools/turnc}
[ -x "$TURNC" ] || { not_ok "turnc is built ($TURNC)"; finish; }

# start_edge RANGE: a serve whose relay_ports is RANGE; sets PORT and CTL.
start_edge() {
	PORT=$(free_port)
	CTL=$TMP/ctl-$PORT.sock
	printf '%s\n' "workers 1" "stun_udp_listen 127.0.0.1:$PORT" "stun_tcp_listen 127.0.0.1:$PORT" \
		"control_socket $CTL" "sip_tls_listen off" "sip_mtls_listen off" \
		"turn_user alice secret" "turn_user bob secret" "relay_ports $1" >"$TMP/edge-$PORT.conf"
	serve_start "$TMP/edge-$PORT.conf" "$TMP/edge-$PORT.log" || not_ok "serve starts ($1)"
}
# holder PROTO PORT: a python process that holds 127.0.0.1:PORT with
# SO_REUSEADDR and SO_REUSEPORT (listening, for TCP) for 30 s.
holder() {
	python3 -c '
import socket, sys, time
tcp = sys.argv[1] == "tcp"
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM if tcp else socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
s.bind(("127.0.0.1", int(sys.argv[2])))
if tcp:
    s.listen(8)
print("held", flush=True)
time.sleep(30)
' "$1" "$2" >"$TMP/holder-$1-$2" 2>&1 &
	at_exit "kill $! 2>/dev/null"
	wait_for 5 grep -q held "$TMP/holder-$1-$2"
}
tc() { # ARGS...: turnc against the last edge; output in $TMP/out
	timeout 30 "$TURNC" -s "127.0.0.1:$PORT" "$@" >"$TMP/out" 2>&1
	sed 's/^/# /' "$TMP/out"
}

# --- a port someone else holds is not handed out --------------------------
holder tcp 31970
start_edge 31970-31971
tc -t alloc:tcp sleep:1 refresh:0 # a TCP allocation: only 31971 is free
check "TCP relay: the port another process holds (SO_REUSEPORT) is skipped" \
	grep -q '^alloc 401 200 relayed=127\.0\.0\.1:31971 ' "$TMP/out"
"$TURNC" -t -s "127.0.0.1:$PORT" alloc:tcp sleep:8 >"$TMP/first" 2>&1 &
at_exit "kill -9 $! 2>/dev/null"
wait_for 5 grep -q 'alloc 401 200' "$TMP/first"
tc -t -u bob alloc:tcp
check "... and while 31971 is taken the next TCP allocation gets 508, not a shared 31970" \
	grep -q '^alloc 401 508' "$TMP/out"
holder udp 31972
start_edge 31972-31972
tc alloc
check "UDP relay: a port another process holds (SO_REUSEPORT) gets 508" \
	grep -q '^alloc 401 508' "$TMP/out"

# --- a process that joins a TCP relayed port later gets no connection -------
start_edge 31973-31973
"$TURNC" -t -s "127.0.0.1:$PORT" alloc:tcp sleep:10 >"$TMP/held" 2>&1 &
at_exit "kill -9 $! 2>/dev/null"
wait_for 5 grep -q 'alloc 401 200 relayed=127.0.0.1:31973' "$TMP/held"
before=$(metric "$CTL" 'edgelab_turn_dropped_total{reason="no_permission"}')
timeout 30 python3 -c '
import socket, sys, time
j = socket.socket()
j.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
j.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
try:
    j.bind(("127.0.0.1", 31973))
    j.listen(32)
    print("joiner bound")
except OSError as e:
    print("joiner refused:", e.strerror)
    sys.exit(0)
j.settimeout(0.2)
peers = []
for i in range(20):
    p = socket.socket()
    p.settimeout(2)
    try:
        p.connect(("127.0.0.1", 31973))
    except OSError:
        pass
    peers.append(p)
got = 0
end = time.time() + 1
while time.time() < end:
    try:
        c, _ = j.accept()
        got += 1
        c.close()
    except socket.timeout:
        pass
print("joiner accepted", got)
' >"$TMP/joiner" 2>&1
sed 's/^/# /' "$TMP/joiner"
after=$(metric "$CTL" 'edgelab_turn_dropped_total{reason="no_permission"}')
echo "# no_permission drops: before $before, after $after"
check "a socket that joins the TCP relayed port later is handed none of 20 connections" \
	grep -Eq '^(joiner accepted 0|joiner refused)' "$TMP/joiner"
check "... edgelab took all 20 (refused: no permission, counted)" \
	sh -c '[ "$0" -ge 20 ] || grep -q "joiner refused" "$1"' "$((after - before))" "$TMP/joiner"

finish
