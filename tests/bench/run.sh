#!/usr/bin/env bash
# TURN relay benchmark: edgelab and coturn side by side in one run, with the
# same load generator (turnflood), port range, credentials and machine; each
# with 1 and 2 workers. Prints one markdown table (see tests/bench/README.md).
# Not part of `make check`. Exit status: 0 when every selected measurement
# ran (targets met or not: PASS/MISS is in the table), 1 on a harness failure
# (a server that does not start, a generator that fails), 2 on bad usage.
#
#   tests/bench/run.sh [--quick] [--only coturn|edgelab] [--workers "1 2"]
#                      [--duration S] [--out DIR]
# Environment: EDGELAB (edgelab binary; default build/edgelab, built with
# scripts/build.sh when missing), TURNSERVER (default turnserver),
# BENCH_PORT (UDP/TCP listening port, default 13478), BENCH_THREADS (sender
# threads of turnflood, default 1).
set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
QUICK=0
ONLY=""
WORKERS="1 2"
DURATION=""
OUT=""
while [ $# -gt 0 ]; do
	case "$1" in
	--quick) QUICK=1 ;;
	--only)
		ONLY=${2:-}
		shift
		;;
	--workers)
		WORKERS=${2:-}
		shift
		;;
	--duration)
		DURATION=${2:-}
		shift
		;;
	--out)
		OUT=${2:-}
		shift
		;;
	-h | --help)
		sed -n '2,16p' "$0"
		exit 0
		;;
	*)
		echo "run.sh: unknown argument $1" >&2
		exit 2
		;;
	esac
	shift
done
case "$ONLY" in "" | coturn | edgelab) ;; *)
	echo "run.sh: --only coturn|edgelab" >&2
	exit 2
	;;
esac

PORT=${BENCH_PORT:-13478}
THREADS=${BENCH_THREADS:-1}
TURNSERVER=${TURNSERVER:-turnserver}
SIZES="172 1200"
FLOWS="1 4 40 200"
RSS_COUNT=10000
if [ "$QUICK" = 1 ]; then
	: "${DURATION:=1}"
	WARMUP=0.5
else
	: "${DURATION:=3}"
	WARMUP=1
fi

if [ -z "$OUT" ]; then
	OUT=$(mktemp -d /tmp/edgelab-bench.XXXXXX)
fi
mkdir -p "$OUT" || exit 1
RESULTS=$OUT/results.txt
: >"$RESULTS"
SERVER_PID=""

log() { echo "run.sh: $*" >&2; }

stop_server() {
	[ -n "$SERVER_PID" ] || return 0
	kill -TERM "$SERVER_PID" 2>/dev/null
	for _ in $(seq 1 100); do
		kill -0 "$SERVER_PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$SERVER_PID" 2>/dev/null; then
		log "server $SERVER_PID did not stop on TERM in 10 s: KILL"
		kill -KILL "$SERVER_PID" 2>/dev/null
	fi
	wait "$SERVER_PID" 2>/dev/null
	SERVER_PID=""
}
trap 'stop_server' EXIT
trap 'exit 130' INT TERM

# ---- the load generator ----
FLOOD=$OUT/bin/turnflood
if ! make -s -f "$ROOT/tests/bench/turnflood.mk" OUT="$OUT/bin" >"$OUT/build.log" 2>&1; then
	cat "$OUT/build.log" >&2
	log "cannot build turnflood"
	exit 1
fi

# ---- servers ----
# True once something listens on UDP PORT (and, for edgelab, TCP too).
port_ready() {
	ss -Hlun "sport = :$PORT" 2>/dev/null | grep -q . || return 1
	ss -Hltn "sport = :$PORT" 2>/dev/null | grep -q .
}

port_free() {
	! ss -Hlun "sport = :$PORT" 2>/dev/null | grep -q . &&
		! ss -Hltn "sport = :$PORT" 2>/dev/null | grep -q .
}

