#!/bin/sh
# shellcheck disable=SC2016 # sh -c scripts take "$0" and "$1"
# The verbs' options, as their tables (cli/opts.h) give them: every option
# and short letter in each verb's --help, and the same usage errors, worded
# alike and with status 2, in every verb. No network, no root.
set -u
. "$(dirname "$0")/../lib.sh"

# help_lists VERB OPTION...: --help exits 0 and lists each option, an option
# being "--name" or "-l, --name".
help_lists() {
	verb=$1
	shift
	"$EDGELAB" "$verb" --help >"$TMP/help" 2>"$TMP/help.err"
	check "$verb --help: status 0, nothing on stderr" \
		sh -c '[ "$0" -eq 0 ] && [ ! -s "$1" ]' "$?" "$TMP/help.err"
	for opt in "$@" "-h, --help"; do
		check "$verb --help lists $opt" grep -qF -- " $opt " "$TMP/help"
	done
}

# usage_error VERB MESSAGE ARGS...: status 2, and exactly MESSAGE then the
# hint on stderr, nothing on stdout.
usage_error() {
	verb=$1
	msg=$2
	shift 2
	"$EDGELAB" "$verb" "$@" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	printf 'edgelab %s: %s\nTry '\''edgelab %s --help'\''.\n' "$verb" "$msg" "$verb" >"$TMP/want"
	check "$verb $*: status 2, '$msg'" \
		sh -c '[ "$0" -eq 2 ] && cmp -s "$1" "$2" && [ ! -s "$3" ]' "$rc" "$TMP/want" \
		"$TMP/err" "$TMP/out"
}

help_lists probe "-e, --edge" "-b, --bind" "-r, --rows" "-f, --format" "-o, --output" "--report" \
	"-t, --timeout" "--stun-port" "--allow-nat" "--dialect" "--pki" "--ca" "--cert" "--key" \
	"--edge-fqdn" "--sip-domain" "--partner-domain" "--sip-tls-port" "--sip-mtls-port" \
	"--partner-port" "--control" "--client-tcp-port" "--client-udp-port"
help_lists lab "-d, --drop" "-j, --reject" "-r, --rows" "-f, --format" "-t, --timeout" \
	"-v, --verbose" "--cleanup"
help_lists rules "-e, --edge" "-f, --format" "-d, --drop" "-r, --reject" "-t, --table"
help_lists pki "-o, --out" "--sip-domain" "--edge-fqdn" "--partner-domain" "--partner-fqdn" \
	"--client-user" "--ca-dir" "--key-type" "-d, --days" "-f, --force" "-q, --quiet"
help_lists mras "-c, --config" "-s, --secret" "-d, --duration" "-i, --identity"
help_lists assess "-s, --server" "-u, --user" "-p, --password" "-d, --dialect" "-n, --calls" \
	"-r, --ramp" "-t, --duration" "--rate" "--size" "--profile" "--reflector" \
	"--reflector-elsewhere" "--reflect-only" "--tsv" "--json" "--html"
help_lists ctl "--control" "--control-cert" "--control-key" "--control-token-file" \
	"-c, --config" "--pki" "--ca" "--edge-fqdn" "-t, --timeout" "--target" "--marker" \
	"--partner" "--dialect" "--wait"

for verb in probe lab rules pki mras assess; do
	usage_error "$verb" "unknown option '--bogus'" --bogus
	usage_error "$verb" "unknown option '-Z'" -Z
	usage_error "$verb" "--help takes no argument" --help=now
	usage_error "$verb" "unexpected argument 'now'" now
done
usage_error probe "--timeout: bad value 'x' (expected seconds, more than 0, at most 3600)" -t x
usage_error probe "--edge needs an argument" --edge
usage_error probe "--report: 'svg' is not a format (table, json, junit, tap or html)" \
	--report svg:x.svg
usage_error probe "option '--ed' is ambiguous (--edge, --edge-fqdn)" --ed 1
usage_error probe "--allow-nat takes no argument" --allow-nat=yes
usage_error probe "--rows: row 7 does not exist (rows are 1-6)" --rows 1,7
usage_error probe "--sip-domain: bad value 'a..b' (expected a DNS name)" --sip-domain a..b
usage_error probe "--client-udp-port: bad value '0' (expected a port 1-65535)" \
	--client-udp-port 0
usage_error lab "--drop: 'x' is not a row number" --drop x
usage_error lab "a row cannot be both dropped and rejected" -d 1,2 -j 2
usage_error lab "--timeout: bad value '0' (expected seconds, more than 0, at most 3600)" -t 0
usage_error pki "--days: bad value '0' (expected a number of days, 1..36500)" --days 0
usage_error pki "--key-type: bad value 'dsa' (expected rsa or ec)" --key-type dsa
usage_error mras "--identity needs an argument" -i
usage_error assess "--calls: '0' is not a number from 1 to 2000" -n 0
usage_error assess "--dialect: bad value 'ice' (expected msturn or rfc5766)" -d ice
usage_error assess "--server is required" -u a -p b
usage_error assess "--ramp 5 is more than --calls 2" -s 127.0.0.1 -u a -p b -n 2 -r 5
usage_error ctl "unknown option '--bogus'" --bogus healthz
usage_error ctl "--help takes no argument" --help=now
usage_error ctl "unknown command 'now' (healthz, metrics or row N)" now
usage_error ctl "unexpected argument 'now'" healthz now
usage_error ctl "--dialect: bad value 'both' (expected rfc5389 or msturn)" row 5 --dialect both
usage_error ctl "--partner is for row 2" row 5 --target 127.0.0.1 --partner a.example
usage_error ctl "--wait: bad value '0' (expected seconds, more than 0, at most 3600)" row 2 --wait 0

"$EDGELAB" >"$TMP/out" 2>&1
check "edgelab alone: serve's summary names SIP, STUN/TURN/MS-TURN and the control API" \
	grep -q "^  serve  run the edge: SIP TLS/MTLS, STUN/TURN/MS-TURN relay, control API$" \
	"$TMP/out"
finish
