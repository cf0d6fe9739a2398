#!/usr/bin/env bash
# TURN relay benchmark: edgelab and coturn side by side in one run, with the
# same load generator (turnflood), port range, credentials and machine:
# coturn 4.6.1 (Debian's), a newer coturn in its default mode and in its best
# one (--multiplex-peer --udp-gso) when TURNSERVER_NEW names its binary, and
# edgelab by default and with relay_udp_offload yes. A flood (1 and 2 workers), 10,000 allocations, and calls at 50
# packets/s each way. Prints markdown tables (see tests/bench/README.md).
# Not part of `make check`. Exit status: 0 when every selected measurement
# ran (targets met or not: PASS/MISS is in the tables), 1 on a harness
# failure (a server that does not start, a generator that fails), 2 on bad
# usage.
#
#   tests/bench/run.sh [--quick] [--only "NAME..."] [--workers "1 2"]
#                      [--calls-workers "1"] [--no-flood] [--no-calls]
#                      [--coturn-new BINARY | --coturn-src SRC] [--calls-max N]
#                      [--duration S] [--out DIR] [--perf]
# NAME: coturn, coturn-new, coturn-mp, edgelab, edgelab-gso. Environment: EDGELAB
# (edgelab binary; default build/edgelab, built with scripts/build.sh when
# missing), TURNSERVER (default turnserver), TURNSERVER_NEW (the newer
# coturn's turnserver, as --coturn-new; unset: its two columns are skipped),
# COTURN_SRC (as --coturn-src: coturn's source, a directory, git directory or
# git URL, built at COTURN_TAG, default 4.17.1, by coturn_build.sh),
# BENCH_PORT (listening port, default 13478; the multiplexed relay sockets
# take BENCH_PORT+10 and up), BENCH_THREADS (turnflood's sender threads,
# default 1). --perf: each flood point's server is sampled by perf (call
# graphs, user and kernel) over its window: OUT/perf/NAME-wW-SIZE-FLOWS.txt,
# the symbols over 1 % of its samples, and .data for perf report.
set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
QUICK=0
ONLY=""
WORKERS="1 2"
CALL_WORKERS="1"
DO_FLOOD=1
DO_CALLS=1
PERF=0
DURATION=""
OUT=""
TURNSERVER_NEW=${TURNSERVER_NEW:-}
COTURN_SRC=${COTURN_SRC:-}
CALLS_MAX=8000
while [ $# -gt 0 ]; do
	case "$1" in
	--quick) QUICK=1 ;;
	--no-flood) DO_FLOOD=0 ;;
	--no-calls) DO_CALLS=0 ;;
	--perf) PERF=1 ;;
	--only | --workers | --calls-workers | --calls-max | --duration | --out | --coturn-new | --coturn-src)
		[ $# -ge 2 ] || {
			echo "run.sh: $1 needs a value" >&2
			exit 2
		}
		case "$1" in
		--only) ONLY=$2 ;;
		--workers) WORKERS=$2 ;;
		--calls-workers) CALL_WORKERS=$2 ;;
		--calls-max) CALLS_MAX=$2 ;;
		--duration) DURATION=$2 ;;
		--out) OUT=$2 ;;
		--coturn-new) TURNSERVER_NEW=$2 ;;
		--coturn-src) COTURN_SRC=$2 ;;
		esac
		shift
		;;
	-h | --help)
		sed -n '2,27p' "$0"
		exit 0
		;;
	*)
		echo "run.sh: unknown argument $1" >&2
		exit 2
		;;
	esac
	shift
done
for n in $ONLY; do
	case "$n" in coturn | coturn-new | coturn-mp | edgelab | edgelab-gso) ;; *)
		echo "run.sh: --only takes coturn, coturn-new, coturn-mp, edgelab, edgelab-gso" >&2
		exit 2
		;;
	esac
done

PORT=${BENCH_PORT:-13478}
MP_PORT=$((PORT + 10))
THREADS=${BENCH_THREADS:-1}
TURNSERVER=${TURNSERVER:-turnserver}
SIZES="172 1200"
FLOWS="1 4 40 200"
RSS_COUNT=10000
# calls: the fixed count of the CPU figure, the search's bounds (the relay
# range has 10,000 ports) and its windows
CALLS_FIXED=500
CALLS_MIN=50
CALL_LOSS_MAX=0.1
if [ "$QUICK" = 1 ]; then
	: "${DURATION:=1}"
	WARMUP=0.5
	CALL_WINDOW=2
	CALL_BISECT=1
