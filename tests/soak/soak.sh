#!/bin/sh
# The soak (issue 15, point 6; docs/soak.md): MINUTES (10) of mixed load
# against one `edgelab serve` on loopback, sampled every 10 s, then a
# verdict. Not part of `make check`.
#
#   [EDGELAB=build/edgelab] [OUT=DIR] tests/soak/soak.sh [MINUTES]
#
# The load, each a loop of its own until the end: SIP (tests/soak/sip_load.py:
# REGISTER, MESSAGE, OPTIONS churn on 443, a partner's OPTIONS and MESSAGE on
# 5061); TURN allocations over UDP and TCP with ChannelData (turnc), RFC 6062
# TCP relays; MS-TURN allocations over UDP and over TCP (on 3478, and on the
# A/V edge's 443 after the pseudo-TLS hello) to TCP peers (msturnc), and TURN over TURN with RTP (fedav); a ChannelData flood
# (a steady 1000/s and bursts); garbage on every port (tests/soak/garbage.py);
# the control API's triggers (rows 4 and 5, their records) and reads.
#
# In OUT (a new /tmp/edgelab-soak.* by default): soak.csv (a line each 10 s:
# serve's RSS, open descriptors, threads, allocations, connections and
# counters), soak.svg (RSS and descriptors over time), metrics/ (each
# sample's /metrics), errors.log, every loop's log, serve.log, summary.txt.
#
# It fails (status 1) on: any outcome a loop did not expect (errors.log; an
# echo missing while the kernel dropped datagrams at serve's full UDP
# sockets, which the flood's bursts cause, or at the UDP echo's, is UDP's to
# lose: udp_loss.log);
# growth after the warm-up (the first fifth, at least 60 s): the mean RSS of
# the last third of the samples above the first third's by more than 10 % +
# 4 MB, or the most descriptors of the last third above the first third's
# by more than 16 (see docs/soak.md for why these bounds); resources not
# back once the load stopped (allocations, connections, descriptors to
# their idle count); serve not exiting 0 within 5 s of SIGTERM; a
# sanitizer report in its stderr.
set -u
MINUTES=${1:-10}
case $MINUTES in *[!0-9]* | "" | 0) echo "usage: $0 [MINUTES]" >&2 && exit 2 ;; esac
TOP=$(cd "$(dirname "$0")/../.." && pwd)
EDGELAB=${EDGELAB:-$TOP/build/edgelab}
SRCDIR=$TOP
BUILD=$(cd "$(dirname "$EDGELAB")" && pwd)
OUT=${OUT:-$(mktemp -d /tmp/edgelab-soak.XXXXXX)}
mkdir -p "$OUT/metrics"
export EDGELAB SRCDIR
. "$TOP/tests/lib.sh"
[ -x "$EDGELAB" ] || { echo "soak: no $EDGELAB (./scripts/build.sh builds it)" >&2; exit 2; }
make -C "$BUILD" tests/tools/turnc tests/tools/msturnc tests/tools/fedav >"$OUT/make.log" 2>&1 ||
	{ echo "soak: cannot build the load's tools in $BUILD (see $OUT/make.log)" >&2; exit 2; }
for t in python3 curl turnutils_peer; do
	command -v "$t" >/dev/null || { echo "soak: needs $t (scripts/install-deps.sh)" >&2; exit 2; }
done
TOOLS=$BUILD/tests/tools
SOAK=$TOP/tests/soak
DUR=$((MINUTES * 60))
WARM=$((DUR / 5 > 60 ? DUR / 5 : 60))
ERR=$OUT/errors.log
: >"$ERR"
: >"$OUT/udp_loss.log"
# err LOOP TEXT: an outcome the load did not expect.
err() { echo "$(date +%T) $1: $2" >>"$ERR"; }

