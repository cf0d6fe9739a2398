#!/usr/bin/env bash
# coturn_build.sh SRC: builds coturn's turnserver from its source, out of
# tree, for the benchmark's newer coturn columns (run.sh --coturn-src), and
# prints the binary's path on stdout. Nothing of coturn is kept in this
# repository: the source is a path or a fetched copy.
#   SRC: a coturn source directory (its CMakeLists.txt), a git directory
#   holding the tag COTURN_TAG (default 4.17.1; exported with git archive),
#   or a git URL (https, git, ssh or file; cloned at that tag, --depth 1).
# The build goes to ${XDG_CACHE_HOME:-$HOME/.cache}/edgelab-bench/coturn-VERSION
# (a binary already there is reused), at nice 19. Missing build packages are
# installed with apt-get (root; 4.17 needs libmicrohttpd-dev for its metrics
# exporter). Exit status: 0, 1 when the build fails, 2 on a SRC that is none
# of the three.
set -eu

SRC=${1:-}
TAG=${COTURN_TAG:-4.17.1}
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/edgelab-bench

log() { echo "coturn_build.sh: $*" >&2; }

[ -n "$SRC" ] || {
	log "usage: coturn_build.sh SRC (a coturn source directory, git directory or git URL)"
	exit 2
}

case "$SRC" in
https://* | git://* | ssh://* | file://* | git@*)
	VERSION=$TAG
	DIR=$CACHE/coturn-$VERSION
	if [ ! -f "$DIR/src/CMakeLists.txt" ]; then
		rm -rf "$DIR/src"
		mkdir -p "$DIR"
		log "fetching $SRC at $TAG"
		git -c advice.detachedHead=false clone -q --depth 1 --branch "$TAG" "$SRC" "$DIR/src" >&2 || {
			log "cannot clone $SRC at $TAG"
			exit 1
		}
	fi
	SRCDIR=$DIR/src
	;;
*)
	if git --git-dir="$SRC" rev-parse --verify -q "$TAG^{commit}" >/dev/null 2>&1 ||
		git --git-dir="$SRC/.git" rev-parse --verify -q "$TAG^{commit}" >/dev/null 2>&1; then
		gitdir=$SRC
		[ -d "$SRC/.git" ] && gitdir=$SRC/.git
		VERSION=$TAG
		DIR=$CACHE/coturn-$VERSION
		if [ ! -f "$DIR/src/CMakeLists.txt" ]; then
			rm -rf "$DIR/src"
			mkdir -p "$DIR/src"
			git --git-dir="$gitdir" archive --format=tar "$TAG" | tar -x -C "$DIR/src"
		fi
		SRCDIR=$DIR/src
	elif [ -f "$SRC/CMakeLists.txt" ]; then
		VERSION=$(sed -n 's/^SET(BUILD_VERSION "\(.*\)")/\1/p' "$SRC/CMakeLists.txt" | head -1)
		[ -n "$VERSION" ] || VERSION=unknown
		DIR=$CACHE/coturn-$VERSION
		SRCDIR=$(cd "$SRC" && pwd)
	else
		log "$SRC is not a coturn source directory, nor a git directory with tag $TAG, nor a git URL"
		exit 2
	fi
	;;
esac

BIN=$DIR/build/bin/turnserver
if [ -x "$BIN" ]; then
	echo "$BIN"
	exit 0
fi

need=""
for p in cmake make gcc pkg-config libevent-dev libssl-dev libmicrohttpd-dev; do
	dpkg -s "$p" >/dev/null 2>&1 || need="$need $p"
done
if [ -n "$need" ]; then
	log "installing$need"
	# shellcheck disable=SC2086 # a list of package names
	apt-get install -y -q $need >&2 || {
		log "apt-get install$need failed (run apt-get update first?)"
		exit 1
	}
fi

mkdir -p "$DIR/build"
log "building coturn $VERSION from $SRCDIR in $DIR/build"
# A release build; the source is never written to (out of tree).
if ! nice -n 19 cmake -S "$SRCDIR" -B "$DIR/build" -DCMAKE_BUILD_TYPE=Release >"$DIR/build.log" 2>&1 ||
	! nice -n 19 make -C "$DIR/build" -j"$(nproc)" turnserver >>"$DIR/build.log" 2>&1; then
	tail -30 "$DIR/build.log" >&2
	log "build failed: $DIR/build.log"
	exit 1
fi
[ -x "$BIN" ] || {
	log "no $BIN after the build: $DIR/build.log"
	exit 1
}
echo "$BIN"
