#!/bin/sh
# shellcheck disable=SC2016 # sh -c scripts take "$0" and "$1"
# edgelab assess (issue 16, point 1) on loopback: calls through serve's
# relay in both dialects, over UDP and TCP (MS-TURN's also with the
# pseudo-TLS hello of an A/V edge's 443, relaying over TCP), and through
# coturn's (a real TURN server) in RFC 5766's (over UDP and TCP), their
# figures in the terminal report, Results.tsv and JSON; the reflector on the
# wire (tshark, as root): the relay sends it the calls' 172-byte packets
# from relay ports, over UDP, and over TCP as RFC 4571 frames; a ramp and
# its capacity; a reflector in another process, which echoes nothing but a
# call's packets, and pauses rather than spin out of descriptors; a TCP
# relay's stream cut mid-frame and found again; calls that stall on a
# stopped serve each failing alone; refusals and silence named; bad
# arguments. The figures
# against known impairments are the lab's to show (netem, issue 16 point 2).
set -u
. "$(dirname "$0")/../lib.sh"

PORT=$(free_port)
REFL=$(free_port)
CTL=$TMP/ctl.sock
AV443=$(free_port)
printf '%s\n' "workers 1" "stun_udp_listen 127.0.0.1:$PORT" "stun_tcp_listen 127.0.0.1:$PORT" \
	"msturn_tls_listen 127.0.0.1:$AV443" "control_socket $CTL" "sip_tls_listen off" "sip_mtls_listen off" "turn_user alice secret" \
	"allow_loopback_peers yes" >"$TMP/edge.conf"
serve_start "$TMP/edge.conf" "$TMP/edge.log" || { not_ok "serve starts"; finish; }
assess() { # ARGS...: edgelab assess; stdout in $TMP/out, status in $ST
	timeout 60 "$EDGELAB" assess "$@" >"$TMP/out" 2>"$TMP/err"
	ST=$?
	sed 's/^/# /' "$TMP/out" "$TMP/err"
}
# tsv_ok FILE CALLS SENT: the tool's header, CALLS lines of SENT packets sent
# and all received, no loss.
tsv_ok() {
	head -n 1 "$1" | grep -qx "$(printf 'CallStartTime\tPacketLossRate\tRoundTripLatencyInMs\tPacketsSent\tPacketsReceived\tAverageJitterInMs\tPacketReorderRatio')" &&
		[ "$(awk -F'\t' -v s="$3" 'NR > 1 && $4 == s && $5 == s && $2 == "0.000000" && $1 ~ /^20[0-9][0-9]-[0-9][0-9]-[0-9][0-9] [0-9][0-9]:[0-9][0-9]:[0-9][0-9]$/' "$1" | wc -l)" -eq "$2" ] &&
		[ "$(wc -l <"$1")" -eq $(($2 + 1)) ]
}

capturing=no
if [ "$(id -u)" -eq 0 ] && command -v tshark >/dev/null; then
	capture_start "$TMP/wire.pcap" "udp port $REFL" && capturing=yes
fi
assess -s "127.0.0.1:$PORT" -u alice -p secret -n 3 -t 3 --reflector "127.0.0.1:$REFL" \
	--tsv "$TMP/r.tsv" --json "$TMP/r.json" --html "$TMP/r.html"
check "MS-TURN, 3 calls of 3 s: exit 0" [ "$ST" -eq 0 ]
check "... the verdict says all met" grep -q '^verdict: all 3 calls met every client target$' "$TMP/out"
check "... Results.tsv: the tool's columns, 3 calls of 150 packets, none lost" tsv_ok "$TMP/r.tsv" 3 150
check "... JSON: 3 calls met, the reflector sent 450 back, each call's seconds" python3 - "$TMP/r.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
s = r["steps"][0]
assert r["dialect"] == "msturn" and r["capacity"] == 3 and s["met"] == 3 and s["reflected"] == 450, r
for c in s["call"]:
    assert c["met"] and c["sent"] == 150 and c["received"] == 150 and c["error"] == "", c
    # 3 s at 50 a second: 3 bins of about 50 (a 4th when the last packet
    # left a little after 3.0 s)
    assert 0 < c["rtt_ms"] < 100 and 3 <= len(c["seconds"]) <= 4, c
    assert sum(b["sent"] for b in c["seconds"]) == 150 and c["seconds"][0]["sent"] >= 48, c
    assert c["relayed"].startswith("127.0.0.1:"), c
