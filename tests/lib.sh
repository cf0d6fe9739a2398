# Shared helpers for the shell tests (POSIX sh). Source it after setting -u.
# Each test prints ok/not ok lines and ends with `finish`, which exits 1 on
# any failure. Cleanup runs from an EXIT trap, also on failure.

: "${EDGELAB:?EDGELAB must point at the edgelab binary (make check sets it)}"
: "${SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${SHARED:=$(sh "$SRCDIR/tests/shared_dir.sh" "$SRCDIR")}"
n_ok=0
n_fail=0
cleanup_cmds=""
TMP=$(mktemp -d /tmp/edgelab-test.XXXXXX)

ok() { n_ok=$((n_ok + 1)); echo "ok - $*"; }
not_ok() { n_fail=$((n_fail + 1)); echo "not ok - $*"; }
# check DESCRIPTION COMMAND...: ok when the command succeeds.
check() {
	desc=$1
	shift
	if "$@"; then ok "$desc"; else not_ok "$desc"; fi
}
# Registers a shell command to run at exit (last registered runs first).
at_exit() { cleanup_cmds="$*; $cleanup_cmds"; }
run_cleanup() {
	eval "$cleanup_cmds" >/dev/null 2>&1
	rm -rf "$TMP"
}
trap 'run_cleanup' EXIT
trap 'exit 1' INT TERM

finish() {
	echo "$n_ok passed, $n_fail failed"
	[ "$n_fail" -eq 0 ]
	exit $?
}

skip_all() {
	echo "SKIP: $*"
	exit 77
}

# A port that no socket on this host uses, TCP or UDP, listening or not,
# below the kernel's ephemeral range (10000-32767 by default): tests running
# side by side make outgoing connections whose ephemeral ports would
# otherwise take a port picked here before its server binds it.
free_port() {
	low=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
	[ "$low" -gt 12000 ] || low=32768
	while :; do
		p=$((10000 + $(od -An -N2 -tu2 /dev/urandom) % (low - 10000)))
		if ! ss -Hantu "( sport = :$p )" 2>/dev/null | grep -q .; then
			echo "$p"
			return
		fi
	done
}

# wait_for SECONDS COMMAND...: polls every 0.1 s until the command succeeds.
wait_for() {
	limit=$(($1 * 10))
	shift
	i=0
	while [ "$i" -lt "$limit" ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# stop_term PID: SIGTERM, then up to 5 s for the process to exit (SIGKILL
# after that, so that a test never hangs); returns its exit status.
stop_term() {
	kill -TERM "$1" 2>/dev/null
	i=0
	while kill -0 "$1" 2>/dev/null && [ "$i" -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	kill -0 "$1" 2>/dev/null && kill -9 "$1"
	wait "$1"
}

# GET a control-API path over a unix socket.
ctl_get() { curl -sf --max-time 2 --unix-socket "$1" "http://edgelab$2"; }

# metric SOCKET NAME{labels}: the value, or 0.
metric() {
	ctl_get "$1" /metrics | awk -v k="$2" '$1 == k { print $2; found = 1 } END { if (!found) print 0 }'
}
