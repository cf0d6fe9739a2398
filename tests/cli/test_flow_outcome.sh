#!/bin/sh
# How the edge's own flows really end (GET /flows/ID), through a router
# whose nftables rules the test loads: three network namespaces of its own,
# client (192.0.2.10) - router (192.0.2.1 / 198.51.100.1) - edge
# (198.51.100.10), serve in edge with a unix control socket. Each target
# port has its own forward rule, so that every case runs at once (the drops
# cost 3 s each, together):
#   TCP 7001 accept (a listener that reads and closes), 7002 reject with tcp
#   reset, 7003 reject with icmp host-unreachable, 7004 reject with icmp
#   admin-prohibited, 7005 drop: row 4 and strict-tcp to each;
#   UDP 7006 reject (icmp port-unreachable), 7007 drop, 7008 accept (an echo):
#   row 5;
#   row 2: partner.example on 7012 (the probe plays it), tls.example on 7010
#   (openssl s_server with a certificate of another CA), rst.example on 7011
#   (reset), drop.example on 7013 (drop).
# Also: a pending record, a long poll cut by its client, one held while
# serve stops (serve exits 0; the sanitizer build checks for leaks).
set -u
. "$(dirname "$0")/../lib.sh"
[ "$(id -u)" -eq 0 ] || skip_all "needs root (network namespaces, nftables)"
for t in ip nft python3 openssl curl; do
	command -v "$t" >/dev/null || skip_all "needs $t"
done

NS=elfo-$$
C=$NS-client
R=$NS-router
E=$NS-edge
at_exit "ip netns del $C; ip netns del $R; ip netns del $E"
in_c() { ip netns exec "$C" "$@"; }
in_r() { ip netns exec "$R" "$@"; }
in_e() { ip netns exec "$E" "$@"; }
build_net() {
	for n in "$C" "$R" "$E"; do ip netns add "$n" || return 1; done
	ip link add c0 netns "$C" type veth peer name rc netns "$R" &&
		ip link add e0 netns "$E" type veth peer name re netns "$R" || return 1
	in_c ip addr add 192.0.2.10/24 dev c0 && in_c ip link set c0 up &&
		in_c ip link set lo up && in_c ip route add default via 192.0.2.1 &&
		in_e ip addr add 198.51.100.10/24 dev e0 && in_e ip link set e0 up &&
		in_e ip link set lo up && in_e ip route add default via 198.51.100.1 &&
		in_r ip addr add 192.0.2.1/24 dev rc && in_r ip link set rc up &&
		in_r ip addr add 198.51.100.1/24 dev re && in_r ip link set re up &&
		in_r sysctl -qw net.ipv4.ip_forward=1
}
build_net || { not_ok "the three namespaces are built"; finish; }
in_r nft -f - <<'NFT' || { not_ok "the router's rules load"; finish; }
table ip flowtest {
	chain forward_rules {
		type filter hook forward priority filter; policy accept;
		ip daddr 192.0.2.10 tcp dport 7002 reject with tcp reset
		ip daddr 192.0.2.10 tcp dport 7003 reject with icmp type host-unreachable
		ip daddr 192.0.2.10 tcp dport 7004 reject with icmp type admin-prohibited
		ip daddr 192.0.2.10 tcp dport 7005 drop
		ip daddr 192.0.2.10 udp dport 7006 reject with icmp type port-unreachable
		ip daddr 192.0.2.10 udp dport 7007 drop
		ip daddr 192.0.2.10 tcp dport 7011 reject with tcp reset
		ip daddr 192.0.2.10 tcp dport 7013 drop
	}
}
NFT

# The client's listeners: TCP 7001 reads what comes (logged with the
# source) and closes; UDP 7008 echoes.
cat >"$TMP/peer.py" <<'PY'
import socket, sys, threading
log = open(sys.argv[1], "a", buffering=1)
def tcp():
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("192.0.2.10", 7001)); s.listen(16)
    while True:
        c, a = s.accept(); c.settimeout(1); data = b""
        try:
            while len(data) < 4096:
                b = c.recv(4096)
                if not b: break
                data += b
                if data.endswith(b"\n") or data.count(b"marker=") >= 3: break
        except OSError: pass
        log.write("tcp %s:%d %r\n" % (a[0], a[1], data)); c.close()
def udp():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("192.0.2.10", 7008))
    while True:
        d, a = s.recvfrom(2048); s.sendto(d, a)
threading.Thread(target=udp, daemon=True).start()
tcp()
PY
# (ip netns exec itself in the background: it execs, so $! is the process.)
ip netns exec "$C" python3 "$TMP/peer.py" "$TMP/peer.log" &
at_exit "kill $!"

"$EDGELAB" pki --out "$TMP/pki" -q --key-type ec
"$EDGELAB" pki --out "$TMP/other" -q --key-type ec
ip netns exec "$C" openssl s_server -quiet -accept 192.0.2.10:7010 -cert "$TMP/other/partner.pem" \
	-key "$TMP/other/partner.key" </dev/null >/dev/null 2>&1 &