PY
check "... HTML: a row per call, met, and three charts (loss, jitter, RTT) of a line per call" python3 - "$TMP/r.html" <<'PY'
import html.parser, sys
class Page(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.charts, self.rows, self.series = {}, 0, None
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "svg" and "data-series" in a:
            self.series = a["data-series"]
            self.charts[self.series] = 0
        if tag == "polyline" and self.series:
            assert 3 <= len(a["points"].split()) <= 4, a  # 3 seconds
            self.charts[self.series] += 1
        if tag == "tr" and a.get("class") == "call-met":
            self.rows += 1
p = Page()
p.feed(open(sys.argv[1]).read())
assert p.rows == 3 and p.charts == {"loss": 3, "jitter": 3, "RTT": 3}, (p.rows, p.charts)
PY
if [ "$capturing" = yes ]; then
	sleep 1
	kill -INT "$CAPTURE_PID" 2>/dev/null
	wait "$CAPTURE_PID" 2>/dev/null
	tshark -r "$TMP/wire.pcap" -Y "udp.dstport == $REFL" -T fields -e udp.srcport -e udp.length \
		-e udp.payload >"$TMP/wire.txt" 2>/dev/null
	# 172 bytes of RTP (UDP length 180): version 2, PCMU, then our tag "ELAS"
	# at the payload's start (offset 12).
	check "on the wire: 450 datagrams to the reflector, each 172 bytes of RTP (PCMU, tag ELAS) from a relay port" \
		[ "$(awk '$2 == 180 && $1 >= 50000 && $1 <= 59999 && $3 ~ /^8000/ && substr($3, 25, 8) == "454c4153"' "$TMP/wire.txt" | wc -l)" -eq 450 ]
else
	echo "# skipped the capture: not root or no tshark"
fi

assess -s "127.0.0.1:$PORT" -u alice -p secret -d rfc5766 -n 2 -t 2 --reflector "127.0.0.1:$REFL" \
	--tsv "$TMP/r2.tsv"
check "RFC 5766 (ChannelBind, ChannelData) through serve: exit 0" [ "$ST" -eq 0 ]
check "... 2 calls of 100 packets, none lost" tsv_ok "$TMP/r2.tsv" 2 100

assess -s "127.0.0.1:$PORT" -u alice -p secret -d rfc5766 --transport tcp -n 2 -t 2 \
	--reflector "127.0.0.1:$REFL" --tsv "$TMP/r2t.tsv"
check "RFC 5766 over TCP (the stream: STUN and padded ChannelData) through serve: exit 0" [ "$ST" -eq 0 ]
check "... 2 calls of 100 packets, none lost" tsv_ok "$TMP/r2t.tsv" 2 100

# MS-TURN over TCP: framed 0x02/0x03 to serve, relayed over TCP to the
# reflector (row 4), the packets RFC 4571 frames in that stream.
capturing=no
if [ "$(id -u)" -eq 0 ] && command -v tshark >/dev/null; then
	capture_start "$TMP/tcp.pcap" "tcp port $REFL" && capturing=yes
fi
assess -s "127.0.0.1:$PORT" -u alice -p secret --transport tcp -n 3 -t 3 \
	--reflector "127.0.0.1:$REFL" --tsv "$TMP/rm.tsv" --json "$TMP/rm.json"
check "MS-TURN over TCP (its framing; the relay's side TCP too): exit 0" [ "$ST" -eq 0 ]
check "... 3 calls of 150 packets, none lost" tsv_ok "$TMP/rm.tsv" 3 150
check "... JSON: transport tcp, 450 reflected (over TCP: the only way they came back)" python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
assert r["transport"] == "tcp" and r["steps"][0]["reflected"] == 450, r' "$TMP/rm.json"
if [ "$capturing" = yes ]; then
	sleep 1
	kill -INT "$CAPTURE_PID" 2>/dev/null
	wait "$CAPTURE_PID" 2>/dev/null
	tshark -r "$TMP/tcp.pcap" -Y "tcp.dstport == $REFL && tcp.len > 0" -T fields -e tcp.srcport \
		-e tcp.payload >"$TMP/tcp.txt" 2>/dev/null
	check "... on the wire: 3 TCP connections to the reflector from relay ports, carrying 450 RFC 4571 frames of 172-byte RTP" python3 - "$TMP/tcp.txt" <<'PY'
import sys
ports, frames = set(), 0
streams = {}
for line in open(sys.argv[1]):
    port, payload = line.split()
    assert 50000 <= int(port) <= 59999, port
    ports.add(port)
    streams[port] = streams.get(port, "") + payload.replace(":", "")
for port, hexs in streams.items():
    b = bytes.fromhex(hexs)
    while b:
        assert b[:2] == b"\x00\xac" and b[2] == 0x80, b[:4]  # LENGTH 172, RTP v2
        frames += 1
        b = b[2 + 172:]
assert len(ports) == 3 and frames == 450, (ports, frames)
PY
else
	echo "# skipped the TCP capture: not root or no tshark"
fi

P0=$(metric "$CTL" edgelab_msturn_pseudo_tls_total)
assess -s "127.0.0.1:$AV443" -u alice -p secret --transport pseudo-tls -n 2 -t 2 \
	--reflector "127.0.0.1:$REFL" --tsv "$TMP/rp.tsv" --json "$TMP/rp.json"
check "MS-TURN with the pseudo-TLS hello, to serve's msturn_tls_listen (an A/V edge's 443): exit 0" [ "$ST" -eq 0 ]
check "... 2 calls of 100 packets, none lost" tsv_ok "$TMP/rp.tsv" 2 100
check "... serve counted 2 pseudo-TLS handshakes; the report says pseudo-TLS" sh -c \
	'[ "$(($1 - $0))" -eq 2 ] && grep -q "^edgelab assess: MS-TURN over TCP with pseudo-TLS to " "$2" && grep -q "\"transport\":\"pseudo-tls\"" "$3"' \
	"$P0" "$(metric "$CTL" edgelab_msturn_pseudo_tls_total)" "$TMP/out" "$TMP/rp.json"
assess -s "127.0.0.1:$AV443" -u alice -p secret --transport tcp -n 1 -t 1 --reflector "127.0.0.1:$REFL"
check "plain TCP to the A/V edge's 443: exit 1, the hello named as what it wants" \
	sh -c '[ "$0" -eq 1 ] && grep -q "closed the connection before any answer (an A/V edge.s 443 wants --transport pseudo-tls)" "$1"' "$ST" "$TMP/out"
NOTAV_PORT=$(free_port)
python3 -c 'import socket, sys, time
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("127.0.0.1", int(sys.argv[1]))); l.listen(4); l.settimeout(20)
c, _ = l.accept(); c.recv(100); c.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n" + b" " * 60); time.sleep(5)' "$NOTAV_PORT" >/dev/null 2>&1 &
at_exit "kill -9 $!"
wait_for 5 sh -c "ss -Hltn 'sport = :$NOTAV_PORT' | grep -q ."
assess -s "127.0.0.1:$NOTAV_PORT" -u alice -p secret --transport pseudo-tls -n 1 -t 1 --reflector "127.0.0.1:$REFL"
check "a pseudo-TLS hello answered by something else: exit 1, said so" \
	sh -c '[ "$0" -eq 1 ] && grep -q "the server.s answer to the pseudo-TLS hello is not an A/V edge.s" "$1"' "$ST" "$TMP/out"
