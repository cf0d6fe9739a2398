#!/bin/sh
# shellcheck disable=SC2016 # sh -c scripts take "$0" and "$1"
# The training scenarios (docs/training.md): for every scenario that
# `edgelab lab scenarios` lists, `lab up --scenario` brings its lab up;
# `lab check` fails (exit 1) with exactly the symptom below (those flows
# with those verdicts, every other row PASS and every other negative flow
# CLOSED); the fix that docs/training.md gives for it, run as a trainee
# would (LAB=NAME sh -e), makes `lab check` pass (exit 0); `lab down`
# removes the lab. A scenario missing from the table below, or without a
# fix block in docs/training.md, fails. Two labs at a time: labs side by
# side must not clash. Needs root; skips otherwise.
set -u
. "$(dirname "$0")/../lib.sh"
skip_slow "the network-namespace lab"

[ "$(id -u)" -eq 0 ] || skip_all "lab tests need root (network namespaces, nftables)"
for tool in ip nft timeout; do
	command -v "$tool" >/dev/null || { not_ok "$tool is installed"; finish; }
done
DOC=$SRCDIR/docs/training.md
# tests/lab/test_labs.sh tries `lab down --all` under this lock, held
# exclusively: it must not take this test's labs down.
exec 9>/run/edgelab-test-labs.lock
flock -s -w 300 9 || { not_ok "the labs' test lock within 300 s"; finish; }

# What `lab check` shows of each scenario: the scenario, then an extended
# regex that a line of its output must match (one line each). The flows
# these lines match are the symptom; every other flow must PASS or be CLOSED.
# A scenario under load (assess: before the regex) passes `lab check`; its
# symptom is in what `lab assess` says of ten calls, which the fix makes
# meet every target.
symptoms() {
	cat <<'EOF'
one-way-federation          ^2 +edge -> partner SIP/MTLS +BLOCKED +[0-9]
media-range-as-destination  ^4 +edge -> client RTP/TCP +BLOCKED +[0-9]
stun-no-return              ^6 +client -> edge STUN/UDP +rfc5389 +BLOCKED +[0-9]
stun-no-return              ^6 +client -> edge STUN/UDP +msturn +BLOCKED +[0-9]
tcp-stun                    ^5 +edge -> client STUN/UDP +rfc5389 +BLOCKED +[0-9]
tcp-stun                    ^5 +edge -> client STUN/UDP +msturn +BLOCKED +[0-9]
tcp-stun                    ^6 +client -> edge STUN/UDP +rfc5389 +BLOCKED +[0-9]
tcp-stun                    ^6 +client -> edge STUN/UDP +msturn +BLOCKED +[0-9]
tcp-stun                    ^client -> edge TCP/3478 +EXPOSED +[0-9]
broad-sip-range             ^client -> edge TCP/5060 +EXPOSED +[0-9]
broad-sip-range             ^client -> edge TCP/5062 +EXPOSED +[0-9]
inbound-media-range         ^client -> edge TCP/59999 +EXPOSED +[0-9]
inbound-media-range         ^client -> edge UDP/59999 +EXPOSED +[0-9]
outbound-anything           ^edge -> client TCP/443 from port < 50000 +EXPOSED +[0-9]
outbound-anything           ^edge -> client TCP/5060 +EXPOSED +[0-9]
udp-3478-rate-limit         assess:^verdict: [0-9] of 10 calls met every client target; missed: loss, burst loss
udp-3478-flow-limit         assess:^verdict: [0-4] of 10 calls met every client target; [0-9]+ failed, the first: no answer to Allocate from 198\.51\.100\.10:3478
EOF
}
symptoms_of() { symptoms | awk -v n="$1" '$1 == n { sub(/^[^ ]+ +/, ""); print }'; }