# start_server NAME WORKERS: sets SERVER_PID, 0 when it listens within 10 s.
start_server() {
	local name=$1 w=$2 logf=$OUT/$1-w$2.log
	if ! port_free; then
		log "port $PORT is taken already (BENCH_PORT=...)"
		return 1
	fi
	case "$name" in
	coturn)
		# -m N: N relay threads (coturn also runs a listener, an auth and an
		# admin thread). Users on the command line, nothing from a database.
		(
			ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
			exec "$TURNSERVER" -n --no-cli --allow-loopback-peers \
				--listening-ip 127.0.0.1 --listening-port "$PORT" \
				--min-port 50000 --max-port 59999 --lt-cred-mech \
				--user bench:bench --realm edgelab --relay-threads "$w" \
				--no-tls --no-dtls --db "$OUT/turndb" --pidfile "$OUT/turnserver.pid" \
				--log-file stdout --simple-log
		) >"$logf" 2>&1 &
		;;
	edgelab)
		(
			ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
			exec "$EDGELAB" serve --config "$OUT/edgelab-w$w.conf"
		) >"$logf" 2>&1 &
		;;
	esac
	SERVER_PID=$!
	for _ in $(seq 1 100); do
		if ! kill -0 "$SERVER_PID" 2>/dev/null; then
			log "$name exited at start; its log ($logf):"
			tail -20 "$logf" >&2
			SERVER_PID=""
			return 1
		fi
		port_ready && return 0
		sleep 0.1
	done
	log "$name does not listen on $PORT after 10 s; its log ($logf):"
	tail -20 "$logf" >&2
	stop_server
	return 1
}

edgelab_conf() {
	printf 'workers %s\nstun_udp_listen 127.0.0.1:%s\nstun_tcp_listen 127.0.0.1:%s\ncontrol_socket %s\n' \
		"$1" "$PORT" "$PORT" "$OUT/edgelab.sock"
	cat "$ROOT/tests/bench/edgelab-turn.conf"
}

# ---- measurements: one turnflood line each, tagged, into RESULTS ----
# run_gen TAG ARGS...: appends "TAG key=value..." to RESULTS; 1 on failure.
run_gen() {
	local tag=$1 line
	shift
	line=$(timeout 300 "$FLOOD" "$@" --server "127.0.0.1:$PORT" --pid "$SERVER_PID" \
		2>>"$OUT/turnflood.err")
	local rc=$?
	if [ $rc -ne 0 ] || [ -z "$line" ]; then
		log "turnflood $* failed ($rc); see $OUT/turnflood.err:"
		tail -5 "$OUT/turnflood.err" >&2
		return 1
	fi
	echo "$tag $line" >>"$RESULTS"
	log "$tag $line"
}

bench_server() {
	local name=$1 w k=0 size flows
	for w in $WORKERS; do
		log "$name, $w worker(s): relay"
		start_server "$name" "$w" || return 1
		for size in $SIZES; do
			for flows in $FLOWS; do
				# a fresh client port range each point: a server may hold
				# a released 5-tuple for a while
				run_gen "$name w=$w" flood --flows "$flows" --size "$size" \
					--duration "$DURATION" --warmup "$WARMUP" \
					--threads "$THREADS" \
					--client-ports "$((20000 + k * 200))-$((20199 + k * 200))" ||
					{
						stop_server
						return 1
					}
				k=$((k + 1))
			done
		done
		stop_server
		# allocation rate and RSS on a fresh server: a server may keep
		# released relay ports for a while (coturn does), and the range
		# has exactly 10,000
		log "$name, $w worker(s): $RSS_COUNT allocations"
		start_server "$name" "$w" || return 1
		run_gen "$name w=$w" alloc --count "$RSS_COUNT" --hold 2 \
			--client-ports 30000-41999 || {
			stop_server
			return 1
		}
		stop_server
	done
}

FAILED=0
EDGELAB_NOTE=""
want() { [ -z "$ONLY" ] || [ "$ONLY" = "$1" ]; }

if want coturn; then
	if ! command -v "$TURNSERVER" >/dev/null; then
		log "no $TURNSERVER (apt-get install coturn)"
		FAILED=1
	else
		bench_server coturn || FAILED=1
	fi
fi

