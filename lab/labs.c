/* Standing labs (lab/labs.h): up, down, and what runs against one, of
 * either topology (lab/labs_fed.c has the federation lab's own). */
#include "lab/labs.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lab/fed_int.h"
#include "lab/impair.h"
#include "lab/lab_int.h"
#include "lab/proc.h"
#include "lab/scenario.h"

#define STOP_GRACE_MS 3000  /* the edge's, after SIGTERM */
#define UP_GRACE_MS   15000 /* an interrupted `lab up`'s, to tear down */

static void lab_dir(const char *name, char *dir, size_t cap)
{
	snprintf(dir, cap, LABS_ROOT "/%s", name);
}

/* Why name cannot be a new lab's, into err: its namespaces would be
 * another lab's. A federation lab X has those a lab X-a or X-b would have
 * (lab/labs.h). EEXIST or 0. */
static int clash(const char *name, bool fed, char *err, size_t err_len)
{
	struct lab_env e;
	char ns[64], other[LAB_PATH_MAX];
	struct stat st;
	lab_env_init(&e, NULL, name, "", false);
	if (!fed && labs_fed_member(name))
		return snprintf(err, err_len,
		                "%s's namespaces would be those of federation lab %.*s: pick "
		                "another name",
		                name, (int)strlen(name) - 2, name),
		       EEXIST;
	for (const char *site = "ab"; fed && *site; site++) {
		snprintf(other, sizeof(other), LABS_ROOT "/%s-%c", name, *site);
		if (stat(other, &st) == 0)
			return snprintf(
			           err, err_len,
			           "lab %s-%c exists, whose namespaces a federation lab called "
			           "%s would share: pick another name",
			           name, *site, name),
			       EEXIST;
	}
	if (lab_net_any(&e, ns, sizeof(ns)) || labs_fed_any(name, ns, sizeof(ns)))
		return snprintf(err, err_len,
		                "a lab called %s exists (namespace %s; `edgelab lab list`); take "
		                "it down with `edgelab lab down %s` or pick another name",
		                name, ns, name),
		       EEXIST;
	return 0;
}

/* The lab's directory, made by us alone: a second `up` of the same name
 * fails here, before it touches anything; so does one whose namespaces are
 * there without a directory (what is in them is not ours to remove). */
static int claim(const char *name, bool fed, char *dir, size_t cap, char *err, size_t err_len)
{
	lab_dir(name, dir, cap);
	if ((mkdir("/run/edgelab", 0755) && errno != EEXIST) ||
	    (mkdir(LABS_ROOT, 0755) && errno != EEXIST)) {
		snprintf(err, err_len, "%s: %s", LABS_ROOT, strerror(errno));
		return errno;
	}
	int rc = clash(name, fed, err, err_len);
	if (rc)
		return rc;
	rc = mkdir(dir, 0700) ? errno : 0;
	if (rc == EEXIST)
		snprintf(err, err_len,
		         "a lab called %s exists (`edgelab lab list`); take it down with "
		         "`edgelab lab down %s` or pick another name",
		         name, name);
	else if (rc)
		snprintf(err, err_len, "%s: %s", dir, strerror(rc));
	return rc;
}

/* The name asked for, or the first free of lab1, lab2, ...: a name taken
 * between the look and the claim (another `up`) moves on to the next. */
static int claim_name(const char *wanted, bool fed, char *name, char *dir, size_t cap, char *err,
                      size_t err_len)
{
	if (wanted) {
		snprintf(name, LABS_NAME_MAX + 1, "%s", wanted);
		return claim(name, fed, dir, cap, err, err_len);
	}
	for (int i = 1; i <= LABS_MAX; i++) {
		snprintf(name, LABS_NAME_MAX + 1, "lab%d", i);
		int rc = claim(name, fed, dir, cap, err, err_len);
		if (rc != EEXIST)
			return rc;
	}
	snprintf(err, err_len, "%d labs are up: take some down first", LABS_MAX);
	return EBUSY;
}

