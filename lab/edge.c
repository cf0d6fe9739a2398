/* The lab's two ends: `edgelab serve` in the edge namespace, `edgelab
 * probe` in outside. They share nothing but the network: the probe has its
 * own directory (the CA, the partner's and the controller's certificates),
 * the edge's directory is hidden from it (a private mount namespace), and
 * it drives the outbound rows through the control API over HTTPS on the
 * management link. */
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "assess/assess.h"
#include "lab/lab.h"
#include "lab/lab_int.h"
#include "lab/proc.h"

#define READY_TIMEOUT_MS 10000
#define PROBE_TIMEOUT_MS 300000

bool lab_edge_healthy(const struct lab_env *e)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	size_t n = strlen(e->ctl);
	if (n >= sizeof(sun.sun_path))
		return false;
	memcpy(sun.sun_path, e->ctl, n + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	struct timeval tv = {.tv_sec = 1};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	static const char req[] = "GET /healthz HTTP/1.0\r\n\r\n";
	char resp[64] = {0};
	bool ok = connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0 &&
	          write(fd, req, sizeof(req) - 1) == (ssize_t)(sizeof(req) - 1) &&
	          read(fd, resp, sizeof(resp) - 1) > 0 && strstr(resp, " 200 ");
	close(fd);
	return ok;
}

/* The edge's config file: its PKI (`edgelab pki`), the control API on the
 * management link for the probe's controller certificate, the lab's TURN
 * user (allowed as many allocations as `lab assess` makes calls), and the
 * strict mode's canaries. STUN over TCP 3478 is off: the port table does not open
 * it, so a canary listens there instead. */
static int write_edge_conf(const struct lab_env *e, bool no_canaries, char *err, size_t len)
{
	if (mkdir(e->edge_dir, 0700) && errno != EEXIST)
		return snprintf(err, len, "%s: %s", e->edge_dir, strerror(errno)), errno;
	int rc = LAB_RUN(e, NULL, err, len, (char *)e->self, "pki", "--out", (char *)e->pki,
	                 "--key-type", "ec", "-q");
	if (rc)
		return rc;
	/* The lab's TURN user (`lab assess`): a password of its own per lab. */
	unsigned char raw[12];
	char pass[2 * sizeof(raw) + 1];
	FILE *rnd = fopen("/dev/urandom", "r");
	bool got = rnd && fread(raw, 1, sizeof(raw), rnd) == sizeof(raw);
	if (rnd)
		fclose(rnd);
	if (!got)
		return snprintf(err, len, "/dev/urandom: cannot read"), EIO;
	for (size_t i = 0; i < sizeof(raw); i++)
		snprintf(pass + 2 * i, 3, "%02x", raw[i]);
	FILE *f = fopen(e->conf, "w");
	if (!f)
		return snprintf(err, len, "%s: %s", e->conf, strerror(errno)), errno;
	fprintf(f,
	        "# written by edgelab lab\n"
	        "stun_udp_listen %s:3478\nstun_tcp_listen off\n"
	        "sip_tls_listen %s:443\nsip_mtls_listen %s:5061\n"
	        "tls_certificate %s/edge.pem\ntls_key %s/edge.key\ntls_ca %s/ca.pem\n"
	        "federation_partner %s %s:5061\ncontrol_socket %s\n"
	        "control_listen %s:%s\ncontrol_client probe.lab\nturn_user %s %s\n"
	        "turn_user_quota %d\n",
	        LAB_EDGE_ADDR, LAB_EDGE_ADDR, LAB_EDGE_ADDR, e->pki, e->pki, e->pki,
	        LAB_PARTNER_DOMAIN, LAB_OUTSIDE_ADDR, e->ctl, LAB_EDGE_MGMT_ADDR, LAB_CONTROL_PORT,
	        LAB_TURN_USER, pass, ASSESS_MAX_CALLS);
	if (!no_canaries)
		fprintf(f, "canary_tcp %s\ncanary_udp %s\n", LAB_CANARY_TCP, LAB_CANARY_UDP);
	if (fclose(f))
		return snprintf(err, len, "%s: write failed", e->conf), EIO;
	return 0;
}

/* The probe's own directory: the CA, the partner's certificate (row 1,
 * and row 2's listener) and the controller's (the control API). Nothing
 * of the edge's: its key stays in the edge's directory. */
