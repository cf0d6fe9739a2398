#!/bin/sh
# edgelab lab --format html: the lab passes the format to the probe, whose
# page, rendered by headless Chromium, shows the policy: row 2's rule
# dropped (BLOCKED), row 3's rejected (REJECTED), row 1 PASS, and every
# negative flow CLOSED; the run fails (1). Needs root (network namespaces,
# nftables) and chromium; skips otherwise (fails without chromium under
# CI=true).
set -u
. "$(dirname "$0")/../lib.sh"
skip_slow "the network-namespace lab"
. "$SRCDIR/tests/chromium.sh"

[ "$(id -u)" -eq 0 ] || skip_all "lab tests need root (network namespaces, nftables)"
for tool in ip nft python3; do
	command -v "$tool" >/dev/null || { not_ok "$tool is installed"; finish; }
done
chromium_find
at_exit '"$EDGELAB" lab --cleanup >/dev/null'

timeout 60 "$EDGELAB" lab --drop 2 --reject 3 -t 2 --format html >"$TMP/lab.html" 2>"$TMP/lab.err"
rc=$?
sed 's/^/# /' "$TMP/lab.err"
check "lab --drop 2 --reject 3 --format html: exit status 1" [ "$rc" -eq 1 ]
check "... the page is written" grep -q "^<!DOCTYPE html>" "$TMP/lab.html"
check "... Chromium builds its DOM" html_dom "$TMP/lab.html" "$TMP/lab.dom"
python3 "$SRCDIR/tests/tools/dom_ids.py" "$TMP/lab.dom" >"$TMP/ids"
sed 's/^/# /' "$TMP/ids"

# arrow_and_row ID VERDICT DIRECTION: the arrow and the table row agree.
arrow_and_row() { dom_flow "$TMP/ids" "flow-$1" "$2" "$3" && dom_flow "$TMP/ids" "row-$1" "$2" ""; }
check "row 1: PASS, inbound" arrow_and_row row1 PASS inbound
check "row 2 (dropped): BLOCKED, outbound" arrow_and_row row2 BLOCKED outbound
check "row 3 (rejected): REJECTED, inbound" arrow_and_row row3 REJECTED inbound
negs=$(grep -c '^flow-neg' "$TMP/ids")
closed=$(grep -c '^flow-neg[0-9]*	flow verdict-closed [a-z]*	CLOSED	' "$TMP/ids")
check "every negative flow CLOSED ($closed of $negs; 10 expected)" [ "$closed $negs" = "10 10" ]
check "... in its table too" [ "$(grep -c '^row-neg[0-9]*	verdict-closed	CLOSED	' "$TMP/ids")" -eq 10 ]
check "nothing loaded or run" grep -qx "external 0" "$TMP/ids"
finish