if want edgelab; then
	if [ -z "${EDGELAB:-}" ]; then
		EDGELAB=$ROOT/build/edgelab
		if [ ! -x "$EDGELAB" ]; then
			log "building edgelab (scripts/build.sh)"
			(cd "$ROOT" && ./scripts/build.sh) >"$OUT/edgelab-build.log" 2>&1 ||
				log "scripts/build.sh failed: $OUT/edgelab-build.log"
		fi
	fi
	for w in $WORKERS; do
		edgelab_conf "$w" >"$OUT/edgelab-w$w.conf"
	done
	if [ ! -x "$EDGELAB" ]; then
		EDGELAB_NOTE="no edgelab binary at $EDGELAB"
	elif ! "$EDGELAB" serve --check-config --config "$OUT/edgelab-w1.conf" \
		>"$OUT/edgelab-check.log" 2>&1; then
		EDGELAB_NOTE="edgelab rejects the TURN configuration: $(grep -v '^$' "$OUT/edgelab-check.log" | head -1)"
	fi
	if [ -n "$EDGELAB_NOTE" ]; then
		log "$EDGELAB_NOTE"
		FAILED=1
	else
		bench_server edgelab || FAILED=1
	fi
fi

# ---- the table ----
# get TAG SELECTOR KEY: the KEY of the first result line of TAG that contains
# every word of SELECTOR (e.g. "mode=flood flows=4 size=172").
get() {
	awk -v tag="$1" -v sel="$2" -v key="$3" '
	BEGIN { n = split(sel, want, " ") }
	{
		split($0, f, " ")
		if (f[1] " " f[2] != tag) next
		ok = 1
		for (i = 1; i <= n; i++) {
			found = 0
			for (j = 3; j <= NF; j++) if ($j == want[i]) found = 1
			if (!found) ok = 0
		}
		if (!ok) next
		for (j = 3; j <= NF; j++) {
			split($j, kv, "=")
			if (kv[1] == key) { print kv[2]; exit }
		}
	}' "$RESULTS"
}

# fmt_num VALUE: thousands separators; "-" when empty
fmt_num() {
	[ -n "$1" ] && [ "$1" != "-1" ] || {
		echo "-"
		return
	}
	printf "%s" "$1" | awk '{ s = sprintf("%.0f", $1); r = "";
		while (length(s) > 3) { r = "," substr(s, length(s) - 2) r; s = substr(s, 1, length(s) - 3) }
		print s r }'
}

# ratio A B: A/B with two decimals, "-" when either is missing
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || a < 0 || b <= 0) print "-";
		else printf "%.2f\n", a / b }'
}

# verdict RATIO OP LIMIT: PASS, MISS or "-"
verdict() {
	awk -v r="$1" -v op="$2" -v l="$3" 'BEGIN { if (r == "-") { print "-"; exit }
		ok = (op == ">=") ? (r + 0 >= l) : (r + 0 <= l); print ok ? "PASS" : "MISS" }'
}