static int copy_probe_pki(const struct lab_env *e, char *err, size_t len)
{
	static const char *const files[] = {"ca.pem", "partner.pem", "partner.key",
	                                    "controller.pem", "controller.key"};
	if (mkdir(e->probe_dir, 0700) && errno != EEXIST)
		return snprintf(err, len, "%s: %s", e->probe_dir, strerror(errno)), errno;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char from[LAB_PATH_MAX + 32], to[LAB_PATH_MAX + 32];
		snprintf(from, sizeof(from), "%s/%s", e->pki, files[i]);
		snprintf(to, sizeof(to), "%s/%s", e->probe_dir, files[i]);
		int rc = LAB_RUN(e, NULL, err, len, "cp", from, to);
		if (rc)
			return rc;
	}
	return 0;
}

int lab_edge_spawn(const struct lab_env *e, bool no_canaries, bool detach, pid_t *pid, char *err,
                   size_t len)
{
	char *const argv[] = {(char *)e->self, "serve", "--config", (char *)e->conf, NULL};
	int rc = write_edge_conf(e, no_canaries, err, len);
	if (!rc)
		rc = copy_probe_pki(e, err, len);
	if (rc)
		return rc;
	rc = detach ? proc_spawn_detached(e->ns[LAB_EDGE], argv, e->edge_log, pid)
	            : proc_spawn(e->ns[LAB_EDGE], argv, e->edge_log, pid);
	if (rc)
		snprintf(err, len, "starting edgelab serve: %s", strerror(rc));
	return rc;
}

int lab_edge_wait_ready(const struct lab_env *e, pid_t *pid, char *err, size_t len)
{
	for (unsigned waited = 0; waited < READY_TIMEOUT_MS; waited += 50) {
		int status;
		if (lab_edge_healthy(e))
			return 0;
		if (proc_interrupted())
			return snprintf(err, len, "interrupted"), EINTR;
		if (proc_exited(*pid, &status)) {
			*pid = 0;
			snprintf(err, len, "edgelab serve exited with status %d (see %s)", status,
			         e->edge_log);
			return ECHILD;
		}
		nanosleep(&(struct timespec){.tv_nsec = 50000000L}, NULL);
	}
	snprintf(err, len, "edgelab serve did not answer /healthz in %d s",
	         READY_TIMEOUT_MS / 1000);
	return ETIMEDOUT;
}

int lab_probe_run(const struct lab_env *e, const struct lab_probe_args *a, int *status, char *err,
                  size_t len)
{
	char control[64];
	snprintf(control, sizeof(control), "https://%s:%s", LAB_EDGE_MGMT_ADDR, LAB_CONTROL_PORT);
	/* clang-format off */
	char *argv[] = {(char *)e->self, "probe",
			"--edge", LAB_EDGE_ADDR, "--bind", LAB_OUTSIDE_ADDR,
			"--rows", (char *)a->rows, "--format", (char *)a->format,
			"--timeout", (char *)a->timeout,
			"--pki", (char *)e->probe_dir, "--control", control,
			a->no_strict ? NULL : "--strict", NULL};
	/* clang-format on */
	pid_t pid;
	if (e->verbose) {
		fprintf(stderr, "lab: in %s, with %s hidden:", e->ns[LAB_OUTSIDE], e->edge_dir);
		for (char **p = argv; *p; p++)
			fprintf(stderr, " %s", *p);
		fputc('\n', stderr);
	}
	int rc = proc_spawn_hiding(e->ns[LAB_OUTSIDE], e->edge_dir, argv, NULL, &pid);
	if (!rc)
		rc = proc_wait(pid, PROBE_TIMEOUT_MS, status);
	if (rc == EINTR)
		proc_stop(pid, 1000);
	if (rc)
		snprintf(err, len, "probe: %s", rc == EINTR ? "interrupted" : strerror(rc));
	return rc;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path); /* best effort: go on with the rest */
	return 0;
}

void lab_remove_tree(const char *dir)
{
	nftw(dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

bool lab_log_wait(const char *path, const char *prefix, unsigned ms)
{
	size_t n = strlen(prefix);
	for (unsigned waited = 0;; waited += 50) {
		char line[256];
		FILE *f = fopen(path, "r");
		bool yes = false;
		while (f && !yes && fgets(line, sizeof(line), f))
			yes = !strncmp(line, prefix, n);
		if (f)
			fclose(f);
		if (yes || waited >= ms)
			return yes;
		usleep(50 * 1000);
	}
}

void lab_print_log(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[512];
	struct stat st;
	if (!f)
		return;
	if (fstat(fileno(f), &st) || st.st_size == 0) {
		fclose(f);
		return;
	}
	fprintf(stderr, "lab: --- %s ---\n", path);
	while (fgets(line, sizeof(line), f))
		fprintf(stderr, "  %s", line);
	fclose(f);
}
