#!/bin/sh
# The strict mode's canaries on a running serve (127.0.0.1): a TCP hit with
# a marker, a UDP one, one without a marker, each seen in GET /canary with
# its port and source and never answered; a long poll started before the
# datagram it waits for returns with it; bad queries; the metric; a canary
# port inside relay_ports is never a TURN relayed port; a reload keeps the
# canaries; a held request on shutdown and a client that goes away; the
# clashes at start-up; GET /canary without canaries.
set -u
. "$(dirname "$0")/../lib.sh"

TURNC=${TURNC:-$BUILDDIR/tests/tools/turnc}
command -v python3 >/dev/null || { not_ok "python3 is installed"; finish; }
[ -x "$TURNC" ] || { not_ok "turnc is built ($TURNC)"; finish; }

# udp_free PORT: nobody uses that UDP port.
udp_free() { ! ss -Hanu "( sport = :$1 )" 2>/dev/null | grep -q .; }
S=$(free_port)
T=$(free_port)
U=$(free_port)
# Two relay ports side by side; the canary takes the first.
R=$(free_port)
while ! udp_free $((R + 1)) || [ $((R + 1)) -eq "$S" ] || [ $((R + 1)) -eq "$T" ] ||
	[ $((R + 1)) -eq "$U" ]; do R=$(free_port); done
CTL=$TMP/control.sock
LOG=$TMP/serve.log
cat >"$TMP/edge.conf" <<CONF
workers 1
stun_udp_listen 127.0.0.1:$S
stun_tcp_listen 127.0.0.1:$S
sip_tls_listen off
sip_mtls_listen off
control_socket $CTL
turn_user alice secret
turn_user bob secret
relay_ports $R-$((R + 1))
canary_tcp $T
canary_udp $U $R
CONF
serve_start "$TMP/edge.conf" "$LOG" || { not_ok "serve starts with canaries"; finish; }

# send tcp|udp PORT TEXT: sends TEXT (printf escapes) to 127.0.0.1:PORT;
# prints the source port and how many bytes came back (TCP: until the
# canary closes, 3 s at most).
send() {
	python3 - "$@" <<'PY'
import socket, sys
proto, port, text = sys.argv[1], int(sys.argv[2]), sys.argv[3].encode().decode("unicode_escape")
if proto == "tcp":
    s = socket.create_connection(("127.0.0.1", port), timeout=3)
    s.sendall(text.encode())
    back = b""
    try:
        while True:
            b = s.recv(100)
            if not b:
                break
            back += b
    except (socket.timeout, ConnectionResetError):
        pass
else:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.sendto(text.encode(), ("127.0.0.1", port))
    back = b""
print(s.getsockname()[1], len(back))
PY
}
# get QUERY: GET /canary?QUERY; the body in $TMP/body, the status printed.
get() {
	curl -s -o "$TMP/body" -w "%{http_code}" --max-time 12 --unix-socket "$CTL" \
		"http://e/canary${1:+?$1}"
}
body_is_one() { [ "$(grep -c . "$TMP/body")" -eq 1 ] && grep -Eq "$1" "$TMP/body"; }
MS='1[0-9]{12}'

set -- $(send tcp "$T" 'edgelab marker=abc\n')
check "a TCP canary is never answered: closed with no byte back" [ "${2:-x}" = 0 ]
code=$(get marker=abc)
check "GET /canary?marker=abc: 200, one tcp hit on port $T from 127.0.0.1:$1" \
	sh -c "[ $code = 200 ] && grep -c '^hit: ' $TMP/body | grep -qx 1 &&
		grep -Eqx 'hit: 1 tcp $T 127\.0\.0\.1:$1 $MS marker=abc' $TMP/body"
check "... after the ports the canaries listen on, a line per protocol" \
	[ "$(grep -v '^hit: ' "$TMP/body" | tr '\n' '|')" = "listening: tcp $T|listening: udp $U $R|" ]
