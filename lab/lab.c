#include "lab/lab.h"

#include <dirent.h>
#include <ftw.h>
#include <stdarg.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "core/addr.h"
#include "lab/proc.h"
#include "lab/rules.h"

enum { NS_OUTSIDE, NS_FW, NS_EDGE, NS_COUNT };
static const char *const ns_role[NS_COUNT] = {"outside", "fw", "edge"};

#define READY_TIMEOUT_MS 10000
#define PROBE_TIMEOUT_MS 300000

struct lab {
	const struct lab_opts *o;
	char ns[NS_COUNT][64];
	bool ns_made[NS_COUNT];
	char dir[32];
	char edge_dir[48], probe_dir[48]; /* what each side sees */
	char ctl[96], rules[96], log[96], conf[96], pki[96];
	pid_t serve;
};

#define RUN(lab, ns, err, len, ...)                                                                \
	proc_run((ns), (char *const[]){__VA_ARGS__, NULL}, (lab)->log, (err), (len))

static void say(const struct lab *lab, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(const struct lab *lab, const char *fmt, ...)
{
	va_list ap;
	if (!lab->o->verbose)
		return;
	va_start(ap, fmt);
	fprintf(stderr, "lab: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static int make_namespaces(struct lab *lab, char *err, size_t len)
{
	for (int i = 0; i < NS_COUNT; i++) {
		snprintf(lab->ns[i], sizeof(lab->ns[i]), "edgelab-%ld-%s", (long)getpid(),
		         ns_role[i]);
		int rc = RUN(lab, NULL, err, len, "ip", "netns", "add", lab->ns[i]);
		if (rc)
			return rc;
		lab->ns_made[i] = true;
	}
	return 0;
}

/* One veth pair between two namespaces, addressed, up, with a default route
 * on the host side (outside or edge) through fw. */
static int make_link(struct lab *lab, int host, const char *host_if, const char *host_addr,
                     const char *fw_if, const char *fw_addr, char *err, size_t len)
{
	char host_cidr[32], fw_cidr[32];
	snprintf(host_cidr, sizeof(host_cidr), "%s/24", host_addr);
	snprintf(fw_cidr, sizeof(fw_cidr), "%s/24", fw_addr);
	const char *hns = lab->ns[host], *fns = lab->ns[NS_FW];
	int rc =
	    RUN(lab, NULL, err, len, "ip", "link", "add", "name", (char *)host_if, "netns",
	        (char *)hns, "type", "veth", "peer", "name", (char *)fw_if, "netns", (char *)fns);
	if (!rc)
		rc =
		    RUN(lab, hns, err, len, "ip", "addr", "add", host_cidr, "dev", (char *)host_if);
	if (!rc)
		rc = RUN(lab, hns, err, len, "ip", "link", "set", (char *)host_if, "up");
	if (!rc)
		rc = RUN(lab, hns, err, len, "ip", "link", "set", "lo", "up");
	if (!rc)
		rc = RUN(lab, hns, err, len, "ip", "route", "add", "default", "via",
		         (char *)fw_addr);
	if (!rc)
		rc = RUN(lab, fns, err, len, "ip", "addr", "add", fw_cidr, "dev", (char *)fw_if);
	if (!rc)
		rc = RUN(lab, fns, err, len, "ip", "link", "set", (char *)fw_if, "up");
	return rc;
}

/* The management link, outside to edge directly, for the control API: it
 * bypasses fw, as an out-of-band management network would, so that the
 * ruleset under test need not open the control port. Its addresses are a
 * /24 of their own: nothing else is routed over it. */
static int make_mgmt_link(struct lab *lab, char *err, size_t len)
{
	const char *ons = lab->ns[NS_OUTSIDE], *ens = lab->ns[NS_EDGE];
	int rc =
	    RUN(lab, NULL, err, len, "ip", "link", "add", "name", LAB_MGMT_IF, "netns", (char *)ons,
	        "type", "veth", "peer", "name", LAB_MGMT_IF, "netns", (char *)ens);
	if (!rc)
		rc = RUN(lab, ons, err, len, "ip", "addr", "add", LAB_PROBE_MGMT_ADDR "/24", "dev",
		         LAB_MGMT_IF);
	if (!rc)
		rc = RUN(lab, ons, err, len, "ip", "link", "set", LAB_MGMT_IF, "up");
	if (!rc)
		rc = RUN(lab, ens, err, len, "ip", "addr", "add", LAB_EDGE_MGMT_ADDR "/24", "dev",
		         LAB_MGMT_IF);
	if (!rc)
		rc = RUN(lab, ens, err, len, "ip", "link", "set", LAB_MGMT_IF, "up");
	return rc;
}

/* The generated policy, or the user's ruleset as it is. */
static int write_rules(struct lab *lab, char *err, size_t len)
{
	struct rules_opts ro = {.drop_mask = lab->o->drop_mask,
	                        .reject_mask = lab->o->reject_mask,
	                        .outside_if = LAB_FW_OUTSIDE_IF,
	                        .edge_if = LAB_FW_EDGE_IF};
	addr_parse(LAB_EDGE_ADDR, 0, &ro.edge);
	FILE *f = fopen(lab->rules, "w");
	if (!f) {
		snprintf(err, len, "%s: %s", lab->rules, strerror(errno));
		return errno;
	}
	int rc = rules_write_nft(f, &ro);
	if (fclose(f) || rc) {
		snprintf(err, len, "writing %s failed", lab->rules);
		return rc ? rc : EIO;
	}
	return 0;
}

static int load_rules(struct lab *lab, char *err, size_t len)
{
	const char *rules = lab->o->rules ? lab->o->rules : lab->rules;
	int rc = lab->o->rules ? 0 : write_rules(lab, err, len);
	if (!rc)
		rc = RUN(lab, lab->ns[NS_FW], err, len, "sysctl", "-q", "-w",
		         "net.ipv4.ip_forward=1");
	/* The relay owns 50000-59999: the edge's ephemeral ports must not come
	 * from there, or its outbound 5061 connections (row 2) would pass on
	 * row 4's rule (edge source ports 50000-59999) when row 2's is dropped. */
	if (!rc)
		rc = RUN(lab, lab->ns[NS_EDGE], err, len, "sysctl", "-q", "-w",
		         "net.ipv4.ip_local_port_range=32768 49999");
	if (!rc)
		rc = RUN(lab, lab->ns[NS_FW], err, len, "nft", "-f", (char *)rules);
	return rc;
}

/* GET /healthz over the control socket; true on a 200. */
static bool edge_healthy(const char *ctl)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", ctl);
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

static void print_log_tail(const struct lab *lab)
{
	FILE *f = fopen(lab->log, "r");
	char line[512];
	if (!f)
		return;
	fprintf(stderr, "lab: --- %s ---\n", lab->log);
	while (fgets(line, sizeof(line), f))
		fprintf(stderr, "  %s", line);
	fclose(f);
}

/* The edge's config file: its PKI (`edgelab pki`), the control API on the
 * management link for the probe's controller certificate, and the strict
 * mode's canaries. STUN over TCP 3478 is off: the port table does not open
 * it, so a canary listens there instead. */
static int write_edge_conf(struct lab *lab, char *err, size_t len)
{
	int rc = RUN(lab, NULL, err, len, (char *)lab->o->self, "pki", "--out", lab->pki,
	             "--key-type", "ec", "-q");
	if (rc)
		return rc;
	FILE *f = fopen(lab->conf, "w");
	if (!f)
		return snprintf(err, len, "%s: %s", lab->conf, strerror(errno)), errno;
	fprintf(f,
	        "# written by edgelab lab\n"
	        "stun_udp_listen %s:3478\nstun_tcp_listen off\n"
	        "sip_tls_listen %s:443\nsip_mtls_listen %s:5061\n"
	        "tls_certificate %s/edge.pem\ntls_key %s/edge.key\ntls_ca %s/ca.pem\n"
	        "federation_partner %s %s:5061\ncontrol_socket %s\n"
	        "control_listen %s:%s\ncontrol_client probe.lab\n",
	        LAB_EDGE_ADDR, LAB_EDGE_ADDR, LAB_EDGE_ADDR, lab->pki, lab->pki, lab->pki,
	        LAB_PARTNER_DOMAIN, LAB_OUTSIDE_ADDR, lab->ctl, LAB_EDGE_MGMT_ADDR,
	        LAB_CONTROL_PORT);
	if (!lab->o->no_strict)
		fprintf(f, "canary_tcp %s\ncanary_udp %s\n", LAB_CANARY_TCP, LAB_CANARY_UDP);
	if (fclose(f))
		return snprintf(err, len, "%s: write failed", lab->conf), EIO;
	return 0;
}

/* The probe's own directory: the CA, the partner's certificate (row 1,
 * and row 2's listener) and the controller's (the control API). Nothing
 * of the edge's: its key stays in the edge's directory. */
static int copy_probe_pki(struct lab *lab, char *err, size_t len)
{
	static const char *const files[] = {"ca.pem", "partner.pem", "partner.key",
	                                    "controller.pem", "controller.key"};
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char from[128], to[128];
		snprintf(from, sizeof(from), "%s/%s", lab->pki, files[i]);
		snprintf(to, sizeof(to), "%s/%s", lab->probe_dir, files[i]);
		int rc = RUN(lab, NULL, err, len, "cp", from, to);
		if (rc)
			return rc;
	}
	return 0;
}

static int start_serve(struct lab *lab, char *err, size_t len)
{
	char *const argv[] = {(char *)lab->o->self, "serve", "--config", lab->conf, NULL};
	int rc = write_edge_conf(lab, err, len);
	if (rc)
		return rc;
	rc = proc_spawn(lab->ns[NS_EDGE], argv, lab->log, &lab->serve);
	if (rc) {
		snprintf(err, len, "starting edgelab serve: %s", strerror(rc));
		return rc;
	}
	for (unsigned waited = 0; waited < READY_TIMEOUT_MS; waited += 50) {
		int status;
		if (edge_healthy(lab->ctl))
			return 0;
		if (proc_interrupted())
			return snprintf(err, len, "interrupted"), EINTR;
		if (proc_exited(lab->serve, &status)) {
			lab->serve = 0;
			snprintf(err, len, "edgelab serve exited with status %d", status);
			return ECHILD;
		}
		nanosleep(&(struct timespec){.tv_nsec = 50000000L}, NULL);
	}
	snprintf(err, len, "edgelab serve did not answer /healthz in %d s",
	         READY_TIMEOUT_MS / 1000);
	return ETIMEDOUT;
}

static int run_probe(struct lab *lab, int *status, char *err, size_t len)
{
	char control[64];
	snprintf(control, sizeof(control), "https://%s:%s", LAB_EDGE_MGMT_ADDR, LAB_CONTROL_PORT);
	/* clang-format off */
	char *argv[] = {(char *)lab->o->self, "probe",
			"--edge", LAB_EDGE_ADDR, "--bind", LAB_OUTSIDE_ADDR,
			"--rows", (char *)lab->o->rows, "--format", (char *)lab->o->format,
			"--timeout", (char *)lab->o->timeout,
			"--pki", lab->probe_dir, "--control", control,
			lab->o->no_strict ? NULL : "--strict", NULL};
	/* clang-format on */
	pid_t pid;
	int rc = copy_probe_pki(lab, err, len);
	if (rc)
		return rc;
	if (lab->o->verbose) {
		fprintf(stderr, "lab: in %s, with %s hidden:", lab->ns[NS_OUTSIDE], lab->edge_dir);
		for (char **a = argv; *a; a++)
			fprintf(stderr, " %s", *a);
		fputc('\n', stderr);
	}
	rc = proc_spawn_hiding(lab->ns[NS_OUTSIDE], lab->edge_dir, argv, NULL, &pid);
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

/* The lab's temporary directory and everything in it (the PKI, logs). */
static void remove_tree(const char *dir)
{
	nftw(dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

/* Mirrors the build in reverse; safe on a half-built lab. Deleting a
 * namespace also deletes its veth ends. */
static void teardown(struct lab *lab)
{
	char err[256];
	proc_honour_interrupts(false);
	if (lab->serve > 0)
		proc_stop(lab->serve, 3000);
	lab->serve = 0;
	for (int i = NS_COUNT; i-- > 0;) {
		if (lab->ns_made[i] &&
		    RUN(lab, NULL, err, sizeof(err), "ip", "netns", "del", lab->ns[i]))
			fprintf(stderr, "lab: %s\n", err);
		lab->ns_made[i] = false;
	}
	if (lab->dir[0])
		remove_tree(lab->dir);
}

static int build(struct lab *lab, char *err, size_t len)
{
	snprintf(lab->dir, sizeof(lab->dir), "/tmp/edgelab-lab-XXXXXX");
	if (!mkdtemp(lab->dir)) {
		lab->dir[0] = '\0';
		snprintf(err, len, "mkdtemp: %s", strerror(errno));
		return errno;
	}
	snprintf(lab->edge_dir, sizeof(lab->edge_dir), "%s/edge", lab->dir);
	snprintf(lab->probe_dir, sizeof(lab->probe_dir), "%s/probe", lab->dir);
	snprintf(lab->ctl, sizeof(lab->ctl), "%s/control.sock", lab->edge_dir);
	snprintf(lab->rules, sizeof(lab->rules), "%s/rules.nft", lab->dir);
	snprintf(lab->log, sizeof(lab->log), "%s/lab.log", lab->dir);
	snprintf(lab->conf, sizeof(lab->conf), "%s/edge.conf", lab->edge_dir);
	snprintf(lab->pki, sizeof(lab->pki), "%s/pki", lab->edge_dir);
	if (mkdir(lab->edge_dir, 0700) || mkdir(lab->probe_dir, 0700)) {
		snprintf(err, len, "mkdir in %s: %s", lab->dir, strerror(errno));
		return errno;
	}

	int rc = make_namespaces(lab, err, len);
	if (!rc)
		rc = make_link(lab, NS_OUTSIDE, LAB_HOST_FW_IF, LAB_OUTSIDE_ADDR, LAB_FW_OUTSIDE_IF,
		               LAB_FW_OUTSIDE_ADDR, err, len);
	if (!rc)
		rc = make_link(lab, NS_EDGE, LAB_HOST_FW_IF, LAB_EDGE_ADDR, LAB_FW_EDGE_IF,
		               LAB_FW_EDGE_ADDR, err, len);
	if (!rc)
		rc = make_mgmt_link(lab, err, len);
	if (!rc)
		rc = load_rules(lab, err, len);
	if (!rc && proc_interrupted())
		rc = EINTR, snprintf(err, len, "interrupted");
	if (!rc)
		say(lab, "namespaces %s, %s, %s up; firewall rules loaded in %s", lab->ns[0],
		    lab->ns[1], lab->ns[2], lab->ns[NS_FW]);
	if (!rc)
		rc = start_serve(lab, err, len);
	return rc;
}

int lab_run(const struct lab_opts *o, char *err, size_t err_len)
{
	struct lab lab = {.o = o};
	int status = -1;
	proc_block_signals();
	int rc = build(&lab, err, err_len);
	if (!rc) {
		say(&lab, "edge serving on %s; probing from %s", LAB_EDGE_ADDR, LAB_OUTSIDE_ADDR);
		rc = run_probe(&lab, &status, err, err_len);
	}
	if ((rc && rc != EINTR) || o->verbose)
		print_log_tail(&lab);
	teardown(&lab);
	say(&lab, "torn down");
	return rc ? -1 : status;
}

/* Namespaces are named edgelab-PID-ROLE: a PID that is gone left them. */
int lab_cleanup_stale(void)
{
	int removed = 0;
	DIR *d = opendir("/run/netns");
	struct dirent *e;
	if (!d)
		return 0;
	while ((e = readdir(d))) {
		long pid;
		char role[16], err[256];
		if (sscanf(e->d_name, "edgelab-%ld-%15s", &pid, role) != 2 || pid <= 0)
			continue;
		if (kill((pid_t)pid, 0) == 0 || errno == EPERM)
			continue;
		char *const argv[] = {"ip", "netns", "del", e->d_name, NULL};
		if (proc_run(NULL, argv, NULL, err, sizeof(err)) == 0)
			removed++;
	}
	closedir(d);
	return removed;
}
