#!/bin/sh
# The control API over HTTPS (docs/control-api.md) on loopback, with the
# certificates of `edgelab pki`: /healthz needs no credentials, everything
# else a listed client certificate or the bearer token; each refusal is
# answered, logged once and counted by reason (asserted through /metrics on
# the unix socket); plain HTTP and TLS 1.1 fail the handshake; the trigger
# rate, the connection limit (a new connection evicts an idle one, and is
# refused when both are busy), the size limits; a refused trigger sends
# nothing (a UDP listener hears nothing) where an admitted one does; the
# token file is read again on SIGHUP, a bad one refusing the reload.
set -u
. "$(dirname "$0")/../lib.sh"

for tool in curl openssl python3; do
	command -v "$tool" >/dev/null || skip_all "$tool is not installed"
done

PKI=$TMP/pki
OTHER=$TMP/other
pki_sets "$PKI" "$OTHER" || finish
TOKEN=tok-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
printf '%s  \nthe second line is not read\n' "$TOKEN" >"$TMP/token"
HP=$(free_port)
UP=$(free_port)
CP=$(free_port)
CTL=$TMP/control.sock
LOG=$TMP/serve.log
control_conf "$PKI" "$CTL" "$HP" "allow_loopback_peers yes" "control_client probe.lab" \
	"control_token_file $TMP/token" "control_max_connections 2" "control_trigger_rate 1" \
	"canary_tcp $CP" "canary_address 127.0.0.1" >"$TMP/edge.conf"

# https PATH [CURL-ARGS...]: the status code; headers in $TMP/h, body in $TMP/b.
https() {
	p=$1
	shift
	curl -s --max-time 5 --cacert "$PKI/ca.pem" --resolve "sip.edge.example:$HP:127.0.0.1" \
		-D "$TMP/h" -o "$TMP/b" -w "%{http_code}" "$@" "https://sip.edge.example:$HP$p"
}
bearer() { echo "Authorization: Bearer $1"; }
refused() { metric "$CTL" "edgelab_control_refused_total{reason=\"$1\"}"; }
refused_is() { [ "$(refused "$1")" -eq "$2" ]; }
check_config() { "$EDGELAB" serve --config "$TMP/edge.conf" "$@" --check-config >/dev/null 2>"$TMP/err"; }

# --- configuration ------------------------------------------------------------
check_config
check "the test's configuration passes --check-config" [ $? -eq 0 ]
check_config --control-client probe.lab
check "control_client twice: a bad configuration (exit 2)" [ $? -eq 2 ]
grep -v -e '^control_client' -e '^control_token_file' "$TMP/edge.conf" >"$TMP/nocred.conf"
"$EDGELAB" serve --config "$TMP/nocred.conf" --check-config >/dev/null 2>"$TMP/err"
check "control_listen without credentials: exit 2" [ $? -eq 2 ]
check "... saying what it needs" grep -q "control_listen needs credentials" "$TMP/err"
printf 'short\n' >"$TMP/short"
check_config --control-token-file "$TMP/short"
check "a token file whose first line is too short: exit 2" [ $? -eq 2 ]
check "... naming the file" \
	grep -q "control_token_file $TMP/short: the first line must be 16-256" "$TMP/err"
check_config --control-token-file "$TMP/none"
check "a token file that is not there: exit 2, named" \
	grep -q "control_token_file $TMP/none: No such file" "$TMP/err"

serve_start "$TMP/edge.conf" "$LOG" || { not_ok "serve starts with control_listen"; finish; }
check "serve listens for HTTPS on 127.0.0.1:$HP" wait_for 5 sh -c \
	'ss -Hltn "( sport = :$0 )" | grep -q .' "$HP"

