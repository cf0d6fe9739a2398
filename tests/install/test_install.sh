#!/bin/sh
# make install and make uninstall into a staging directory (DESTDIR): the
# exact files (binary, man page, configuration, systemd unit) and the unit's
# paths, with the configured prefix and with prefix= given to make; a second
# install keeps an edited configuration, and uninstall leaves only that.
# The installed unit passes systemd-analyze verify (which fails on a broken
# copy) and security, and agrees with serve on /run/edgelab's mode.
set -u
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/install_lib.sh"

# files DIR: every file and link under DIR, relative to it, sorted.
files() { (cd "$1" && find . ! -type d | sed 's|^\./|/|' | sort); }
# expect_files BINDIR MANDIR SYSCONFDIR [UNITDIR]: the list install makes.
expect_files() {
	{
		echo "$1/edgelab"
		echo "$2/man1/edgelab.1"
		echo "$3/edgelab.conf"
		[ -z "${4:-}" ] || echo "$4/edgelab.service"
	} | sort
}
same() { [ "$1" = "$2" ] || { printf '# got:\n%s\n# expected:\n%s\n' "$1" "$2" | sed 's/^/# /'; false; }; }

set -- $(install_dirs)
[ "$#" -ge 3 ] || { not_ok "make reports the install directories"; finish; }
bindir=$1 mandir=$2 sysconfdir=$3 unitdir=${4:-}
echo "# bindir $bindir, mandir $mandir, sysconfdir $sysconfdir, unit ${unitdir:-none}"
D=$TMP/dest
SHIPPED=$SRCDIR/conf/edgelab.conf

# --- a first install --------------------------------------------------------
bmake install DESTDIR="$D" >"$TMP/install.log" 2>&1
check "make install DESTDIR=... succeeds" [ $? -eq 0 ]
check "... installs exactly the binary, the man page, the configuration and the unit" \
	same "$(files "$D")" "$(expect_files "$bindir" "$mandir" "$sysconfdir" "$unitdir")"
check "... the configuration is the shipped one" cmp -s "$SHIPPED" "$D$sysconfdir/edgelab.conf"
check "... readable by its owner and group only (it will hold secrets)" \
	[ "$(stat -c %a "$D$sysconfdir/edgelab.conf")" = 640 ]
check "the installed binary accepts the installed configuration" \
	sh -c '"$0" serve --config "$1" --check-config >/dev/null' \
	"$D$bindir/edgelab" "$D$sysconfdir/edgelab.conf"
U=$D$unitdir/edgelab.service
if [ -n "$unitdir" ]; then
	check "the unit starts the installed binary on the installed configuration" \
		grep -qx "ExecStart=$bindir/edgelab serve --config $sysconfdir/edgelab.conf" "$U"
	check "... every @variable@ is written in" sh -c '! grep -q "@[a-z]*@" "$0"' "$U"
fi

# --- a second install over an edited configuration ---------------------------
echo "software edited-by-test" >>"$D$sysconfdir/edgelab.conf"
cp "$D$sysconfdir/edgelab.conf" "$TMP/edited.conf"
bmake install DESTDIR="$D" >"$TMP/install2.log" 2>&1
check "make install again succeeds" [ $? -eq 0 ]
check "... the edited configuration survives, byte for byte" \
	cmp -s "$TMP/edited.conf" "$D$sysconfdir/edgelab.conf"
check "... and make install says it kept it" grep -q "edgelab.conf exists: kept" "$TMP/install2.log"
bmake uninstall DESTDIR="$D" >"$TMP/uninstall.log" 2>&1
check "make uninstall succeeds" [ $? -eq 0 ]
check "... and leaves nothing but the edited configuration" \
	same "$(files "$D")" "$sysconfdir/edgelab.conf"
check "... which it says it left" grep -q "differs from the shipped one: left in place" \
	"$TMP/uninstall.log"
check "... untouched" cmp -s "$TMP/edited.conf" "$D$sysconfdir/edgelab.conf"

