#!/usr/bin/env bash
# Instructions per relayed packet, counted by valgrind's callgrind: two (or
# more) edgelab binaries side by side, the same load, one worker. Unlike the
# packets/s of run.sh, an instruction count does not depend on what else the
# machine is doing, so a change of a few percent on the packet path shows.
# Not part of `make check`; it never fails on a number.
#
#   tests/bench/instr.sh BINARY... [-- turnflood options]
#   e.g. tests/bench/instr.sh /tmp/old/build/edgelab build/edgelab
#
# For each binary: `edgelab serve` (1 worker, TURN as in run.sh) under
# callgrind, turnflood sending ChannelData on 1 flow of 172 bytes at 4000
# packets/s for 4 s (client -> peer, the relay's hot path), then SIGTERM.
# Prints a markdown table: the datagrams the UDP listener handled
# (turn_channel_data calls), the instructions of its read callback
# (udp_read_cb, inclusive) per datagram, of turn_channel_data per datagram,
# and of the whole process per relayed packet (start-up and set-up
# included). Environment: BENCH_PORT (default 13479), OUT (default a new
# /tmp/edgelab-instr.*). Exit status: 0, 1 on a harness failure, 2 on usage.
set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BINS=()
FLOOD_ARGS=(--flows 1 --size 172 --rate 4000 --duration 4 --warmup 0.5)
while [ $# -gt 0 ]; do
	case "$1" in
	-h | --help)
		sed -n '2,19p' "$0"
		exit 0
		;;
	--)
		shift
		FLOOD_ARGS=("$@")
		break
		;;
	*) BINS+=("$1") ;;
	esac
	shift
done
[ ${#BINS[@]} -gt 0 ] || {
	echo "instr.sh: name at least one edgelab binary" >&2
	exit 2
}
for tool in valgrind callgrind_annotate ss; do
	command -v "$tool" >/dev/null || {
		echo "instr.sh: $tool is missing (apt-get install valgrind iproute2)" >&2
		exit 1
	}
done
PORT=${BENCH_PORT:-13479}
OUT=${OUT:-$(mktemp -d /tmp/edgelab-instr.XXXXXX)}
mkdir -p "$OUT" || exit 1
FLOOD=$OUT/bin/turnflood
make -s -f "$ROOT/tests/bench/turnflood.mk" OUT="$OUT/bin" >"$OUT/build.log" 2>&1 || {
	echo "instr.sh: cannot build turnflood ($OUT/build.log)" >&2
	exit 1
}
{
	printf 'workers 1\nstun_udp_listen 127.0.0.1:%s\nstun_tcp_listen off\ncontrol_socket off\n' "$PORT"
	cat "$ROOT/tests/bench/edgelab-turn.conf"
} >"$OUT/edgelab.conf"

# inclusive FILE FUNCTION: the inclusive instruction count of FUNCTION.
inclusive() {
	callgrind_annotate --inclusive=yes "$1" 2>/dev/null | grep -E ":$2 \[" | head -n 1 |
		awk '{ gsub(",", "", $1); print $1 }'
}
# calls FILE FUNCTION: how often FUNCTION was called (from callgrind's "=> ... (Nx)").
calls() {
	callgrind_annotate --inclusive=yes "$1" 2>/dev/null |
		grep -E "=> .*:$2 \(" | sed -n 's/.*(\([0-9,]*\)x).*/\1/p' | tr -d , | head -n 1
}

echo "| binary | datagrams | udp_read_cb instr/datagram | turn_channel_data instr/datagram | process instr/relayed packet |"
echo "|---|---:|---:|---:|---:|"
status=0
i=0
for bin in "${BINS[@]}"; do
	i=$((i + 1))
	cg=$OUT/callgrind.$i.out
	valgrind --tool=callgrind --callgrind-out-file="$cg" "$bin" serve --config "$OUT/edgelab.conf" \
		>"$OUT/serve.$i.log" 2>&1 &
	pid=$!
	for _ in $(seq 1 100); do
		ss -Hlun "( sport = :$PORT )" | grep -q . && break
		sleep 0.1
	done
	line=$(timeout 60 "$FLOOD" flood --server 127.0.0.1:"$PORT" --client-ports 20000-20999 \
		"${FLOOD_ARGS[@]}" 2>>"$OUT/turnflood.err")
	kill -TERM "$pid" 2>/dev/null
	wait "$pid"
	relayed=$(echo "$line" | tr ' ' '\n' | sed -n 's/^relayed=//p')
	total=$(callgrind_annotate "$cg" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }')
	read_cb=$(inclusive "$cg" udp_read_cb)
	chan=$(inclusive "$cg" turn_channel_data)
	n=$(calls "$cg" turn_channel_data)
	if [ -z "$relayed" ] || [ -z "$n" ] || [ -z "$total" ] || [ "${n:-0}" -eq 0 ]; then
		echo "| $bin | failed: see $OUT | - | - | - |"
		status=1
		continue
	fi
	echo "| $bin | $n | $((read_cb / n)) | $((chan / n)) | $((total / relayed)) |"
done
exit $status
