/* How the federation lab starts its processes (lab/fed_int.h): the
 * one-shot lab's are its children; a standing lab's are detached, to
 * outlive its `lab up`, and recorded in its state as each starts. */
#include "lab/fed_int.h"
#include "lab/proc.h"

/* A standing lab's processes into its state, as each starts: a `lab up`
 * killed at any point leaves `down` what to stop. */
static int record(const struct lab_fed *f)
{
	struct lab_state st;
	if (!f->o->name)
		return 0;
	int rc = lab_state_read(f->dir, &st);
	for (int s = 0; s < LAB_SITES && !rc; s++)
		lab_state_record(&st.serve[s], f->serve[s]);
	if (!rc)
		lab_state_record(&st.dns, f->dns);
	return rc ? rc : lab_state_write(f->dir, &st);
}

int lab_fed_spawn(struct lab_fed *f, const char *ns, char *const argv[], const char *log,
                  pid_t *pid)
{
	int rc =
	    f->o->name ? proc_spawn_detached(ns, argv, log, pid) : proc_spawn(ns, argv, log, pid);
	return rc ? rc : record(f);
}