assess -s 127.0.0.2 -u alice -p secret --transport pseudo-tls -n 1 -t 1 --reflector "127.0.0.1:$REFL" \
	--json "$TMP/p443.json"
check "pseudo-TLS with no port given goes to 443" python3 -c '
import json, sys
assert json.load(open(sys.argv[1]))["server"] == "127.0.0.2:443"' "$TMP/p443.json"

# A real TURN server: coturn, RFC 5766.
if command -v turnserver >/dev/null; then
	CP=$(free_port)
	turnserver -n --no-cli --allow-loopback-peers --listening-ip 127.0.0.1 --listening-port "$CP" \
		--min-port 46000 --max-port 46999 --lt-cred-mech --user alice:secret --realm lab --no-tls \
		--no-dtls --db "$TMP/turndb" --log-file stdout --simple-log >"$TMP/coturn.log" 2>&1 &
	at_exit "kill -9 $!"
	wait_for 5 sh -c "ss -Hlun 'sport = :$CP' | grep -q ."
	assess -s "127.0.0.1:$CP" -u alice -p secret -d rfc5766 -n 2 -t 2 --reflector "127.0.0.1:$REFL" \
		--tsv "$TMP/r3.tsv"
	check "through coturn's relay (RFC 5766): exit 0" [ "$ST" -eq 0 ]
	check "... 2 calls of 100 packets, none lost" tsv_ok "$TMP/r3.tsv" 2 100
	assess -s "127.0.0.1:$CP" -u alice -p secret -d rfc5766 --transport tcp -n 2 -t 2 \
		--reflector "127.0.0.1:$REFL" --tsv "$TMP/r3t.tsv"
	check "through coturn's relay over TCP: exit 0" [ "$ST" -eq 0 ]
	check "... 2 calls of 100 packets, none lost" tsv_ok "$TMP/r3t.tsv" 2 100
	assess -s "127.0.0.1:$CP" -u alice -p secret -n 1 -t 1 --reflector "127.0.0.1:$REFL"
	check "MS-TURN to coturn: exit 1, named as a server that does not speak MS-TURN" \
		sh -c '[ "$0" -eq 1 ] && grep -q "not MS-TURN: it does not speak Lync.s dialect (--dialect rfc5766)" "$1"' "$ST" "$TMP/out"