# --- serve --------------------------------------------------------------------
pki_sets "$OUT/pki" || exit 2
U=$(free_port)
M=$(free_port)
T=$(free_port)
S=$(free_port)
CTL=$OUT/ctl.sock
# A relay port range of its own: another relay on the machine (a benchmark's
# 10,000 allocations, the test suite) takes ports from 50000-59999 too, and
# the soak's Allocates would meet 508s that are not serve's doing.
RELAY_PORTS=${SOAK_RELAY_PORTS:-40000-44999}
printf '%s\n' "workers 2" "stun_udp_listen 127.0.0.1:$U" "stun_tcp_listen 127.0.0.1:$U" \
	"msturn_tls_listen 127.0.0.1:$M" "sip_tls_listen 127.0.0.1:$T" "sip_mtls_listen 127.0.0.1:$S" \
	"tls_certificate $OUT/pki/edge.pem" "tls_key $OUT/pki/edge.key" "tls_ca $OUT/pki/ca.pem" \
	"federation_partner partner.example 127.0.0.1:$(free_port)" "sip_partner_keepalive 0" \
	"control_socket $CTL" "turn_user alice secret" "turn_user bob secret" \
	"allow_loopback_peers yes" "turn_lifetime 30" "relay_ports $RELAY_PORTS" >"$OUT/serve.conf"
rss_honest
serve_start "$OUT/serve.conf" "$OUT/serve.log" || exit 2
PID=$SERVE_PID
PU=$(free_port) # UDP echo
PF=$(free_port) # the flood's UDP echo: its bursts would fill PU's socket
PT=$(free_port) # TCP echo
turnutils_peer -p "$PU" -L 127.0.0.1 >"$OUT/peer_udp.log" 2>&1 &
at_exit "kill -9 $!"
turnutils_peer -p "$PF" -L 127.0.0.1 >"$OUT/peer_flood.log" 2>&1 &
at_exit "kill -9 $!"
"$TOP/tests/tools/tcp_peer.py" "$PT" echo >"$OUT/peer_tcp.log" 2>&1 &
at_exit "kill -9 $!"
wait_for 5 grep -q listening "$OUT/peer_tcp.log"
sleep 1
IDLE_FDS=$(ls "/proc/$PID/fd" | wc -l)
START=$(date +%s)
END=$((START + DUR))

# --- the load ------------------------------------------------------------------
# loop NAME PAUSE CMD...: runs CMD (a function) until the end, PAUSE seconds
# apart; CMD says what went wrong with err.
loop() {
	name=$1 pause=$2
	shift 2
	(
		n=0
		while [ "$(date +%s)" -lt "$END" ]; do
			n=$((n + 1))
			"$@" "$n"
			sleep "$pause"
		done
		echo "$name: $n rounds" >>"$OUT/rounds.txt"
	) &
	at_exit "kill -9 $!"
	LOOPS="${LOOPS:-} $!"
}
# peer_drops: datagrams the kernel dropped at the UDP echo's full socket
# (the drops column of /proc/net/udp).
peer_drops() {
	awk -v p="$(printf ':%04X' "$PU")" 'substr($2, length($2) - 4) == p { d += $NF } END { print d + 0 }' \
		/proc/net/udp
}
# overflow: datagrams the kernel dropped so far at serve's full UDP sockets
# and at the echo's.
overflow() { echo $(($(metric "$CTL" edgelab_udp_receive_overflow_total) + $(peer_drops))); }
# lost LOOP WHAT OVERFLOW: whether WHAT, missing, is UDP's to lose: the
# kernel dropped datagrams at serve's sockets or the echo's since OVERFLOW
# (the flood's bursts fill serve's; a Send or ChannelData is not sent
# again). Such a loss is counted in udp_loss.log, not as an error.
lost() {
	[ -n "$3" ] && [ "$(overflow)" -gt "$3" ] || return 1
	echo "$(date +%T) $1: $2 lost while UDP sockets overflowed" >>"$OUT/udp_loss.log"
}
# expect LOOP FILE [-l OVERFLOW] LINE...: each LINE (a grep -x pattern) is
# in FILE; with -l, a missing echo ("recv ...") may be a loss (lost).
expect() {
	e_loop=$1 e_file=$2 e_ov=""
	shift 2
	[ "$1" != -l ] || { e_ov=$2 && shift 2; }
	for e_line; do
		grep -qx "$e_line" "$e_file" && continue
		case $e_line in recv*) lost "$e_loop" "$e_line" "$e_ov" && continue ;; esac
		err "$e_loop" "no '$e_line': $(tr '\n' '|' <"$e_file")"
		return
	done
}
turnc_run() { timeout 30 "$TOOLS/turnc" -s "127.0.0.1:$U" "$@"; }
msturnc_run() { timeout 30 "$TOOLS/msturnc" "$@"; }