# --- credentials -------------------------------------------------------------------
check "GET /healthz without credentials: 200" [ "$(https /healthz)" = 200 ]
check "... ok" [ "$(cat "$TMP/b")" = ok ]
check "GET /metrics without credentials: 401" [ "$(https /metrics)" = 401 ]
check "... with WWW-Authenticate: Bearer realm=\"edgelab\"" \
	grep -q '^WWW-Authenticate: Bearer realm="edgelab"' "$TMP/h"
check "... counted no_credentials" refused_is no_credentials 1
check "... logged once" [ "$(grep -c "control: refused 127.0.0.1:[0-9]*: no_credentials" "$LOG")" -eq 1 ]
check "a bad token: 401" [ "$(https /metrics -H "$(bearer "${TOKEN}x")")" = 401 ]
check "... counted bad_token" refused_is bad_token 1
check "the token (the file's first line, trailing blanks stripped): 200" \
	[ "$(https /metrics -H "$(bearer "$TOKEN")")" = 200 ]
check "... the metrics" grep -q "^edgelab_control_refused_total" "$TMP/b"
check "the token over TLS 1.2 (the minimum): 200" \
	[ "$(https /metrics --tlsv1.2 --tls-max 1.2 -H "$(bearer "$TOKEN")")" = 200 ]
check "the controller's certificate (probe.lab, a control_client): 200" \
	[ "$(https /metrics --cert "$PKI/controller.pem" --key "$PKI/controller.key")" = 200 ]
check "a certificate from another CA: 403" \
	[ "$(https /metrics --cert "$OTHER/controller.pem" --key "$OTHER/controller.key")" = 403 ]
check "... the verify error in the body" grep -q "^client certificate: unable to" "$TMP/b"
check "... counted bad_certificate" refused_is bad_certificate 1
check "a certificate from another CA with the good token: 403 still" \
	[ "$(https /metrics --cert "$OTHER/controller.pem" --key "$OTHER/controller.key" \
		-H "$(bearer "$TOKEN")")" = 403 ]
check "... counted bad_certificate" refused_is bad_certificate 2
check "the lab CA's partner.pem (no SAN is a control_client): 403" \
	[ "$(https /metrics --cert "$PKI/partner.pem" --key "$PKI/partner.key")" = 403 ]
check "... counted unlisted_name" refused_is unlisted_name 1
check "... logged with the names it has" \
	grep -q "refused 127.0.0.1:[0-9]*: unlisted_name (certificate for sip.partner.example" "$LOG"

# --- handshakes that fail ------------------------------------------------------------
curl -s --max-time 5 -o /dev/null "http://127.0.0.1:$HP/metrics"
check "plain HTTP on the TLS port gets no HTTP answer" [ $? -ne 0 ]
check "... counted tls_handshake" wait_for 3 refused_is tls_handshake 1
check "... logged" grep -q "refused 127.0.0.1:[0-9]*: tls_handshake (http request)" "$LOG"
echo | timeout 10 openssl s_client -connect "127.0.0.1:$HP" -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0' \
	>"$TMP/s11" 2>&1
check "openssl s_client -tls1_1: refused" [ $? -ne 0 ]
check "... by a protocol version alert" grep -q "alert protocol version" "$TMP/s11"
check "... counted tls_handshake" wait_for 3 refused_is tls_handshake 2

# --- a refused trigger sends nothing; an admitted one does -----------------------------
# udp_listen SECONDS OUT: what reaches 127.0.0.1:$UP in that time, one
# datagram a line, into OUT; returns once the socket is bound.
udp_listen() {
	python3 - "$UP" "$1" "$2" <<'PY' &
import socket, sys, time
port, secs, out = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", port))
open(out + ".ready", "w").close()
end, got = time.time() + secs, []
while time.time() < end:
    s.settimeout(max(end - time.time(), 0.01))
    try:
        got.append(s.recv(4096))
    except socket.timeout:
        break
with open(out, "w") as f:
    f.writelines(d.decode("latin-1").replace("\n", " ") + "\n" for d in got)
PY
	UDP_PID=$!
	at_exit "kill $UDP_PID"
	wait_for 5 test -e "$2.ready"
}
row5() { echo "/rows/5?target=127.0.0.1:$UP&marker=$1"; }
udp_listen 1.5 "$TMP/udp.refused" || not_ok "a UDP listener on 127.0.0.1:$UP"
check "POST /rows/5 without credentials: 401" [ "$(https "$(row5 refused)" -X POST)" = 401 ]
check "POST /rows/5 with a bad token: 401" \
	[ "$(https "$(row5 refused)" -X POST -H "$(bearer "${TOKEN}x")")" = 401 ]