at_exit "kill $!"

CTL=$TMP/control.sock
LOG=$TMP/serve.log
cat >"$TMP/edge.conf" <<CONF
stun_udp_listen 198.51.100.10:3478
stun_tcp_listen off
sip_tls_listen off
sip_mtls_listen 198.51.100.10:5061
tls_certificate $TMP/pki/edge.pem
tls_key $TMP/pki/edge.key
tls_ca $TMP/pki/ca.pem
federation_partner partner.example 192.0.2.10:7012
federation_partner tls.example 192.0.2.10:7010
federation_partner rst.example 192.0.2.10:7011
federation_partner drop.example 192.0.2.10:7013
sip_partner_keepalive 0
control_socket $CTL
workers 1
CONF
ip netns exec "$E" "$EDGELAB" serve --config "$TMP/edge.conf" 2>"$LOG" &
SERVE=$!
at_exit "kill -9 $SERVE"
wait_for 10 ctl_get "$CTL" /healthz || {
	not_ok "serve starts in the edge namespace"
	sed 's/^/# /' "$LOG"
	finish
}
wait_for 5 in_c sh -c 'ss -Hltn | grep -q 7010 && ss -Hltn | grep -q 7001' ||
	not_ok "the client's listeners are up"

# trigger NAME PATH: POSTs, keeps the Location's id in $TMP/id.NAME.
trigger() {
	curl -s -D "$TMP/hdr.$1" -o "$TMP/body.$1" --max-time 5 -X POST --unix-socket "$CTL" \
		"http://e$2"
	sed -n 's#^Location: /flows/\([0-9]*\)\r*$#\1#p' "$TMP/hdr.$1" >"$TMP/id.$1"
}
T=192.0.2.10
for port in 7001 7002 7003 7004 7005; do
	trigger "r4_$port" "/rows/4?target=$T:$port&marker=r4p$port"
	trigger "st_$port" "/strict/tcp?target=$T:$port&marker=st$port"
done
for port in 7006 7007 7008; do
	trigger "r5_$port" "/rows/5?target=$T:$port&marker=r5p$port"
done
for p in tls rst drop; do
	trigger "r2_$p" "/rows/2?partner=$p.example"
done
check "each trigger answered 202 with Location: /flows/ID" \
	sh -c '! grep -L "^HTTP/1.1 202" "$0"/hdr.* | grep -q . && ! find "$0" -name "id.*" -empty | grep -q .' "$TMP"
check "... the ids count up from 1" [ "$(cat "$TMP/id.r4_7001") $(cat "$TMP/id.st_7001")" = "1 2" ]
check "... the body is still the one line" \
	grep -qx "RTP/TCP connecting to $T:7001 from port 5[0-9]\{4\}" "$TMP/body.r4_7001"
ctl_get "$CTL" "/flows/$(cat "$TMP/id.r4_7005")" >"$TMP/pending"
check "a flow whose SYN is dropped is pending at first" grep -q "^outcome: pending$" "$TMP/pending"

# The row 2 partner that answers: the probe, triggering through the socket.
ip netns exec "$C" "$EDGELAB" probe --edge 198.51.100.10 --sip-mtls-port 5061 --pki "$TMP/pki" --rows 2 \
	--partner-port 7012 --control "$CTL" -t 3 --format json >"$TMP/probe.json" 2>&1 &
PROBE=$!

# A long poll cut by its client: dropped, nothing else changes.
curl -s --max-time 1 --unix-socket "$CTL" "http://e/flows/$(cat "$TMP/id.st_7005")?wait=10000" \
	>/dev/null 2>&1
check "a long poll whose client went away: the edge drops its connection" \
	wait_for 3 sh -c '! ip netns exec "$0" ss -Hxp | grep "$1" | grep -q edgelab' "$E" "$CTL"

