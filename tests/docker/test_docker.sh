#!/bin/sh
# The image and the compose lab (docker/), with a real Docker engine (root
# only): the base images (pulled, or built from Debian's archive by
# docker/base-images.sh, and kept for the next run), the image (its size,
# its user, its first-start PKI and a mounted one, coturn's STUN client
# against its published port, its health check, a clean docker stop), and
# the compose lab: every row PASS and nothing exposed with the default
# rules, a JUnit file that parses; row 1 BLOCKED and a non-zero exit with a
# mounted ruleset that leaves row 1 out; nothing left after `down`. Starts
# dockerd when none runs, and stops it again.
set -u
. "$SRCDIR/tests/lib.sh"

skip_slow "Docker: base images, an image build and two compose labs"
[ "$(id -u)" -eq 0 ] || skip_all "not root: the Docker tests need root (dockerd, containers)"
command -v docker >/dev/null ||
	skip_all "docker is not installed (scripts/install-deps.sh --test installs docker.io)"
if command -v docker-compose >/dev/null; then
	compose="docker-compose"
elif docker compose version >/dev/null 2>&1; then
	compose="docker compose"
else
	skip_all "neither docker-compose nor docker compose (scripts/install-deps.sh --test)"
fi

# since STARTED: seconds from STARTED (date +%s.%N) to now, for the log.
since() {
	python3 -c 'import sys; print("%.2f" % (float(sys.argv[2]) - float(sys.argv[1])))' \
		"$1" "$(date +%s.%N)"
}

# ---- the engine: ours only when none runs ----
if ! docker info >/dev/null 2>&1; then
	command -v dockerd >/dev/null || skip_all "no Docker engine runs and dockerd is not installed"
	dockerd >"$TMP/dockerd.log" 2>&1 &
	dockerd_pid=$!
	at_exit "stop_term $dockerd_pid 15"
	if ! wait_for 60 docker info; then
		tail -n 20 "$TMP/dockerd.log"
		not_ok "dockerd started"
		finish
	fi
	echo "# started dockerd (pid $dockerd_pid); it stops at the end"
fi

# ---- the base images and the image ----
started=$(date +%s.%N)
check "the base images are here (pulled, kept, or built with mmdebstrap)" \
	"$SRCDIR/docker/base-images.sh"
echo "# base images: $(since "$started") s"
check "debian:bookworm-slim is tagged" sh -c "docker image inspect debian:bookworm-slim >/dev/null"
image="edgelab:test-$$"
at_exit "docker rmi -f $image; docker image prune -f --filter label=org.edgelab.stage=build"
started=$(date +%s.%N)
if ! docker build -q -f "$SRCDIR/docker/Dockerfile" -t "$image" "$SRCDIR" >"$TMP/build.log" 2>&1; then
	tail -n 30 "$TMP/build.log"
	not_ok "the image builds"
	finish
fi
ok "the image builds"
echo "# image build: $(since "$started") s"
size=$(docker image inspect -f '{{.Size}}' "$image")
echo "# image size: $((size / 1000000)) MB ($size bytes)"
check "the image is under 120 MB" [ "$size" -lt 120000000 ]
check "it runs as a user of its own" [ "$(docker image inspect -f '{{.Config.User}}' "$image")" = edgelab ]
check "the binary is the entrypoint (docker run IMAGE rules)" \
	sh -c "docker run --rm $image rules | grep -q 'tcp dport 5061 accept'"

# ---- serve: first start without certificates ----
stun=$(free_port)
tls=$(free_port)
c1=edgelab-test-$$-a
at_exit "docker rm -f -v $c1"
docker run -d --name "$c1" -p "127.0.0.1:$stun:3478/udp" -p "127.0.0.1:$tls:443/tcp" \
	"$image" >/dev/null
check "serve runs as uid 10001, not root" \
	sh -c "docker top $c1 -eo pid,uid,comm | grep -q ' 10001 *edgelab$'"
wait_for 30 sh -c "[ \"\$(docker inspect -f '{{.State.Health.Status}}' $c1)\" = healthy ]"
check "the health check (edgelab ctl healthz) says healthy" \
	[ "$(docker inspect -f '{{.State.Health.Status}}' "$c1")" = healthy ]
check "first start without certificates writes a lab PKI and says so" \
	sh -c "docker logs $c1 2>&1 | grep -q 'tls_generate: no certificates in /etc/edgelab/pki: wrote a lab PKI'"
if command -v turnutils_stunclient >/dev/null; then
	turnutils_stunclient -p "$stun" 127.0.0.1 >"$TMP/stun.out" 2>&1
	check "coturn's turnutils_stunclient gets a mapped address from the published 3478" \
		grep -q 'UDP reflexive addr' "$TMP/stun.out"
else
	not_ok "turnutils_stunclient is installed (coturn)"
fi
check "SIP over TLS answers on the published 443 with the generated certificate" \
	sh -c "echo | openssl s_client -connect 127.0.0.1:$tls 2>/dev/null | grep -q 'CN *= *sip.edge.example'"
started=$(date +%s.%N)
docker stop "$c1" >/dev/null
echo "# docker stop took $(since "$started") s"
check "docker stop: serve exits 0 (SIGTERM, well within the 10 s before SIGKILL)" \
	[ "$(docker inspect -f '{{.State.ExitCode}}' "$c1")" = 0 ]
check "docker stop: serve logs that it stopped" sh -c "docker logs $c1 2>&1 | grep -q 'info  stopped'"

# ---- serve: mounted certificates are used, not replaced ----
"$EDGELAB" pki --out "$TMP/pki" --key-type ec --edge-fqdn sip.mounted.example \
	--sip-domain mounted.example -q
