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

# skip_slow WHAT: a slow test (minutes, or network namespaces, real peers,
# Chromium) skips in a quick check: configure --enable-quick-check, which
# make distcheck uses, or make check QUICK_CHECK=yes (docs/install.md).
# lab_leftovers ROLES: the one-shot labs' namespaces (edgelab-PID-ROLE, ROLE
# one of the regex alternatives ROLES, e.g. 'outside|fw|edge') whose process
# is gone: another test's lab running at the same time is not ours to judge.
lab_leftovers() {
	for ns in $(ip netns list 2>/dev/null | grep -oE "^edgelab-[0-9]+-($1)"); do
		pid=${ns#edgelab-}
		kill -0 "${pid%%-*}" 2>/dev/null || echo "$ns"
	done
}

skip_slow() {
	[ "${EDGELAB_QUICK_CHECK:-no}" != yes ] ||
		skip_all "quick check (QUICK_CHECK=yes, as in make distcheck): $*"
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

# stop_term PID [SECONDS]: SIGTERM, then up to SECONDS (5) for the process
# to exit (SIGKILL after that, so that a test never hangs); returns its exit
# status.
stop_term() {
	kill -TERM "$1" 2>/dev/null
	i=0
	while kill -0 "$1" 2>/dev/null && [ "$i" -lt $((${2:-5} * 10)) ]; do
		sleep 0.1
		i=$((i + 1))
	done
	kill -0 "$1" 2>/dev/null && kill -9 "$1"
	wait "$1"
}

# GET a control-API path over a unix socket.
ctl_get() { curl -sf --max-time 2 --unix-socket "$1" "http://edgelab$2"; }

# serve_start CONF [LOG [ARG...]]: starts `edgelab serve --config CONF ARG...`
# in the background (CONF "" for no file: the defaults and ARGs), its stderr
# in LOG ($TMP/serve.log by default), and waits (as wait_for 10) until it
# is ready: its control socket answers /healthz or, with control_socket off,
# it has bound its first TCP listener (a UDP one if it has none); which
# socket comes from `serve --check-config` with the same arguments, so that
# defaults and flags count. Sets SERVE_PID (save it to run more than one
# server); each server is killed (-9) at exit unless serve_stop stopped it.
# Returns 1, with the end of LOG as "#" lines, when serve exits or is not
# ready in time. Not in $(...) or a pipeline: serve must be this shell's child.
SERVE_PIDS=""
serve_start() {
	serve_conf=$1
	serve_log=${2:-$TMP/serve.log}
	shift
	[ "$#" -eq 0 ] || shift
	[ -z "$serve_conf" ] || set -- --config "$serve_conf" "$@"
	serve_eff=$("$EDGELAB" serve "$@" --check-config 2>/dev/null)
	serve_how=ctl
	serve_where=$(serve_key control_socket)
	if [ -z "$serve_where" ] || [ "$serve_where" = off ]; then
		serve_how=""
		for serve_k in stun_tcp_listen sip_tls_listen sip_mtls_listen msturn_tls_listen \
			stun_udp_listen; do
			serve_a=$(serve_key "$serve_k")
			if [ -n "$serve_a" ] && [ "$serve_a" != off ]; then
				serve_where=${serve_a##*:}
				serve_how=tcp
				[ "$serve_k" != stun_udp_listen ] || serve_how=udp
				break
			fi
		done
	fi
	"$EDGELAB" serve "$@" 2>"$serve_log" &
	SERVE_PID=$!
	SERVE_PIDS="$SERVE_PIDS $SERVE_PID"
	at_exit "serve_kill $SERVE_PID"
	serve_i=0
	until serve_ready "$serve_how" "$serve_where" "$SERVE_PID"; do
		if ! kill -0 "$SERVE_PID" 2>/dev/null; then
			serve_stop "$SERVE_PID"
			echo "# serve_start: edgelab serve exited with status $?" \
				"before it was ready; the end of $serve_log:"
			tail -n 20 "$serve_log" | sed 's/^/#   /'
			return 1
		fi
		if [ "$serve_i" -ge 100 ]; then
			echo "# serve_start: edgelab serve not ready in 10 s" \
				"(${serve_how:-nothing to wait for} $serve_where); the end of $serve_log:"
			tail -n 20 "$serve_log" | sed 's/^/#   /'
			return 1
		fi
		sleep 0.1
		serve_i=$((serve_i + 1))
	done
}
# serve_key KEY: KEY's value in serve_start's effective configuration.
serve_key() { echo "$serve_eff" | sed -n "s/^$1  *//p"; }
# serve_ready HOW WHERE PID: the control socket answers, or PID listens on
# the port.
serve_ready() {
	case $1 in
	ctl) ctl_get "$2" /healthz >/dev/null 2>&1 ;;
	tcp) ss -Hltnp "( sport = :$2 )" 2>/dev/null | grep -q "pid=$3," ;;
	udp) ss -Hlunp "( sport = :$2 )" 2>/dev/null | grep -q "pid=$3," ;;
	*) return 1 ;;
	esac
}
# serve_kill PID: at exit, SIGKILL to a server that serve_stop has not stopped.
serve_kill() {
	case "$SERVE_PIDS " in *" $1 "*) kill -9 "$1" ;; esac
}
# serve_stop [PID]: stops that server ($SERVE_PID by default) with stop_term;
# returns its exit status (0: serve stopped cleanly on SIGTERM).
serve_stop() {
	serve_pid=${1:-$SERVE_PID}
	serve_left=""
	for serve_p in $SERVE_PIDS; do
		[ "$serve_p" = "$serve_pid" ] || serve_left="$serve_left $serve_p"
	done
	SERVE_PIDS=$serve_left
	stop_term "$serve_pid"
}

