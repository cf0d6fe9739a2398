#!/bin/sh
# shellcheck disable=SC2016 # sh -c scripts take "$0" and "$1"
# edgelab ctl against a real `edgelab serve` on loopback, its unix socket
# and HTTPS with a bearer token: healthz (through --control, through
# --config, over HTTPS), its failures (no server: the path named; a socket
# nobody listens on; another CA; a bad token: 401), metrics, row 5 to a UDP
# listener that answers (exit 0, answered) and to a closed port (exit 1,
# icmp), usage errors (exit 2, before any request). As root in a network
# namespace of its own (unshare -n): the relay ports 50000-59999 that row 5
# leaves from are then the edge's alone.
set -u
if [ "$(id -u)" -eq 0 ] && [ -z "${CTL_NETNS:-}" ] && command -v unshare >/dev/null; then
	CTL_NETNS=1 exec unshare -n sh -c 'ip link set lo up && exec sh "$0"' "$0"
fi
. "$(dirname "$0")/../lib.sh"
for tool in curl python3; do
	command -v "$tool" >/dev/null || skip_all "$tool is not installed"
done

PKI=$TMP/pki
OTHER=$TMP/other
pki_sets "$PKI" "$OTHER" || finish
echo "ctl-token-0123456789abcdef" >"$TMP/token"
echo "not-the-token-0123456789" >"$TMP/badtoken"
HP=$(free_port)
CTL=$TMP/control.sock
control_conf "$PKI" "$CTL" "$HP" "control_token_file $TMP/token" >"$TMP/edge.conf"
serve_start "$TMP/edge.conf" || { not_ok "serve starts"; finish; }
HTTPS="--control https://127.0.0.1:$HP"

# ctl ARGS...: stdout in $TMP/out, stderr in $TMP/err, the status in rc.
ctl() {
	"$EDGELAB" ctl "$@" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	head -n 12 "$TMP/out" | sed 's/^/# /'
	sed 's/^/# /' "$TMP/err"
}
says() { grep -qF -- "$1" "$TMP/err"; }
prints() { grep -qF -- "$1" "$TMP/out"; }

# --- healthz ---------------------------------------------------------------------
ctl --control "$CTL" healthz
check "healthz over the unix socket: exit 0" [ "$rc" -eq 0 ]
check "... prints ok, nothing else" [ "$(cat "$TMP/out")" = ok ]
ctl --config "$TMP/edge.conf" healthz
check "healthz at --config's control_socket: exit 0, ok" \
	sh -c '[ "$0" -eq 0 ] && [ "$(cat "$1")" = ok ]' "$rc" "$TMP/out"
ctl --control "$TMP/none.sock" healthz
check "healthz at a path with no server: exit 1" [ "$rc" -eq 1 ]
check "... stderr names the path: no such socket" says "$TMP/none.sock: no such socket"
check "... nothing on stdout" [ ! -s "$TMP/out" ]
python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$TMP/dead.sock"
ctl --control "$TMP/dead.sock" healthz
check "healthz at a socket nobody listens on: exit 1, connection refused" \
	sh -c '[ "$0" -eq 1 ] && grep -qF "$1: connection refused" "$2"' "$rc" "$TMP/dead.sock" "$TMP/err"
# Neither --control nor --config: where serve puts its socket by default
# (control_socket auto); a serve of someone else's may answer there.
AUTO=$("$EDGELAB" serve --check-config 2>/dev/null | sed -n 's/^control_socket  *//p')
ctl healthz
check "healthz alone asks at serve's default socket ($AUTO)" \
	sh -c '[ "$0" -eq 0 ] || grep -qF "edgelab ctl: $1: " "$2"' "$rc" "$AUTO" "$TMP/err"
sed "s|^control_socket .*|control_socket off|" "$TMP/edge.conf" >"$TMP/off.conf"
ctl --config "$TMP/off.conf" healthz
check "--config whose control_socket is off: exit 2, said" \
	sh -c '[ "$0" -eq 2 ] && grep -qF "$1 has control_socket off" "$2"' "$rc" "$TMP/off.conf" "$TMP/err"
# shellcheck disable=SC2086
ctl $HTTPS --ca "$PKI/ca.pem" --control-token-file "$TMP/token" healthz
check "healthz over HTTPS with the token and the CA: exit 0, ok" \
	sh -c '[ "$0" -eq 0 ] && [ "$(cat "$1")" = ok ]' "$rc" "$TMP/out"
# shellcheck disable=SC2086
ctl $HTTPS --ca "$PKI/ca.pem" --pki "$TMP/nopki" healthz
check "healthz over HTTPS without credentials (GET /healthz needs none): exit 0" [ "$rc" -eq 0 ]
# shellcheck disable=SC2086
ctl $HTTPS --pki "$OTHER" --control-token-file "$TMP/token" healthz
check "healthz over HTTPS, the edge's certificate from another CA: exit 1" [ "$rc" -eq 1 ]
check "... the TLS verification failure said" says "https://127.0.0.1:$HP: TLS handshake: unable to get local issuer certificate"
# shellcheck disable=SC2086
ctl $HTTPS --ca "$PKI/ca.pem" --control-token-file "$TMP/badtoken" metrics
check "metrics over HTTPS with a bad token: exit 1" [ "$rc" -eq 1 ]
check "... the message says 401" says "GET /metrics: status 401"