turn_udp() {
	ov=$(overflow)
	turnc_run alloc perm:127.0.0.1 "bind:4001:127.0.0.1:$PU" "chan:4001:u$1" "recv:u$1" \
		refresh:0 >"$OUT/turn_udp.out" 2>&1
	expect turn_udp "$OUT/turn_udp.out" -l "$ov" 'alloc 401 200 .*' 'recv channel' \
		'refresh 200 lifetime=0'
}
turn_tcp() {
	if [ $(($1 % 3)) -eq 0 ]; then # RFC 6062: a TCP relay to the echo
		turnc_run -t alloc:tcp perm:127.0.0.1 "connect:127.0.0.1:$PT" cbind "dsend:t$1" \
			"drecv:t$1" >"$OUT/turn_tcp.out" 2>&1
		expect turn_tcp "$OUT/turn_tcp.out" 'cbind 200' 'drecv ok'
		return
	fi
	# TURN over TCP, relaying over UDP to the echo: the peer's leg is UDP's
	# to lose, as turn_udp's.
	ov=$(overflow)
	turnc_run -t alloc perm:127.0.0.1 "bind:4001:127.0.0.1:$PU" "chan:4001:t$1" "recv:t$1" \
		refresh:0 >"$OUT/turn_tcp.out" 2>&1
	expect turn_tcp "$OUT/turn_tcp.out" -l "$ov" 'alloc 401 200 .*' 'recv channel' \
		'refresh 200 lifetime=0'
}
# msturn NAME ROUND PEER ARGS...: Send, Set Active Destination and raw data
# to PEER, then the allocation deleted.
msturn() {
	m_name=$1 m_n=$2 m_peer=$3
	shift 3
	m_ov=$(overflow)
	msturnc_run "$@" alloc "send:$m_peer:m$m_n" "recv:m$m_n" "sad:$m_peer" "raw:r$m_n" \
		"recv:r$m_n" delete >"$OUT/$m_name.out" 2>&1
	expect "$m_name" "$OUT/$m_name.out" -l "$m_ov" 'alloc 401 200 .*' 'recv data' 'sad 200' \
		'recv raw' 'delete 200'
}
msturn_udp() { msturn msturn_udp "$1" "127.0.0.1:$PU" -s "127.0.0.1:$U"; }
# Over TCP: the A/V edge's 443 (pseudo-TLS hello first) and 3478 in turn.
msturn_tcp() {
	if [ $(($1 % 2)) -eq 0 ]; then
		msturn msturn_tcp "$1" "127.0.0.1:$PT" -T -s "127.0.0.1:$M"
	else
		msturn msturn_tcp "$1" "127.0.0.1:$PT" -t -s "127.0.0.1:$U"
	fi
}
fedav() {
	ov=$(overflow)
	timeout 30 "$TOOLS/fedav" -a "127.0.0.1:$U" -A alice:secret -b "127.0.0.1:$U" -B bob:secret \
		-n 200 >"$OUT/fedav.out" 2>&1 && return
	grep -qx 'why lost' "$OUT/fedav.out" && lost fedav "RTP" "$ov" ||
		err fedav "$(grep -E '^(stage|why|detail) ' "$OUT/fedav.out" | tr '\n' '|')"
}
# flood: a steady 1000 ChannelData a second for 20 s, then a burst of 20000;
# losses are the flood's to have, but a flow that carries nothing is not.
flood() {
	turnc_run -u bob alloc perm:127.0.0.1 "bind:4001:127.0.0.1:$PF" pace:4001:20:1000 \
		flood:4001:20000:200 refresh:0 >"$OUT/flood.out" 2>&1
	grep '^pace' "$OUT/flood.out" >>"$OUT/flood.log"
	grep -q '^pace sent [0-9]* got [1-9]' "$OUT/flood.out" ||
		err flood "nothing came back: $(tr '\n' '|' <"$OUT/flood.out")"
}
# control: the edge's own flows (row 5 to the UDP echo, row 4 to the TCP
# one) and their records, the health check.
control() {
	for r in "5?target=127.0.0.1:$PU" "4?target=127.0.0.1:$PT"; do
		code=$(curl -s -o /dev/null -D "$OUT/control.hdr" -w '%{http_code}' --max-time 5 \
			-X POST --unix-socket "$CTL" "http://e/rows/$r&marker=soak$1")
		[ "$code" = 202 ] || { err control "POST /rows/$r: $code"; continue; }
		id=$(sed -n 's#^Location: /flows/\([0-9]*\)\r*$#\1#p' "$OUT/control.hdr")
		code=$(curl -s -o "$OUT/control.flow" -w '%{http_code}' --max-time 15 \
			--unix-socket "$CTL" "http://e/flows/$id?wait=10000")
		[ "$code" = 200 ] || err control "GET /flows/$id: $code"
		grep '^outcome' "$OUT/control.flow" >>"$OUT/control.log"
	done
	ctl_get "$CTL" /healthz >/dev/null || err control "GET /healthz failed"
}

