#!/bin/sh
# Every refused TURN / MS-TURN request has a log line with its reason and a
# count (issue 15, point 3): wrong password, unknown user, stale nonce,
# quota, a peer refused by the policy, a replayed Allocate; and so has every
# dropped relayed packet class. The 401 challenge, the normal first answer
# to every Allocate, is not logged. The lines are rate-limited per reason:
# the next one that passes says how many were held back. Loopback only.
set -u
. "$(dirname "$0")/../lib.sh"

TURNC=${TURNC:-$BUILDDIR/tests/tools/turnc}
FEDAV=${FEDAV:-$BUILDDIR/tests/tools/fedav}
[ -x "$TURNC" ] || { not_ok "turnc is built ($TURNC)"; finish; }
[ -x "$FEDAV" ] || { not_ok "fedav is built ($FEDAV)"; finish; }

PORT=$(free_port)
CTL=$TMP/ctl.sock
LOG=$TMP/edge.log
printf '%s\n' "workers 1" "stun_udp_listen 127.0.0.1:$PORT" "stun_tcp_listen 127.0.0.1:$PORT" \
	"control_socket $CTL" "sip_tls_listen off" "sip_mtls_listen off" "turn_user alice secret" \
	"turn_user bob secret" "turn_user_quota 1" "turn_nonce_lifetime 2" >"$TMP/edge.conf"
serve_start "$TMP/edge.conf" "$LOG" || { not_ok "serve starts"; finish; }
tc() { # ARGS...: turnc; its output in $TMP/out
	timeout 30 "$TURNC" -s "127.0.0.1:$PORT" "$@" >"$TMP/out" 2>&1
	sed 's/^/# turnc: /' "$TMP/out"
}
refused() { metric "$CTL" "edgelab_turn_refused_total{reason=\"$1\"}"; }
# logged REGEX: the edge's log has a line matching it (the log is written
# by the edge's own thread: wait a little for it).
logged() { wait_for 3 grep -Eq "$1" "$LOG"; }

tc alloc refresh:0
check "a good Allocate (401 challenge, then 200)" grep -q '^alloc 401 200' "$TMP/out"
check "... the challenge is not logged, nor counted as a refusal" \
	sh -c '! grep -q "turn: refused" "$0" && [ "$1" -eq 0 ]' "$LOG" "$(refused wrong_password)"

tc -p wrong alloc
check "wrong password: 401" grep -q '^alloc 401 401' "$TMP/out"
check "... logged: source, user, reason, code" \
	logged "info  turn: refused 127\.0\.0\.1:[0-9]+/udp user alice: wrong_password \(401\)$"
check "... counted" [ "$(refused wrong_password)" -eq 1 ]
tc -u mallory alloc
check "unknown user: 401, logged as such" \
	sh -c 'grep -q "^alloc 401 401" "$0"' "$TMP/out"
check "... logged: unknown_user" logged "turn: refused 127\.0\.0\.1:[0-9]+/udp user mallory: unknown_user \(401\)$"

"$TURNC" -s "127.0.0.1:$PORT" alloc sleep:4 refresh:0 >"$TMP/held" 2>&1 &
at_exit "kill -9 $! 2>/dev/null"
wait_for 5 grep -q 'alloc 401 200' "$TMP/held"
tc alloc
check "turn_user_quota 1, a second allocation for alice: 486, logged as quota" \
	sh -c 'grep -q "^alloc 401 486" "$0"' "$TMP/out"
check "... logged: quota" logged "turn: refused .* user alice: quota \(486\)$"

tc -u bob alloc perm:127.0.0.1:9 refresh:0
check "a peer the policy refuses (loopback): 403, logged with the peer" \
	sh -c 'grep -q "^perm 403" "$0"' "$TMP/out"
check "... logged: peer_policy and the peer" logged "user bob: peer_policy 127\.0\.0\.1:9 \(403\)$"

tc -u bob alloc sleep:3 refresh:0
check "a nonce past turn_nonce_lifetime: 438, then the refresh with a new one" \
	grep -q '^refresh 438 200' "$TMP/out"
check "... logged: stale_nonce" logged "user bob: stale_nonce \(438\)$"

tc -u bob send:192.0.2.9:5000:hello refresh:0
check "a Send indication without an allocation: dropped, logged by class" \
	logged "turn: dropped: no_allocation$"

wait_for 5 grep -q 'refresh .*200' "$TMP/held"
"$FEDAV" -a "127.0.0.1:$PORT" -A alice:secret -b "127.0.0.1:$PORT" -B bob:nope -t 3000 >"$TMP/fedav" 2>&1
check "MS-TURN: a wrong password gets 431, logged as wrong_password" \
	logged "turn: refused 127\.0\.0\.1:[0-9]+/udp user bob: wrong_password \(431\)$"

# A USERNAME is the client's: control characters in it must not make lines
# of their own in the log (a forged line, an escape sequence).
tc -u "$(printf 'eve\n2099-01-01T00:00:00.000Z error FORGED\033[31m')" alloc
check "a USERNAME with a newline and an escape: logged on one line, escaped" \
	logged 'user eve\\x0a2099-01-01T00:00:00\.000Z error FORGED\\x1b\[31m: unknown_user \(401\)$'
check "... no forged line" sh -c '! grep -q "^2099-01-01" "$0"' "$LOG"

# A client that keeps trying: 40 wrong passwords in a row.
before=$(refused wrong_password)
args=""
for i in $(seq 40); do args="$args alloc"; done
# shellcheck disable=SC2086 # one command per word
tc -u alice -p wrong $args
got=$(($(refused wrong_password) - before))
echo "# wrong_password refusals counted: $got; answers: $(grep -c '^alloc 401 401' "$TMP/out")"
# turnc sends each Allocate with the nonce it holds, and once more on a 401
# with a nonce: 79 requests with a wrong password (the first Allocate's
# first try has no credentials: the challenge).
check "40 wrong passwords (79 requests with credentials): each counted" [ "$got" -eq 79 ]
lines=$(grep -c "user alice: wrong_password (401)" "$LOG")
echo "# wrong_password lines logged: $lines"
check "... but not all logged: at most a burst of 20 (and the one before)" [ "$lines" -le 22 ]
sleep 1
tc -u alice -p wrong alloc
check "... the next line after a pause says how many were held back" \
	logged "user alice: wrong_password \(401\) \(and [0-9]+ more not logged\)$"

finish