else
	: "${DURATION:=3}"
	WARMUP=1
	CALL_WINDOW=5
	CALL_BISECT=2
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
# The columns, in the tables' order, and their labels.
SERVERS="coturn coturn-new coturn-mp edgelab edgelab-gso"
declare -A LABEL NOTE
LABEL[coturn]="coturn $("$TURNSERVER" --version 2>/dev/null | head -1)"
LABEL[edgelab]="edgelab"
LABEL[edgelab-gso]="edgelab gso"
# The newer coturn from its source, unless its binary was named.
if [ -z "$TURNSERVER_NEW" ] && [ -n "$COTURN_SRC" ]; then
	if ! TURNSERVER_NEW=$("$ROOT/tests/bench/coturn_build.sh" "$COTURN_SRC"); then
		echo "run.sh: coturn from $COTURN_SRC did not build (above); its columns are skipped" >&2
		TURNSERVER_NEW=""
	fi
fi
NEW_VERSION=""
[ -n "$TURNSERVER_NEW" ] && NEW_VERSION=$("$TURNSERVER_NEW" --version 2>/dev/null | head -1)
LABEL[coturn-new]="coturn ${NEW_VERSION:-(new)}"
LABEL[coturn-mp]="coturn ${NEW_VERSION:-(new)} mp"
# the best mode's flags, as far as this coturn has them
MP_FLAGS=()
if [ -z "$TURNSERVER_NEW" ]; then
	NOTE[coturn-new]="no newer coturn (--coturn-src SRC builds 4.17.1 from its source; or TURNSERVER_NEW)"
	NOTE[coturn-mp]=${NOTE[coturn-new]}
elif [ ! -x "$TURNSERVER_NEW" ]; then
	NOTE[coturn-new]="TURNSERVER_NEW=$TURNSERVER_NEW is not an executable"
	NOTE[coturn-mp]=${NOTE[coturn-new]}
else
	NEW_HELP=$("$TURNSERVER_NEW" --help 2>&1)
	if grep -q -- '--multiplex-peer' <<<"$NEW_HELP"; then
		MP_FLAGS=(--multiplex-peer --multiplex-peer-port "$MP_PORT")
		if grep -q -- '--udp-gso' <<<"$NEW_HELP"; then
			MP_FLAGS+=(--udp-gso)
			LABEL[coturn-mp]+="+gso"
		fi
	else
		NOTE[coturn-mp]="coturn $NEW_VERSION has no --multiplex-peer"
	fi
fi

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
	local name=$1 w=$2 logf=$OUT/$1-w$2.log bin=$TURNSERVER
	local -a extra=(--no-cli)
	if ! port_free; then
		log "port $PORT is taken already (BENCH_PORT=...)"
		return 1
	fi
	case "$name" in
	coturn*)
		# the newer coturn has the CLI off by default and calls --no-cli
		# an error
		[ "$name" = coturn ] || {
			bin=$TURNSERVER_NEW
			extra=()
		}
		[ "$name" = coturn-mp ] && extra=("${MP_FLAGS[@]}")
		# -m N: N relay threads (coturn also runs a listener, an auth and an
		# admin thread). Users on the command line, nothing from a database.
		(
			ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
			exec "$bin" -n "${extra[@]}" --allow-loopback-peers \
				--listening-ip 127.0.0.1 --listening-port "$PORT" \
				--min-port 50000 --max-port 59999 --lt-cred-mech \
				--user bench:bench --realm edgelab --relay-threads "$w" \
				--no-tls --no-dtls --db "$OUT/turndb" --pidfile "$OUT/turnserver.pid" \
				--log-file stdout --simple-log
		) >>"$logf" 2>&1 &
		;;
	edgelab*)
		(
			ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
			exec "$EDGELAB" serve --config "$OUT/$name-w$w.conf"
		) >>"$logf" 2>&1 &
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

