/* The lab's network: three namespaces joined by veth links (lab/lab.h has
 * the picture), and the firewall's ruleset. */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "core/addr.h"
#include "lab/lab.h"
#include "lab/lab_int.h"
#include "lab/proc.h"
#include "lab/rules.h"

#define STOP_INSIDE_MS 2000 /* for what runs in a namespace to end after SIGTERM */

static const char *const role_names[LAB_ROLES] = {"outside", "fw", "edge"};

const char *lab_role_name(enum lab_role role)
{
	return (unsigned)role < LAB_ROLES ? role_names[role] : "?";
}

int lab_role_parse(const char *name, enum lab_role *role)
{
	for (int i = 0; i < LAB_ROLES; i++)
		if (strcmp(name, role_names[i]) == 0)
			return *role = (enum lab_role)i, 0;
	return EINVAL;
}

void lab_env_init(struct lab_env *e, const char *self, const char *id, const char *dir,
                  bool verbose)
{
	memset(e, 0, sizeof(*e));
	e->self = self;
	e->verbose = verbose;
	for (int i = 0; i < LAB_ROLES; i++)
		snprintf(e->ns[i], sizeof(e->ns[i]), "edgelab-%s-%s", id, role_names[i]);
	snprintf(e->dir, sizeof(e->dir), "%s", dir);
	snprintf(e->edge_dir, sizeof(e->edge_dir), "%s/edge", dir);
	snprintf(e->probe_dir, sizeof(e->probe_dir), "%s/probe", dir);
	snprintf(e->ctl, sizeof(e->ctl), "%s/edge/control.sock", dir);
	snprintf(e->log, sizeof(e->log), "%s/lab.log", dir);
	snprintf(e->edge_log, sizeof(e->edge_log), "%s/edge.log", dir);
	snprintf(e->conf, sizeof(e->conf), "%s/edge/edge.conf", dir);
	snprintf(e->pki, sizeof(e->pki), "%s/edge/pki", dir);
	snprintf(e->rules, sizeof(e->rules), "%s/rules.nft", dir);
	snprintf(e->edge_addr, sizeof(e->edge_addr), "%s", LAB_EDGE_ADDR);
}

void lab_say(const struct lab_env *e, const char *fmt, ...)
{
	va_list ap;
	if (!e->verbose)
		return;
	va_start(ap, fmt);
	fprintf(stderr, "lab: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

bool lab_ns_exists(const char *name)
{
	char path[128];
	struct stat st;
	snprintf(path, sizeof(path), "/run/netns/%s", name);
	return stat(path, &st) == 0;
}

/* One veth pair between fw and a host namespace (outside or edge),
 * addressed and up, with the host's default route through fw. */
static int make_link(const struct lab_env *e, enum lab_role host, const char *host_addr,
                     const char *fw_if, const char *fw_addr, char *err, size_t len)
{
	char host_cidr[32], fw_cidr[32];
	snprintf(host_cidr, sizeof(host_cidr), "%s/24", host_addr);
	snprintf(fw_cidr, sizeof(fw_cidr), "%s/24", fw_addr);
	char *hns = (char *)e->ns[host], *fns = (char *)e->ns[LAB_FW];
	int rc = LAB_RUN(e, NULL, err, len, "ip", "link", "add", "name", LAB_HOST_FW_IF, "netns",
	                 hns, "type", "veth", "peer", "name", (char *)fw_if, "netns", fns);
	if (!rc)
		rc = LAB_RUN(e, hns, err, len, "ip", "addr", "add", host_cidr, "dev",
		             LAB_HOST_FW_IF);
	if (!rc)
		rc = LAB_RUN(e, hns, err, len, "ip", "link", "set", LAB_HOST_FW_IF, "up");
	if (!rc)
		rc = LAB_RUN(e, hns, err, len, "ip", "link", "set", "lo", "up");
	if (!rc)
		rc = LAB_RUN(e, hns, err, len, "ip", "route", "add", "default", "via",
		             (char *)fw_addr);
	if (!rc)
		rc = LAB_RUN(e, fns, err, len, "ip", "addr", "add", fw_cidr, "dev", (char *)fw_if);
	if (!rc)
		rc = LAB_RUN(e, fns, err, len, "ip", "link", "set", (char *)fw_if, "up");
	return rc;
}

/* The management link, outside to edge directly, for the control API: it
 * bypasses fw, as an out-of-band management network would, so that the
 * ruleset under test need not open the control port. Its addresses are a
 * /24 of their own: nothing else is routed over it. */
static int make_mgmt_link(const struct lab_env *e, char *err, size_t len)
{
	char *ons = (char *)e->ns[LAB_OUTSIDE], *ens = (char *)e->ns[LAB_EDGE];
	int rc = LAB_RUN(e, NULL, err, len, "ip", "link", "add", "name", LAB_MGMT_IF, "netns", ons,
	                 "type", "veth", "peer", "name", LAB_MGMT_IF, "netns", ens);
	if (!rc)
		rc = LAB_RUN(e, ons, err, len, "ip", "addr", "add", LAB_PROBE_MGMT_ADDR "/24",
		             "dev", LAB_MGMT_IF);
	if (!rc)
		rc = LAB_RUN(e, ons, err, len, "ip", "link", "set", LAB_MGMT_IF, "up");
	if (!rc)
		rc = LAB_RUN(e, ens, err, len, "ip", "addr", "add", LAB_EDGE_MGMT_ADDR "/24", "dev",
		             LAB_MGMT_IF);
	if (!rc)
		rc = LAB_RUN(e, ens, err, len, "ip", "link", "set", LAB_MGMT_IF, "up");
	return rc;
}

int lab_net_build(const struct lab_env *e, char *err, size_t len)
{
	int rc = 0;
	for (int i = 0; i < LAB_ROLES && !rc; i++)
		rc = LAB_RUN(e, NULL, err, len, "ip", "netns", "add", (char *)e->ns[i]);
	if (!rc)
		rc = make_link(e, LAB_OUTSIDE, LAB_OUTSIDE_ADDR, LAB_FW_OUTSIDE_IF,
		               LAB_FW_OUTSIDE_ADDR, err, len);
	if (!rc)
		rc = make_link(e, LAB_EDGE, LAB_EDGE_ADDR, LAB_FW_EDGE_IF, LAB_FW_EDGE_ADDR, err,
		               len);
	if (!rc)
		rc = make_mgmt_link(e, err, len);
	if (!rc)
		rc = LAB_RUN(e, e->ns[LAB_FW], err, len, "sysctl", "-q", "-w",
		             "net.ipv4.ip_forward=1");
	/* The relay owns 50000-59999: the edge's ephemeral ports must not come
	 * from there, or its outbound 5061 connections (row 2) would pass on
	 * row 4's rule (edge source ports 50000-59999) when row 2's is dropped. */
	if (!rc)
		rc = LAB_RUN(e, e->ns[LAB_EDGE], err, len, "sysctl", "-q", "-w",
		             "net.ipv4.ip_local_port_range=32768 49999");
	return rc;
}

/* The PIDs of the processes whose network namespace is ns (/proc/PID/ns/net
 * is the same inode as /run/netns/NAME), at most max. */
static size_t pids_inside(const char *ns, pid_t *pids, size_t max)
{
	char path[128];
	struct stat want, st;
	size_t n = 0;
	snprintf(path, sizeof(path), "/run/netns/%s", ns);
	if (stat(path, &want))
		return 0;
	DIR *d = opendir("/proc");
	struct dirent *de;
	while (d && n < max && (de = readdir(d))) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);
		if (*end || pid <= 1 || pid == (long)getpid())
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/ns/net", pid);
		if (stat(path, &st) == 0 && st.st_dev == want.st_dev && st.st_ino == want.st_ino)
			pids[n++] = (pid_t)pid;
	}
	if (d)
		closedir(d);
	return n;
}

