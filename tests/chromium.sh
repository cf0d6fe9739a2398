# Headless Chromium for the tests of the HTML report (POSIX sh; source it
# after lib.sh). chromium_find finds it or skips the test (fails it under
# CI=true, where scripts/install-deps.sh --test has installed it); each run
# is bounded (timeout 60) and uses a profile in the test's $TMP, which
# lib.sh's exit trap removes. Chromium's own chatter goes to
# $TMP/chromium.log.

# Sets CHROMIUM and HEADLESS: plain --headless where it works (Chromium 132
# and later: the new mode), else --headless=new.
chromium_find() {
	CHROMIUM=""
	for c in chromium chromium-browser google-chrome; do
		CHROMIUM=$(command -v "$c") && break
	done
	if [ -z "$CHROMIUM" ]; then
		if [ "${CI:-}" = true ]; then
			not_ok "chromium is installed (scripts/install-deps.sh --test)"
			finish
		fi
		skip_all "chromium is not installed (scripts/install-deps.sh --test installs it)"
	fi
	printf '<!DOCTYPE html><p id="up">up</p>\n' >"$TMP/chromium-probe.html"
	for HEADLESS in --headless --headless=new; do
		chromium_run --dump-dom "file://$TMP/chromium-probe.html" |
			grep -q 'id="up"' && return 0
	done
	not_ok "$CHROMIUM runs headless (see below)"
	tail -n 20 "$TMP/chromium.log" | sed 's/^/# /'
	finish
}

# chromium_run ARGS...: one headless run.
chromium_run() {
	timeout -k 5 60 "$CHROMIUM" "$HEADLESS" --no-sandbox --disable-gpu --hide-scrollbars \
		--no-first-run --user-data-dir="$TMP/chromium-profile" "$@" 2>>"$TMP/chromium.log"
}

# html_dom FILE OUT: the DOM Chromium builds from FILE, serialised into OUT.
html_dom() { chromium_run --dump-dom "file://$1" >"$2" && [ -s "$2" ]; }

# html_shot FILE PNG WIDTH HEIGHT: a screenshot of FILE in a window of that size.
html_shot() {
	rm -f "$2"
	chromium_run --window-size="$3,$4" --screenshot="$2" "file://$1" >/dev/null && [ -s "$2" ]
}

# dom_flow IDS ID VERDICT DIRECTION: in dom_ids.py's output IDS, element ID
# has the class verdict-<verdict>, DIRECTION among its classes (none for a
# table row), data-verdict VERDICT and VERDICT in its text as a word.
dom_flow() {
	awk -F '\t' -v id="$2" -v v="$3" -v dir="$4" '
		$1 == id {
			found = 1
			c = " " $2 " "
			if (index(c, " verdict-" tolower(v) " ") && (dir == "" || index(c, " " dir " ")) &&
			    $3 == v && index(" " $4 " ", " " v " "))
				ok = 1
		}
		END { exit !(found && ok) }' "$1"
}