# edgelab-gso: the same, with runs of equal datagrams as one send
edgelab_gso_conf() {
	edgelab_conf "$1"
	echo "relay_udp_offload yes"
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

# perf_start TAG: samples the server over the next flood window (--perf).
perf_start() {
	PERF_PID=""
	[ "$PERF" = 1 ] || return 0
	mkdir -p "$OUT/perf"
	perf record -q -F 499 -g -p "$SERVER_PID" -o "$OUT/perf/$1.data" -- \
		sleep "$(awk -v d="$DURATION" -v w="$WARMUP" 'BEGIN { print d + w }')" \
		>>"$OUT/perf/perf.log" 2>&1 &
	PERF_PID=$!
}

# perf_end TAG: the profile's symbols over 1 %, self time, in TAG.txt.
perf_end() {
	[ -n "$PERF_PID" ] || return 0
	wait "$PERF_PID"
	perf report -q -i "$OUT/perf/$1.data" --stdio --no-children --sort dso,sym \
		-g none --percent-limit 1 >"$OUT/perf/$1.txt" 2>>"$OUT/perf/perf.log"
}

bench_flood() {
	local name=$1 w k=0 size flows
	for w in $WORKERS; do
		log "$name, $w worker(s): relay"
		start_server "$name" "$w" || return 1
		for size in $SIZES; do
			for flows in $FLOWS; do
				# a fresh client port range each point: a server may hold
				# a released 5-tuple for a while, and turnflood derives
				# each flow's peer from its client port
				perf_start "$name-w$w-$size-$flows"
				run_gen "$name w=$w" flood --flows "$flows" --size "$size" \
					--duration "$DURATION" --warmup "$WARMUP" \
					--threads "$THREADS" \
					--client-ports "$((20000 + k * 300))-$((20299 + k * 300))" ||
					{
						stop_server
						return 1
					}
				perf_end "$name-w$w-$size-$flows"
				k=$((k + 1))
			done
		done
		stop_server
		# gso changes nothing in allocating
		[ "$name" = edgelab-gso ] && continue
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

# call_step NAME WORKERS N: N calls on a fresh server (so that no step
# inherits the last one's released ports or peers); sets VERDICT to pass,
# loss, generator or setup (not printed: a command substitution's subshell
# would leave the server to no EXIT trap); 1 on a harness failure.
call_step() {
	local name=$1 w=$2 n=$3
	start_server "$name" "$w" || return 1
	run_gen "$name w=$w" calls --count "$n" --size 172 --pps 50 \
		--duration "$CALL_WINDOW" --warmup 1 --drain 0.5 --timeout 30 \
		--client-ports 20000-39999 || {
		stop_server
		return 1
	}
	stop_server
	VERDICT=$(tail -1 "$RESULTS" | awk -v max="$CALL_LOSS_MAX" '{
		for (i = 3; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		if (v["setup_ok"] != 1) print "setup"
		else if (v["send_skipped"] > 0.01 * (v["sent"] + v["send_skipped"])) print "generator"
		else if (v["loss_pct"] + 0 >= max) print "loss"
		else print "pass"
	}')
}

# bench_calls NAME: for each worker count, steps the call count up (x2 from
# CALLS_FIXED, or /2 when that fails) to the first step that fails, then
# bisects CALL_BISECT times; records "mode=callsmax max_calls=N limit=WHY".
bench_calls() {
	local name=$1 w n pass fail why i
	for w in $CALL_WORKERS; do
		log "$name, $w worker(s): calls"
		n=$CALLS_FIXED pass=0 fail=0 why=none
		while [ "$n" -ge "$CALLS_MIN" ] && [ "$n" -le "$CALLS_MAX" ]; do
			call_step "$name" "$w" "$n" || return 1
			if [ "$VERDICT" = pass ]; then
				pass=$n
				[ "$fail" = 0 ] || break
				n=$((n * 2))
			else
				fail=$n why=$VERDICT
				[ "$pass" = 0 ] || break
				n=$((n / 2))
			fi
		done
		for ((i = 0; i < CALL_BISECT; i++)); do
			# the middle, rounded down to 50
			n=$(((pass + fail) / 2 - (pass + fail) / 2 % 50))
			if [ "$pass" = 0 ] || [ "$fail" = 0 ] || [ "$n" -le "$pass" ] ||
				[ "$n" -ge "$fail" ]; then
				break
			fi
			call_step "$name" "$w" "$n" || return 1
			if [ "$VERDICT" = pass ]; then pass=$n; else fail=$n why=$VERDICT; fi
		done
		echo "$name w=$w mode=callsmax max_calls=$pass first_fail=$fail limit=$why" >>"$RESULTS"
		log "$name, $w worker(s): at most $pass calls (then $why at $fail)"
	done
}

FAILED=0
want() {
	[ -z "$ONLY" ] && return 0
	case " $ONLY " in *" $1 "*) return 0 ;; esac
	return 1
}

if want edgelab || want edgelab-gso; then
	if [ -z "${EDGELAB:-}" ]; then
		EDGELAB=$ROOT/build/edgelab
		if [ ! -x "$EDGELAB" ]; then
			log "building edgelab (scripts/build.sh)"
			(cd "$ROOT" && ./scripts/build.sh) >"$OUT/edgelab-build.log" 2>&1 ||
				log "scripts/build.sh failed: $OUT/edgelab-build.log"
		fi
	fi
	for w in $WORKERS $CALL_WORKERS; do
		edgelab_conf "$w" >"$OUT/edgelab-w$w.conf"
		edgelab_gso_conf "$w" >"$OUT/edgelab-gso-w$w.conf"
	done
	for name in edgelab edgelab-gso; do
		if [ ! -x "$EDGELAB" ]; then
			NOTE[$name]="no edgelab binary at $EDGELAB"
		elif ! "$EDGELAB" serve --check-config --config "$OUT/$name-w1.conf" \
			>"$OUT/$name-check.log" 2>&1; then
			NOTE[$name]="edgelab rejects the TURN configuration: $(grep -v '^$' "$OUT/$name-check.log" | head -1)"
		fi
	done
fi
if want coturn && ! command -v "$TURNSERVER" >/dev/null; then
	NOTE[coturn]="no $TURNSERVER (apt-get install coturn)"
fi

# Every selected server in turn; a missing newer coturn is a note, not a
# failure (its columns say why), a missing edgelab or Debian coturn is one.
for name in $SERVERS; do
	want "$name" || continue
	if [ -n "${NOTE[$name]:-}" ]; then
		log "${LABEL[$name]}: not measured: ${NOTE[$name]}"
		case "$name" in coturn-new | coturn-mp) ;; *) FAILED=1 ;; esac
		continue
	fi
	# a kernel without UDP GSO and GRO: serve refuses relay_udp_offload at
	# start, and the column is a note, not a failure
	if [ "$name" = edgelab-gso ]; then
		w0=$(echo "$WORKERS" "$CALL_WORKERS" | awk '{ print $1 }')
		if ! start_server "$name" "$w0"; then
			why=$(grep -m1 -o 'relay_udp_offload yes:.*' "$OUT/$name-w$w0.log")
			[ -n "$why" ] || FAILED=1
			NOTE[$name]=${why:-"does not start: $OUT/$name-w$w0.log"}
			continue
		fi
		stop_server
	fi
	if [ "$DO_FLOOD" = 1 ]; then
		bench_flood "$name" || FAILED=1
	fi
	if [ "$DO_CALLS" = 1 ]; then
		bench_calls "$name" || FAILED=1
	fi
