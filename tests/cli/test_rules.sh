#!/bin/sh
# edgelab rules: the options and their errors, then (as root) the output
# checked and loaded for real, by nft and iptables-restore, inside a
# throwaway network namespace so that the host's rules are never touched.
# Prints ok / not ok lines; exits 1 on a failure, 77 if nothing could run.

EDGELAB=${EDGELAB:-./edgelab}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/el-rules.XXXXXX") || exit 1
ns=""

# shellcheck disable=SC2317 # called by the trap
cleanup() {
	if [ -n "$ns" ]; then
		ip netns del "$ns" 2>/dev/null
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

n=0
checked=0
failed=0

ok() {
	n=$((n + 1))
	checked=$((checked + 1))
	echo "ok $n - $1"
}

not_ok() {
	n=$((n + 1))
	failed=1
	echo "not ok $n - $1"
}

# check DESC CMD...: ok when CMD succeeds; its output is shown otherwise.
check() {
	desc=$1
	shift
	if "$@" >"$tmp/cmd.out" 2>"$tmp/cmd.err"; then
		ok "$desc"
	else
		not_ok "$desc"
		sed 's/^/#   /' "$tmp/cmd.out" "$tmp/cmd.err"
	fi
}

# rules FILE ARGS...: runs edgelab rules into FILE, stderr into FILE.err.
rules() {
	out=$1
	shift
	"$EDGELAB" rules "$@" >"$out" 2>"$out.err"
}

# usage_error DESC MESSAGE ARGS...: exit status 2 and MESSAGE on stderr.
usage_error() {
	desc=$1
	msg=$2
	shift 2
	rules "$tmp/usage" "$@"
	rc=$?
	if [ "$rc" -eq 2 ] && grep -qF -- "$msg" "$tmp/usage.err"; then
		ok "$desc"
	else
		not_ok "$desc (exit $rc)"
		sed 's/^/#   /' "$tmp/usage.err"
	fi
}

# shellcheck disable=SC2317 # called through check
has() {
	grep -qF -- "$2" "$1"
}

# count FILE TEXT: the lines of FILE that hold TEXT.
count() {
	grep -cF -- "$2" "$1"
}

if [ ! -x "$EDGELAB" ]; then
	echo "SKIP: $EDGELAB not built"
	exit 77
fi

# ---- without privileges ----

check "rules: default nft output" rules "$tmp/nft4" --edge 198.51.100.10
check "rules: the default edge is the lab's" has "$tmp/nft4" "ip daddr 198.51.100.10 "
check "rules: one rule per row" test "$(count "$tmp/nft4" 'comment "row ')" -eq 6
check "rules: no flush ruleset" test "$(count "$tmp/nft4" 'flush ruleset')" -eq 0
check "rules --help" rules "$tmp/help" --help
check "rules --help names the default edge" has "$tmp/help" "198.51.100.10"
check "rules --edge IPv6" rules "$tmp/nft6" --edge 2001:db8::10 --reject 5
check "rules --edge IPv6 uses ip6" test "$(count "$tmp/nft6" 'ip6 ')" -eq 6
check "rules --drop --reject" rules "$tmp/nftdr" --drop 3 --reject 1,6 -r 4 --table el_test
check "rules --drop leaves the row out" test "$(count "$tmp/nftdr" 'comment "row ')" -eq 5
check "rules --reject tcp" test "$(count "$tmp/nftdr" 'reject with tcp reset')" -eq 2
check "rules --reject udp" has "$tmp/nftdr" 'udp dport 3478 reject with icmpx type port-unreachable comment "row 6:'
check "rules --table" has "$tmp/nftdr" "delete table inet el_test"
check "rules --format iptables" rules "$tmp/ipt4" --format iptables --reject 2,5
check "rules --format iptables: filter table" has "$tmp/ipt4" ":FORWARD DROP [0:0]"
check "rules --format iptables: one rule per row" \
	test "$(count "$tmp/ipt4" '-m comment --comment "row ')" -eq 6
check "rules --lab" rules "$tmp/nftlab" --lab
check "rules --lab: inbound rows in on outside0" \
	test "$(count "$tmp/nftlab" 'iifname "outside0" oifname "edge0" ip daddr 198.51.100.10 ')" -eq 3
check "rules --lab: outbound rows in on edge0" \
	test "$(count "$tmp/nftlab" 'iifname "edge0" oifname "outside0" ip saddr 198.51.100.10 ')" -eq 3
check "rules --lab --dns" rules "$tmp/nftdns" --lab --edge 203.0.113.10 --dns 192.0.2.53
check "... one more rule: the edge to its DNS server on UDP and TCP 53, out of the lab fw's edge side" \
	has "$tmp/nftdns" 'iifname "edge0" oifname "outside0" ip saddr 203.0.113.10 ip daddr 192.0.2.53 meta l4proto { tcp, udp } th dport 53 accept'
check "rules --dns --format iptables" rules "$tmp/iptdns" --dns 192.0.2.53 --format iptables
check "... a UDP and a TCP rule to port 53" \
	test "$(count "$tmp/iptdns" '-s 198.51.100.10/32 -d 192.0.2.53/32 -p ')" -eq 2
usage_error "rules --dns of another family" "--dns, --av-edge and --edge must be of one family" --dns 2001:db8::53
check "rules --lab --av-edge" rules "$tmp/nftav" --lab --edge 203.0.113.10 --av-edge 203.0.113.11
check "... one more rule: TCP 443 in to the A/V edge's address, on the lab fw's outside" \
	has "$tmp/nftav" 'iifname "outside0" oifname "edge0" ip daddr 203.0.113.11 tcp dport 443 accept comment "not a port-table row: MS-TURN over TCP 443'
check "rules --av-edge --format iptables" rules "$tmp/iptav" --av-edge 198.51.100.11 --format iptables
check "... one TCP 443 rule to it" \
	test "$(count "$tmp/iptav" '-d 198.51.100.11/32 -p tcp -m tcp --dport 443 ')" -eq 1
usage_error "rules --av-edge of another family" "--dns, --av-edge and --edge must be of one family" --av-edge 2001:db8::11
usage_error "rules --av-edge with a port" "without a port" --av-edge 198.51.100.11:443
check "rules --lab --format iptables" rules "$tmp/iptlab" --lab --format iptables
check "rules --lab --format iptables: -i/-o" \
	test "$(count "$tmp/iptlab" '-A FORWARD -i outside0 -o edge0 -d 198.51.100.10/32 ')" -eq 3
check "rules --format iptables IPv6" rules "$tmp/ipt6" -f iptables -e 2001:db8::10 -r 6
check "rules --format iptables IPv6: icmp6" has "$tmp/ipt6" "icmp6-port-unreachable"

usage_error "rules --drop 9" "edgelab rules: --drop: row 9 does not exist (rows are 1-6)" \
	--drop 9
usage_error "rules --reject 1,x" "edgelab rules: --reject: 'x' is not a row number" \
	--reject 1,x
usage_error "rules --drop 1 --reject 1" "both in --drop and --reject" --drop 1 --reject 1
usage_error "rules --format pf" "--format: 'pf' is not nft or iptables" --format pf
usage_error "rules --edge with a port" "without a port" --edge 198.51.100.10:5061
usage_error "rules --edge a name" "is not an IPv4 or IPv6 address" --edge edge.example
usage_error "rules --table 1x" "--table: '1x' is not a name" --table 1x
usage_error "rules --edge without a value" "--edge needs an argument" --edge
usage_error "rules --bogus" "unknown option '--bogus'" --bogus
usage_error "rules extra argument" "unexpected argument 'now'" now

# ---- as root: load the output for real in a namespace of our own ----

if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: nft validation needs root"
elif ! command -v ip >/dev/null 2>&1 || ! command -v nft >/dev/null 2>&1; then
	echo "SKIP: nft validation needs iproute2 and nft"
elif ! ip netns add "el-rt-$$" 2>"$tmp/netns.err"; then
	echo "SKIP: cannot create a network namespace: $(cat "$tmp/netns.err")"
else
	ns="el-rt-$$"
	nsx() {
		ip netns exec "$ns" "$@"
	}
	for f in nft4 nft6 nftdr nftlab nftdns nftav; do
		check "nft -c accepts $f" nsx nft -c -f "$tmp/$f"
	done
	# A table of someone else's must survive, and loading twice must not
	# duplicate rules: the declare-then-delete idiom replaces one table.
	check "nft: an unrelated table" nsx nft add table inet other
	check "nft -f loads the rules" nsx nft -f "$tmp/nft4"
	check "nft -f loads them again" nsx nft -f "$tmp/nft4"
	nsx nft list ruleset >"$tmp/listed" 2>&1
	check "nft: the rules are listed once" \
		test "$(count "$tmp/listed" 'comment "row ')" -eq 6
	check "nft: policy drop" has "$tmp/listed" "policy drop;"
	check "nft: the unrelated table survives" has "$tmp/listed" "table inet other"
	check "nft -f loads a second table" nsx nft -f "$tmp/nftdr"
	if command -v iptables-restore >/dev/null 2>&1; then
		check "iptables-restore --test" nsx iptables-restore --test "$tmp/ipt4"
		check "ip6tables-restore --test" nsx ip6tables-restore --test "$tmp/ipt6"
		check "iptables-restore --test --lab" nsx iptables-restore --test "$tmp/iptlab"
		check "iptables-restore --test --dns" nsx iptables-restore --test "$tmp/iptdns"
		check "iptables-restore --test --av-edge" nsx iptables-restore --test "$tmp/iptav"
		check "iptables-restore loads the rules" nsx iptables-restore "$tmp/ipt4"
		nsx iptables-save -t filter >"$tmp/saved" 2>&1
		check "iptables: the rules are listed" \
			test "$(count "$tmp/saved" '-m comment --comment "row ')" -eq 6
		check "iptables: FORWARD policy drop" has "$tmp/saved" ":FORWARD DROP"
	else
		echo "SKIP: iptables-restore not installed"
	fi
fi

if [ "$failed" -ne 0 ]; then
	exit 1
fi
if [ "$checked" -eq 0 ]; then
	exit 77
fi
exit 0