# fix_block NAME: the ```sh block right after `<!-- fix: NAME -->` in the
# training doc; status 1 when there is none (or it is not closed).
fix_block() {
	awk -v n="$1" '
		m == 0 && $0 == "<!-- fix: " n " -->" { m = 1; next }
		m == 1 { if ($0 == "```sh") { m = 2; next } exit }
		m == 2 { if ($0 == "```") { m = 3; exit } print }
		END { if (m != 3) exit 1 }' "$DOC"
}

# The flow lines of a check's report: the rows (ROW first), then the
# negative flows ("client -> edge ...", "edge -> client ...").
rows_of() { grep -E '^[1-6] +[a-z]+ -> [a-z]+ ' "$1"; }
negatives_of() { grep -E '^(client|edge) -> ' "$1"; }
# complete FILE: both tables, the six rows (5 and 6 once per dialect) and
# the ten negative flows.
complete() {
	[ "$(rows_of "$1" | wc -l)" -eq 8 ] && [ "$(negatives_of "$1" | wc -l)" -eq 10 ] &&
		grep -q '^MUST STAY CLOSED' "$1"
}
# bad_flows FILE [PATTERNS]: the flows that neither PASS nor are CLOSED,
# leaving out those that a line of PATTERNS matches.
bad_flows() {
	{ rows_of "$1"; negatives_of "$1"; } | { if [ -s "${2:-}" ]; then grep -Ev -f "$2"; else cat; fi; } |
		grep -Ev ' (PASS|CLOSED) +[0-9.]+s ' || true
}

# lab_check LAB OUT: `edgelab lab check LAB` into OUT (shown as # lines);
# returns its exit status.
lab_check() {
	timeout 90 "$EDGELAB" lab check "$1" >"$2" 2>"$2.err"
	lc_rc=$?
	sed 's/^/#   /' "$2" "$2.err"
	return $lc_rc
}

# run_fix NAME LAB: the fix docs/training.md gives for scenario NAME, run
# in LAB as a trainee would (LAB=NAME sh -e, `edgelab` on the PATH).
run_fix() {
	fix_block "$1" >"$TMP/$1.fix"
	echo "# the fix ($DOC):"
	sed 's/^/#   /' "$TMP/$1.fix"
	timeout 60 env LAB="$2" PATH="$TMP/bin:$PATH" sh -e "$TMP/$1.fix" >"$TMP/$1.fixout" 2>&1
	rf_rc=$?
	sed 's/^/#   /' "$TMP/$1.fixout"
	check "$1: the documented fix runs (LAB=$2 sh -e): exit status 0 (got $rf_rc)" [ "$rf_rc" -eq 0 ]
}

# lab_assess LAB OUT: ten calls of 4 s through the lab (`edgelab lab
# assess`) into OUT (shown as # lines); returns its exit status.
lab_assess() {
	timeout 90 "$EDGELAB" lab assess "$1" --calls 10 --duration 4 >"$2" 2>"$2.err"
	la_rc=$?
	sed 's/^/#   /' "$2" "$2.err"
	return $la_rc
}

# run_load_scenario NAME LAB: a scenario under load, its lab up: `lab check`
# passes before the fix; `lab assess` shows the symptom, then, after the
# documented fix, every call meets every target; the lab goes down.
run_load_scenario() {
	sc=$1
	lab=$2
	lab_check "$lab" "$TMP/$sc.before"
	rc=$?
	check "$sc: lab check before the fix: exit status 0, the matrix passes (got $rc)" [ "$rc" -eq 0 ]
	lab_assess "$lab" "$TMP/$sc.assess"
	rc=$?
	check "$sc: lab assess before the fix: exit status 1 (got $rc)" [ "$rc" -eq 1 ]
	symptoms_of "$sc" | sed 's/^assess://' >"$TMP/$sc.want"
	while IFS= read -r re; do
		check "$sc: ... the symptom: a line matches '$re'" grep -Eq -- "$re" "$TMP/$sc.assess"
	done <"$TMP/$sc.want"
	run_fix "$sc" "$lab"
	lab_assess "$lab" "$TMP/$sc.after"
	rc=$?
	check "$sc: lab assess after the fix: exit status 0 (got $rc)" [ "$rc" -eq 0 ]
	check "$sc: ... every call met every target" \
		grep -q "^verdict: all 10 calls met every client target$" "$TMP/$sc.after"
	timeout 60 "$EDGELAB" lab down "$lab" >"$TMP/$sc.down" 2>&1
	rc=$?
	check "$sc: lab down $lab: exit status 0 (got $rc)" [ "$rc" -eq 0 ]
	echo "# done"
}