sed 's/^/# /' "$TMP/body"

set -- $(send udp "$U" 'xx edgelab marker=udp42')
code=$(get 'marker=udp42&wait=3000')
check "a UDP datagram with a marker: one udp hit on port $U from 127.0.0.1:$1" \
	sh -c "[ $code = 200 ] && grep -Eqx 'hit: 2 udp $U 127\.0\.0\.1:$1 $MS marker=udp42' $TMP/body"

set -- $(send tcp "$T" 'GET / HTTP/1.0\r\n\r\n')
check "a TCP connection without a marker is closed (after 1 s) unanswered" [ "${2:-x}" = 0 ]
get >/dev/null
check "... and is a hit with marker=-" \
	grep -Eqx "hit: 3 tcp $T 127\.0\.0\.1:$1 $MS marker=-" "$TMP/body"
check "GET /canary lists every hit, oldest first" \
	[ "$(sed -n 's/^hit: \([0-9]*\) .*/\1/p' "$TMP/body" | tr '\n' ' ')" = "1 2 3 " ]
check "each hit is logged" \
	grep -q "canary: tcp $T hit from 127.0.0.1:[0-9]* marker=abc" "$LOG"

# The long poll: held until the datagram it waits for arrives. It can only
# come back with the hit if it woke up for it (it was sent before the hit).
get 'marker=lp1&wait=3000' >"$TMP/lp.code" &
LP=$!
sleep 0.5
set -- $(send udp "$R" 'edgelab marker=lp1')
wait $LP
check "a long poll (wait=3000) started before the datagram returns with its hit" \
	sh -c "[ \"\$(cat $TMP/lp.code)\" = 200 ] &&
		grep -Eqx 'hit: 4 udp $R 127\.0\.0\.1:$1 $MS marker=lp1' $TMP/body"
check "... a canary port inside relay_ports is a canary like any other" [ -n "${1:-}" ]
code=$(get 'marker=nobody&wait=300')
check "a long poll nothing matches ends with the wait: 200, no hit" \
	sh -c "[ $code = 200 ] && ! grep -q '^hit: ' $TMP/body"
check "wait above 10000 is taken as 10000 (a match answers at once)" \
	sh -c "[ \$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 --unix-socket $CTL \
		'http://e/canary?marker=abc&wait=999999999') = 200 ]"
check "a bad marker: 400" [ "$(get 'marker=a%20b')" = 400 ]
check "a marker of 65 characters: 400" \
	[ "$(get "marker=$(printf '%065d' 0)")" = 400 ]
check "a bad wait: 400" [ "$(get 'wait=-1')" = 400 ]
check "POST /canary: 405" [ "$(curl -s -o /dev/null -w '%{http_code}' -X POST \
	--max-time 2 --unix-socket "$CTL" http://e/canary)" = 405 ]
check "edgelab_canary_hits_total{proto=\"tcp\"} counts 2" \
	[ "$(metric "$CTL" 'edgelab_canary_hits_total{proto="tcp"}')" = 2 ]
check "edgelab_canary_hits_total{proto=\"udp\"} counts 2" \
	[ "$(metric "$CTL" 'edgelab_canary_hits_total{proto="udp"}')" = 2 ]

# TURN: of relay_ports $R-$((R + 1)), only $((R + 1)) is the relay's.
"$TURNC" -s "127.0.0.1:$S" alloc sleep:4 >"$TMP/a1" 2>&1 &
at_exit "kill -9 $!"
wait_for 5 grep -q 'alloc 401' "$TMP/a1"
timeout 20 "$TURNC" -s "127.0.0.1:$S" -u bob alloc >"$TMP/a2" 2>&1
sed 's/^/# /' "$TMP/a1" "$TMP/a2"
check "an Allocate gets relay port $((R + 1)), never the canary's $R" \
	grep -q "^alloc 401 200 relayed=127\.0\.0\.1:$((R + 1)) " "$TMP/a1"