# --- prefix= on make's command line -------------------------------------------
# The unit is written again in the build for the other prefix: only in a
# build directory this user may write.
P=/opt/edgelab-test
D2=$TMP/dest2
if [ -w "$BUILDDIR/systemd" ]; then
	set -- $(install_dirs prefix=$P)
	pbindir=$1 pmandir=$2 psysconfdir=$3 punitdir=${4:-}
	bmake install DESTDIR="$D2" prefix=$P >"$TMP/install3.log" 2>&1
	check "make install prefix=$P succeeds" [ $? -eq 0 ]
	check "... installs the same four files under its directories" \
		same "$(files "$D2")" "$(expect_files "$pbindir" "$pmandir" "$psysconfdir" "$punitdir")"
	[ -z "$punitdir" ] ||
		check "... and the unit names them" grep -qx \
			"ExecStart=$pbindir/edgelab serve --config $psysconfdir/edgelab.conf" \
			"$D2$punitdir/edgelab.service"
	bmake uninstall DESTDIR="$D2" prefix=$P >"$TMP/uninstall3.log" 2>&1
	check "... make uninstall prefix=$P, the configuration unedited: no file left" \
		same "$(files "$D2")" ""
	# The build's unit names the configured prefix again.
	bmake systemd/edgelab.service >/dev/null 2>&1
else
	echo "# $BUILDDIR/systemd is not writable: make install prefix= not checked"
fi

# --- the unit ------------------------------------------------------------------
[ -n "$unitdir" ] || skip_all "configured --without-systemdsystemunitdir: no unit to check"
bmake install DESTDIR="$D2" >/dev/null 2>&1
U=$D2$unitdir/edgelab.service
# Agreement with serve: the control socket's directory, made by serve, is 0700.
check "the unit makes /run/edgelab 0700 (RuntimeDirectoryMode)" grep -qx "RuntimeDirectoryMode=0700" "$U"
cat >"$TMP/run.conf" <<CONF
stun_udp_listen 127.0.0.1:$(free_port)
stun_tcp_listen off
sip_tls_listen off
sip_mtls_listen off
workers 1
control_socket $TMP/run/edgelab/control.sock
CONF
if serve_start "$TMP/run.conf"; then
	check "... the mode serve gives the control socket's directory" \
		[ "$(stat -c %a "$TMP/run/edgelab")" = 700 ]
	serve_stop
else
	not_ok "serve starts with a control socket of its own"
fi

if ! command -v systemd-analyze >/dev/null; then
	echo "# systemd-analyze is not installed (apt-get install systemd): verify and security not checked"
	finish
fi
# verify checks that ExecStart exists and Documentation's man page: a copy
# of the unit names the staged binary and configuration, MANPATH the staged
# man pages.
V=$TMP/verify
mkdir -p "$V"
sed -e "s|=$bindir/edgelab |=$D2$bindir/edgelab |" -e "s| $sysconfdir/edgelab.conf| $D2$sysconfdir/edgelab.conf|" \
	"$U" >"$V/edgelab.service"
# Without man (a container's Debian) verify cannot look the page up.
man_check=yes
command -v man >/dev/null || { man_check=no; echo "# man is not installed: verify does not look for the man page"; }
verify() { # UNIT: systemd-analyze verify passes and has nothing to say
	MANPATH=$D2$mandir systemd-analyze verify --man=$man_check "$1" >"$TMP/verify.out" 2>&1 &&
		! grep -q . "$TMP/verify.out"
}
check "systemd-analyze verify passes on the installed unit, without a warning" verify "$V/edgelab.service"
sed 's/^/# /' "$TMP/verify.out"
mkdir -p "$V/nobin" "$V/typo"
sed "s|^ExecStart=$D2|ExecStart=$TMP/nowhere|" "$V/edgelab.service" >"$V/nobin/edgelab.service"
fails_verify() { ! verify "$1"; }
check "... and fails on a copy whose ExecStart is missing" fails_verify "$V/nobin/edgelab.service"
sed 's/^ProtectSystem=/ProtectSytem=/' "$V/edgelab.service" >"$V/typo/edgelab.service"
check "... and on a copy with a misspelt setting" fails_verify "$V/typo/edgelab.service"

systemd-analyze security --offline=yes "$V/edgelab.service" >"$TMP/security.out" 2>&1
grep -E "^(→|✗)|Overall exposure" "$TMP/security.out" | sed 's/^/# /'
check "systemd-analyze security: exposure 2.0 at most" \
	systemd-analyze security --offline=yes --threshold=20 "$V/edgelab.service" >/dev/null 2>&1
finish
