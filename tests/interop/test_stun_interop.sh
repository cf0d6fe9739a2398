#!/bin/sh
# Row 6 against real STUN clients written by others: coturn's
# turnutils_stunclient (RFC 5389) and the stun-client package's `stun`
# (classic RFC 3489). Each must get its own source address back, and every
# frame on the wire must decode in tshark with no malformed packet.
# Loopback only (127.0.0.1 serves; clients send from 127.0.0.2 and .3).
set -u
. "$(dirname "$0")/../lib.sh"
skip_slow "real peers"

for tool in turnutils_stunclient stun tshark; do
	command -v "$tool" >/dev/null || { not_ok "$tool is installed (scripts/install-deps.sh)"; finish; }
done

P=$(free_port)
CTL=$TMP/control.sock
CAP=$TMP/stun.pcapng
serve_start "" "$TMP/serve.log" --stun-udp-listen 127.0.0.1:"$P" --stun-tcp-listen 127.0.0.1:"$P" \
	--sip-tls-listen off --sip-mtls-listen off --control-socket "$CTL" --workers 2 ||
	{ not_ok "serve starts"; finish; }

if [ "$(id -u)" -eq 0 ]; then
	capture_start "$CAP" "port $P" || not_ok "tshark capture starts"
	TSHARK=$CAPTURE_PID
fi

# RFC 5389: turnutils_stunclient from 127.0.0.2.
out=$(timeout 10 turnutils_stunclient -p "$P" -L 127.0.0.2 127.0.0.1 2>&1)
echo "$out" | sed 's/^/# turnutils_stunclient: /'
mapped=$(echo "$out" | sed -n 's/.*UDP reflexive addr: \([0-9.]*:[0-9]*\).*/\1/p' | head -n 1)
check "turnutils_stunclient gets a reflexive address from 127.0.0.2" \
	sh -c 'echo "$0" | grep -q "^127\.0\.0\.2:[0-9][0-9]*$"' "$mapped"

# Classic RFC 3489: stun from 127.0.0.3, source port fixed, test I only.
SPORT=$(free_port)
out=$(timeout 10 stun 127.0.0.1:"$P" 1 -v -p "$SPORT" -i 127.0.0.3 2>&1)
echo "$out" | grep -i mapped | sed 's/^/# stun: /'
check "stun (RFC 3489) gets MappedAddress 127.0.0.3:$SPORT" \
	sh -c 'echo "$0" | grep -q "MappedAddress = 127.0.0.3:$1$"' "$out" "$SPORT"
check "both dialects are counted" [ "$(metric "$CTL" 'edgelab_stun_requests_total{dialect="classic",result="success"}')" -ge 1 ]

if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: tshark wire checks need root (capture on lo)"
	finish
fi
sleep 0.5
kill "$TSHARK"
wait "$TSHARK" 2>/dev/null

# The RFC 5389 exchange: tshark decodes XOR-MAPPED-ADDRESS and MAPPED-ADDRESS
# from our answer; both must be the address and port the client sent from.
# Decode both ends as STUN: Wireshark tries the lower port's dissector first,
# and a client port can land on another protocol's (27960-27963 is Quake 3).
cport=$(tshark -r "$CAP" -Y "udp && ip.src==127.0.0.2" -T fields -e udp.srcport 2>/dev/null | head -n 1)
fields=$(tshark -r "$CAP" -d "udp.port==$P,stun" -d "udp.port==${cport:-$P},stun" -Y "stun && ip.addr==127.0.0.2" \
	-T fields -e ip.src -e udp.srcport -e stun.type -e stun.att.ipv4 -e stun.att.port \
	-e _ws.malformed 2>/dev/null)
echo "$fields" | sed 's/^/# tshark: /'
sent_port=$(echo "$fields" | awk '$1 == "127.0.0.2" && $3 == "0x0001" { print $2; exit }')
check "tshark decodes our Binding success to 127.0.0.2" \
	sh -c 'echo "$0" | grep -q "^127.0.0.1	$1	0x0101"' "$fields" "$P"
check "XOR-MAPPED and MAPPED-ADDRESS are the client's 127.0.0.2:$sent_port, as it reported" \
	sh -c 'echo "$0" | grep -q "	0x0101	127.0.0.2,127.0.0.2	$1,$1	*$"' "$fields" "$sent_port"
check "... the address turnutils_stunclient reported" [ "127.0.0.2:$sent_port" = "$mapped" ]
check "no malformed RFC 5389 frame" sh -c '! echo "$0" | grep -q malformed' "$fields"

fields=$(tshark -r "$CAP" -o "stun.stunversion:RFC3489 and earlier" -d "udp.port==$P,stun" -d "udp.port==$SPORT,stun" \
	-Y "ip.addr==127.0.0.3" -T fields -e ip.src -e classicstun.type \
	-e classicstun.att.ipv4 -e classicstun.att.port -e _ws.malformed 2>/dev/null)
echo "$fields" | sed 's/^/# tshark: /'
check "tshark decodes our classic answer: MAPPED 127.0.0.3:$SPORT, SOURCE/CHANGED 127.0.0.1:$P" \
	sh -c 'echo "$0" | grep -q "^127.0.0.1	0x0101	127.0.0.3,127.0.0.1,127.0.0.1	$1,$2,$2	*$"' \
	"$fields" "$SPORT" "$P"
check "no malformed classic frame" sh -c '! echo "$0" | grep -q malformed' "$fields"
finish