# Every record, long-polled at once.
POLLS=""
for f in "$TMP"/id.*; do
	name=${f##*/id.}
	curl -s --max-time 8 --unix-socket "$CTL" "http://e/flows/$(cat "$f")?wait=6000" \
		>"$TMP/rec.$name" &
	POLLS="$POLLS $!"
done
wait $PROBE
sed 's/^/# probe: /' "$TMP/probe.json"
for id in $(seq 1 40); do
	ctl_get "$CTL" "/flows/$id" 2>/dev/null | grep -q "^partner: partner.example$" && break
done
curl -s --max-time 8 --unix-socket "$CTL" "http://e/flows/$id?wait=6000" >"$TMP/rec.r2_ok"
wait $POLLS
for f in "$TMP"/rec.*; do
	sed "s/^/# ${f##*/rec.}: /" "$f"
done

# has NAME LINE...: the record has every line.
has() {
	rec=$TMP/rec.$1
	shift
	for l in "$@"; do grep -qx -- "$l" "$rec" || return 1; done
}
for k in r4 st; do
	kind=row4
	[ "$k" = r4 ] || kind=strict-tcp
	check "$kind, accept: connected" has "${k}_7001" "kind: $kind" "target: $T:7001" "outcome: connected"
	check "$kind, reject with tcp reset: reset" has "${k}_7002" "outcome: reset" \
		"detail: the edge's SYN to $T:7002 was answered with RST"
	check "$kind, reject with icmp host-unreachable: icmp 3/1 from the router" \
		has "${k}_7003" "outcome: icmp" "icmp-type: 3" "icmp-code: 1" "icmp-from: 198.51.100.1" \
		"detail: the edge's SYN to $T:7003 drew ICMP host unreachable (type 3 code 1) from 198.51.100.1"
	check "$kind, reject with icmp admin-prohibited: icmp 3/13 from the router" \
		has "${k}_7004" "outcome: icmp" "icmp-type: 3" "icmp-code: 13" "icmp-from: 198.51.100.1"
	check "$kind, drop: timeout, no SYN-ACK" has "${k}_7005" "outcome: timeout" \
		"detail: no SYN-ACK from $T:7005 in 3.0 s"
done
check "row 4 left from a relay port" grep -q "^source: 198.51.100.10:5[0-9]\{4\}$" "$TMP/rec.r4_7001"
sport() { sed -n 's/^source: 198\.51\.100\.10:\([0-9]*\)$/\1/p' "$TMP/rec.$1"; }
strict_ok=1
for port in 7001 7002 7003 7004 7005; do
	p=$(sport "st_$port")
	[ -n "$p" ] && [ "$p" -ge 32768 ] && [ "$p" -le 49999 ] || strict_ok=0
done
check "strict-tcp left from ports 32768-49999, outside the relay range" [ "$strict_ok" -eq 1 ]
check "... and the client read its marker line from that port" \
	grep -q "^tcp 198.51.100.10:$(sport st_7001) b'edgelab marker=st7001\\\\n'" "$TMP/peer.log"
check "row 5, accept (an echo): answered" has r5_7008 "kind: row5" "dialect: rfc5389" "outcome: answered"
check "row 5, reject: icmp port unreachable from the router" \
	has r5_7006 "outcome: icmp" "icmp-type: 3" "icmp-code: 3" "icmp-from: 198.51.100.1" \
	"detail: the edge's STUN request to $T:7006 drew ICMP port unreachable (type 3 code 3) from 198.51.100.1"
check "row 5, drop: timeout, sent but no answer" has r5_7007 "outcome: timeout" \
	"detail: the edge's STUN request to $T:7007 was sent; no answer in 3.0 s"
check "row 2, the probe as partner: answered 200" has r2_ok "kind: row2" "partner: partner.example" \
	"target: $T:7012" "outcome: answered" "detail: OPTIONS over MTLS to $T:7012 answered 200 OK"
check "... the probe passed" grep -q '"verdict": "PASS"' "$TMP/probe.json"
check "row 2, a partner certificate from another CA: tls-failed, certificate verify failed" \
	sh -c 'grep -qx "outcome: tls-failed" "$0" && grep -q "^detail: .*certificate verify failed" "$0"' "$TMP/rec.r2_tls"
check "row 2, reject with tcp reset: reset" has r2_rst "outcome: reset" \
	"detail: the edge's SYN to $T:7011 was answered with RST"
check "row 2, drop: timeout, no TCP connection" has r2_drop "outcome: timeout" \
	"detail: no TCP connection to $T:7013 in 3.0 s"

# The API's edges.
status() { curl -s -o /dev/null -w "%{http_code}" --max-time 3 --unix-socket "$CTL" "http://e$1"; }
check "an unknown id: 404" [ "$(status /flows/999999)" = 404 ]
check "a malformed id: 400" [ "$(status /flows/1x)" = 400 ]
check "a malformed wait: 400" [ "$(status "/flows/1?wait=soon")" = 400 ]
check "an ended flow with a wait: answered at once" \
	sh -c '[ "$(curl -s -o /dev/null -w "%{time_total}" --unix-socket "$0" "http://e/flows/1?wait=10000" | cut -d. -f1)" -eq 0 ]' "$CTL"

# A long poll held while serve stops: dropped; serve exits cleanly.
trigger held "/strict/tcp?target=$T:7005&marker=held"
curl -s --max-time 8 --unix-socket "$CTL" "http://e/flows/$(cat "$TMP/id.held")?wait=10000" \
	>"$TMP/held.out" 2>&1 &
HELD=$!
sleep 0.3
stop_term "$SERVE"
check "serve stops with a long poll held: exit 0" [ $? -eq 0 ]
wait $HELD
check "... and the held request ends without an answer" [ ! -s "$TMP/held.out" ]
check "... the sanitizers found nothing" sh -c '! grep -q "Sanitizer" "$0"' "$LOG"
[ "$n_fail" -eq 0 ] || sed 's/^/# serve: /' "$LOG"
finish