done

# ---- the tables ----
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
	if [ -z "$1" ] || [ "$1" = "-1" ]; then
		echo "-"
		return
	fi
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

# best max|min VALUE...: the largest or smallest of the non-empty values
best() {
	local how=$1
	shift
	printf '%s\n' "$@" | awk -v how="$how" '$0 != "" && $0 >= 0 {
		if (n++ == 0 || (how == "max" ? $0 > b : $0 < b)) b = $0 }
		END { if (n) print b }'
}

pct() {
	awk -v d="$1" -v s="$2" 'BEGIN { if (d == "" || s == "" || s <= 0) print "-";
		else printf "%.0f%%\n", 100 * d / s }'
}
# The cell formats, called by name from table_row.
# shellcheck disable=SC2317
us() { awk -v n="$1" 'BEGIN { if (n == "" || n < 0) print "-"; else printf "%.2f\n", n / 1000 }'; }
# shellcheck disable=SC2317
mib() { awk -v k="$1" 'BEGIN { if (k == "" || k < 0) print "-"; else printf "%.1f MiB\n", k / 1024 }'; }

COTURNS="coturn coturn-new coturn-mp"
EDGELABS="edgelab edgelab-gso"
# head_row FIRST_COLUMNS: the header of a table with a column per server
head_row() {
	local h=$1 sep=$2 name
	for name in $SERVERS; do
		h+=" | ${LABEL[$name]}"
		sep+="---:|"
	done
	echo "$h | best edgelab / best coturn | target |"
	echo "$sep---:|---|"
}