/* Ends whatever still runs in the namespace (an edge nobody recorded, a
 * `lab exec` shell or capture): deleting a namespace does not end its
 * processes, which would hold its addresses with nothing to reach them.
 * SIGTERM first, so that a capture is written out; SIGKILL after. */
static void stop_inside(const char *ns)
{
	pid_t pids[256];
	size_t n = pids_inside(ns, pids, 256);
	for (size_t i = 0; i < n; i++)
		kill(pids[i], SIGTERM);
	for (int waited = 0; n && waited < STOP_INSIDE_MS; waited += 50) {
		nanosleep(&(struct timespec){.tv_nsec = 50000000L}, NULL);
		n = pids_inside(ns, pids, 256);
	}
	for (size_t i = 0; i < n; i++)
		kill(pids[i], SIGKILL);
}

int lab_net_destroy(const struct lab_env *e)
{
	int deleted = 0;
	for (int i = LAB_ROLES; i-- > 0;) {
		char err[256];
		if (!lab_ns_exists(e->ns[i]))
			continue;
		stop_inside(e->ns[i]);
		/* A failure is in the log; the caller sees the namespace remain. */
		if (LAB_RUN(e, NULL, err, sizeof(err), "ip", "netns", "del", (char *)e->ns[i]) == 0)
			deleted++;
	}
	return deleted;
}

bool lab_net_any(const struct lab_env *e, char *which, size_t cap)
{
	for (int i = 0; i < LAB_ROLES; i++) {
		if (lab_ns_exists(e->ns[i])) {
			snprintf(which, cap, "%s", e->ns[i]);
			return true;
		}
	}
	return false;
}

/* The generated policy, against fw's interfaces. */
static int write_policy(const struct lab_env *e, unsigned drop_mask, unsigned reject_mask,
                        char *err, size_t len)
{
	struct rules_opts ro = {.drop_mask = drop_mask,
	                        .reject_mask = reject_mask,
	                        .outside_if = LAB_FW_OUTSIDE_IF,
	                        .edge_if = LAB_FW_EDGE_IF,
	                        .counters = e->counters};
	if (addr_parse(e->edge_addr, 0, &ro.edge) ||
	    (e->dns_addr[0] && addr_parse(e->dns_addr, 0, &ro.dns)) ||
	    (e->av_addr[0] && addr_parse(e->av_addr, 0, &ro.av_edge)))
		return snprintf(err, len, "bad lab address %s / %s / %s", e->edge_addr, e->dns_addr,
		                e->av_addr),
		       EINVAL;
	FILE *f = fopen(e->rules, "w");
	if (!f) {
		int rc = errno;
		snprintf(err, len, "%s: %s", e->rules, strerror(rc));
		return rc;
	}
	int rc = rules_write_nft(f, &ro);
	if (fclose(f) || rc) {
		snprintf(err, len, "writing %s failed", e->rules);
		return rc ? rc : EIO;
	}
	return 0;
}

int lab_fw_load(const struct lab_env *e, const struct ruleset *rs, size_t n, unsigned drop_mask,
                unsigned reject_mask, char *err, size_t len)
{
	if (n > 0)
		return ruleset_load(e->ns[LAB_FW], rs, n, err, len);
	struct ruleset ours = {.path = e->rules, .fmt = RULESET_NFT};
	int rc = write_policy(e, drop_mask, reject_mask, err, len);
	if (!rc)
		rc = ruleset_resolve(&ours, 1, err, len);
	if (!rc)
		rc = ruleset_load(e->ns[LAB_FW], &ours, 1, err, len);
	ruleset_release(&ours, 1);
	return rc;
}