/* A scenario's ruleset, written into the lab's directory and read back. */
static int scenario_ruleset(const struct lab_env *e, const char *name, struct ruleset *rs,
                            char *path, size_t cap, char *err, size_t err_len)
{
	const struct scenario_file *sc = scenario_find(name);
	if (!sc) {
		snprintf(err, err_len, "no scenario called %s (`edgelab lab scenarios`)", name);
		return ENOENT;
	}
	snprintf(path, cap, "%s/scenario.nft", e->dir);
	FILE *f = fopen(path, "w");
	if (!f || fputs(sc->text, f) < 0 || fclose(f)) {
		snprintf(err, err_len, "%s: write failed", path);
		return EIO;
	}
	*rs = (struct ruleset){.path = path, .fmt = RULESET_NFT};
	return ruleset_resolve(rs, 1, err, err_len);
}

/* Records the edge as soon as it is started: a `lab up` killed while it
 * waits for the edge leaves a state that `down` can stop it from. */
static int record_edge(const struct lab_env *e, struct lab_state *st, pid_t serve)
{
	lab_state_record(&st->serve[0], serve);
	return lab_state_write(e->dir, st);
}

static int build(const struct labs_up_opts *o, struct lab_env *e, struct lab_state *st, char *err,
                 size_t len)
{
	struct ruleset rs[RULESET_FILES_MAX];
	char scenario_path[LAB_PATH_MAX];
	size_t n = o->scenario ? 1 : o->nrules;
	int rc;
	memcpy(rs, o->rules, sizeof(rs));
	if (o->scenario)
		rc = scenario_ruleset(e, o->scenario, &rs[0], scenario_path, sizeof(scenario_path),
		                      err, len);
	else
		rc = n ? ruleset_resolve(rs, n, err, len) : 0;
	if (rc)
		return rc;
	lab_state_describe_rules(rs, n, o->scenario, o->drop_mask, o->reject_mask, st->rules[0],
	                         sizeof(st->rules[0]));
	rc = lab_net_build(e, err, len);
	if (!rc)
		rc = lab_fw_load(e, rs, n, o->drop_mask, o->reject_mask, err, len);
	ruleset_release(rs, n);
	if (!rc && proc_interrupted())
		rc = EINTR, snprintf(err, len, "interrupted");
	pid_t serve = 0;
	if (!rc)
		rc = lab_edge_spawn(e, false, true, &serve, err, len);
	if (!rc && (rc = record_edge(e, st, serve)))
		snprintf(err, len, "%s: writing its state: %s", e->dir, strerror(rc));
	if (!rc)
		rc = lab_edge_wait_ready(e, &serve, err, len);
	if (!rc && (impair_spec_on(&o->impair_in) || impair_spec_on(&o->impair_out)))
		rc = lab_impair_apply(e, &o->impair_in, &o->impair_out, err, len);
	return rc;
}

/* The processes `up` recorded: the edge (a federation's edges and
 * dnsmasq). */
static void stop_recorded(const struct lab_state *st)
{
	for (int s = 0; s < LAB_STATE_EDGES; s++)
		lab_state_stop(&st->serve[s], STOP_GRACE_MS);
	lab_state_stop(&st->dns, STOP_GRACE_MS);
}

/* Undoes a failed or interrupted `up`: the logs first (the edge's says why
 * it did not start), then everything it made. */
static void undo_up(const struct lab_env *e, const struct lab_state *st, int rc)
{
	proc_honour_interrupts(false);
	if (rc != EINTR) {
		lab_print_log(e->log);
		lab_print_log(e->edge_log);
	}
	stop_recorded(st);
	lab_net_destroy(e);
	lab_remove_tree(e->dir);
}

