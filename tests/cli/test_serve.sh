#!/bin/sh
# edgelab serve: config handling, STUN on UDP and TCP, metrics, SIGHUP reload,
# SIGTERM, a port in use. Loopback only; everything is stopped at exit.
set -u
. "$(dirname "$0")/../lib.sh"

P=$(free_port)
CTL=$TMP/ctl/control.sock
LOG=$TMP/serve.log
write_conf() { # SOFTWARE [EXTRA LINE]
	cat >"$TMP/edge.conf" <<CONF
# test config
stun_udp_listen 127.0.0.1:$P
stun_tcp_listen 127.0.0.1:$P
workers 2
software $1
control_socket $CTL
${2:-}
CONF
}

# --- configuration -----------------------------------------------------
out=$("$EDGELAB" serve --check-config 2>&1)
check "no config file: embedded defaults, the table's port 3478" \
	sh -c 'echo "$0" | grep -q "^stun_udp_listen *0.0.0.0:3478$"' "$out"
check "conf/edgelab.conf passes --check-config" sh -c '"$0" serve --config "$1" --check-config >/dev/null' \
	"$EDGELAB" "$SRCDIR/conf/edgelab.conf"
printf 'workers 2\n\nbogus_key 1\n' >"$TMP/bad.conf"
"$EDGELAB" serve --config "$TMP/bad.conf" >"$TMP/out" 2>&1
rc=$?
check "a bad key stops serve with status 2" [ "$rc" -eq 2 ]
check "the error names file and line" grep -q "bad.conf:3: unknown key 'bogus_key'" "$TMP/out"
printf 'stun_udp_listen 127.0.0.1:99999\n' >"$TMP/bad.conf"
"$EDGELAB" serve --config "$TMP/bad.conf" >"$TMP/out" 2>&1
check "a bad value names the key and what is expected" \
	grep -q "bad.conf:1: stun_udp_listen: bad value '127.0.0.1:99999' (expected" "$TMP/out"
"$EDGELAB" serve --config "$TMP/missing.conf" >"$TMP/out" 2>&1
check "a missing file is an error" grep -q "missing.conf: No such file" "$TMP/out"
"$EDGELAB" serve --workers many --check-config >"$TMP/out" 2>&1
check "flags are checked like file keys" grep -q "workers: bad value 'many'" "$TMP/out"

# --- running -------------------------------------------------------------
write_conf one
check "serve answers /healthz on its control socket" serve_start "$TMP/edge.conf" "$LOG"
# One SO_REUSEPORT UDP socket per worker, each on its own event loop; one
# TCP listener (RFC 6062's ConnectionBind must reach its allocation's worker).
check "2 workers: 2 UDP sockets on port $P" [ "$(ss -Hlun "( sport = :$P )" | wc -l)" -eq 2 ]
check "... and 1 TCP listener" [ "$(ss -Hltn "( sport = :$P )" | wc -l)" -eq 1 ]

probe_detail() { # [ARGS...]: row 6, JSON in $TMP/probe, the status in rc
	"$EDGELAB" probe --edge 127.0.0.1 --stun-port "$P" --rows 6 --format json -t 2 "$@" >"$TMP/probe" 2>&1
	rc=$?
	cat "$TMP/probe"
	return $rc
}
# row6 DIALECT: row 6's result line in that dialect.
row6() { grep "\"row\": 6, .*\"dialect\": \"$1\"" "$TMP/probe"; }
row6_has() { row6 "$1" | grep -q "$2"; }
probe_detail >/dev/null
sed 's/^/# /' "$TMP/probe"
check "row 6 passes against serve on loopback in RFC 5389" row6_has rfc5389 '"verdict": "PASS"'
check "... and in MS-TURN (the default is both dialects)" row6_has msturn '"verdict": "PASS"'
check "... one result each: 2 in all" [ "$(grep -c '"row": 6,' "$TMP/probe")" -eq 2 ]
check "... RFC 5389 first" sh -c 'grep "\"row\": 6," "$0" | head -1 | grep -q rfc5389' "$TMP/probe"
check "... exit status 0" [ "$rc" -eq 0 ]
check "... the RFC 5389 reply carries the configured SOFTWARE" row6_has rfc5389 "software one"
check "... the MS-TURN reply maps us in MS XOR-MAPPED-ADDRESS (0x8020)" \
	row6_has msturn 'mapped 127.0.0.1:[0-9]*, our own address; MS-TURN XOR-MAPPED-ADDRESS (0x8020)'