python3 "$SOAK/sip_load.py" --tls "$T" --mtls "$S" --ca "$OUT/pki/ca.pem" \
	--cert "$OUT/pki/partner.pem" --key "$OUT/pki/partner.key" --seconds "$DUR" \
	>"$OUT/sip.log" 2>&1 &
SIP=$!
at_exit "kill -9 $SIP"
python3 "$SOAK/garbage.py" --seconds "$DUR" --udp "$U" --tcp "$U,$M,$T,$S" --unix "$CTL" \
	>"$OUT/garbage.log" 2>&1 &
GARBAGE=$!
at_exit "kill -9 $GARBAGE"
loop turn_udp 0.2 turn_udp
loop turn_tcp 0.2 turn_tcp
loop msturn_udp 0.3 msturn_udp
loop msturn_tcp 0.3 msturn_tcp
loop fedav 5 fedav
loop flood 1 flood
loop control 1 control

# --- samples -----------------------------------------------------------------------
# m NAME: a metric of the last sample (summed over its labels).
m() { awk -v k="$1" '{ n = $1; sub(/\{.*/, "", n) } n == k { s += $2 } END { print s + 0 }' "$SNAP"; }
CSV=$OUT/soak.csv
echo "t_s,rss_kb,fds,threads,allocations,stun_tcp_connections,sip_connections,allocations_total,turn_requests,turn_dropped,relayed_packets,sip_requests,udp_overflow,load_errors" >"$CSV"
sample() {
	t=$(($(date +%s) - START))
	SNAP=$OUT/metrics/$(printf '%05d' "$t").prom
	ctl_get "$CTL" /metrics >"$SNAP" || err sampler "GET /metrics failed at $t s"
	echo "$t,$(rss_kb "$PID"),$(ls "/proc/$PID/fd" | wc -l),$(awk '/^Threads:/ { print $2 }' "/proc/$PID/status"),$(m edgelab_turn_allocations),$(m edgelab_stun_tcp_connections),$(m edgelab_sip_connections),$(m edgelab_turn_allocations_total),$(m edgelab_turn_requests_total),$(m edgelab_turn_dropped_total),$(m edgelab_turn_relayed_packets_total),$(m edgelab_sip_requests_total),$(m edgelab_udp_receive_overflow_total),$(wc -l <"$ERR")" >>"$CSV"
}
echo "soak: $MINUTES min against $EDGELAB (pid $PID), warm-up $WARM s, output in $OUT"
sample
while [ "$(date +%s)" -lt "$END" ]; do
	sleep 10
	kill -0 "$PID" 2>/dev/null || { err serve "serve is gone"; break; }
	sample
	tail -n 1 "$CSV"
done