check "... and with it held, the next Allocate gets 508: the canary's port is not in the pool" \
	grep -q "^alloc 401 508" "$TMP/a2"

# SIGHUP with other canary keys: the running canaries stay.
sed -i "s/^canary_tcp .*/canary_tcp $((T + 1))/" "$TMP/edge.conf"
kill -HUP "$SERVE_PID"
wait_for 5 grep -q "reloaded configuration" "$LOG"
check "a reload that changes canary_tcp says the running canaries stay" \
	grep -q "the running canaries stay" "$LOG"
set -- $(send tcp "$T" 'edgelab marker=after-hup\n')
check "... and the canary on $T still records" \
	sh -c "[ \$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 --unix-socket $CTL \
		'http://e/canary?marker=after-hup') = 200 ]"
check "... (its hit is there)" [ "$(get marker=after-hup)" = 200 ] &&
	check "... with the marker after-hup" grep -q "marker=after-hup" "$TMP/body"

# A client that gives up a long poll, then shutdown with one held.
curl -s --max-time 0.5 --unix-socket "$CTL" 'http://e/canary?marker=gone&wait=10000' >/dev/null
check "a client that gave up a long poll leaves the edge answering" \
	sh -c "ctl_get() { curl -sf --max-time 2 --unix-socket \"\$1\" \"http://e\$2\"; }; \
		[ \"\$(ctl_get $CTL /healthz)\" = ok ]"
get 'marker=never&wait=10000' >"$TMP/held.code" &
HELD=$!
sleep 0.5
serve_stop
check "serve stops cleanly (status 0) with a long poll held" [ $? -eq 0 ]
wait $HELD
check "... and the held request ends with it (its connection closed, no answer)" \
	[ "$(cat "$TMP/held.code")" = 000 ]

# Clashes at start-up: status 1 and a sentence. serve_fails LOG FLAG...:
# serve on edge.conf with those flags, killed if it is still up after 5 s;
# its status in rc.
serve_fails() {
	log=$1
	shift
	"$EDGELAB" serve --config "$TMP/edge.conf" --control-socket off "$@" >"$log" 2>&1 &
	clash=$!
	at_exit "kill -9 $clash"
	wait_for 5 sh -c "! kill -0 $clash"
	kill -9 $clash 2>/dev/null
	wait $clash
	rc=$?
}
serve_fails "$TMP/clash1.log" --canary-udp "$S"
sed 's/^/# /' "$TMP/clash1.log"
check "canary_udp on stun_udp_listen's port: status 1" [ "$rc" -eq 1 ]
check "... 'canary_udp $S: the port of stun_udp_listen'" \
	grep -q "canary_udp $S: the port of stun_udp_listen" "$TMP/clash1.log"
python3 -c 'import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(1); time.sleep(30)' "$T" &
HOLDER=$!
at_exit "kill -9 $HOLDER"
wait_for 5 sh -c "ss -Hltn '( sport = :$T )' | grep -q ."
serve_fails "$TMP/clash2.log" --canary-tcp "$T"
kill -9 $HOLDER
sed 's/^/# /' "$TMP/clash2.log"
check "a canary port another process listens on: status 1" [ "$rc" -eq 1 ]
check "... 'canary tcp 127.0.0.1:$T: Address already in use'" \
	grep -q "canary tcp 127.0.0.1:$T: Address already in use" "$TMP/clash2.log"

# Without canaries, GET /canary is 200 and empty.
sed -i '/^canary_/d' "$TMP/edge.conf"
serve_start "$TMP/edge.conf" "$TMP/serve2.log" || not_ok "serve starts without canaries"
code=$(get 'wait=10000')
check "without canaries: GET /canary?wait=10000 is 200, empty, at once" \
	sh -c "[ $code = 200 ] && [ ! -s $TMP/body ]"
serve_stop
finish