else
	not_ok "coturn's turnserver is installed (scripts/install-deps.sh --test)"
fi

assess -s "127.0.0.1:$PORT" -u alice -p secret -n 6 --ramp 2 -t 2 --reflector "127.0.0.1:$REFL" \
	--json "$TMP/ramp.json"
check "a ramp of 2, 4, 6 calls: exit 0, capacity 6" \
	sh -c '[ "$0" -eq 0 ] && grep -q "^capacity: all 6 calls met every client target$" "$1"' "$ST" "$TMP/out"
check "... three steps in the JSON" python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
assert [s["calls"] for s in r["steps"]] == [2, 4, 6] and r["capacity"] == 6, r' "$TMP/ramp.json"

R2=$(free_port)
("$EDGELAB" assess --reflect-only --reflector "127.0.0.1:$R2" >"$TMP/reflector.log" 2>&1
	echo $? >"$TMP/reflector.status") &
at_exit "pkill -9 -f 'reflect-only --reflector 127.0.0.1:$R2'"
wait_for 5 sh -c "ss -Hlun 'sport = :$R2' | grep -q ."
assess -s "127.0.0.1:$PORT" -u alice -p secret -n 2 -t 2 --reflector "127.0.0.1:$R2" \
	--reflector-elsewhere
check "a reflector in another process (--reflect-only, --reflector-elsewhere): exit 0" [ "$ST" -eq 0 ]
check "... which sends back nothing that is not a call's packet (no ping-pong with a stranger)" python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(1)
s.sendto(b"\x80\x00 not a call of ours", ("127.0.0.1", int(sys.argv[1])))
try:
    s.recv(2048); sys.exit(1)
except socket.timeout:
    pass' "$R2"
check "... which listens on UDP and TCP, and says so" grep -qx "reflecting on 127.0.0.1:$R2, UDP and TCP" "$TMP/reflector.log"
assess -s "127.0.0.1:$PORT" -u alice -p secret --transport tcp -n 2 -t 2 --reflector "127.0.0.1:$R2" \
	--reflector-elsewhere --tsv "$TMP/rmo.tsv"
check "... and reflects MS-TURN's TCP relays: exit 0" [ "$ST" -eq 0 ]
check "... 2 calls of 100 packets, none lost" tsv_ok "$TMP/rmo.tsv" 2 100
check "... which closes a TCP stream that is not a call's frames, echoing nothing" python3 -c '
import socket, struct, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2)
s.sendall(struct.pack(">H", 172) + b"\x80\x00" + b"x" * 170)  # RTP, but not a call of ours
assert s.recv(4096) == b"", "echoed"  # closed, nothing sent back' "$R2"
pkill -TERM -f "reflect-only --reflector 127.0.0.1:$R2"
check "... which SIGTERM stops with status 0" \
	sh -c 'wait_for() { for _ in $(seq 50); do [ -s "$1" ] && return 0; sleep 0.1; done; return 1; }; wait_for "$0" && [ "$(cat "$0")" -eq 0 ]' "$TMP/reflector.status"