# pki_sets DIR...: a lab set of `edgelab pki` (EC keys) in each DIR, each
# with a CA of its own; 1, said as a failed check, when one is not written.
pki_sets() {
	for pki_dir; do
		"$EDGELAB" pki --out "$pki_dir" --key-type ec -q && continue
		not_ok "edgelab pki writes a lab set in $pki_dir"
		return 1
	done
}

# control_conf PKI SOCKET PORT [LINE...]: on stdout, a serve configuration
# with the control API alone: the unix socket SOCKET and HTTPS on
# 127.0.0.1:PORT with the certificates of `edgelab pki --out PKI`, then
# each LINE (the credentials, limits).
control_conf() {
	printf '%s\n' "stun_udp_listen off" "stun_tcp_listen off" "sip_tls_listen off" \
		"sip_mtls_listen off" "workers 1" "control_socket $2" "control_listen 127.0.0.1:$3" \
		"tls_certificate $1/edge.pem" "tls_key $1/edge.key" "tls_ca $1/ca.pem"
	shift 3
	[ "$#" -eq 0 ] || printf '%s\n' "$@"
}

# need_turnc: sets TURNC (tests/tools/turnc, built) and TOOLS (the source's
# tests/tools); a failed check and the end when turnc or turnutils_peer (an
# echoing peer, coturn's) is missing.
need_turnc() {
	TURNC=${TURNC:-$BUILDDIR/tests/tools/turnc}
	TOOLS=$SRCDIR/tests/tools
	[ -x "$TURNC" ] || { not_ok "turnc is built ($TURNC)"; finish; }
	command -v turnutils_peer >/dev/null || { not_ok "turnutils_peer is installed"; finish; }
}