# table_row FIRST_CELLS MAXMIN FORMAT TARGET_OP TARGET WORKERS SEL KEY:
# one row, a cell per server (formatted with FORMAT), then the best edgelab
# over the best coturn (the highest with max, the lowest with min: each
# side in its best mode) and the verdict
# (without TARGET_OP: TARGET as it is, or "-").
table_row() {
	local cells=$1 how=$2 fmt=$3 op=$4 limit=$5 w=$6 sel=$7 key=$8 name v r b
	local -a cv=() ev=()
	for name in $SERVERS; do
		v=$(get "$name w=$w" "$sel" "$key")
		cells+=" | $($fmt "$v")"
		case " $COTURNS " in *" $name "*) cv+=("$v") ;; esac
		case " $EDGELABS " in *" $name "*) ev+=("$v") ;; esac
	done
	b=$(best "$how" "${cv[@]}")
	r=$(ratio "$(best "$how" "${ev[@]}")" "$b")
	if [ -n "$op" ]; then
		echo "$cells | $r | $(verdict "$r" "$op" "$limit") |"
	else
		echo "$cells | $r | ${limit:--} |"
	fi
}
# shellcheck disable=SC2317
plain() { if [ -n "$1" ]; then echo "$1"; else echo "-"; fi; }
# shellcheck disable=SC2317
pct_util() { pct "$1" 1; }
# shellcheck disable=SC2317
pctv() { awk -v n="$1" 'BEGIN { if (n == "") print "-"; else printf "%.2f%%\n", n }'; }
# shellcheck disable=SC2317
# turnflood's last round-trip bucket holds everything from 200 ms on
ms() { awk -v n="$1" 'BEGIN { if (n == "" || n < 0) print "-"; else if (n >= 200000) print ">= 200";
	else printf "%.1f\n", n / 1000 }'; }

# flood_table MAXMIN FORMAT TARGET_OP TARGET KEY: a row per flood point
flood_table() {
	local w size flows
	head_row "| payload | flows | workers" "|---:|---:|---:|"
	for w in $WORKERS; do
		for size in $SIZES; do
			for flows in $FLOWS; do
				table_row "| $size | $flows | $w" "$1" "$2" "$3" "$4" "$w" \
					"mode=flood flows=$flows size=$size" "$5"
			done
		done
	done
}

CPU_MODEL=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
echo
echo "## TURN relay: edgelab vs coturn"
echo
echo "$(nproc) CPUs ($CPU_MODEL), $(uname -r), $(date -u +%Y-%m-%dT%H:%M:%SZ)."
echo "Raw lines: $RESULTS. Columns: ${LABEL[coturn]} (Debian's), ${LABEL[coturn-new]} in its"
echo "default mode and ${LABEL[coturn-mp]} (${MP_FLAGS[*]:-not run}), edgelab, and edgelab"
echo "with relay_udp_offload yes (edgelab gso; off by default). Every flow and"
echo "call has a peer address of its own (multiplex mode), for every server."
for name in $SERVERS; do
	if want "$name" && [ -n "${NOTE[$name]:-}" ]; then
		echo
		echo "${LABEL[$name]}: skipped: ${NOTE[$name]}."
	fi
done

if [ "$DO_FLOOD" = 1 ]; then
	echo
	echo "### Flood: ChannelData client -> peer, $THREADS sender thread(s), rate auto"
	echo
	echo "${DURATION} s window after ${WARMUP} s warm-up; payload = UDP payload the peer receives."
	echo "Best coturn = the coturn column with the most packets/s (the least CPU per"
	echo "packet) at that point. Targets: edgelab >= 1.5 x its packets/s, <= 0.67 x its CPU."
	echo
	echo "Relayed packets/s:"
	echo
	flood_table max fmt_num ">=" 1.5 relayed_pps
	echo
	echo "Server CPU per relayed packet (us):"
	echo
	flood_table min us "<=" 0.6667 srv_cpu_ns_per_pkt
	echo
	echo "sat = the server's input drops as % of offered (> 0: its socket overflowed,"
	echo "the server was the limit); busy = its CPU time over the window in % of one"
	echo "core (< 100 x workers with sat > 0: it dropped with CPU to spare, or lost"
	echo "the CPU to the generator). Cells: sat / busy."
	echo
	h="| payload | flows | workers"
	sep="|---:|---:|---:|"
	for name in $SERVERS; do
		h+=" | ${LABEL[$name]}"
		sep+="---|"
	done
	echo "$h |"
	echo "$sep"
	for w in $WORKERS; do
		for size in $SIZES; do
			for flows in $FLOWS; do
				sel="mode=flood flows=$flows size=$size"
				row="| $size | $flows | $w"
				for name in $SERVERS; do
					s=$(pct "$(get "$name w=$w" "$sel" server_in_drops)" "$(get "$name w=$w" "$sel" sent)")
					b=$(pct "$(get "$name w=$w" "$sel" srv_cpu_util)" 1)
					row+=" | $s / $b"
				done
				echo "$row |"
			done
		done
	done
	echo
	echo "### $RSS_COUNT allocations on a fresh server"
	echo
	echo "Allocate, 401, authenticated Allocate; 256 in flight. RSS of the server process"
	echo "holding them (target: edgelab < 64 MiB with all $RSS_COUNT held)."
	echo
	head_row "| figure | workers" "|---|---:|"
	sel="mode=alloc count=$RSS_COUNT"
	for w in $WORKERS; do
		table_row "| allocations/s | $w" max fmt_num "" "" "$w" "$sel" allocs_per_s
		table_row "| server CPU per allocation (us) | $w" min plain "" "" "$w" "$sel" srv_cpu_us_per_alloc
		table_row "| allocations held | $w" max plain "" "$RSS_COUNT" "$w" "$sel" ok
		table_row "| RSS, fresh server | $w" min mib "" "" "$w" "$sel" rss_before_kib
		row=$(table_row "| RSS with $RSS_COUNT allocations | $w" min mib "" "" "$w" "$sel" rss_held_kib)
		er=$(get "edgelab w=$w" "$sel" rss_held_kib)
		eok=$(get "edgelab w=$w" "$sel" ok)
		v="-"
		if [ -n "$er" ]; then
			v=$(awk -v k="$er" -v n="$eok" -v want="$RSS_COUNT" 'BEGIN {
				if (n + 0 < want) print "MISS (" n " held)"; else print (k < 65536) ? "PASS" : "MISS" }')
		fi
		echo "${row% - |} < 64 MiB: $v |"
	done
