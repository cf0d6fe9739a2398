#!/bin/sh
# Installs what edgelab needs on Debian bookworm: to build (--build), to build
# and run the lab (--run), or to build and run every test (--test, the
# default). Idempotent: packages already present are left alone.
set -eu

build_pkgs="build-essential autoconf automake pkg-config libevent-dev libssl-dev
libre-dev zlib1g-dev libcmocka-dev libc-ares-dev libsystemd-dev libnetfilter-queue-dev"
run_pkgs="iproute2 nftables iptables procps util-linux"
# The image and the compose lab (docker/): an engine, Compose, and
# mmdebstrap for base images where no registry answers.
docker_pkgs="docker.io docker-compose mmdebstrap"
test_pkgs="python3 clang libclang-rt-14-dev coturn stun-client tshark psmisc
openssl curl dnsmasq-base kamailio kamailio-tls-modules baresip-core libnice-dev
chromium fonts-dejavu-core systemd conntrack"

want="$build_pkgs"
case "${1:-}" in
--build) ;;
--run) want="$build_pkgs $run_pkgs" ;;
"" | --test) want="$build_pkgs $run_pkgs $test_pkgs $docker_pkgs" ;;
*) echo "usage: $0 [--build|--run|--test]" >&2; exit 2 ;;
esac

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: must run as root (apt-get)" >&2
	exit 1
fi

missing=""
for p in $want; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && { echo "install-deps: all packages present"; exit 0; }

echo "install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer it up front.
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing
