/* `edgelab lab assess`: assess's calls from the lab's outside, through fw,
 * to the edge's relay, with the reflector beside the relay in the edge's
 * namespace: a call's round trip crosses fw twice, as a client's media to
 * its edge and back would (lab/labs.h, docs/assess.md). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lab/lab.h"
#include "lab/lab_int.h"
#include "lab/proc.h"

#define REFLECT_WAIT_MS 5000
#define ASSESS_BOUND_MS (6u * 3600 * 1000) /* the longest ramp a lab is given */

int lab_turn_password(const struct lab_env *e, char *pass, size_t cap)
{
	FILE *f = fopen(e->conf, "r");
	char line[256];
	int rc = ENOENT;
	if (!f)
		return errno;
	while (rc && fgets(line, sizeof(line), f)) {
		char user[32], pw[64];
		if (sscanf(line, "turn_user %31s %63s", user, pw) == 2 &&
		    !strcmp(user, LAB_TURN_USER) && strlen(pw) < cap) {
			memcpy(pass, pw, strlen(pw) + 1);
			rc = 0;
		}
	}
	fclose(f);
	return rc;
}

int lab_assess_run(const struct lab_env *e, char *const args[], size_t nargs, int *status,
                   char *err, size_t len)
{
	char pass[64], log[LAB_PATH_MAX + 16], at[64];
	if (lab_turn_password(e, pass, sizeof(pass)))
		return snprintf(err, len,
		                "%s has no turn_user %s: a lab from an older edgelab? "
		                "(lab down, lab up)",
		                e->conf, LAB_TURN_USER),
		       ENOENT;
	snprintf(log, sizeof(log), "%s/reflector.log", e->dir);
	snprintf(at, sizeof(at), "%s:%d", LAB_EDGE_ADDR, LAB_REFLECTOR_PORT);
	unlink(log);
	char *reflect[] = {(char *)e->self, "assess", "--reflect-only", "--reflector", at, NULL};
	pid_t refl;
	int rc = proc_spawn(e->ns[LAB_EDGE], reflect, log, &refl);
	if (rc)
		return snprintf(err, len, "starting the reflector: %s", strerror(rc)), rc;
	if (!lab_log_wait(log, "reflecting on ", REFLECT_WAIT_MS)) {
		proc_stop(refl, 500);
		return snprintf(err, len, "the reflector did not start in the edge (%s)", log), EIO;
	}
	/* The lab's arguments first, then the user's (cli/cmd_labs_use.c keeps
	 * the lab's out of those); the password in the environment, not in
	 * argv where ps shows it. */
	if (setenv("EDGELAB_ASSESS_PASSWORD", pass, 1))
		return snprintf(err, len, "setenv: %s", strerror(errno)), errno;
	char *argv[nargs + 12];
	size_t i = 0;
	argv[i++] = (char *)e->self;
	argv[i++] = "assess";
	argv[i++] = "--server";
	argv[i++] = LAB_EDGE_ADDR;
	argv[i++] = "--user";
	argv[i++] = LAB_TURN_USER;
	argv[i++] = "--reflector";
	argv[i++] = at;
	argv[i++] = "--reflector-elsewhere";
	for (size_t k = 0; k < nargs; k++)
		argv[i++] = args[k];
	argv[i] = NULL;
	pid_t pid;
	rc = proc_spawn_hiding(e->ns[LAB_OUTSIDE], e->edge_dir, argv, NULL, &pid);
	if (!rc)
		rc = proc_wait(pid, ASSESS_BOUND_MS, status);
	if (rc == EINTR)
		proc_stop(pid, 1000);
	proc_stop(refl, 1000);
	if (rc)
		snprintf(err, len, "assess: %s", rc == EINTR ? "interrupted" : strerror(rc));
	return rc;
}
