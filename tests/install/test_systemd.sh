#!/bin/sh
# The installed unit under a real systemd (root only). systemd runs as PID 1
# of namespaces of its own (pid, mount, uts, ipc, cgroup; its cgroup a child
# of the test's own), with a private /run holding a copy of the unit that
# names the staged install (bound on /srv) and a target that wants only
# that unit: nothing of the host's starts, and the host's cgroups only gain,
# then lose, the test's own. edgelab.service must reach "active" through
# READY=1, answer STUN, keep /run/edgelab 0700, run with
# CAP_NET_BIND_SERVICE alone (binding a port below 1024 with it), no new
# privileges, a seccomp filter and a read-only root; reload; stop cleanly.
set -u
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/install_lib.sh"

SYSTEMD=/lib/systemd/systemd
[ "$(id -u)" -eq 0 ] || skip_all "needs root (systemd as PID 1 of namespaces of its own)"
[ -x "$SYSTEMD" ] || skip_all "systemd is not installed"
for t in unshare nsenter ss; do
	command -v "$t" >/dev/null || skip_all "needs $t (util-linux, iproute2)"
done
unshare --pid --fork --mount --uts --ipc --cgroup true 2>"$TMP/unshare.err" ||
	skip_all "cannot make namespaces here: $(head -n 1 "$TMP/unshare.err")"
# The cgroup v2 hierarchy: the whole of /sys/fs/cgroup, or its unified/.
CG=/sys/fs/cgroup
[ -f "$CG/cgroup.subtree_control" ] || CG=/sys/fs/cgroup/unified
[ -f "$CG/cgroup.subtree_control" ] || skip_all "no cgroup v2 hierarchy (systemd needs one)"
set -- $(install_dirs)
bindir=$1 sysconfdir=$3 unitdir=${4:-}
[ -n "$unitdir" ] || skip_all "configured --without-systemdsystemunitdir: no unit"

D=$TMP/dest
bmake install DESTDIR="$D" >"$TMP/install.log" 2>&1 || { not_ok "make install"; finish; }
P=$(free_port)
# A TCP port below 1024 that nothing uses: binding it takes CAP_NET_BIND_SERVICE.
while :; do
	LOW=$((600 + $(od -An -N2 -tu2 /dev/urandom) % 400))
	ss -Hantu "( sport = :$LOW )" 2>/dev/null | grep -q . || break
done
write_conf() { # SOFTWARE
	cat >"$D$sysconfdir/edgelab.conf" <<CONF
stun_udp_listen 127.0.0.1:$P
stun_tcp_listen 127.0.0.1:$P
msturn_tls_listen 127.0.0.1:$LOW
sip_tls_listen off
sip_mtls_listen off
workers 2
software $1
CONF
}
write_conf sd-one

# /run/systemd/system in the namespace: the unit naming /srv, a drop-in
# that leaves out what the host's boot would bring (sysinit.target's
# units, network-online.target's), and a target wanting the unit alone.
# LeakSanitizer (a sanitizer build) needs ptrace at exit, which the unit's
# system call filter refuses: leaks are the other tests' business.
U=$TMP/units
mkdir -p "$U/edgelab.service.d"
sed -e "s|=$bindir/edgelab |=/srv$bindir/edgelab |" -e "s| $sysconfdir/edgelab.conf| /srv$sysconfdir/edgelab.conf|" \
	"$D$unitdir/edgelab.service" >"$U/edgelab.service"
cat >"$U/edgelab.service.d/sandbox.conf" <<'UNIT'
[Unit]
DefaultDependencies=no
[Service]
Environment=ASAN_OPTIONS=detect_leaks=0
StandardError=append:/run/edgelab-test.log
UNIT
cat >"$U/edgelab-test.target" <<'UNIT'
[Unit]
Description=edgelab.service alone
DefaultDependencies=no
Wants=edgelab.service
UNIT
ln -s /dev/null "$U/network-online.target"
cat >"$TMP/boot.sh" <<'BOOT'
#!/bin/sh
# PID 1 of the new namespaces until it execs systemd. $1 staged install, $2 units.
set -e
mount -t proc proc /proc
mount -t cgroup2 cgroup2 /sys/fs/cgroup
mount -t tmpfs -o mode=0755 tmpfs /run
mount --bind "$1" /srv
mkdir -p /run/systemd
cp -a "$2" /run/systemd/system
# PrivateTmp's directories, in here rather than the host's /tmp and
# /var/tmp (a killed systemd leaves them behind).
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t tmpfs -o mode=1777 tmpfs /var/tmp
exec env -i container=edgelab-test PATH=/usr/sbin:/usr/bin:/sbin:/bin \
	/lib/systemd/systemd --system --unit=edgelab-test.target --log-target=console
BOOT

CGD=$CG/edgelab-test.$$
mkdir "$CGD" || skip_all "cannot make a cgroup in $CG"
# Removed last (its processes must be gone first): deepest first.
at_exit "cg_remove $CGD"
cg_remove() {
	i=0
	while [ -d "$1" ] && [ "$i" -lt 50 ]; do
		find "$1" -depth -type d -exec rmdir {} + 2>/dev/null
		[ -d "$1" ] && sleep 0.1
		i=$((i + 1))
	done
}
# sh -c's own pid moves into the cgroup, then becomes unshare.
sh -c 'echo $$ >"$1/cgroup.procs" && shift && exec "$@"' _ "$CGD" \
	unshare --pid --fork --mount --uts --ipc --cgroup --propagation private \
	sh "$TMP/boot.sh" "$D" "$U" >"$TMP/systemd.log" 2>&1 &