# run_scenario NAME LAB: the whole walk for one scenario; its ok / not ok
# lines go to stdout (a log of its own: it runs in the background).
run_scenario() {
	sc=$1
	lab=$2
	n_ok=0
	n_fail=0
	timeout 60 "$EDGELAB" lab up --scenario "$sc" --name "$lab" >"$TMP/$sc.up" 2>&1
	rc=$?
	sed 's/^/#   /' "$TMP/$sc.up"
	check "$sc: lab up --scenario $sc --name $lab: exit status 0 (got $rc)" [ "$rc" -eq 0 ]
	check "$sc: ... and it says how to get in (names the lab)" grep -qF -- "$lab" "$TMP/$sc.up"
	if [ "$rc" -ne 0 ]; then
		echo "# done"
		return
	fi

	if symptoms_of "$sc" | grep -q '^assess:'; then
		run_load_scenario "$sc" "$lab"
		return
	fi
	lab_check "$lab" "$TMP/$sc.before"
	rc=$?
	check "$sc: lab check before the fix: exit status 1 (got $rc)" [ "$rc" -eq 1 ]
	check "$sc: ... a whole report: 8 rows, 10 negative flows" complete "$TMP/$sc.before"
	symptoms_of "$sc" >"$TMP/$sc.want"
	while IFS= read -r re; do
		check "$sc: ... the symptom: a line matches '$re'" grep -Eq -- "$re" "$TMP/$sc.before"
	done <"$TMP/$sc.want"
	bad=$(bad_flows "$TMP/$sc.before" "$TMP/$sc.want")
	check "$sc: ... and nothing else: every other row PASS, every other negative flow CLOSED" [ -z "$bad" ]
	[ -z "$bad" ] || echo "$bad" | sed 's/^/#   not the symptom: /'

	run_fix "$sc" "$lab"

	lab_check "$lab" "$TMP/$sc.after"
	rc=$?
	check "$sc: lab check after the fix: exit status 0 (got $rc)" [ "$rc" -eq 0 ]
	check "$sc: ... a whole report: 8 rows, 10 negative flows" complete "$TMP/$sc.after"
	bad=$(bad_flows "$TMP/$sc.after")
	check "$sc: ... every row PASS, every negative flow CLOSED" [ -z "$bad" ]
	[ -z "$bad" ] || echo "$bad" | sed 's/^/#   /'

	timeout 60 "$EDGELAB" lab down "$lab" >"$TMP/$sc.down" 2>&1
	rc=$?
	sed 's/^/#   /' "$TMP/$sc.down"
	check "$sc: lab down $lab: exit status 0 (got $rc)" [ "$rc" -eq 0 ]
	check "$sc: ... the lab is gone (lab exec $lab fails)" \
		sh -c '! timeout 10 "$0" lab exec "$1" fw -- true >/dev/null 2>&1' "$EDGELAB" "$lab"
	echo "# done"
}

# The fixes call `edgelab`, as a trainee would.
mkdir -p "$TMP/bin"
ln -s "$EDGELAB" "$TMP/bin/edgelab"

timeout 30 "$EDGELAB" lab scenarios >"$TMP/list" 2>"$TMP/list.err"
rc=$?
sed 's/^/# /' "$TMP/list" "$TMP/list.err"
check "lab scenarios: exit status 0" [ "$rc" -eq 0 ]
check "... one line each: NAME, two or more spaces, the symptom" \
	sh -c '[ -s "$0" ] && ! grep -Evq "^[a-z][a-z0-9-]*  +[^ ].*[^ ]$" "$0"' "$TMP/list"