# --- the end ----------------------------------------------------------------------
wait $LOOPS 2>/dev/null
wait "$SIP" || err sip "$(grep -E '^(unexpected|sip_load|Traceback)' "$OUT/sip.log" | head -n 5 | tr '\n' '|')"
wait "$GARBAGE"
# Left over: allocations of clients killed mid-way (turn_lifetime 30 s),
# connections closing. Wait for the idle state.
drained() {
	SNAP=$OUT/metrics/drained.prom
	ctl_get "$CTL" /metrics >"$SNAP" && [ "$(m edgelab_turn_allocations)" -eq 0 ] &&
		[ "$(m edgelab_stun_tcp_connections)" -eq 0 ] && [ "$(m edgelab_sip_connections)" -eq 0 ] &&
		[ "$(ls "/proc/$PID/fd" | wc -l)" -le "$IDLE_FDS" ]
}
wait_for 60 drained || err drain "not idle 60 s after the load: allocations $(m edgelab_turn_allocations), STUN/TCP $(m edgelab_stun_tcp_connections), SIP $(m edgelab_sip_connections), descriptors $(ls "/proc/$PID/fd" | wc -l) (idle: $IDLE_FDS)"
sample
t0=$(date +%s%N)
serve_stop "$PID"
status=$?
stop_ms=$((($(date +%s%N) - t0) / 1000000))
[ "$status" -eq 0 ] && [ "$stop_ms" -lt 5000 ] || err serve "SIGTERM: status $status after $stop_ms ms"
grep -E 'Sanitizer|runtime error' "$OUT/serve.log" >/dev/null &&
	err serve "a sanitizer report in serve.log"

# Growth after the warm-up: the samples of the run proper (not the drained
# one), in thirds.
awk -F, -v warm="$WARM" -v dur="$DUR" 'BEGIN { n = 0 } NR > 1 && $1 >= warm && $1 <= dur + 5 { t[n] = $1; r[n] = $2; f[n] = $3; n++ }
	END {
		if (n < 6) { print "growth: too few samples after the warm-up (" n "): not judged"; exit }
		k = int(n / 3)
		for (i = 0; i < k; i++) { r1 += r[i]; r3 += r[n - 1 - i]; if (f[i] > f1) f1 = f[i]; if (f[n - 1 - i] > f3) f3 = f[n - 1 - i] }
		r1 /= k; r3 /= k
		printf "growth: RSS %.0f -> %.0f kB (mean of the first and last thirds after %d s; bound %.0f), descriptors %d -> %d (most; bound %d)\n", r1, r3, warm, r1 * 1.1 + 4096, f1, f3, f1 + 16
		if (r3 > r1 * 1.1 + 4096) print "FAIL RSS grew"
		if (f3 > f1 + 16) print "FAIL descriptors grew"
	}' "$CSV" >"$OUT/growth.txt"
sed -n 's/^FAIL //p' "$OUT/growth.txt" | while read -r what; do err growth "$what"; done

"$SOAK/plot.sh" "$CSV" "$WARM" >"$OUT/soak.svg"
{
	echo "soak: $MINUTES min, $(($(wc -l <"$CSV") - 1)) samples, serve $EDGELAB"
	cat "$OUT/growth.txt"
	sort "$OUT/rounds.txt" 2>/dev/null
	tail -n 1 "$OUT/sip.log"
	cat "$OUT/garbage.log"
	[ -s "$OUT/flood.log" ] && awk '{ s += $3; g += $5 } END { printf "flood: %d ChannelData sent at 1000/s, %d echoed\n", s, g }' "$OUT/flood.log"
	[ -s "$OUT/control.log" ] && echo "control: $(sort "$OUT/control.log" | uniq -c | tr -s ' ' | tr '\n' ';')"
	echo "serve: SIGTERM -> status $status in $stop_ms ms; log lines at error level: $(grep -c ' error ' "$OUT/serve.log")"
	echo "UDP losses while serve's or the echo's sockets overflowed (not errors): $(wc -l <"$OUT/udp_loss.log"); datagrams the kernel dropped at serve's: $(m edgelab_udp_receive_overflow_total), at the echo's: $(peer_drops)"
	echo "errors the load did not expect: $(wc -l <"$ERR")"
	head -n 20 "$ERR"
} >"$OUT/summary.txt"
cat "$OUT/summary.txt"
echo "soak: CSV $CSV, plot $OUT/soak.svg"
[ ! -s "$ERR" ]