check "STUN requests are counted by dialect and result" \
	[ "$(metric "$CTL" 'edgelab_stun_requests_total{dialect="rfc5389",result="success"}')" -ge 1 ]
check "... the probe's MS-TURN request as msturn" \
	[ "$(metric "$CTL" 'edgelab_stun_requests_total{dialect="msturn",result="success"}')" -ge 1 ]
probe_detail --dialect msturn >/dev/null
check "--dialect msturn: one row 6 result, in MS-TURN" [ "$(grep -c '"row": 6,' "$TMP/probe")" -eq 1 ]
check "... PASS, exit status 0" [ "$rc" -eq 0 ]
check "... and it is the msturn one" row6_has msturn '"verdict": "PASS"'
probe_detail --dialect rfc5389 >/dev/null
check "--dialect rfc5389: one row 6 result, in RFC 5389" \
	sh -c '[ "$(grep -c "\"row\": 6," "$0")" -eq 1 ] && grep -q "\"dialect\": \"rfc5389\", \"verdict\": \"PASS\"" "$0"' "$TMP/probe"
probe_detail --dialect classic >/dev/null
check "--dialect classic: a usage error (status 2)" [ "$rc" -eq 2 ]
check "... naming what is expected" grep -q "dialect: bad value 'classic' (expected msturn, rfc5389 or both)" "$TMP/probe"
"$EDGELAB" probe --edge 127.0.0.1 --stun-port "$P" --rows 6 --format junit -t 2 >"$TMP/junit" 2>&1
check "JUnit: a test case per dialect, their names distinct" \
	sh -c 'grep -q "name=\"row 6 client -&gt; edge STUN/UDP \[rfc5389\]\"" "$0" &&
		grep -q "name=\"row 6 client -&gt; edge STUN/UDP \[msturn\]\"" "$0"' "$TMP/junit"

# A first byte of 0x80 and up is neither STUN (00-3F) nor ChannelData (40-7F).
bash -c "printf '\\200 this is not STUN at all' >/dev/udp/127.0.0.1/$P"
check "garbage is dropped and counted" \
	wait_for 3 sh -c "[ \"\$(curl -sf --unix-socket $CTL http://e/metrics | awk '\$1 == \"edgelab_stun_dropped_total{reason=\\\"not_stun\\\"}\" {print \$2}')\" -ge 1 ]"
# 40-7F: ChannelData (channel 0x4000, 4 bytes) from a client with no allocation.
bash -c "printf '\\100\\000\\000\\004abcd' >/dev/udp/127.0.0.1/$P"
check "ChannelData without an allocation is dropped and counted" \
	wait_for 3 sh -c "[ \"\$(curl -sf --unix-socket $CTL http://e/metrics | awk '\$1 == \"edgelab_turn_dropped_total{reason=\\\"no_allocation\\\"}\" {print \$2}')\" -ge 1 ]"