names=$(sed -E 's/^([a-z][a-z0-9-]*)  +.*/\1/' "$TMP/list")
check "... at least six scenarios ($(echo "$names" | grep -c .))" [ "$(echo "$names" | grep -c .)" -ge 6 ]
files=$(for f in "$SRCDIR"/lab/scenarios/*.nft; do basename "$f" .nft; done)
check "... exactly those of lab/scenarios/*.nft" [ "$(echo "$names" | sort)" = "$(echo "$files" | sort)" ]
check "the table above names no other scenario" \
	[ "$(symptoms | awk '{ print $1 }' | sort -u)" = "$(echo "$names" | sort)" ]
documented=$(sed -n 's/^<!-- fix: \(.*\) -->$/\1/p' "$DOC" | sort)
check "docs/training.md has a fix for no other scenario" [ "$documented" = "$(echo "$names" | sort)" ]

for sc in $names; do
	symptom=$(sed -En "s/^$sc  +//p" "$TMP/list")
	f=$SRCDIR/lab/scenarios/$sc.nft
	check "$sc: the symptom is one line of at most 100 characters" [ "${#symptom}" -le 100 ]
	check "$sc: ... the one its file gives" \
		sh -c '[ "$(sed -n 1p "$0")" = "# scenario: $1" ] && [ "$(sed -n 2p "$0")" = "# symptom: $2" ]' \
		"$f" "$sc" "$symptom"
	check "$sc: ... and docs/training.md" grep -qxF "**Symptom:** $symptom" "$DOC"
	check "$sc: the table above says what its symptom is" [ -n "$(symptoms_of "$sc")" ]
	check "$sc: docs/training.md has one fix for it" \
		[ "$(grep -cxF "<!-- fix: $sc -->" "$DOC")" -eq 1 ]
	fix=$(fix_block "$sc")
	check "$sc: ... a \`\`\`sh block right after <!-- fix: $sc -->" [ -n "$fix" ]
	check "$sc: ... which runs nothing but nft in fw" \
		sh -c '! printf "%s\\n" "$0" | grep "edgelab" | grep -vqF "edgelab lab exec \"\$LAB\" fw -- nft "' "$fix"
done

# Two at a time, each in the background with a log of its own. At exit,
# whatever happened: the walks still running are stopped (their edgelab
# too: timeout passes the TERM on), then every lab is taken down.
# shellcheck disable=SC2086 # one scenario a word
set -- $names
i=0
for sc in $names; do
	i=$((i + 1))
	at_exit "timeout 60 \"\$EDGELAB\" lab down s$$-$i"
done
RUNNING=""
stop_running() {
	for p in $RUNNING; do
		pkill -TERM -P "$p"
		kill -TERM "$p"
	done
}
at_exit stop_running
i=0
while [ "$#" -gt 0 ]; do
	round=""
	for sc in "$1" "${2:-}"; do
		[ -n "$sc" ] || continue
		i=$((i + 1))
		(
			trap - EXIT INT TERM
			run_scenario "$sc" "s$$-$i"
		) >"$TMP/$sc.log" 2>&1 &
		RUNNING="$RUNNING $!"
		round="$round $sc"
	done
	for pid in $RUNNING; do wait "$pid"; done
	RUNNING=""
	for sc in $round; do
		cat "$TMP/$sc.log"
		n_ok=$((n_ok + $(grep -c '^ok - ' "$TMP/$sc.log")))
		n_fail=$((n_fail + $(grep -c '^not ok - ' "$TMP/$sc.log")))
		check "$sc: its walk ran to the end" grep -qx '# done' "$TMP/$sc.log"
	done
	shift
	[ "$#" -eq 0 ] || shift
done
finish
