#!/bin/sh
# shellcheck disable=SC2016 # sh -c scripts take "$0" and "$1"
# edgelab lab assess (issue 16): calls from a standing lab's outside through
# fw to its edge's relay, the reflector beside the relay: with the lab's
# policy every call meets every target and Results.tsv has them all; the
# relay's packets reached the reflector in the edge (its log); a fw that
# drops row 6 leaves every call without an answer, named as such; the
# options the lab sets are refused; a federation lab is refused. Needs
# root; skips otherwise.
set -u
. "$(dirname "$0")/../lib.sh"
skip_slow "the network-namespace lab"

[ "$(id -u)" -eq 0 ] || skip_all "lab tests need root (network namespaces, nftables)"
for tool in ip nft timeout; do
	command -v "$tool" >/dev/null || { not_ok "$tool is installed"; finish; }
done
# tests/lab/test_labs.sh tries `lab down --all` under this lock, held
# exclusively: it must not take this test's lab down.
exec 9>/run/edgelab-test-labs.lock
flock -s -w 300 9 || { not_ok "the labs' test lock within 300 s"; finish; }

. "$(dirname "$0")/labs_lib.sh" # L, run, has
N=a$$x
at_exit "\"$EDGELAB\" lab down $N"
run up up --name "$N"
check "lab up --name $N: status 0" [ "$rc" -eq 0 ]
check "... it names lab assess among the ways in" has up.out "edgelab lab assess $N --calls"
check "... its edge has the lab's TURN user, with a password of its own" \
	grep -q "^turn_user lab [0-9a-f]\{24\}$" "/run/edgelab/labs/$N/edge/edge.conf"

run assess assess "$N" --calls 4 --duration 3 --tsv "$TMP/r.tsv"
check "lab assess: 4 calls of 3 s through fw, status 0" [ "$rc" -eq 0 ]
check "... every call met every client target" has assess.out "^verdict: all 4 calls met every client target$"
check "... to the edge's relay, the reflector beside it" \
	has assess.out "^edgelab assess: MS-TURN over UDP to 198\.51\.100\.10:3478, reflector 198\.51\.100\.10:4478 \(elsewhere\)"
check "... Results.tsv: 4 calls, 150 packets sent and back each" \
	sh -c '[ "$(awk -F"\t" "NR > 1 && \$4 == 150 && \$5 == 150" "$0" | wc -l)" -eq 4 ]' "$TMP/r.tsv"
check "... the reflector ran in the edge and is stopped" \
	sh -c 'grep -q "^reflecting on 198.51.100.10:4478, UDP and TCP$" "$0" && ! pgrep -f "[r]eflect-only --reflector 198.51.100.10:4478" >/dev/null' \
	"/run/edgelab/labs/$N/reflector.log"

"$EDGELAB" rules --lab --drop 6 >"$TMP/no6.nft"
run rules rules "$N" "$TMP/no6.nft"
check "lab rules: a policy without row 6" [ "$rc" -eq 0 ]
LAB_TIMEOUT=90 run assess2 assess "$N" --calls 2 --duration 2
check "lab assess through it: status 1" [ "$rc" -eq 1 ]
check "... every call failed: no answer to Allocate from the edge" \
	has assess2.out "^verdict: 0 of 2 calls met every client target; 2 failed, the first: no answer to Allocate from 198\.51\.100\.10:3478 in 5\.0 s \(UDP, 4 tries\)$"

run owned assess "$N" --server 192.0.2.1
check "lab assess --server: status 2, the lab's to set" \
	sh -c '[ "$0" -eq 2 ] && grep -q "^edgelab lab assess: --server is the lab.s to set$" "$1"' "$rc" "$TMP/owned.err"
run owned2 assess "$N" --pass=x
check "lab assess --pass=x (a start of --password): status 2" [ "$rc" -eq 2 ]
run nolab assess nosuchlab --calls 1
check "lab assess on no such lab: status 4" [ "$rc" -eq 4 ]
finish