# --- metrics ---------------------------------------------------------------------
ctl --control "$CTL" metrics
check "metrics over the unix socket: exit 0" [ "$rc" -eq 0 ]
check "... the Prometheus text, with edgelab_build_info" prints "# TYPE edgelab_build_info gauge"
check "... and the bad token just refused" prints 'edgelab_control_refused_total{reason="bad_token"} 1'
# Nothing counted changes between the two scrapes (the unix socket's
# requests are not counted): the same text, byte for byte.
ctl_get "$CTL" /metrics >"$TMP/curl.metrics"
check "... the same text as curl reads ($(wc -c <"$TMP/curl.metrics") bytes), nothing cut" \
	cmp -s "$TMP/out" "$TMP/curl.metrics"
# shellcheck disable=SC2086
ctl $HTTPS --ca "$PKI/ca.pem" --control-token-file "$TMP/token" metrics
check "metrics over HTTPS with the token: exit 0, the text" \
	sh -c '[ "$0" -eq 0 ] && grep -q "^edgelab_build_info" "$1"' "$rc" "$TMP/out"

# --- row 5 -------------------------------------------------------------------------
# A UDP listener that answers every datagram, until killed.
UP=$(free_port)
python3 - "$UP" "$TMP/udp" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", int(sys.argv[1])))
open(sys.argv[2] + ".ready", "w").close()
with open(sys.argv[2], "ab", buffering=0) as got:
    while True:
        data, peer = s.recvfrom(4096)
        got.write(data + b"\n")
        s.sendto(b"pong", peer)
PY
UDP_PID=$!
at_exit "kill $UDP_PID"
wait_for 5 test -e "$TMP/udp.ready" || not_ok "a UDP listener on 127.0.0.1:$UP"
ctl --control "$CTL" row 5 --target "127.0.0.1:$UP" --marker ctl-test
check "row 5 to a UDP listener that answers: exit 0" [ "$rc" -eq 0 ]
check "... the record: kind row5, outcome answered" \
	sh -c 'grep -qx "kind: row5" "$0" && grep -qx "outcome: answered" "$0"' "$TMP/out"
check "... to the target, from a relay port" \
	sh -c 'grep -qx "target: 127.0.0.1:$1" "$0" && grep -q "^source: .*:5[0-9][0-9][0-9][0-9]$" "$0"' \
	"$TMP/out" "$UP"
check "... carrying --marker" grep -qa "edgelab marker=ctl-test" "$TMP/udp"
CLOSED=$(free_port)
ctl --config "$TMP/edge.conf" row 5 --target "127.0.0.1:$CLOSED" --dialect msturn
check "row 5 (msturn) to a closed port: exit 1" [ "$rc" -eq 1 ]
check "... the record says why: ICMP port unreachable, or no answer" \
	grep -Eqx "outcome: (icmp|timeout)" "$TMP/out"
check "... and has ended (not pending)" sh -c '! grep -qx "outcome: pending" "$0"' "$TMP/out"

# --- usage errors: exit 2, before any request -----------------------------------------
requests() { grep -c "control: POST /rows" "$TMP/serve.log"; }
before=$(requests)
ctl --control "$CTL" row 5
check "row 5 without --target: exit 2" [ "$rc" -eq 2 ]
check "... saying what it needs" says "row 5 needs --target IP:PORT"
ctl --control "$CTL" row 4 --target 127.0.0.1
check "row 4 with a target without a port: exit 2" [ "$rc" -eq 2 ]
ctl --control "$CTL" row 5 --target "127.0.0.1:$UP" --marker "a b"
check "a marker with a space: exit 2" [ "$rc" -eq 2 ]
ctl --control "$CTL" row 4 --target "127.0.0.1:$UP" --dialect msturn
check "--dialect for row 4: exit 2" [ "$rc" -eq 2 ]
ctl --control "$CTL" row 3
check "row 3 (not the edge's to send): exit 2" [ "$rc" -eq 2 ]
check "... no request reached the edge" [ "$(requests)" -eq "$before" ]
ctl --control "$CTL" status
check "an unknown subcommand: exit 2" [ "$rc" -eq 2 ]
check "... named, with the ones there are" says "unknown command 'status' (healthz, metrics or row N)"
ctl --control "$CTL" --config "$TMP/edge.conf" healthz
check "--control and --config together: exit 2" [ "$rc" -eq 2 ]
# shellcheck disable=SC2086
ctl $HTTPS --pki "$TMP/nopki" metrics
check "HTTPS metrics without credentials: exit 2" [ "$rc" -eq 2 ]
check "ctl --help: exit 0, the subcommands and exit statuses" \
	sh -c '"$0" ctl --help | grep -q "^Exit status: 0 healthz answered ok"' "$EDGELAB"
check "serve stops cleanly" serve_stop
finish
