/* The federation lab's life: up, a call inside the internet segment, down
 * (lab/fed.h). */
#include "lab/fed.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lab/fed_int.h"
#include "lab/proc.h"

static const struct {
	const char *name;
	unsigned bit;
} faults[] = {
    {"no-srv-a", LAB_FAULT_NO_SRV_A},       {"no-srv-b", LAB_FAULT_NO_SRV_B},
    {"srv-port-a", LAB_FAULT_SRV_PORT_A},   {"srv-port-b", LAB_FAULT_SRV_PORT_B},
    {"dns-silent", LAB_FAULT_DNS_SILENT},   {"cert-name-a", LAB_FAULT_CERT_NAME_A},
    {"cert-name-b", LAB_FAULT_CERT_NAME_B},
};
#define NFAULTS (sizeof(faults) / sizeof(faults[0]))

int lab_fed_fault_parse(const char *name, unsigned *bit)
{
	for (size_t i = 0; i < NFAULTS; i++)
		if (strcmp(name, faults[i].name) == 0)
			return *bit = faults[i].bit, 0;
	return EINVAL;
}

const char *lab_fed_fault_list(void)
{
	return "no-srv-a, no-srv-b, srv-port-a, srv-port-b, dns-silent, cert-name-a, cert-name-b";
}

void lab_fed_fault_names(unsigned bits, char *buf, size_t cap)
{
	size_t used = 0;
	snprintf(buf, cap, "none");
	for (size_t i = 0; i < NFAULTS && used < cap; i++)
		if (bits & faults[i].bit)
			used += (size_t)snprintf(buf + used, cap - used, "%s%s", used ? "," : "",
			                         faults[i].name);
}

/* Namespaces: edgelab-ID-inet, edgelab-ID-S-fw, edgelab-ID-S-edge
 * (lab_cleanup_stale's pattern: a dead PID's are removed). */
void lab_fed_names(struct lab_fed *f, const char *self, const char *id, const char *dir,
                   bool verbose)
{
	snprintf(f->dir, sizeof(f->dir), "%s", dir);
	snprintf(f->inet_ns, sizeof(f->inet_ns), "edgelab-%s-inet", id);
	snprintf(f->log, sizeof(f->log), "%s/lab.log", dir);
	snprintf(f->dns_log, sizeof(f->dns_log), "%s/dns.log", dir);
	snprintf(f->clients_dir, sizeof(f->clients_dir), "%s/clients", dir);
	for (int s = 0; s < LAB_SITES; s++) {
		const struct lab_fed_site *st = lab_fed_site((enum lab_site)s);
		struct lab_env *e = &f->site[s];
		char site_id[32], site_dir[LAB_PATH_MAX];
		snprintf(site_id, sizeof(site_id), "%s-%s", id, st->name);
		snprintf(site_dir, sizeof(site_dir), "%s/%s", dir, st->name);
		lab_env_init(e, self, site_id, site_dir, verbose);
		snprintf(e->ns[LAB_OUTSIDE], sizeof(e->ns[0]), "%s", f->inet_ns);
		snprintf(e->log, sizeof(e->log), "%s", f->log);
		snprintf(e->edge_addr, sizeof(e->edge_addr), "%s", st->edge_addr);
		snprintf(e->dns_addr, sizeof(e->dns_addr), "%s", LAB_FED_DNS_ADDR);
		snprintf(e->av_addr, sizeof(e->av_addr), "%s", st->av_addr);
		e->counters = true;
		snprintf(f->client_ca[s], sizeof(f->client_ca[s]), "%s/%s-ca.pem", f->clients_dir,
		         st->name);
	}
}

void lab_fed_namespaces(const struct lab_fed *f, const char *ns[LAB_FED_NS])
{
	ns[0] = f->inet_ns;
	for (int s = 0; s < LAB_SITES; s++) {
		ns[1 + 2 * s] = f->site[s].ns[LAB_FW];
		ns[2 + 2 * s] = f->site[s].ns[LAB_EDGE];
	}
}

/* The one-shot lab in a directory of its own, named by its PID; a
 * standing one in the directory and under the name it was given. */
static int init(struct lab_fed *f, const struct lab_fed_opts *o, char *err, size_t len)
{
	char dir[] = "/tmp/edgelab-fed-XXXXXX", id[24];
	memset(f, 0, sizeof(*f));
	f->own = *o;
	f->o = &f->own;
	if (o->name)
		snprintf(id, sizeof(id), "%s", o->name);
	else if (mkdtemp(dir))
		snprintf(id, sizeof(id), "%ld", (long)getpid());
	else
		return snprintf(err, len, "mkdtemp: %s", strerror(errno)), errno;
	lab_fed_names(f, o->self, id, o->name ? o->dir : dir, o->verbose);
	for (int s = 0; s < LAB_SITES; s++)
		if (mkdir(f->site[s].dir, 0700))
			return snprintf(err, len, "%s: %s", f->site[s].dir, strerror(errno)), errno;
	return 0;
}

static void say(const struct lab_fed *f, const char *what)
{
	lab_say(&f->site[0], "%s", what);
}

