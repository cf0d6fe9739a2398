#!/bin/sh
# serve under a service manager without one: NOTIFY_SOCKET points at a unix
# datagram socket of the test's own (tests/tools/notify_listen.py, which
# plays systemd's end of sd_notify). READY=1 comes from serve's own pid
# once every listener answers: STUN on UDP and TCP, SIP over TLS and MTLS,
# the control API on its unix socket and over HTTPS, all on loopback;
# SIGHUP gives RELOADING=1 then READY=1 once the new configuration is in
# effect (and after a broken file, with the running one kept); SIGTERM
# gives STOPPING=1 and exit status 0. A notification socket that is gone
# is one warning, and serve runs on.
set -u
. "$(dirname "$0")/../lib.sh"

command -v python3 >/dev/null || skip_all "python3 is not installed (scripts/install-deps.sh --test)"

P=$(free_port)
S1=$(free_port)
S2=$(free_port)
H=$(free_port)
CTL=$TMP/ctl/control.sock
N=$TMP/notify.sock
OUT=$TMP/notify.out
"$EDGELAB" pki --out "$TMP/pki" >"$TMP/pki.log" 2>&1 || { not_ok "edgelab pki"; finish; }
head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$TMP/token"
write_conf() { # SOFTWARE [EXTRA LINE]
	cat >"$TMP/edge.conf" <<CONF
stun_udp_listen 127.0.0.1:$P
stun_tcp_listen 127.0.0.1:$P
sip_tls_listen 127.0.0.1:$S1
sip_mtls_listen 127.0.0.1:$S2
tls_certificate $TMP/pki/edge.pem
tls_key $TMP/pki/edge.key
tls_ca $TMP/pki/ca.pem
control_socket $CTL
control_listen 127.0.0.1:$H
control_token_file $TMP/token
workers 2
software $1
${2:-}
CONF
}

python3 "$SRCDIR/tests/tools/notify_listen.py" "$N" --stun "127.0.0.1:$P" --tcp "127.0.0.1:$P" \
	--tcp "127.0.0.1:$S1" --tcp "127.0.0.1:$S2" --tcp "127.0.0.1:$H" --unix "$CTL" >"$OUT" 2>&1 &
LISTEN_PID=$!
at_exit "kill $LISTEN_PID"
wait_for 10 test -S "$N" || { not_ok "notify_listen.py binds $N"; cat "$OUT"; finish; }

# msg K: message K's lines, without their number.
msg() { sed -n "s/^$1 //p" "$OUT"; }
# states: the state of each message in order (READY, RELOADING, STOPPING).
states() { sed -n 's/^[0-9]* \(READY\|RELOADING\|STOPPING\)=1$/\1/p' "$OUT" | tr '\n' ' '; }
ready_count() { [ "$(grep -c '^[0-9]* READY=1$' "$OUT")" -ge "$1" ]; } # N: N READY=1 or more
# last_msg STATE: the number of the last message with STATE=1.
last_msg() { sed -n "s/^\([0-9]*\) $1=1\$/\1/p" "$OUT" | tail -n 1; }
has() { msg "$1" | grep -Fqx -- "$2"; }

write_conf one
NOTIFY_SOCKET=$N
export NOTIFY_SOCKET
serve_start "$TMP/edge.conf" || { not_ok "serve starts"; finish; }
unset NOTIFY_SOCKET
check "READY=1 arrives" wait_for 10 grep -q '^1 READY=1$' "$OUT"
check "... first, alone" [ "$(states)" = "READY " ]
check "... from serve's own pid (NotifyAccess=main)" has 1 "pid=$SERVE_PID"
check "... with a status line" has 1 "STATUS=serving with 2 workers; control $CTL, https 127.0.0.1:$H; config $TMP/edge.conf"
check "when READY=1 arrived, STUN over UDP answered" has 1 "stun: answered software=one"
check "... STUN over TCP took connections" has 1 "tcp 127.0.0.1:$P: connected"
check "... SIP over TLS" has 1 "tcp 127.0.0.1:$S1: connected"
check "... SIP over MTLS" has 1 "tcp 127.0.0.1:$S2: connected"
check "... the control API over HTTPS" has 1 "tcp 127.0.0.1:$H: connected"
check "... and on its unix socket" has 1 "unix $CTL: connected"

# --- SIGHUP ------------------------------------------------------------------
write_conf two
kill -HUP "$SERVE_PID"
check "SIGHUP: READY=1 again" wait_for 10 ready_count 2
check "... after RELOADING=1" [ "$(states)" = "READY RELOADING READY " ]
r=$(last_msg RELOADING)
k=$(last_msg READY)
check "... RELOADING=1 carries its time (MONOTONIC_USEC, for Type=notify-reload)" \
	sh -c 'echo "$0" | grep -qx "MONOTONIC_USEC=[0-9][0-9]*"' "$(msg "$r" | grep MONOTONIC)"
check "... READY=1's status says it reloaded" has "$k" "STATUS=reloaded configuration from $TMP/edge.conf"
check "... and by then every worker answers with the new configuration" has "$k" "stun: answered software=two"
check "... every listener is still there" \
	[ "$(msg "$k" | grep -c ': connected$')" -eq 5 ]

write_conf three "bogus_key 1"
kill -HUP "$SERVE_PID"
check "a broken file: READY=1 again" wait_for 10 ready_count 3
check "... after RELOADING=1" [ "$(states)" = "READY RELOADING READY RELOADING READY " ]
k=$(last_msg READY)
check "... the status says the reload failed and why" \
	sh -c 'echo "$0" | grep -q "^STATUS=reload failed, the running configuration stays: .*unknown key .bogus_key."' \
	"$(msg "$k" | grep STATUS)"
check "... and the running configuration answers" has "$k" "stun: answered software=two"

# --- SIGTERM -------------------------------------------------------------------
serve_stop
rc=$?
check "SIGTERM: exit status 0" [ "$rc" -eq 0 ]
stopped_last() { [ "$(states)" = "READY RELOADING READY RELOADING READY STOPPING " ]; }
check "... after STOPPING=1, the last message" wait_for 5 stopped_last
check "... nothing failed to send" sh -c '! grep -q "systemd notification failed" "$0"' "$TMP/serve.log"
sed 's/^/# /' "$OUT"

# --- a notification socket that is gone -----------------------------------------
write_conf gone
NOTIFY_SOCKET=$TMP/nobody-listens.sock
export NOTIFY_SOCKET
serve_start "$TMP/edge.conf" "$TMP/gone.log" || { not_ok "serve starts"; finish; }
unset NOTIFY_SOCKET
kill -HUP "$SERVE_PID"
wait_for 10 grep -q "reloaded configuration" "$TMP/gone.log"
check "NOTIFY_SOCKET with nobody there: serve runs, and warns once" \
	[ "$(grep -c "systemd notification failed" "$TMP/gone.log")" -eq 1 ]
serve_stop
check "... and stops with status 0" [ $? -eq 0 ]
finish