CPU_MODEL=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
echo
echo "## TURN relay: edgelab vs coturn $("$TURNSERVER" --version 2>/dev/null | head -1 || true)"
echo
echo "$(nproc) CPUs ($CPU_MODEL), $(uname -r), $(date -u +%Y-%m-%dT%H:%M:%SZ)."
echo "turnflood: UDP, ChannelData client -> peer, $THREADS sender thread(s), rate auto, ${DURATION} s"
echo "window after ${WARMUP} s warm-up; payload = UDP payload the peer receives. Raw lines: $RESULTS"
[ -n "$EDGELAB_NOTE" ] && echo && echo "edgelab: not measured: $EDGELAB_NOTE"
echo
echo "Relayed packets/s (target: edgelab >= 1.5 x coturn) and server CPU per relayed"
echo "packet in us (target: edgelab <= 0.67 x coturn); sat = server input drops"
echo "as % of offered (> 0: the server's socket overflowed); busy = server CPU time"
echo "over the window in % of one core (< 100 x workers with sat > 0: the server"
echo "dropped with CPU to spare, e.g. a short receive buffer, or lost the CPU to"
echo "the generator)."
echo
echo "| payload | flows | workers | coturn pkt/s | edgelab pkt/s | ratio | pkt/s | coturn us/pkt | edgelab us/pkt | ratio | CPU | sat coturn / edgelab | busy coturn / edgelab |"
echo "|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---|---|---|"
pct() {
	awk -v d="$1" -v s="$2" 'BEGIN { if (d == "" || s == "" || s <= 0) print "-";
		else printf "%.0f%%\n", 100 * d / s }'
}
us() { awk -v n="$1" 'BEGIN { if (n == "" || n < 0) print "-"; else printf "%.2f\n", n / 1000 }'; }
for w in $WORKERS; do
	for size in $SIZES; do
		for flows in $FLOWS; do
			sel="mode=flood flows=$flows size=$size"
			cp=$(get "coturn w=$w" "$sel" relayed_pps)
			ep=$(get "edgelab w=$w" "$sel" relayed_pps)
			cc=$(get "coturn w=$w" "$sel" srv_cpu_ns_per_pkt)
			ec=$(get "edgelab w=$w" "$sel" srv_cpu_ns_per_pkt)
			rp=$(ratio "$ep" "$cp")
			rc=$(ratio "$ec" "$cc")
			cs=$(pct "$(get "coturn w=$w" "$sel" server_in_drops)" "$(get "coturn w=$w" "$sel" sent)")
			es=$(pct "$(get "edgelab w=$w" "$sel" server_in_drops)" "$(get "edgelab w=$w" "$sel" sent)")
			cb=$(pct "$(get "coturn w=$w" "$sel" srv_cpu_util)" 1)
			eb=$(pct "$(get "edgelab w=$w" "$sel" srv_cpu_util)" 1)
			echo "| $size | $flows | $w | $(fmt_num "$cp") | $(fmt_num "$ep") | $rp | $(verdict "$rp" ">=" 1.5) | $(us "$cc") | $(us "$ec") | $rc | $(verdict "$rc" "<=" 0.6667) | $cs / $es | $cb / $eb |"
		done
	done
done
echo
echo "$RSS_COUNT allocations on a fresh server (Allocate, 401, authenticated Allocate; 256 in"
echo "flight) and RSS of the server process holding them (target: edgelab < 64 MiB)."
echo
echo "| figure | workers | coturn | edgelab | ratio | target |"
echo "|---|---:|---:|---:|---:|---|"
mib() { awk -v k="$1" 'BEGIN { if (k == "" || k < 0) print "-"; else printf "%.1f MiB\n", k / 1024 }'; }
for w in $WORKERS; do
	sel="mode=alloc count=$RSS_COUNT"
	ca=$(get "coturn w=$w" "$sel" allocs_per_s)
	ea=$(get "edgelab w=$w" "$sel" allocs_per_s)
	echo "| allocations/s | $w | $(fmt_num "$ca") | $(fmt_num "$ea") | $(ratio "$ea" "$ca") | - |"
	cu=$(get "coturn w=$w" "$sel" srv_cpu_us_per_alloc)
	eu=$(get "edgelab w=$w" "$sel" srv_cpu_us_per_alloc)
	echo "| server CPU per allocation (us) | $w | ${cu:--} | ${eu:--} | $(ratio "$eu" "$cu") | - |"
	cok=$(get "coturn w=$w" "$sel" ok)
	eok=$(get "edgelab w=$w" "$sel" ok)
	echo "| allocations held | $w | ${cok:--} | ${eok:--} | - | $RSS_COUNT |"
	cr=$(get "coturn w=$w" "$sel" rss_held_kib)
	er=$(get "edgelab w=$w" "$sel" rss_held_kib)
	c0=$(get "coturn w=$w" "$sel" rss_before_kib)
	e0=$(get "edgelab w=$w" "$sel" rss_before_kib)
	v="-"
	if [ -n "$er" ]; then
		v=$(awk -v k="$er" -v n="$eok" -v want="$RSS_COUNT" 'BEGIN {
			if (n + 0 < want) print "MISS (" n " held)"; else print (k < 65536) ? "PASS" : "MISS" }')
	fi
	echo "| RSS, fresh server | $w | $(mib "$c0") | $(mib "$e0") | - | - |"
	echo "| RSS with $RSS_COUNT allocations | $w | $(mib "$cr") | $(mib "$er") | $(ratio "$er" "$cr") | < 64 MiB: $v |"
done
echo
if [ "$FAILED" != 0 ]; then
	log "some measurements did not run (see above); results so far in $RESULTS"
	exit 1
fi
exit 0
