/* The one-shot lab: build, probe, tear down (lab/lab.h). */
#include "lab/lab.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lab/lab_int.h"
#include "lab/proc.h"

struct lab {
	const struct lab_opts *o;
	struct lab_env env;
	pid_t serve;
};

/* Mirrors the build in reverse; safe on a half-built lab. Deleting a
 * namespace also deletes its veth ends. */
static void teardown(struct lab *lab)
{
	proc_honour_interrupts(false);
	if (lab->serve > 0)
		proc_stop(lab->serve, 3000);
	lab->serve = 0;
	lab_net_destroy(&lab->env);
	for (int i = 0; i < LAB_ROLES; i++)
		if (lab_ns_exists(lab->env.ns[i]))
			fprintf(stderr,
			        "lab: namespace %s could not be deleted (`ip netns del %s`)\n",
			        lab->env.ns[i], lab->env.ns[i]);
	if (lab->env.dir[0])
		lab_remove_tree(lab->env.dir);
}

static int build(struct lab *lab, char *err, size_t len)
{
	char dir[] = "/tmp/edgelab-lab-XXXXXX", id[24];
	if (!mkdtemp(dir)) {
		snprintf(err, len, "mkdtemp: %s", strerror(errno));
		return errno;
	}
	snprintf(id, sizeof(id), "%ld", (long)getpid());
	lab_env_init(&lab->env, lab->o->self, id, dir, lab->o->verbose);
	/* One log for both: the one-shot lab prints it when something failed. */
	snprintf(lab->env.edge_log, sizeof(lab->env.edge_log), "%s", lab->env.log);
	const struct lab_env *e = &lab->env;

	struct ruleset rs[RULESET_FILES_MAX];
	size_t n = lab->o->nrules;
	memcpy(rs, lab->o->rules, sizeof(rs));
	int rc = n ? ruleset_resolve(rs, n, err, len) : 0;
	if (rc)
		return rc;
	rc = lab_net_build(e, err, len);
	if (!rc)
		rc = lab_fw_load(e, rs, n, lab->o->drop_mask, lab->o->reject_mask, err, len);
	ruleset_release(rs, n);
	if (!rc && proc_interrupted())
		rc = EINTR, snprintf(err, len, "interrupted");
	if (!rc)
		lab_say(e, "namespaces %s, %s, %s up; firewall rules loaded in %s", e->ns[0],
		        e->ns[1], e->ns[2], e->ns[LAB_FW]);
	if (!rc)
		rc = lab_edge_spawn(e, lab->o->probe.no_strict, false, &lab->serve, err, len);
	if (!rc)
		rc = lab_edge_wait_ready(e, &lab->serve, err, len);
	return rc;
}

int lab_run(const struct lab_opts *o, char *err, size_t err_len)
{
	struct lab lab = {.o = o};
	int status = -1;
	proc_block_signals();
	int rc = build(&lab, err, err_len);
	if (!rc) {
		lab_say(&lab.env, "edge serving on %s; probing from %s", LAB_EDGE_ADDR,
		        LAB_OUTSIDE_ADDR);
		rc = lab_probe_run(&lab.env, &o->probe, &status, err, err_len);
	}
	if ((rc && rc != EINTR) || o->verbose)
		lab_print_log(lab.env.log);
	teardown(&lab);
	lab_say(&lab.env, "torn down");
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