chown -R 10001:10001 "$TMP/pki"
c2=edgelab-test-$$-b
at_exit "docker rm -f -v $c2"
tls2=$(free_port)
docker run -d --name "$c2" -p "127.0.0.1:$tls2:443/tcp" -v "$TMP/pki:/etc/edgelab/pki" \
	"$image" >/dev/null
check "with mounted certificates: serve becomes healthy" \
	wait_for 30 sh -c "[ \"\$(docker inspect -f '{{.State.Health.Status}}' $c2)\" = healthy ]"
check "with mounted certificates: nothing is generated" \
	sh -c "! docker logs $c2 2>&1 | grep -q tls_generate"
check "with mounted certificates: 443 presents the mounted one" \
	sh -c "echo | openssl s_client -connect 127.0.0.1:$tls2 2>/dev/null | grep -q 'CN *= *sip.mounted.example'"
docker rm -f -v "$c2" >/dev/null

# ---- the compose lab ----
project="edgelab-test-$$"
file="$SRCDIR/docker/compose.yaml"
down() { EDGELAB_IMAGE=$image $compose -p "$project" -f "$file" down --volumes >/dev/null 2>&1; }
at_exit down
# run_lab REPORTS [RULES]: up --exit-code-from probe; its status.
run_lab() {
	mkdir -p "$1"
	started=$(date +%s.%N)
	EDGELAB_IMAGE=$image EDGELAB_REPORTS=$1 EDGELAB_RULES=${2:-./rules} \
		timeout 300 $compose -p "$project" -f "$file" up --no-build --exit-code-from probe \
		>"$1.log" 2>&1
	status=$?
	echo "# compose lab: up to the probe's exit in $(since "$started") s (exit $status)"
	fw=$(EDGELAB_IMAGE=$image $compose -p "$project" -f "$file" ps -q fw)
	docker logs "$fw" >"$1.fw.log" 2>&1
	fw_exit=$(docker inspect -f '{{.State.ExitCode}}' "$fw")
	down
	return $status
}

run_lab "$TMP/reports-ok"
status=$?
check "compose lab, default rules: up --exit-code-from probe exits 0" [ "$status" -eq 0 ]
[ "$status" -eq 0 ] || tail -n 40 "$TMP/reports-ok.log"
cat >"$TMP/junit.py" <<'PY'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
cases = root.findall(".//testcase")
bad = [c.get("name") + ":" + f.get("type") for c in cases for f in c.findall("failure") + c.findall("error")]
print(len(cases), ",".join(bad))
PY
junit=$(python3 "$TMP/junit.py" "$TMP/reports-ok/edgelab-junit.xml" 2>&1)
check "the JUnit report parses: 18 flows (8 rows, 10 closed), none failed ($junit)" \
	[ "$junit" = "18 " ]
check "the HTML report is written" grep -q 'verdict-pass' "$TMP/reports-ok/edgelab.html"
check "the probe's table is in compose's output" grep -q '8 passed, 0 blocked' "$TMP/reports-ok.log"
check "fw loaded the lab's policy (docker/rules/.lab-policy)" \
	grep -q "under the lab's policy (edgelab rules --lab)" "$TMP/reports-ok.fw.log"

"$EDGELAB" rules --lab | grep -v 'comment "row 1:' >"$TMP/no-row1.nft"
run_lab "$TMP/reports-bad" "$TMP/no-row1.nft"
status=$?
check "compose lab, a mounted ruleset without row 1: a non-zero exit ($status)" [ "$status" -ne 0 ]
check "fw loaded the mounted ruleset" grep -q 'under /etc/edgelab/rules (nft)' "$TMP/reports-bad.fw.log"
junit=$(python3 "$TMP/junit.py" "$TMP/reports-bad/edgelab-junit.xml" 2>&1)
check "the JUnit report fails row 1 only, BLOCKED ($junit)" \
	[ "$junit" = "18 row 1 partner -> edge SIP/MTLS:BLOCKED" ]

# A ruleset that does not load: fw stops (exit 4), the probe never runs.
printf 'table inet mine {\n\tchain forward {\n\t\ttype filter hook forward prioritty 0;\n\t}\n}\n' \
	>"$TMP/broken.nft"
run_lab "$TMP/reports-broken" "$TMP/broken.nft"
status=$?
check "compose lab, a ruleset that does not load: a non-zero exit ($status)" [ "$status" -ne 0 ]
check "fw stopped with exit 4 (not loaded)" [ "$fw_exit" = 4 ]
check "fw quotes nft, with the line" grep -q '/etc/edgelab/rules:3:.*syntax error' "$TMP/reports-broken.fw.log"
# A mistyped path: Docker mounts an empty directory, fw refuses it.
run_lab "$TMP/reports-typo" "$TMP/no-such-rules.nft"
status=$?
check "compose lab, EDGELAB_RULES mistyped: a non-zero exit ($status), not our policy" [ "$status" -ne 0 ]
check "fw stopped with exit 2" [ "$fw_exit" = 2 ]
check "fw says the folder holds no ruleset" grep -q 'holds no ruleset' "$TMP/reports-typo.fw.log"
rm -rf "$TMP/no-such-rules.nft"

check "after down: no container is left" \
	sh -c "[ -z \"\$(docker ps -aq --filter label=com.docker.compose.project=$project)\" ]"
check "after down: no network is left" \
	sh -c "[ -z \"\$(docker network ls -q --filter label=com.docker.compose.project=$project)\" ]"
check "after down: no volume is left" \
	sh -c "[ -z \"\$(docker volume ls -q --filter label=com.docker.compose.project=$project)\" ]"
finish