fi

if [ "$DO_CALLS" = 1 ]; then
	echo
	echo "### Calls: 50 packets/s each way per call, 172-byte payload, echoed by its peer"
	echo
	echo "Each call is an allocation with a channel to a peer of its own; the client"
	echo "sends ChannelData, the peer echoes every packet back through the relay. A"
	echo "step runs N calls on a fresh server for ${CALL_WINDOW} s after 1 s; it passes when"
	echo "under ${CALL_LOSS_MAX} % of the window's packets did not come back. N goes x2 from"
	echo "$CALLS_FIXED to the first failure (/2 when $CALLS_FIXED fails), then $CALL_BISECT bisection(s)."
	echo "A step the generator could not keep to its schedule (skipped > 1 %) fails"
	echo "as 'generator': the server's figure is then at least the last pass. Target:"
	echo "edgelab >= 2 x the best coturn's calls."
	echo
	head_row "| figure | workers" "|---|---:|"
	sel="mode=calls calls=$CALLS_FIXED setup_ok=1"
	for w in $CALL_WORKERS; do
		row="| concurrent calls, loss < ${CALL_LOSS_MAX} % | $w"
		cv=() ev=()
		for name in $SERVERS; do
			m=$(get "$name w=$w" "mode=callsmax" max_calls)
			why=$(get "$name w=$w" "mode=callsmax" limit)
			f=$(get "$name w=$w" "mode=callsmax" first_fail)
			cell=$(fmt_num "$m")
			[ -n "$m" ] && cell+=" ($why at $(fmt_num "$f"))"
			[ "$why" = none ] && cell="$(fmt_num "$m") (no failure up to $CALLS_MAX)"
			row+=" | $cell"
			case " $COTURNS " in *" $name "*) cv+=("$m") ;; esac
			case " $EDGELABS " in *" $name "*) ev+=("$m") ;; esac
		done
		r=$(ratio "$(best max "${ev[@]}")" "$(best max "${cv[@]}")")
		echo "$row | $r | >= 2: $(verdict "$r" ">=" 2) |"
		table_row "| server CPU per relayed packet at $CALLS_FIXED calls (us) | $w" min us "" "" "$w" "$sel" srv_cpu_ns_per_pkt
		table_row "| server busy at $CALLS_FIXED calls (% of a core) | $w" min pct_util "" "" "$w" "$sel" srv_cpu_util
		table_row "| round-trip loss at $CALLS_FIXED calls | $w" min pctv "" "" "$w" "$sel" loss_pct
		table_row "| round trip p99 at $CALLS_FIXED calls (ms) | $w" min ms "" "" "$w" "$sel" rtt_p99_us
	done
	echo
	echo "Calls cells: the largest N that passed (why the step above it failed, at which N)."
fi
echo
if [ "$FAILED" != 0 ]; then
	log "some measurements did not run (see above); results so far in $RESULTS"
	exit 1
fi
exit 0
