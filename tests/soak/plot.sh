#!/bin/sh
# plot.sh CSV [WARM]: the soak's RSS (MB, left axis) and open descriptors
# (right axis) over time (s) as an SVG on stdout: two polylines drawn by
# hand, no plotting package. WARM: where the warm-up ends (a dashed line).
# CSV: tests/soak/soak.sh's (t_s, rss_kb, fds first).
set -u
[ -r "${1:-}" ] || { echo "usage: $0 CSV [WARM_SECONDS]" >&2; exit 2; }
awk -F, -v warm="${2:-0}" 'BEGIN { n = 0 }
NR > 1 { t[n] = $1; r[n] = $2 / 1024; f[n] = $3; n++
	if ($1 > tmax) tmax = $1; if ($2 / 1024 > rmax) rmax = $2 / 1024; if ($3 > fmax) fmax = $3 }
function x(v) { return 60 + 660 * v / (tmax ? tmax : 1) }
function y(v, top) { return 330 - 290 * v / (top ? top : 1) }
function line(vals, top, color,   i, pts) {
	for (i = 0; i < n; i++) pts = pts sprintf("%.1f,%.1f ", x(t[i]), y(vals[i], top))
	printf "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"%s\"/>\n", color, pts
}
END {
	rmax = rmax * 1.1; fmax = fmax * 1.1
	print "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"800\" height=\"380\" font-family=\"sans-serif\" font-size=\"12\">"
	print "<rect width=\"800\" height=\"380\" fill=\"white\"/>"
	print "<text x=\"400\" y=\"20\" text-anchor=\"middle\" font-size=\"14\">edgelab soak: serve RSS and open descriptors</text>"
	print "<line x1=\"60\" y1=\"330\" x2=\"720\" y2=\"330\" stroke=\"black\"/>"
	print "<line x1=\"60\" y1=\"40\" x2=\"60\" y2=\"330\" stroke=\"#1f77b4\"/>"
	print "<line x1=\"720\" y1=\"40\" x2=\"720\" y2=\"330\" stroke=\"#ff7f0e\"/>"
	for (i = 0; i <= 4; i++) {
		printf "<text x=\"55\" y=\"%.1f\" text-anchor=\"end\" fill=\"#1f77b4\">%.0f</text>\n", y(rmax * i / 4, rmax) + 4, rmax * i / 4
		printf "<text x=\"725\" y=\"%.1f\" fill=\"#ff7f0e\">%.0f</text>\n", y(fmax * i / 4, fmax) + 4, fmax * i / 4
		printf "<text x=\"%.1f\" y=\"347\" text-anchor=\"middle\">%.0f</text>\n", x(tmax * i / 4), tmax * i / 4
	}
	if (warm > 0 && warm < tmax)
		printf "<line x1=\"%.1f\" y1=\"40\" x2=\"%.1f\" y2=\"330\" stroke=\"gray\" stroke-dasharray=\"4,4\"/><text x=\"%.1f\" y=\"52\" fill=\"gray\">warm-up</text>\n", x(warm), x(warm), x(warm) - 50
	print "<text x=\"390\" y=\"370\" text-anchor=\"middle\">time (s)</text>"
	print "<text x=\"15\" y=\"185\" fill=\"#1f77b4\" transform=\"rotate(-90 15 185)\" text-anchor=\"middle\">RSS (MB)</text>"
	print "<text x=\"785\" y=\"185\" fill=\"#ff7f0e\" transform=\"rotate(90 785 185)\" text-anchor=\"middle\">open descriptors</text>"
	line(r, rmax, "#1f77b4")
	line(f, fmax, "#ff7f0e")
	print "</svg>"
}' "$1"