int labs_up(const struct labs_up_opts *o, char *name, char *err, size_t err_len)
{
	char dir[LAB_PATH_MAX];
	struct lab_env e;
	if (o->name && !labs_name_valid(o->name)) {
		snprintf(err, err_len, "'%s' is not a lab name (1-%d of a-z 0-9 -, from a letter)",
		         o->name, LABS_NAME_MAX);
		return EINVAL;
	}
	proc_block_signals();
	int rc = claim_name(o->name, o->fed != NULL, name, dir, sizeof(dir), err, err_len);
	if (rc)
		return rc;
	lab_env_init(&e, o->self, name, dir, o->verbose);
	struct lab_state st = {.created = (long)time(NULL), .federation = o->fed != NULL};
	lab_state_record(&st.up, (long)getpid());
	snprintf(st.faults, sizeof(st.faults), "none");
	rc = lab_state_write(dir, &st);
	if (rc)
		snprintf(err, err_len, "%s: writing its state: %s", dir, strerror(rc));
	else if (o->fed)
		return labs_fed_up(o->fed, name, dir, err, err_len);
	if (!rc)
		rc = build(o, &e, &st, err, err_len);
	if (!rc && (rc = lab_state_set_ready(dir)))
		snprintf(err, err_len, "%s: writing its state: %s", dir, strerror(rc));
	if (rc)
		undo_up(&e, &st, rc);
	return rc;
}

/* A `lab up` still building this lab: interrupt it (it then tears down
 * what it built) and give it time to. */
static void stop_up(const struct lab_state *st)
{
	if (!st->ready)
		lab_state_stop(&st->up, UP_GRACE_MS);
}

int labs_down(const char *name, char *err, size_t err_len)
{
	char dir[LAB_PATH_MAX], ns[64];
	struct lab_env e;
	struct lab_state st;
	struct stat sb;
	if (!labs_name_valid(name)) {
		snprintf(err, err_len, "'%s' is not a lab name", name);
		return EINVAL;
	}
	lab_dir(name, dir, sizeof(dir));
	lab_env_init(&e, NULL, name, dir, false);
	bool found = stat(dir, &sb) == 0, fed = labs_is_federation(name);
	/* X-a without a directory: its namespaces are federation lab X's. */
	if (!found && labs_fed_member(name))
		return snprintf(err, err_len, "no lab called %s (`edgelab lab list`)", name),
		       ENOENT;
	if (lab_state_read(dir, &st) == 0) {
		stop_up(&st);
		stop_recorded(&st);
	}
	found |= (fed ? labs_fed_destroy(name) : lab_net_destroy(&e)) > 0;
	if (fed ? labs_fed_any(name, ns, sizeof(ns)) : lab_net_any(&e, ns, sizeof(ns))) {
		snprintf(err, err_len,
		         "namespace %s could not be deleted (see %s); lab %s is not down", ns,
		         e.log, name);
		return EBUSY;
	}
	lab_remove_tree(dir);
	if (!found) {
		snprintf(err, err_len, "no lab called %s (`edgelab lab list`)", name);
		return ENOENT;
	}
	return 0;
}

/* The lab, ready; err says what is wrong with it otherwise, or that it
 * is not of the topology asked for. */
static int ready_lab(const char *name, bool fed, struct lab_env *e, const char *self, char *err,
                     size_t err_len)
{
	struct labs_info info;
	char dir[LAB_PATH_MAX];
	int rc = labs_ready(name, &info, err, err_len);
	if (rc)
		return rc;
	if (info.federation != fed) {
		snprintf(err, err_len, "lab %s is a %s", name,
		         info.federation ? "federation lab: name its fw, --site a or --site b"
		                         : "single-site lab: it has one fw, no --site");
		return EINVAL;
	}
	lab_dir(name, dir, sizeof(dir));
	lab_env_init(e, self, name, dir, false);
	return 0;
}

int labs_probe(const char *name, const char *self, const struct lab_probe_args *a, int *status,
               char *err, size_t err_len)
{
	struct lab_env e;
	int rc = ready_lab(name, false, &e, self, err, err_len);
	if (rc)
		return rc;
	proc_block_signals();
	return lab_probe_run(&e, a, status, err, err_len);
}

int labs_impair(const char *name, const char *self, const struct impair_spec *in,
                const struct impair_spec *out, struct impair_spec *now_in,
                struct impair_spec *now_out, char *err, size_t err_len)
{
	struct lab_env e;
	int rc = ready_lab(name, false, &e, self, err, err_len);
	if (rc)
		return rc;
	if (in && out) {
		proc_block_signals();
		rc = lab_impair_apply(&e, in, out, err, err_len);
	}
	if (!rc && (rc = lab_impair_read(&e, now_in, now_out)))
		snprintf(err, err_len, "%s/impair: %s", e.dir, strerror(rc));
	return rc;
}

