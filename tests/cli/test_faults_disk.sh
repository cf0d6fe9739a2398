#!/bin/sh
# A full disk (issue 15, point 5), on tmpfs mounts of the test's own (root
# only): edgelab pki (status 1) and serve's first-start PKI (tls_generate)
# fail naming the file and "No space left on device", and leave no
# half-written set behind; serve's control socket in a directory with no
# inode left: status 1, the socket named, at once.
set -u
. "$(dirname "$0")/../lib.sh"
[ "$(id -u)" -eq 0 ] || skip_all "root only (mounts tmpfs file systems)"

# full DIR SIZE INODES: a tmpfs of that size and inode count on DIR
# (unmounted at exit).
full() {
	mkdir -p "$1"
	mount -t tmpfs -o "size=$2,nr_inodes=$3,mode=0755" tmpfs "$1" || return 1
	at_exit "umount -l $1"
}
empty() { [ -z "$(ls -A "$1")" ]; }

# --- edgelab pki -----------------------------------------------------------------
# 8 KiB: the CA's two files fit (a page each), the edge's certificate not.
full "$TMP/small" 8k 64 || { not_ok "a tmpfs is mounted"; finish; }
"$EDGELAB" pki --out "$TMP/small/pki" --key-type ec -q 2>"$TMP/err"
status=$?
sed 's/^/# /' "$TMP/err"
check "edgelab pki on a full disk: status 1 ($status)" [ "$status" -eq 1 ]
check "... naming the file it could not write and why" \
	grep -Eq "^edgelab pki: $TMP/small/pki/[a-z-]+\.(pem|key): No space left on device$" "$TMP/err"
check "... and leaving nothing: not the files written before, nor the directory it made" \
	empty "$TMP/small"
mkdir "$TMP/small/mine"
"$EDGELAB" pki --out "$TMP/small/mine" --key-type ec -q 2>/dev/null
check "a directory that was there stays, emptied of what the run wrote" \
	sh -c "[ -d $TMP/small/mine ] && [ -z \"\$(ls -A $TMP/small/mine)\" ]"
rmdir "$TMP/small/mine"
full "$TMP/noinode" 64k 1 || { not_ok "a tmpfs is mounted"; finish; }
"$EDGELAB" pki --out "$TMP/noinode/pki" --key-type ec -q 2>"$TMP/err"
status=$?
check "no inode for its directory: status 1 ($status), naming it" \
	sh -c "[ $status -eq 1 ] && grep -q 'cannot create directory $TMP/noinode/pki: No space left on device' $TMP/err"

# --- serve's first start (tls_generate) ----------------------------------------------
pki=$TMP/small/pki
conf() {
	printf '%s\n' "stun_udp_listen off" "stun_tcp_listen off" "control_socket off" \
		"sip_tls_listen 127.0.0.1:$(free_port)" "sip_mtls_listen off" "tls_generate yes" \
		"tls_certificate $pki/edge.pem" "tls_key $pki/edge.key" "tls_ca $pki/ca.pem"
}
conf >"$TMP/gen.conf"
timeout 10 "$EDGELAB" serve --config "$TMP/gen.conf" 2>"$TMP/gen.log"
status=$?
sed 's/^/# /' "$TMP/gen.log"
# Status 1: serve could not start (2 is a configuration it cannot use).
check "serve's first start on a full disk fails with status 1 ($status), the file and the reason said" \
	sh -c "[ $status -eq 1 ] && grep -Eq '$pki/[a-z-]+\.(pem|key): No space left on device' $TMP/gen.log"
check "... no half set left (a next start would refuse one: 'mount all three or none')" \
	empty "$TMP/small"
mount -o remount,size=256k "$TMP/small"
serve_start "$TMP/gen.conf" "$TMP/gen2.log"
check "with room again, the next start writes the set and serves" \
	sh -c "[ -s $pki/edge.pem ] && [ -s $pki/edge.key ] && [ -s $pki/ca.pem ]"
serve_stop

# --- the control socket -------------------------------------------------------------
full "$TMP/ctl" 64k 4 || { not_ok "a tmpfs is mounted"; finish; }
i=0
while touch "$TMP/ctl/f$i" 2>/dev/null; do i=$((i + 1)); done
timeout 10 "$EDGELAB" serve --control-socket "$TMP/ctl/serve.sock" --stun-udp-listen off \
	--stun-tcp-listen off --sip-tls-listen off --sip-mtls-listen off 2>"$TMP/ctl.log"
status=$?
sed 's/^/# /' "$TMP/ctl.log"
check "serve's control socket in a directory with no inode left: status 1 ($status)" \
	[ "$status" -eq 1 ]
check "... naming the socket and the reason" \
	grep -q "control socket $TMP/ctl/serve.sock: No space left on device" "$TMP/ctl.log"
check "... and nothing left in its place" [ ! -e "$TMP/ctl/serve.sock" ]
finish
