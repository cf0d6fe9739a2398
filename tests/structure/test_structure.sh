#!/bin/sh
# The structure the architecture (docs/architecture.md) promises, checked on
# the build: no cycles between files or modules, the codec depending on no
# other module, no relay protocol file using a transport, metrics declared
# by their modules, code citing docs/ rather than ../shared. Reads the
# objects of the build (scripts/structure.py, nm) and the sources.
set -u
. "$(dirname "$0")/../lib.sh"

command -v python3 >/dev/null || { not_ok "python3 is installed (scripts/install-deps.sh)"; finish; }
out=$TMP/structure.txt
python3 "$SRCDIR/scripts/structure.py" "$BUILDDIR" --edges >"$out" 2>&1 ||
	{ not_ok "scripts/structure.py reads the build"; sed 's/^/# /' "$out"; finish; }
sed -n '1,/^longest/p' "$out" | sed 's/^/# /'

check "no cycle between files" grep -q "file cycles (strongly connected sets): 0$" "$out"
check "no cycle between modules" grep -q "^module cycles: 0$" "$out"
check "the stun/ codec uses no other module" grep -q "^  stun: -$" "$out"
check "core/ uses no other module" grep -q "^  core: -$" "$out"
check "every module's sources were read (relay, sipfront, control)" \
	sh -c 'grep -q "^relay/turn.c -> " "$0" && grep -q "^sipfront/conn.c -> " "$0" &&
		grep -q "^control/server.c -> " "$0"' "$out"

# relay/: the transports (stun_udp.c, stun_tcp.c) and server.c may use the
# protocol code; no protocol file may use them, by symbol or by header.
transports='relay/(stun_udp|stun_tcp|server)\.c'
back=$(grep -E '^relay/.* -> ' "$out" | grep -Ev "^$transports " | grep -E " -> $transports\$" || true)
check "no relay protocol file uses a transport's symbols" [ -z "$back" ]
[ -z "$back" ] || echo "$back" | sed 's/^/#   /'
incl=$(cd "$SRCDIR" && grep -l '"relay/transport.h"' relay/*.c relay/*.h |
	grep -Ev '^relay/(stun_udp|stun_tcp|server)\.c$' || true)
check "no relay protocol file includes relay/transport.h" [ -z "$incl" ]
[ -z "$incl" ] || echo "$incl" | sed 's/^/#   /'
check "stun/ includes only stun/ among edgelab's headers" \
	sh -c '! grep -h "#include \"" "$0"/stun/*.c "$0"/stun/*.h | grep -v "\"stun/"' "$SRCDIR"

# Metrics: core/metrics.h is the registry only; the families are the modules'.
check "core/metrics.h declares no module's metrics" \
	sh -c '! grep -Eq "METRIC_(STUN|TURN|SIP|MSTURN)_" "$0/core/metrics.h"' "$SRCDIR"

# The repository explains itself: code cites docs/, not ../shared's files.
cites=$(cd "$SRCDIR" && grep -rlE 'DESIGN\.md|(^|[^/])MSTURN\.md|shared/MSTURN' \
	--include='*.c' --include='*.h' --include='*.conf' --include='*.1' . || true)
check "no source cites DESIGN.md or MSTURN.md outside docs/" [ -z "$cites" ]
[ -z "$cites" ] || echo "$cites" | sed 's/^/#   /'
lines=$(wc -l <"$SRCDIR/README.md")
check "README.md is short ($lines lines, at most 220)" [ "$lines" -le 220 ]
finish