# Out of descriptors (64, hard): 80 connections that each send a byte and
# wait. The listener pauses rather than spin on accept's EMFILE, and takes
# connections again once some close.
R3=$(free_port)
# shellcheck disable=SC3045 # dash and bash both have ulimit -n
(ulimit -n 64 && exec "$EDGELAB" assess --reflect-only --reflector "127.0.0.1:$R3") \
	>"$TMP/reflector3.log" 2>&1 &
R3PID=$!
at_exit "kill -9 $R3PID"
wait_for 5 sh -c "ss -Hltn 'sport = :$R3' | grep -q ."
check "a reflector out of descriptors: under 1 s of CPU in 5 s, a quiet log; a call's frame echoed once connections close" python3 - "$R3" "$R3PID" <<'PY'
import os, socket, struct, sys, time
port, pid = int(sys.argv[1]), sys.argv[2]
def cpu():
    f = open("/proc/%s/stat" % pid).read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
held = []
for _ in range(80):
    s = socket.create_connection(("127.0.0.1", port), timeout=2)
    s.sendall(b"\x00")
    held.append(s)
c0 = cpu(); time.sleep(5); used = cpu() - c0
for s in held:
    s.close()
time.sleep(1.5)  # the listener's pause
pkt = struct.pack(">BBHII", 0x80, 0, 3, 480, 9) + b"ELAS" + struct.pack(">IIII", 9, 3, 0, 0) + b"\xff" * 140
s = socket.create_connection(("127.0.0.1", port), timeout=5)
s.sendall(struct.pack(">H", len(pkt)) + pkt)
back = b""
while len(back) < 2 + len(pkt):
    d = s.recv(4096)
    assert d, "closed"
    back += d
assert used < 1.0, "CPU %.2f s in 5 s" % used
assert back == struct.pack(">H", len(pkt)) + pkt
PY
check "... (its log: $(wc -l <"$TMP/reflector3.log") lines)" [ "$(wc -l <"$TMP/reflector3.log")" -lt 20 ]
kill "$R3PID" 2>/dev/null

