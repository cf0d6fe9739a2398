# What the tests of labs that stay up share (tests/lab/test_labs.sh,
# test_labs_fed.sh); sourced after tests/lib.sh.

# L ARGS...: edgelab lab ARGS, bounded by LAB_TIMEOUT seconds (60).
L() { timeout "${LAB_TIMEOUT:-60}" "$EDGELAB" lab "$@"; }
# run NAME CMD...: runs an edgelab lab command, its output in $TMP/NAME.out
# and .err (shown as comments); sets rc.
run() {
	n=$1
	shift
	L "$@" >"$TMP/$n.out" 2>"$TMP/$n.err"
	rc=$?
	sed 's/^/# /' "$TMP/$n.out" "$TMP/$n.err"
}
# has NAME REGEX: $TMP/NAME matches.
has() { grep -qE -- "$2" "$TMP/$1"; }