int lab_fed_up(struct lab_fed **fp, const struct lab_fed_opts *o, char *err, size_t len)
{
	struct lab_fed *f = calloc(1, sizeof(*f));
	*fp = NULL;
	if (!f)
		return snprintf(err, len, "out of memory"), ENOMEM;
	proc_block_signals();
	int rc = init(f, o, err, len);
	if (!rc)
		rc = lab_fed_net_build(f, err, len);
	if (!rc)
		say(f, "namespaces, the internet bridge and its counters up");
	if (!rc && proc_interrupted())
		rc = EINTR, snprintf(err, len, "interrupted");
	if (!rc)
		rc = lab_fed_dns_start(f, err, len);
	if (!rc)
		say(f, "dnsmasq answering for a.example and b.example on " LAB_FED_DNS_ADDR);
	if (!rc)
		rc = lab_fed_sites_start(f, err, len);
	if (!rc)
		say(f, "both firewalls loaded, both edges serving");
	if (rc) {
		if (rc != EINTR)
			lab_fed_print_logs(f);
		lab_fed_down(f);
		return rc;
	}
	*fp = f;
	return 0;
}

int lab_fed_down(struct lab_fed *f)
{
	if (!f)
		return 0;
	proc_honour_interrupts(false);
	for (int s = 0; s < LAB_SITES; s++)
		if (f->serve[s] > 0)
			proc_stop(f->serve[s], 3000);
	if (f->dns > 0)
		proc_stop(f->dns, 1000);
	int left = f->inet_ns[0] ? lab_fed_net_destroy(f) : 0; /* "": init failed first */
	if (left)
		fprintf(stderr,
		        "lab: %d namespace(s) of this lab could not be deleted "
		        "(`ip netns list | grep edgelab-`)\n",
		        left);
	if (f->dir[0])
		lab_remove_tree(f->dir);
	say(f, "torn down");
	free(f);
	return left;
}

void lab_fed_close(struct lab_fed *f)
{
	free(f);
}

void lab_fed_print_logs(const struct lab_fed *f)
{
	lab_print_log(f->log);
	lab_print_log(f->dns_log);
	for (int s = 0; s < LAB_SITES; s++)
		lab_print_log(f->site[s].edge_log);
}

const char *lab_fed_control(const struct lab_fed *f, enum lab_site s)
{
	return f->site[s == LAB_SITE_B].ctl;
}

const char *lab_fed_client_ca(const struct lab_fed *f, enum lab_site s)
{
	return f->client_ca[s == LAB_SITE_B];
}

/* The child: into inet, run, hand the result back, exit with fn's code. */
static void in_inet_child(const struct lab_fed *f, lab_fed_fn *fn, void *arg, void *out,
                          size_t out_len, int wfd)
{
	char path[128];
	snprintf(path, sizeof(path), "/run/netns/%s", f->inet_ns);
	int ns = open(path, O_RDONLY | O_CLOEXEC);
	if (ns < 0 || setns(ns, CLONE_NEWNET))
		_exit(ENOENT);
	close(ns);
	int rc = fn(arg, out, out_len);
	const char *p = out;
	for (size_t done = 0; done < out_len;) {
		ssize_t n = write(wfd, p + done, out_len - done);
		if (n <= 0)
			_exit(EIO);
		done += (size_t)n;
	}
	_exit(rc & 0xff);
}

int lab_fed_in_inet(const struct lab_fed *f, lab_fed_fn *fn, void *arg, void *out, size_t out_len,
                    unsigned timeout_ms, char *err, size_t len)
{
	int fds[2], status = 0;
	if (pipe2(fds, O_CLOEXEC))
		return snprintf(err, len, "pipe: %s", strerror(errno)), errno;
	pid_t pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return snprintf(err, len, "fork: %s", strerror(errno)), errno;
	}
	if (pid == 0) {
		close(fds[0]);
		in_inet_child(f, fn, arg, out, out_len, fds[1]);
	}
	close(fds[1]);
	size_t got = 0;
	struct timespec t0, now;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int rc = 0;
	while (got < out_len) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		long spent = (now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000;
		struct pollfd pfd = {.fd = fds[0], .events = POLLIN};
		if (spent >= (long)timeout_ms) {
			rc = ETIMEDOUT;
			break;
		}
		/* In slices, so that an interrupt ends the wait (and the child). */
		long slice = (long)timeout_ms - spent < 200 ? (long)timeout_ms - spent : 200;
		if (proc_interrupted()) {
			rc = EINTR;
			break;
		}
		int ready = poll(&pfd, 1, (int)slice);
		if (ready < 0 && errno != EINTR) {
			rc = errno;
			break;
		}
		if (ready <= 0)
			continue;
		ssize_t n = read(fds[0], (char *)out + got, out_len - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fds[0]);
	if (rc)
		kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	if (rc == ETIMEDOUT)
		return snprintf(err, len, "the clients took longer than %u ms", timeout_ms), rc;
	if (rc)
		return snprintf(err, len, "%s", rc == EINTR ? "interrupted" : strerror(rc)), rc;
	if (got < out_len)
		return snprintf(err, len, "the clients' process ended early (status %d)", status),
		       EIO;
	rc = WIFEXITED(status) ? WEXITSTATUS(status) : EIO;
	if (rc)
		snprintf(err, len, "the clients' run failed: %s", strerror(rc));
	return rc;
}