int labs_assess(const char *name, const char *self, char *const args[], size_t nargs, int *status,
                char *err, size_t err_len)
{
	struct lab_env e;
	int rc = ready_lab(name, false, &e, self, err, err_len);
	if (rc)
		return rc;
	proc_block_signals();
	return lab_assess_run(&e, args, nargs, status, err, err_len);
}

int labs_set_rules(const char *name, const char *site, struct ruleset *rs, size_t n, char *err,
                   size_t err_len)
{
	struct lab_env e;
	struct lab_state st;
	struct lab_fed f;
	int s = site && strcmp(site, "b") == 0;
	if (err_len)
		err[0] = '\0';
	if (site && strcmp(site, "a") && strcmp(site, "b"))
		return snprintf(err, err_len, "'%s' is not a site: a or b", site), EINVAL;
	int rc = ready_lab(name, site != NULL, &e, NULL, err, err_len);
	if (!rc)
		rc = ruleset_resolve(rs, n, err, err_len);
	if (rc)
		return rc;
	lab_fed_names(&f, NULL, name, e.dir, false);
	const char *fw = site ? f.site[s].ns[LAB_FW] : e.ns[LAB_FW];
	/* An interrupt between the flush and the load must still end in a
	 * closed fw (ruleset_load's failsafe), not a dead command. */
	proc_block_signals();
	rc = ruleset_load(fw, rs, n, err, err_len);
	if (!rc && site)
		lab_fed_net_cut(&f);
	struct impair_spec in, out;
	if (!rc && !site && !lab_impair_read(&e, &in, &out) &&
	    (impair_spec_on(&in) || impair_spec_on(&out)))
		rc = lab_impair_apply(&e, &in, &out, err, err_len);
	if (!rc && (rc = lab_state_read(e.dir, &st)) == 0) {
		lab_state_describe_rules(rs, n, NULL, 0, 0, st.rules[s], sizeof(st.rules[s]));
		rc = lab_state_write(e.dir, &st);
	}
	if (rc && !err[0])
		snprintf(err, err_len, "%s: its state: %s", e.dir, strerror(rc));
	ruleset_release(rs, n);
	return rc;
}

int labs_namespace(const char *name, const char *role, char *ns, size_t ns_len, char *err,
                   size_t err_len)
{
	static const char *const fed_roles[LAB_FED_NS] = {"inet", "a-fw", "a-edge", "b-fw",
	                                                  "b-edge"}; /* lab_fed_namespaces' */
	char dir[LAB_PATH_MAX];
	struct labs_info info;
	struct lab_env e;
	struct lab_fed f;
	enum lab_role r;
	if (!labs_name_valid(name))
		return snprintf(err, err_len, "'%s' is not a lab name", name), EINVAL;
	if (labs_info(name, &info))
		return snprintf(err, err_len, "no lab called %s (`edgelab lab list`)", name),
		       ENOENT;
	lab_dir(name, dir, sizeof(dir));
	lab_env_init(&e, NULL, name, dir, false);
	lab_fed_names(&f, NULL, name, dir, false);
	const char *found = NULL, *fed_ns[LAB_FED_NS];
	lab_fed_namespaces(&f, fed_ns);
	for (size_t i = 0; info.federation && i < LAB_FED_NS; i++)
		if (strcmp(role, fed_roles[i]) == 0)
			found = fed_ns[i];
	if (!info.federation && lab_role_parse(role, &r) == 0)
		found = e.ns[r];
	if (!found && info.federation)
		return snprintf(err, err_len,
		                "'%s' is not inet, a-fw, a-edge, b-fw or b-edge (lab %s is a "
		                "federation lab)",
		                role, name),
		       EINVAL;
	if (!found)
		return snprintf(err, err_len,
		                "'%s' is not outside, fw or edge (lab %s is a single-site lab)",
		                role, name),
		       EINVAL;
	if (!lab_ns_exists(found)) {
		snprintf(err, err_len, "lab %s has no %s namespace (%s): `edgelab lab list`", name,
		         role, found);
		return ENOENT;
	}
	snprintf(ns, ns_len, "%s", found);
	return 0;
}