wait "$UDP_PID"
check "... nothing reached the target within 1.5 s" [ ! -s "$TMP/udp.refused" ]
check "... the trigger's handler never ran" sh -c '! grep -q "sent to 127.0.0.1:$0" "$1"' "$UP" "$LOG"
check "... counted no_credentials" refused_is no_credentials 2
check "... and bad_token" refused_is bad_token 2
udp_listen 3 "$TMP/udp.sent" || not_ok "a UDP listener on 127.0.0.1:$UP"
check "POST /rows/5 with the token: 202" [ "$(https "$(row5 sent)" -X POST -H "$(bearer "$TOKEN")")" = 202 ]
wait "$UDP_PID"
check "... the target got the edge's STUN request with our marker" \
	grep -q "edgelab marker=sent" "$TMP/udp.sent"

# --- the trigger rate: 1 a second, bursts of 2, per client --------------------------
codes=$(curl -s --max-time 10 --cacert "$PKI/ca.pem" --resolve "sip.edge.example:$HP:127.0.0.1" \
	--cert "$PKI/controller.pem" --key "$PKI/controller.key" -X POST -D "$TMP/h" \
	-o /dev/null -o /dev/null -o /dev/null \
	-w "%{http_code} " "https://sip.edge.example:$HP/rows/5?target=127.0.0.1:9&marker=r1" \
	"https://sip.edge.example:$HP/rows/5?target=127.0.0.1:9&marker=r2" \
	"https://sip.edge.example:$HP/rows/5?target=127.0.0.1:9&marker=r3")
check "three triggers at once from probe.lab: 202 202 429 (got $codes)" [ "$codes" = "202 202 429 " ]
check "... the 429 with Retry-After: 1" grep -q "^Retry-After: 1" "$TMP/h"
check "... counted rate_limited" refused_is rate_limited 1
check "another client (the token) has its own bucket: 202" \
	[ "$(https "$(row5 own)" -X POST -H "$(bearer "$TOKEN")")" = 202 ]

# --- sizes ----------------------------------------------------------------------------
pad() { head -c "$1" /dev/zero | tr '\0' a; }
check "request headers over 8 KiB: 400" \
	[ "$(https /metrics -H "$(bearer "$TOKEN")" -H "X-Pad: $(pad 9000)")" = 400 ]
check "a body of 4000 bytes: 200" \
	[ "$(https /healthz -H "$(bearer "$TOKEN")" --data-binary "$(pad 4000)")" = 200 ]
check "a body over 4 KiB: 413" \
	[ "$(https /healthz -H "$(bearer "$TOKEN")" --data-binary "$(pad 5000)")" = 413 ]

# --- connections at once: 2 -------------------------------------------------------------
# Two idle TLS connections: a third evicts the one idle longest and is
# served. Two busy ones (a long poll each, GET /canary with a wait): a
# third is closed at once.
python3 - "$HP" "$PKI/ca.pem" "$TOKEN" >"$TMP/conns" 2>&1 <<'PY'
import socket, ssl, sys, time
port, ca, token = int(sys.argv[1]), sys.argv[2], sys.argv[3]
ctx = ssl.create_default_context(cafile=ca)
def tls():
    return ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=5),
                           server_hostname="sip.edge.example")
