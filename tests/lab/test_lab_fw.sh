#!/bin/sh
# edgelab lab fw: a host between the lab's two networks (here a namespace
# of the test's own, as the compose lab's fw container is) becomes the
# lab's fw: its interfaces in 192.0.2.0/24 and 198.51.100.0/24 take the
# names outside0 and edge0 (their routes kept), forwarding is turned on,
# and the lab's policy or the user's ruleset (a file or a directory, nft or
# iptables) is loaded; an empty directory is refused;
# a bad ruleset is refused with the tool's words and changes nothing; a
# host off the lab's networks is an error; --stay ends cleanly on SIGTERM.
# Needs root; skips otherwise.
set -u
. "$(dirname "$0")/../lib.sh"

skip_slow "network namespaces"
[ "$(id -u)" -eq 0 ] || skip_all "lab tests need root (network namespaces, nftables)"
for tool in ip nft iptables-restore iptables-save setsid; do
	command -v "$tool" >/dev/null || { not_ok "$tool is installed"; finish; }
done

ns=edgelab-fwtest-$$
at_exit "ip netns del $ns"
ip netns add "$ns"
# Two links into the namespace, named as a container's are.
ip link add "elfa$$" type veth peer name eth0 netns "$ns"
ip link add "elfb$$" type veth peer name eth1 netns "$ns"
at_exit "ip link del elfa$$; ip link del elfb$$"
ip -n "$ns" addr add 198.51.100.1/24 dev eth0
ip -n "$ns" addr add 192.0.2.1/24 dev eth1
ip -n "$ns" link set eth0 up
ip -n "$ns" link set eth1 up
ip link set "elfa$$" up
ip link set "elfb$$" up
ip -n "$ns" route add default via 192.0.2.254 dev eth1
ip -n "$ns" route add 203.0.113.0/24 via 198.51.100.254 dev eth0
ip netns exec "$ns" sysctl -q -w net.ipv4.ip_forward=0

fw() { ip netns exec "$ns" "$EDGELAB" lab fw "$@" >"$TMP/out" 2>"$TMP/err"; rc=$?; sed 's/^/# /' "$TMP/out" "$TMP/err"; }

fw --ready-file "$TMP/ready"
check "the lab's policy: exit 0" [ "$rc" -eq 0 ]
check "192.0.2.1's interface is now outside0" \
	sh -c "ip -n $ns -4 -o addr show dev outside0 | grep -q 192.0.2.1/24"
check "198.51.100.1's interface is now edge0" \
	sh -c "ip -n $ns -4 -o addr show dev edge0 | grep -q 198.51.100.1/24"
check "edge0 is up again after the rename" sh -c "ip -n $ns link show edge0 | grep -q 'state UP'"
check "outside0 keeps its default route (a VM's way in)" \
	sh -c "ip -n $ns route show default | grep -q 'via 192.0.2.254 dev outside0'"
check "edge0 keeps its other routes" \
	sh -c "ip -n $ns route show 203.0.113.0/24 | grep -q 'via 198.51.100.254 dev edge0'"
check "forwarding is on" [ "$(ip netns exec "$ns" sysctl -n net.ipv4.ip_forward)" = 1 ]
ip netns exec "$ns" nft list ruleset >"$TMP/loaded"
"$EDGELAB" rules --lab | grep -o 'comment "row [1-6]:[^"]*"' >"$TMP/want"
check "every row of edgelab rules --lab is loaded" \
	sh -c "grep -o 'comment \"row [1-6]:[^\"]*\"' $TMP/loaded | cmp -s - $TMP/want"
check "the ready file names what was loaded" grep -q "the lab's policy" "$TMP/ready"

fw
check "a second run (names already right): exit 0" [ "$rc" -eq 0 ]

# A directory holding an iptables-restore file (and a dot file, ignored).
mkdir "$TMP/rules"
echo "ignored" >"$TMP/rules/.keep"
cat >"$TMP/rules/rules.v4" <<'RULES'
*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A FORWARD -i outside0 -o edge0 -d 198.51.100.10/32 -p udp --dport 3478 -j ACCEPT -m comment --comment "mine-row-6"
COMMIT
RULES
fw --rules-from "$TMP/rules"
check "a directory with an iptables file: exit 0" [ "$rc" -eq 0 ]
check "it says iptables" grep -q "rules.v4 (iptables)" "$TMP/out"
check "the user's rule is in fw" sh -c "ip netns exec $ns iptables-save | grep -q mine-row-6"
check "the lab's table is gone (flushed)" sh -c "! ip netns exec $ns nft list table inet edgelab >/dev/null 2>&1"

printf 'table inet mine {\n\tchain forward {\n\t\ttype filter hook forward prioritty 0;\n\t}\n}\n' >"$TMP/bad.nft"
fw --rules "$TMP/bad.nft"
check "a ruleset that does not load: exit 4" [ "$rc" -eq 4 ]
check "nft's message names the user's file and line" grep -q "$TMP/bad.nft:3:" "$TMP/err"
check "and nothing changed: the user's earlier rule stays" \
	sh -c "ip netns exec $ns iptables-save | grep -q mine-row-6"

mkdir "$TMP/three"
touch "$TMP/three/a" "$TMP/three/b" "$TMP/three/c"
fw --rules-from "$TMP/three"
check "three files: a usage error (exit 2)" [ "$rc" -eq 2 ]
check "that says why" grep -q "more than 2 files" "$TMP/err"
fw --rules-from "$TMP/none"
check "no such path: exit 2" [ "$rc" -eq 2 ]

mkdir "$TMP/empty"
fw --rules-from "$TMP/empty"
check "an empty directory (what Docker mounts for a mistyped path): exit 2" [ "$rc" -eq 2 ]
check "that says why, and how to ask for the lab's policy" grep -q "holds no ruleset.*\.lab-policy" "$TMP/err"
check "and fw keeps what it had (the user's rule)" \
	sh -c "ip netns exec $ns iptables-save | grep -q mine-row-6"
touch "$TMP/empty/.lab-policy"
fw --rules-from "$TMP/empty"
check "a directory with only .lab-policy: the lab's policy again" [ "$rc" -eq 0 ]
check "... loaded" sh -c "ip netns exec $ns nft list table inet edgelab >/dev/null"
check "the compose lab's default folder holds the marker" [ -f "$SRCDIR/docker/rules/.lab-policy" ]

# --stay, as a container's main process: ends on SIGTERM, exit 0.
rm -f "$TMP/ready"
setsid ip netns exec "$ns" "$EDGELAB" lab fw --ready-file "$TMP/ready" --stay >"$TMP/stay.out" 2>&1 &
stay=$!
check "--stay: the ready file appears" wait_for 10 test -e "$TMP/ready"
check "--stay: still running" kill -0 "$stay"
stop_term "$stay"
check "--stay: SIGTERM ends it with exit 0" [ $? -eq 0 ]
check "--stay: the ready file is removed" [ ! -e "$TMP/ready" ]

# A host on the edge network, but not with fw's address there (as a
# Docker host's bridge, 198.51.100.254): not taken for fw's interface.
ip -n "$ns" addr flush dev edge0
ip -n "$ns" addr add 198.51.100.254/24 dev edge0
fw
check "no interface with 198.51.100.1: exit 4" [ "$rc" -eq 4 ]
check "that says which address is missing" grep -q "no interface has 198.51.100.1, fw's address on the lab's edge network" "$TMP/err"
finish
