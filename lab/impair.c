/* A standing lab's impairment (lab/impair.h, lab/labs.h): the NFQUEUE
 * rules in fw's mangle table, for the directions that are impaired, and
 * the impairer that serves them, in fw's namespace; what it does is kept
 * in the lab's directory (impair: the two specs; impair.pid), so that
 * `lab rules` can put the rules back after a ruleset that flushed them. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lab/impair.h"
#include "lab/lab.h"
#include "lab/lab_int.h"
#include "lab/proc.h"

#define IMPAIR_WAIT_MS 5000

static void path_of(const struct lab_env *e, const char *file, char *out, size_t cap)
{
	snprintf(out, cap, "%s/%s", e->dir, file);
}

/* The impairer `up` or an earlier `impair` started, if it still runs. */
static void impairer_stop(const struct lab_env *e)
{
	char path[LAB_PATH_MAX + 16], cmd[256] = "";
	long pid = 0;
	path_of(e, "impair.pid", path, sizeof(path));
	FILE *f = fopen(path, "r");
	if (f) {
		if (fscanf(f, "%ld", &pid) != 1)
			pid = 0;
		fclose(f);
	}
	unlink(path);
	if (pid <= 0)
		return;
	/* Only ours: a recycled PID is someone else's. */
	char proc[64];
	snprintf(proc, sizeof(proc), "/proc/%ld/cmdline", pid);
	f = fopen(proc, "r");
	size_t n = f ? fread(cmd, 1, sizeof(cmd) - 1, f) : 0;
	if (f)
		fclose(f);
	for (size_t i = 0; i < n; i++)
		cmd[i] = cmd[i] ? cmd[i] : ' ';
	cmd[n] = '\0';
	if (!strstr(cmd, " lab impairer "))
		return;
	/* Not our child (an earlier `lab up` or `lab impair` started it): a
	 * pidfd names this process and no later one with its PID, and says
	 * when it is gone, so that the next impairer binds freed queues. */
	int pfd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
	if (pfd < 0)
		return; /* gone already */
	int sigs[] = {SIGTERM, SIGKILL};
	for (size_t i = 0; i < 2; i++) {
		syscall(SYS_pidfd_send_signal, pfd, sigs[i], NULL, 0);
		struct pollfd pf = {.fd = pfd, .events = POLLIN};
		if (poll(&pf, 1, 1000) > 0)
			break;
	}
	close(pfd);
}

/* The NFQUEUE rule of one direction: added (-A) or deleted (-D). */
static int queue_rule(const struct lab_env *e, const char *op, bool in, char *err, size_t len)
{
	char num[8];
	snprintf(num, sizeof(num), "%d", in ? LAB_IMPAIR_QUEUE_IN : LAB_IMPAIR_QUEUE_OUT);
	return LAB_RUN(e, e->ns[LAB_FW], err, len, "iptables", "-w", "-t", "mangle", (char *)op,
	               "FORWARD", "-i", in ? LAB_FW_OUTSIDE_IF : LAB_FW_EDGE_IF, "-o",
	               in ? LAB_FW_EDGE_IF : LAB_FW_OUTSIDE_IF, "-j", "NFQUEUE", "--queue-num", num,
	               "--queue-bypass");
}

int lab_impair_apply(const struct lab_env *e, const struct impair_spec *in,
                     const struct impair_spec *out, char *err, size_t len)
{
	char state[LAB_PATH_MAX + 16], log[LAB_PATH_MAX + 16], pidf[LAB_PATH_MAX + 16];
	char a[IMPAIR_SPEC_MAX], b[IMPAIR_SPEC_MAX], scratch[256];
	path_of(e, "impair", state, sizeof(state));
	path_of(e, "impair.log", log, sizeof(log));
	path_of(e, "impair.pid", pidf, sizeof(pidf));
	impairer_stop(e);
	/* Whatever rules are there go (a ruleset may have flushed them). */
	while (!queue_rule(e, "-D", true, scratch, sizeof(scratch)))
		;
	while (!queue_rule(e, "-D", false, scratch, sizeof(scratch)))
		;
	unlink(state);
	if (!impair_spec_on(in) && !impair_spec_on(out))
		return 0;
	impair_spec_str(in, a, sizeof(a));
	impair_spec_str(out, b, sizeof(b));
	/* This binary, when the caller did not name one (`lab rules`). */
	char self[LAB_PATH_MAX];
	ssize_t sn = e->self ? 0 : readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (sn < 0 || (size_t)sn >= sizeof(self) - 1)
		return snprintf(err, len, "cannot find its own binary"), ENOENT;
	self[sn] = '\0';
	char *argv[] = {
	    e->self ? (char *)e->self : self, "lab", "impairer", "--in", a, "--out", b, NULL};
	pid_t pid;
	unlink(log);
	int rc = proc_spawn_detached(e->ns[LAB_FW], argv, log, &pid);
	if (rc)
		return snprintf(err, len, "starting the impairer: %s", strerror(rc)), rc;
	FILE *f = fopen(pidf, "w");
	if (f) {
		fprintf(f, "%ld\n", (long)pid);
		fclose(f);
	}
	if (!lab_log_wait(log, "impairing: ", IMPAIR_WAIT_MS)) {
		impairer_stop(e);
		lab_print_log(log);
		return snprintf(err, len, "the impairer did not start in fw (%s)", log), EIO;
	}
	if ((impair_spec_on(in) && (rc = queue_rule(e, "-A", true, err, len))) ||
	    (impair_spec_on(out) && (rc = queue_rule(e, "-A", false, err, len)))) {
		impairer_stop(e);
		return rc;
	}
	f = fopen(state, "w");
	if (!f || fprintf(f, "in %s\nout %s\n", a, b) < 0 || fclose(f))
		return snprintf(err, len, "%s: cannot write", state), EIO;
	return 0;
}

int lab_impair_read(const struct lab_env *e, struct impair_spec *in, struct impair_spec *out)
{
	char state[LAB_PATH_MAX + 16], line[IMPAIR_SPEC_MAX + 8], why[128];
	path_of(e, "impair", state, sizeof(state));
	memset(in, 0, sizeof(*in));
	memset(out, 0, sizeof(*out));
	FILE *f = fopen(state, "r");
	if (!f)
		return errno == ENOENT ? 0 : errno;
	int rc = 0;
	while (!rc && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (!strncmp(line, "in ", 3))
			rc = impair_spec_parse(line + 3, in, why, sizeof(why));
		else if (!strncmp(line, "out ", 4))
			rc = impair_spec_parse(line + 4, out, why, sizeof(why));
	}
	fclose(f);
	return rc;
}