# The relay's connection to the reflector lost mid-frame and made again:
# the call finds its frames again and counts the cut one lost.
R4=$(free_port)
python3 - "$R4" >/dev/null 2>&1 <<'PY' &
import socket, struct, sys, threading
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("127.0.0.1", int(sys.argv[1]))); l.listen(8); l.settimeout(30)
def reflect(c, cut):  # the first connection: 20 frames back, half the 21st, closed
    buf, n = b"", 0
    while True:
        d = c.recv(65536)
        if not d:
            return
        buf += d
        while len(buf) >= 2 and len(buf) >= 2 + struct.unpack(">H", buf[:2])[0]:
            k = 2 + struct.unpack(">H", buf[:2])[0]
            f, buf = buf[:k], buf[k:]
            if cut and n == 20:
                c.sendall(f[:k // 2]); c.close(); return
            c.sendall(f); n += 1
first = True
while True:
    c, _ = l.accept()
    threading.Thread(target=reflect, args=(c, first), daemon=True).start()
    first = False
PY
at_exit "kill -9 $!"
wait_for 5 sh -c "ss -Hltn 'sport = :$R4' | grep -q ."
assess -s "127.0.0.1:$PORT" -u alice -p secret --transport tcp -n 1 -t 3 --reflector "127.0.0.1:$R4" \
	--reflector-elsewhere --tsv "$TMP/r4.tsv"
# (the cut frame is lost, and what the relay had for the reflector while
# it connected again may be)
check "MS-TURN over TCP, the relay's connection cut mid-frame and made again: the call goes on, 140 to 149 of 150 back" \
	sh -c '! grep -q "^1  *FAILED" "$0" && awk -F"\t" "NR == 2 && \$4 == 150 && \$5 >= 140 && \$5 <= 149 { ok = 1 } END { exit !ok }" "$1"' "$TMP/out" "$TMP/r4.tsv"

assess -s "127.0.0.1:$PORT" -u alice -p wrong -n 1 -t 1 --reflector "127.0.0.1:$REFL"
check "a wrong password: exit 1, the refusal named" \
	sh -c '[ "$0" -eq 1 ] && grep -q "Allocate refused by 127.0.0.1:[0-9]*: 431 .*(the password is wrong)" "$1"' "$ST" "$TMP/out"
no_allocations() { [ "$(metric "$CTL" edgelab_turn_allocations)" -eq 0 ]; }
check "every allocation the runs made is deleted (serve has none left)" wait_for 5 no_allocations
NOREFL=$(free_port)
assess -s "127.0.0.1:$PORT" -u alice -p secret --transport tcp -n 1 -t 1 --reflector "127.0.0.1:$NOREFL" \
	--reflector-elsewhere
check "MS-TURN over TCP to a reflector that does not listen on TCP: exit 1, nothing back, the note says where to look" \
	sh -c '[ "$0" -eq 1 ] && grep -q "^note: 1 streaming call got nothing back: the relay.s packets to the reflector at 127.0.0.1:$2 (TCP), or its answers, did not pass; over TCP the relay connects out to it" "$1"' \
	"$ST" "$TMP/out" "$NOREFL"

# serve stopped (SIGSTOP) under 3 TCP calls of 1.2 MB/s each: every call's
# stream stalls, each fails alone and says so; none is cut short as
# another's end (the allocation's delete, unsendable, does not end a call
# twice).
SPID=$SERVE_PID
(sleep 1.5 && kill -STOP "$SPID") &
assess -s "127.0.0.1:$PORT" -u alice -p secret --transport tcp -n 3 -t 40 --rate 1000 --size 1200 \
	--reflector "127.0.0.1:$REFL"
kill -CONT "$SPID"
check "serve stopped under 3 TCP calls: exit 1, all 3 failed, each on its stalled stream" \
	sh -c '[ "$0" -eq 1 ] && [ "$(grep -c "FAILED  the TCP stream to the server stalls (256 KiB queued)" "$1")" -eq 3 ] && grep -q "^1  *3  *0  *0  *3 " "$1"' "$ST" "$TMP/out"

DEAD=$(free_port)
assess -s "127.0.0.1:$DEAD" -u alice -p secret -n 1 -t 1 --reflector "127.0.0.1:$REFL"
check "nobody at --server: exit 1 within the 5 s setup bound, said so" \
	sh -c '[ "$0" -eq 1 ] && grep -q "no answer to Allocate from 127.0.0.1:[0-9]* in 5.0 s (UDP, 4 tries)" "$1"' "$ST" "$TMP/out"

python3 -c 'import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", int(sys.argv[1]))); time.sleep(20)' "$REFL" &
at_exit "kill -9 $!"
wait_for 5 sh -c "ss -Hlun 'sport = :$REFL' | grep -q ."
assess -s "127.0.0.1:$PORT" -u alice -p secret -n 1 -t 1 --reflector "127.0.0.1:$REFL"
check "the reflector's address taken: exit 4, said so" \
	sh -c '[ "$0" -eq 4 ] && grep -q "the reflector cannot listen on UDP 127.0.0.1:[0-9]*: Address already in use" "$1"' "$ST" "$TMP/err"

for bad in "-u alice -p secret" "-s 127.0.0.1:$PORT -p secret" "-s 127.0.0.1:$PORT -u a -p b -n 2 --ramp 3" \
	"-s 127.0.0.1:$PORT -u a -p b --size 10" "-s 127.0.0.1:$PORT -u a -p b -n 2001" \
	"-s 127.0.0.1:$PORT -u a -p b --profile gold" "-s nowhere -u a -p b" "--reflect-only" \
	"-s 127.0.0.1:$PORT -u a -p b --transport pseudo-tls -d rfc5766" "-s 127.0.0.1:$PORT -u a -p b --transport sctp" \
	"-s 127.0.0.1:$PORT -u a -p b -n 2000 -t 240 --rate 100" "-s 127.0.0.1:$PORT -u a -p b -t 241"; do
	# shellcheck disable=SC2086 # the words are the arguments
	assess $bad
	check "usage error: exit 2 ($bad)" sh -c '[ "$0" -eq 2 ] && grep -q "edgelab assess: " "$1"' "$ST" "$TMP/err"
done
finish