UNSHARE_PID=$!
at_exit "kill -9 $UNSHARE_PID"
sd_pid() { SD_PID=$(ps -o pid= --ppid "$UNSHARE_PID" | tr -d ' '); [ -n "$SD_PID" ]; }
wait_for 10 sd_pid || { not_ok "unshare starts systemd"; sed 's/^/# /' "$TMP/systemd.log"; finish; }
# Killing PID 1 of a pid namespace ends every process in it.
at_exit "kill -9 $SD_PID"
in_ns() { nsenter -t "$SD_PID" -m -p "$@"; } # systemctl needs its pid namespace too
sdctl() { in_ns systemctl "$@"; }
prop() { sdctl show -P "$1" edgelab.service 2>/dev/null; } # PROPERTY: its value
manager_answers() { sdctl show -P Version >/dev/null 2>&1; }
if ! wait_for 20 manager_answers; then
	# A manager that never answers is this sandbox's limit, not the unit's.
	grep -q . "$TMP/systemd.log" && sed 's/^/# /' "$TMP/systemd.log" | tail -n 20
	ps -p "$SD_PID" >/dev/null 2>&1 || skip_all "systemd does not run in namespaces of its own here (see above)"
	skip_all "systemd does not answer systemctl here"
fi

is_active() { [ "$(prop ActiveState)" = active ]; }
check "edgelab.service reaches active (Type=notify: serve's READY=1)" wait_for 20 is_active
if ! is_active; then
	sdctl status edgelab.service 2>&1 | sed 's/^/# /'
	in_ns cat /run/edgelab-test.log 2>&1 | sed 's/^/# /'
	finish
fi
conf=/srv$sysconfdir/edgelab.conf
check "... its status is serve's STATUS= line" [ "$(prop StatusText)" = \
	"serving with 2 workers; control /run/edgelab/control.sock, https off; config $conf" ]
stun_software() { # TEXT: row 6 answers with SOFTWARE TEXT
	"$EDGELAB" probe --edge 127.0.0.1 --stun-port "$P" --rows 6 --dialect rfc5389 -t 2 2>&1 |
		grep -q "software $1"
}
check "... STUN answers (software sd-one)" stun_software sd-one
check "... the control API answers on /run/edgelab/control.sock" \
	in_ns curl -sf --max-time 2 --unix-socket /run/edgelab/control.sock http://edge/healthz -o /dev/null
check "... /run/edgelab is 0700, as serve makes it" [ "$(in_ns stat -c %a /run/edgelab)" = 700 ]
check "... its socket 0660" [ "$(in_ns stat -c %a /run/edgelab/control.sock)" = 660 ]

# The main process, seen from the host.
MAIN=$(cat "$CGD/system.slice/edgelab.service/cgroup.procs" 2>/dev/null | head -n 1)
status_is() { grep -qx "$1:[[:space:]]*$2" "/proc/$MAIN/status"; } # FIELD VALUE
check "its one capability is CAP_NET_BIND_SERVICE (effective and bounding set)" \
	sh -c 'grep -qx "CapEff:[[:space:]]*0000000000000400" "$0" && grep -qx "CapBnd:[[:space:]]*0000000000000400" "$0"' \
	"/proc/$MAIN/status"
check "... and with it binds TCP port $LOW, below 1024" sh -c 'ss -Hltnp "( sport = :$0 )" | grep -q "pid=$1,"' \
	"$LOW" "$MAIN"
check "no new privileges" status_is NoNewPrivs 1
check "a seccomp filter" status_is Seccomp 2
mount_opts() { awk -v m="$1" '$5 == m { o = $6 } END { print o }' "/proc/$MAIN/mountinfo"; }
check "its / is read-only (ProtectSystem=strict)" sh -c 'case $0 in ro,* | ro) ;; *) false ;; esac' "$(mount_opts /)"
check "... /run/edgelab writable" sh -c 'case $0 in rw,* | rw) ;; *) false ;; esac' "$(mount_opts /run/edgelab)"

# --- reload and stop -----------------------------------------------------------
main_ns=$(prop MainPID)
write_conf sd-two
sdctl reload edgelab.service
check "systemctl reload succeeds" [ $? -eq 0 ]
reloaded() { is_active && [ "$(prop StatusText)" = "reloaded configuration from $conf" ]; }
check "... the unit is active again with serve's status after READY=1" wait_for 10 reloaded
check "... STUN answers with the new configuration (software sd-two)" stun_software sd-two
check "... by the same process (no restart)" [ "$(prop MainPID)" = "$main_ns" ]
sdctl stop edgelab.service
check "systemctl stop succeeds" [ $? -eq 0 ]
check "... the unit is inactive, its result success (serve exited 0 on SIGTERM)" \
	[ "$(prop ActiveState)/$(prop Result)/$(prop ExecMainStatus)" = inactive/success/0 ]
check "... /run/edgelab stays (RuntimeDirectoryPreserve: labs keep their state there)" in_ns test -d /run/edgelab
check "... without the control socket" in_ns test ! -e /run/edgelab/control.sock
[ "$n_fail" -eq 0 ] || in_ns cat /run/edgelab-test.log 2>&1 | sed 's/^/# /'
finish