def get(s, path):
    s.sendall(("GET %s HTTP/1.1\r\nHost: e\r\nAuthorization: Bearer %s\r\n\r\n"
               % (path, token)).encode())
def status(s):
    try:
        line = s.recv(4096).split(b"\r\n")[0].decode()
        return line.split(" ")[1] if line else "closed"
    except (socket.timeout, OSError) as e:
        return type(e).__name__
held = [tls(), tls()]
time.sleep(0.1)
third = tls()
get(third, "/healthz")
print("idle: third", status(third))
held[0].settimeout(3)
print("idle: first", status(held[0]))
get(held[1], "/healthz")
print("idle: second", status(held[1]))
for s in held + [third]:
    s.close()
time.sleep(0.5)
busy = [tls(), tls()]
for s in busy:
    get(s, "/canary?marker=nothing&wait=3000")
time.sleep(0.3)
third = socket.create_connection(("127.0.0.1", port), timeout=5)
third.settimeout(2)
try:
    print("busy: third closed" if third.recv(1) == b"" else "busy: third answered")
except (socket.timeout, ConnectionResetError) as e:
    print("busy: third:", type(e).__name__)
for s in busy:
    print("busy: long poll", status(s))
for s in busy + [third]:
    s.close()
PY
sed 's/^/# /' "$TMP/conns"
check "with 2 idle TLS connections held, a third is served" grep -q "^idle: third 200" "$TMP/conns"
check "... the one idle longest is evicted" grep -q "^idle: first closed" "$TMP/conns"
check "... the other stays" grep -q "^idle: second 200" "$TMP/conns"
check "... counted" [ "$(metric "$CTL" 'edgelab_control_evicted_total{reason="idle"}')" -eq 1 ]
check "... and logged" grep -q "control: evicted 127.0.0.1:[0-9]* at control_max_connections (2): idle between requests for" "$LOG"
check "with 2 TLS connections busy, a third is closed at once" grep -q "^busy: third closed" "$TMP/conns"
check "... counted too_many_connections" wait_for 3 refused_is too_many_connections 1
check "... the busy ones are answered" [ "$(grep -c "^busy: long poll 200" "$TMP/conns")" -eq 2 ]
check "... and none of them counted as a failed handshake" refused_is tls_handshake 2
healthz_ok() { [ "$(https /healthz)" = 200 ]; }
check "once they are closed, a new connection is served" wait_for 3 healthz_ok

# --- SIGHUP reads the token file again -------------------------------------------------
reloads() { metric "$CTL" "edgelab_config_reloads_total{result=\"$1\"}"; }
printf 'short\n' >"$TMP/token"
kill -HUP "$SERVE_PID"
check "a reload with a bad token file fails" wait_for 3 grep -q \
	"reload failed, the running configuration stays: control_token_file $TMP/token: the first line must be 16-256" "$LOG"
check "... counted failed" [ "$(reloads failed)" -eq 1 ]
check "... and the running token still works" [ "$(https /metrics -H "$(bearer "$TOKEN")")" = 200 ]
TOKEN2=tok2-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
echo "$TOKEN2" >"$TMP/token"
kill -HUP "$SERVE_PID"
check "a reload with a new token succeeds" wait_for 3 grep -q "reloaded configuration" "$LOG"
check "... counted ok" [ "$(reloads ok)" -eq 1 ]
check "... the new token works" [ "$(https /metrics -H "$(bearer "$TOKEN2")")" = 200 ]
check "... the old one is refused" [ "$(https /metrics -H "$(bearer "$TOKEN")")" = 401 ]

# --- once each: every refusal logged, every one counted ---------------------------------
total=$(ctl_get "$CTL" /metrics | awk '/^edgelab_control_refused_total/ { n += $2 } END { print n }')
logged=$(grep -c "control: refused " "$LOG")
check "refusals counted ($total) = refusals logged ($logged)" [ "$total" -eq "$logged" ]
check "serve stops cleanly" serve_stop
finish
