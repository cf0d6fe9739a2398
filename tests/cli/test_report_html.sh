#!/bin/sh
# The HTML report as a browser shows it: a sample run with every verdict
# (tests/tools/report_sample: rows 1-6, 5 and 6 in both dialects, the ten
# negative flows) rendered by headless Chromium. In its DOM: every arrow
# and table row with its verdict's class, data-verdict and the verdict in
# words, pointing the way its flow goes, nothing loaded or run, a hostile
# detail as text. In its screenshot: a PNG of the size asked for, with the
# PASS, BLOCKED and EXPOSED colours drawn (tests/tools/png_colors.py).
# `edgelab probe --format html` and the usage errors. Skips without
# chromium (fails under CI=true).
set -u
. "$(dirname "$0")/../lib.sh"
skip_slow "headless Chromium"
. "$SRCDIR/tests/chromium.sh"

SAMPLE=$BUILDDIR/tests/tools/report_sample
[ -x "$SAMPLE" ] || { not_ok "report_sample is built ($SAMPLE)"; finish; }
command -v python3 >/dev/null || { not_ok "python3 is installed (scripts/install-deps.sh)"; finish; }

# Needs no browser: the verbs take html, and say so.
check "probe --help names html" sh -c '"$0" probe --help | grep -q "table (default), json, junit, tap or html"' "$EDGELAB"
check "lab --help names html" sh -c '"$0" lab --help | grep -q "table, json, junit, tap or html (default table)"' "$EDGELAB"
"$EDGELAB" probe --format svg >"$TMP/usage.out" 2>&1
check "probe --format svg: a usage error (2)" [ $? -eq 2 ]
check "... naming the formats" grep -q "table, json, junit, tap or html" "$TMP/usage.out"

chromium_find

"$SAMPLE" html >"$TMP/report.html"
check "report_sample writes the page" [ $? -eq 0 ]
check "... one HTML5 document" sh -c 'head -n 1 "$0" | grep -qx "<!DOCTYPE html>" &&
	[ "$(grep -c "</html>" "$0")" -eq 1 ]' "$TMP/report.html"
check "Chromium builds its DOM" html_dom "$TMP/report.html" "$TMP/dom.html"
python3 "$SRCDIR/tests/tools/dom_ids.py" "$TMP/dom.html" >"$TMP/ids"
sed 's/^/# /' "$TMP/ids"

# ID VERDICT DIRECTION, in the sample's order.
for flow in row1:PASS:inbound row2:BLOCKED:outbound row3:REJECTED:inbound row4:PASS:outbound \
	row5-rfc5389:FAILED:outbound row5-msturn:PASS:outbound row6-rfc5389:PASS:inbound \
	row6-msturn:PASS:inbound neg1:CLOSED:inbound neg2:CLOSED:inbound neg3:EXPOSED:inbound \
	neg4:CLOSED:inbound neg5:EXPOSED:inbound neg6:CLOSED:inbound neg7:CLOSED:inbound \
	neg8:CLOSED:inbound neg9:CLOSED:outbound neg10:FAILED:outbound; do
	id=${flow%%:*}
	rest=${flow#*:}
	v=${rest%%:*}
	dir=${rest#*:}
	check "arrow flow-$id: $v, $dir" dom_flow "$TMP/ids" "flow-$id" "$v" "$dir"
	check "... table row row-$id: $v" dom_flow "$TMP/ids" "row-$id" "$v" ""
done
check "18 arrows and 18 table rows, no more" \
	[ "$(grep -c '^flow-' "$TMP/ids") $(grep -c '^row-' "$TMP/ids")" = "18 18" ]
check "an arrow reads without colour: row 6's label and verdict" \
	grep -q "^flow-row6-msturn	.*	row 6 client -> edge STUN/UDP 3478 \[msturn\] PASS 0.004s$" "$TMP/ids"
check "the negative flows' band is there" grep -q ">must stay closed</text>" "$TMP/dom.html"
check "nothing loaded or run (no script, img, link, src, href)" grep -qx "external 0" "$TMP/ids"

# A detail that tries to break out: text in the DOM, no element made of it.
"$SAMPLE" html --hostile >"$TMP/hostile.html"
html_dom "$TMP/hostile.html" "$TMP/hostile.dom"
python3 "$SRCDIR/tests/tools/dom_ids.py" "$TMP/hostile.dom" >"$TMP/hostile.ids"
check "a hostile detail is text in the DOM" \
	grep -qF "403 <script>alert(1)</script>\"&' <img src=x onerror=alert(2)>" "$TMP/hostile.ids"
check "... and made no element" grep -qx "external 0" "$TMP/hostile.ids"
check "... the page's arrows are all there" [ "$(grep -c '^flow-' "$TMP/hostile.ids")" -eq 18 ]

# The picture: the size asked for, and the colours of the palette drawn
# (report_html.c: PASS #009e73, BLOCKED #d55e00, EXPOSED #a50026).
check "Chromium takes a 1400x1000 screenshot" html_shot "$TMP/report.html" "$TMP/shot.png" 1400 1000
python3 "$SRCDIR/tests/tools/png_colors.py" "$TMP/shot.png" 009e73 d55e00 a50026 ffffff >"$TMP/colors"
sed 's/^/# /' "$TMP/colors"
check "... a PNG of 1400x1000" grep -qx "1400 1000" "$TMP/colors"
# colour_px RRGGBB: pixels of that colour in the screenshot.
colour_px() { awk -v c="$1" '$1 == c { print $2 }' "$TMP/colors"; }
for c in PASS:009e73 BLOCKED:d55e00 EXPOSED:a50026; do
	check "... with ${c%%:*}'s colour drawn (at least 1000 pixels of #${c#*:})" \
		[ "$(colour_px "${c#*:}")" -ge 1000 ]
done
check "... on a white page (most of it)" [ "$(colour_px ffffff)" -ge 700000 ]

# The probe's own: --format html without an edge to reach (row 6 to a
# closed port: REJECTED) is the same page, and fails the run.
port=$(free_port)
"$EDGELAB" probe --edge 127.0.0.1 --rows 6 --dialect rfc5389 --stun-port "$port" -t 1 \
	--format html -o "$TMP/probe.html" 2>"$TMP/probe.err"
check "probe --format html: exit status 1 (row 6 did not pass)" [ $? -eq 1 ]
html_dom "$TMP/probe.html" "$TMP/probe.dom"
python3 "$SRCDIR/tests/tools/dom_ids.py" "$TMP/probe.dom" >"$TMP/probe.ids"
sed 's/^/# /' "$TMP/probe.ids"
check "... its page has row 6's arrow, inbound, REJECTED" \
	dom_flow "$TMP/probe.ids" flow-row6-rfc5389 REJECTED inbound
finish