# turn_edge NAME [LINE...]: a serve of its own for the TURN tests: STUN on
# UDP (on $LISTEN, 127.0.0.1 by default) and TCP on one free port, SIP off
# (unless a LINE sets its listeners), turn_users alice and bob (password
# secret), its control socket in $TMP, then each LINE (workers among them:
# none is set here). Sets PORT_<NAME>, CTL_<NAME> and PID_<NAME> (and
# SERVE_PID).
turn_edge() {
	te_name=$1
	shift
	te_port=$(free_port)
	{
		printf '%s\n' "stun_udp_listen ${LISTEN:-127.0.0.1}:$te_port" \
			"stun_tcp_listen 127.0.0.1:$te_port" "control_socket $TMP/$te_name.sock" \
			"turn_user alice secret" "turn_user bob secret"
		case " $* " in *" sip_tls_listen "*) ;; *) printf '%s\n' "sip_tls_listen off" \
			"sip_mtls_listen off" ;; esac
		for te_line in "$@"; do echo "$te_line"; done
	} >"$TMP/$te_name.conf"
	eval "PORT_$te_name=$te_port CTL_$te_name=$TMP/$te_name.sock"
	serve_start "$TMP/$te_name.conf" "$TMP/$te_name.log" || not_ok "serve $te_name starts"
	eval "PID_$te_name=$SERVE_PID"
}

# rss_kb PID: its resident memory (VmRSS), in kB. Call rss_honest before
# starting the process: in a sanitizer build freed memory waits in
# AddressSanitizer's quarantine (256 MB), resident, and a bound on RSS
# would measure that.
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
rss_honest() {
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=1
	export ASAN_OPTIONS
}

# metric SOCKET NAME{labels}: the value, or 0.
metric() {
	ctl_get "$1" /metrics | awk -v k="$2" '$1 == k { print $2; found = 1 } END { if (!found) print 0 }'
}

# baresip_start DIR ACCOUNT LOG SECONDS [CONFIG_LINE...]: baresip 1.0,
# headless, configured in DIR (epoll, stdio.so printing incoming MESSAGEs,
# account.so, menu.so, then each CONFIG_LINE: sip_listen, sip_cafile...) with
# the one account ACCOUNT, its SIP trace (-s) in LOG, quitting after SECONDS
# (-t); its stdin a FIFO this shell holds open on fd 3 (printf '/message
# ...\n' >&3). Sets BPID; killed at exit. Not in $(...): fd 3 is this shell's.
baresip_start() {
	mkdir -p "$1"
	printf '%s\n' "poll_method epoll" "module_path /usr/lib/baresip/modules" \
		"module stdio.so" "module_tmp account.so" "module_app menu.so" >"$1/config"
	bs_dir=$1
	bs_log=$3
	bs_secs=$4
	echo "$2" >"$bs_dir/accounts"
	shift 4
	[ "$#" -eq 0 ] || printf '%s\n' "$@" >>"$bs_dir/config"
	mkfifo "$bs_dir/in"
	baresip -f "$bs_dir" -s -t "$bs_secs" <"$bs_dir/in" >"$bs_log" 2>&1 &
	BPID=$!
	at_exit "kill -9 $BPID"
	exec 3>"$bs_dir/in"
}

# capture_start FILE FILTER: tshark on lo, writing what matches the capture
# filter FILTER to FILE (root only). "Capturing on" is printed before packets
# are really captured, so this returns once a poke at a closed local port
# shows in the capture; 1 when that does not happen within 10 s. Sets
# CAPTURE_PID (stop it with kill -INT and wait before reading FILE); it is
# killed at exit in any case.
capture_start() {
	capture_sentinel=$(free_port)
	capture_out=$TMP/capture.$capture_sentinel
	tshark -l -P -i lo -f "($2) or port $capture_sentinel" -w "$1" >"$capture_out.out" \
		2>"$capture_out.log" &
	CAPTURE_PID=$!
	at_exit "kill -9 $CAPTURE_PID"
	wait_for 10 capture_poked
}
capture_poked() {
	curl -s --max-time 0.2 "http://127.0.0.1:$capture_sentinel/" >/dev/null 2>&1
	grep -q "$capture_sentinel" "$capture_out.out"
}
