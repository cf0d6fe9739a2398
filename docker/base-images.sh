#!/bin/sh
# Makes sure the base images docker/Dockerfile builds on are here:
# debian:bookworm (the build stage) and debian:bookworm-slim (the image).
# An image already present is kept. A missing one is pulled; where no
# registry answers (a lab network without internet), it is built from
# Debian's package archive with mmdebstrap and tagged locally, so that
# `docker build` finds it. Run as root (or a member of the docker group
# with mmdebstrap's unshare mode).
#
#   docker/base-images.sh            pull, else build, what is missing
#   docker/base-images.sh --build    never pull: build what is missing
#   docker/base-images.sh --force    build both anew, even if present
#
# DEBIAN_MIRROR and DEBIAN_SECURITY_MIRROR name the archive to build from
# (default deb.debian.org): a closed network's own mirror goes there.
set -eu

mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
security=${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
pull=yes
force=no
case "${1:-}" in
"") ;;
--build) pull=no ;;
--force) pull=no; force=yes ;;
*) echo "usage: $0 [--build|--force]" >&2; exit 2 ;;
esac

command -v docker >/dev/null || { echo "base-images: docker is not installed" >&2; exit 1; }

# /usr is merged by mmdebstrap's hook rather than by the usrmerge package,
# which would pull in perl (45 MB) that Debian's images do not have.
# debian:bookworm-slim leaves out documentation, man pages and locales, as
# Debian's own slim images do; debian:bookworm keeps them.
slim_opts="--dpkgopt=path-exclude=/usr/share/man/*
--dpkgopt=path-exclude=/usr/share/doc/*
--dpkgopt=path-include=/usr/share/doc/*/copyright
--dpkgopt=path-exclude=/usr/share/locale/*
--dpkgopt=path-exclude=/usr/share/info/*"

build() { # TAG EXTRA-OPTIONS
	command -v mmdebstrap >/dev/null ||
		{ echo "base-images: mmdebstrap is not installed (apt-get install mmdebstrap)" >&2; exit 1; }
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT INT TERM
	echo "base-images: building debian:$1 from $mirror with mmdebstrap"
	# shellcheck disable=SC2086
	mmdebstrap --quiet --variant=minbase \
		--hook-dir=/usr/share/mmdebstrap/hooks/merged-usr $2 bookworm "$tmp/rootfs.tar" \
		"deb $mirror bookworm main" "deb $mirror bookworm-updates main" \
		"deb $security bookworm-security main" >"$tmp/log" 2>&1 ||
		{ cat "$tmp/log" >&2; echo "base-images: mmdebstrap failed" >&2; exit 1; }
	docker import --change 'CMD ["bash"]' \
		--message "debian:$1 built by edgelab's docker/base-images.sh from $mirror" \
		"$tmp/rootfs.tar" "debian:$1" >/dev/null
	rm -rf "$tmp"
	trap - EXIT INT TERM
	echo "base-images: debian:$1 is built"
}

for tag in bookworm bookworm-slim; do
	if [ "$force" = no ] && docker image inspect "debian:$tag" >/dev/null 2>&1; then
		echo "base-images: debian:$tag is here"
		continue
	fi
	if [ "$pull" = yes ] && timeout 60 docker pull -q "debian:$tag" >/dev/null 2>&1; then
		echo "base-images: debian:$tag pulled"
		continue
	fi
	[ "$tag" = bookworm-slim ] && opts=$slim_opts || opts=""
	build "$tag" "$opts"
done