# STUN over TCP: a Binding request written on the socket, the answer read
# back and its XOR-MAPPED-ADDRESS decoded from the bytes.
tcp_reply=$(bash -c "exec 3<>/dev/tcp/127.0.0.1/$P
	printf '\000\001\000\000\041\022\244\102abcdefghijkl' >&3
	ss -Htn state established \"( dport = :$P )\" | awk '{print \$3}' | sed 's/.*://' >$TMP/tcp_port
	timeout 2 dd bs=1 count=44 <&3 2>/dev/null | od -An -tx1 -v | tr -d ' \n'")
tcp_port=$(cat "$TMP/tcp_port")
# Hex offsets: type 1-4, length 5-8, cookie 9-16, transaction id 17-40, first
# attribute type 41-44, length 45-48, family 49-52, port 53-56, address 57-64.
# 0020 XOR-MAPPED-ADDRESS, family 01, port XOR 0x2112, address XOR 0x2112a442.
xport=$(printf '%s' "$tcp_reply" | cut -c53-56)
xaddr=$(printf '%s' "$tcp_reply" | cut -c57-64)
echo "# STUN/TCP reply: $tcp_reply (our port $tcp_port)"
hexcut() { printf '%s' "$tcp_reply" | cut -c"$1"; }
check "STUN/TCP answers a Binding success with the transaction id" \
	[ "$(hexcut 1-4)" = 0101 ]
check "... echoing the marker" [ "$(hexcut 17-40)" = 6162636465666768696a6b6c ]
check "STUN/TCP XOR-MAPPED-ADDRESS comes first" [ "$(hexcut 41-44)" = 0020 ]
check "... and is our TCP source port $tcp_port" [ "$((0x$xport ^ 0x2112))" = "$tcp_port" ]
check "... and address 127.0.0.1" [ "$((0x$xaddr ^ 0x2112a442))" = "$((0x7f000001))" ]
check "STUN/TCP connections are counted" [ "$(metric "$CTL" edgelab_stun_tcp_accepted_total)" -ge 1 ]

# --- SIGHUP --------------------------------------------------------------
write_conf two
kill -HUP "$SERVE_PID"
check "SIGHUP reloads: the new software is served" wait_for 5 sh -c "'$EDGELAB' probe --edge 127.0.0.1 --stun-port $P --rows 6 --dialect rfc5389 -t 2 | grep -q 'software two'"
check "the reload is counted" [ "$(metric "$CTL" 'edgelab_config_reloads_total{result="ok"}')" -eq 1 ]
write_conf three "stun_tcp_idle_timeout lots"
kill -HUP "$SERVE_PID"
check "a broken config on SIGHUP is reported with its line" \
	wait_for 5 grep -q "reload failed, the running configuration stays: .*edge.conf:7: stun_tcp_idle_timeout: bad value 'lots'" "$LOG"
check "... counted as failed" [ "$(metric "$CTL" 'edgelab_config_reloads_total{result="failed"}')" -eq 1 ]
probe_detail >/dev/null
check "... and the old config stays in force (software two)" grep -q "software two" "$TMP/probe"
write_conf two "sip_mtls_listen 127.0.0.1:$(free_port)"
kill -HUP "$SERVE_PID"
check "a reload that moves a SIP listener says listeners change only on restart" \
	wait_for 5 grep -q "reload: listener addresses, .* change only on restart" "$LOG"

# --- start-up failures ----------------------------------------------------
"$EDGELAB" serve --stun-udp-listen off --stun-tcp-listen off --control-socket "$CTL" >"$TMP/out3" 2>&1
rc=$?
check "a control socket in use stops start-up with status 1" [ "$rc" -eq 1 ]
check "... and says so" grep -q "control socket $CTL: Address already in use" "$TMP/out3"
"$EDGELAB" serve --stun-udp-listen 192.0.2.99:"$P" --control-socket off >"$TMP/out3" 2>&1
rc=$?
check "an address the host lacks stops start-up with status 1" [ "$rc" -eq 1 ]
check "... naming the listener" grep -q "STUN/UDP 192.0.2.99:$P: Cannot assign requested address" "$TMP/out3"
"$EDGELAB" serve --log-json yes --stun-udp-listen 192.0.2.99:"$P" --control-socket off >"$TMP/out3" 2>&1
check "log_json: the same error as a JSON line" \
	grep -q '^{"ts":"[0-9T:.-]*Z","level":"error","msg":"worker 0: STUN/UDP 192.0.2.99:'"$P"': Cannot assign requested address"}$' "$TMP/out3"

# A listener address held by another process: serve refuses to start, where
# SO_REUSEPORT would have joined the other's group and the kernel split the
# clients between two edges. Another edgelab (the one above, 2 workers), with
# nothing else of its own to bind, and a process that is not edgelab.
second() { # LISTENER FLAGS...: a second serve; its status in rc, its output in out3
	timeout 5 "$EDGELAB" serve --sip-tls-listen off --sip-mtls-listen off --msturn-tls-listen off \
		--control-socket off "$@" >"$TMP/out3" 2>&1
	rc=$?
}
second --stun-tcp-listen off --stun-udp-listen 127.0.0.1:"$P"
check "STUN/UDP held by another edgelab: start-up stops with status 1" [ "$rc" -eq 1 ]
check "... address in use, and why" \
	grep -q "STUN/UDP 127.0.0.1:$P: Address already in use (another process holds it" "$TMP/out3"
second --stun-udp-listen off --stun-tcp-listen 127.0.0.1:"$P"
check "STUN/TCP held by another edgelab: status 1, address in use" \
	sh -c '[ "$0" -eq 1 ] && grep -q "STUN/TCP 127.0.0.1:$1: Address already in use" "$2"' "$rc" "$P" "$TMP/out3"
check "... the first edgelab still has all its sockets (2 UDP, 1 TCP)" \
	sh -c '[ "$(ss -Hlun "( sport = :$0 )" | wc -l)" -eq 2 ] && [ "$(ss -Hltn "( sport = :$0 )" | wc -l)" -eq 1 ]' "$P"
Q=$(free_port)
python3 -c '
import socket, sys, time
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
for s in (u, t):
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    s.bind(("127.0.0.1", int(sys.argv[1])))
t.listen(1)
print("bound", flush=True)
time.sleep(30)
' "$Q" >"$TMP/holder" 2>&1 &
HOLDER=$!
at_exit "kill $HOLDER 2>/dev/null"
wait_for 5 grep -q bound "$TMP/holder"
second --stun-tcp-listen off --stun-udp-listen 127.0.0.1:"$Q" --workers 1
check "UDP held by another program (with SO_REUSEPORT): status 1, address in use" \
	sh -c '[ "$0" -eq 1 ] && grep -q "STUN/UDP 127.0.0.1:$1: Address already in use" "$2"' "$rc" "$Q" "$TMP/out3"
second --stun-tcp-listen off --stun-udp-listen "[::]:$Q" --workers 1
check "... and for an IPv6 wildcard listener (dual-stack, as the workers bind it)" \
	sh -c '[ "$0" -eq 1 ] && grep -q "STUN/UDP \[::\]:$1: Address already in use" "$2"' "$rc" "$Q" "$TMP/out3"
second --stun-udp-listen off --stun-tcp-listen 127.0.0.1:"$Q"
check "TCP likewise" \
	sh -c '[ "$0" -eq 1 ] && grep -q "STUN/TCP 127.0.0.1:$1: Address already in use" "$2"' "$rc" "$Q" "$TMP/out3"
kill "$HOLDER" 2>/dev/null

# --- tls_generate: a lab PKI at first start ------------------------------
main_pid=$SERVE_PID
G=$TMP/gen
gen() { # serve with tls_generate into $G; its output in $TMP/gen.out
	"$EDGELAB" serve --tls-generate yes --tls-certificate "$G/edge.pem" --tls-key "$G/edge.key" \
		--tls-ca "$G/ca.pem" --sip-tls-listen 127.0.0.1:"$(free_port)" \
		--sip-mtls-listen 127.0.0.1:"$(free_port)" --stun-udp-listen 127.0.0.1:"$(free_port)" \
		--stun-tcp-listen off --control-socket off "$@" >"$TMP/gen.out" 2>&1
}
gen --workers many
check "tls_generate: nothing is written before the config is good" [ ! -e "$G" ]
"$EDGELAB" serve --tls-generate yes --tls-certificate "$G/edge.pem" --tls-key "$G/edge.key" \
	--tls-ca "$G/ca.pem" --control-listen 127.0.0.1:8443 --control-client probe.lab \
	--check-config >"$TMP/gen.out" 2>&1
rc=$?
check "tls_generate: --check-config before the first start passes (HTTPS control too)" [ "$rc" -eq 0 ]
check "... saying the certificates come at the first start" \
	grep -q "^# tls_generate: $G/edge.pem and the rest are written at the first start" "$TMP/gen.out"
check "... and writes nothing" [ ! -e "$G" ]
serve_start "" "$TMP/gen.log" --tls-generate yes --tls-certificate "$G/edge.pem" \
	--tls-key "$G/edge.key" --tls-ca "$G/ca.pem" --sip-tls-listen 127.0.0.1:"$(free_port)" \
	--sip-mtls-listen 127.0.0.1:"$(free_port)" --stun-udp-listen 127.0.0.1:"$(free_port)" \
	--stun-tcp-listen off --control-socket "$TMP/gen.sock"
check "tls_generate: serve starts with no certificates" [ -S "$TMP/gen.sock" ]
check "... writes the lab PKI where they belong" \
	sh -c "openssl verify -CAfile '$G/ca.pem' '$G/edge.pem' >/dev/null 2>&1"
check "... and says so in its log" \
	grep -q "warn  tls_generate: no certificates in $G: wrote a lab PKI there" "$TMP/gen.log"
check "... and nothing else: it is the only warning" [ "$(grep -c ' warn ' "$TMP/gen.log")" -eq 1 ]
check "... with SIP on (no 'SIP on 443/5061 is off')" sh -c "! grep -q 'SIP on 443/5061 is off' '$TMP/gen.log'"
kill -TERM "$SERVE_PID"
wait "$SERVE_PID"
fp=$(openssl x509 -noout -fingerprint -in "$G/edge.pem")
serve_start "" "$TMP/gen2.log" --tls-generate yes --tls-certificate "$G/edge.pem" \
	--tls-key "$G/edge.key" --tls-ca "$G/ca.pem" --sip-tls-listen 127.0.0.1:"$(free_port)" \
	--sip-mtls-listen 127.0.0.1:"$(free_port)" --stun-udp-listen 127.0.0.1:"$(free_port)" \
	--stun-tcp-listen off --control-socket "$TMP/gen.sock"
check "tls_generate: certificates present are kept (the second start writes nothing)" \
	sh -c "! grep -q tls_generate '$TMP/gen2.log' && [ \"\$(openssl x509 -noout -fingerprint -in '$G/edge.pem')\" = '$fp' ]"
kill -TERM "$SERVE_PID"
wait "$SERVE_PID"
rm -r "$G"
"$EDGELAB" serve --tls-generate yes --tls-certificate "$G/edge.pem" --tls-key "$G/edge.key" \
	--tls-ca "$G/ca.pem" --sip-tls-listen 127.0.0.1:"$(free_port)" \
	--sip-mtls-listen 127.0.0.1:"$(free_port)" --stun-udp-listen 127.0.0.1:"$(free_port)" \
	--stun-tcp-listen off --control-socket "$TMP/gen.sock" --log-json yes >"$TMP/gen.out" 2>&1 &
gen_pid=$!
wait_for 10 test -S "$TMP/gen.sock"
stop_term "$gen_pid"
check "tls_generate with log_json: its line is JSON as the rest" \
	grep -q '^{"ts":"[^"]*","level":"warn","msg":"tls_generate: no certificates in' "$TMP/gen.out"
rm "$G/ca.pem"
gen
rc=$?
check "tls_generate: a partial set (no ca.pem) stops start-up" [ "$rc" -eq 2 ]
check "... naming what is there and what is missing" \
	grep -q "tls_generate: $G has edge.pem edge.key but not ca.pem" "$TMP/gen.out"
"$EDGELAB" serve --tls-generate yes --tls-key /elsewhere/edge.key --check-config >"$TMP/gen.out" 2>&1
rc=$?
check "tls_generate with files outside one directory is a bad config" [ "$rc" -eq 2 ]
check "... that says what it needs" grep -q "tls_generate needs tls_certificate, tls_key and tls_ca" "$TMP/gen.out"
SERVE_PID=$main_pid

# --- SIGTERM -------------------------------------------------------------
serve_stop
rc=$?
check "SIGTERM stops serve with status 0" [ "$rc" -eq 0 ]
check "... and removes the control socket" [ ! -e "$CTL" ]
check "... and logs the stop" grep -q "info  stopped" "$LOG"
finish
