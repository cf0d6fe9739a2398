/* The standing federation lab (lab/labs.h, lab/fed.h): its `up`, its
 * namespaces for `down` and for a new lab's claim, and lab_fed_open for
 * the flows. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lab/fed_int.h"
#include "lab/lab_int.h"
#include "lab/labs.h"

/* Each fw's rules in words, and the faults, into the state that `lab
 * list` reads. The user's files are read here to say their format (the
 * build reads them again to load them): a missing one fails before
 * anything is built. */
static int describe(const struct lab_fed_opts *o, const char *dir, char *err, size_t len)
{
	struct lab_state st;
	int rc = lab_state_read(dir, &st);
	for (int s = 0; s < LAB_SITES && !rc; s++) {
		const struct lab_fed_site_opts *so = &o->site[s];
		struct ruleset rs[RULESET_FILES_MAX];
		memcpy(rs, so->rules, sizeof(rs));
		if (so->nrules && (rc = ruleset_resolve(rs, so->nrules, err, len)))
			return rc;
		lab_state_describe_rules(rs, so->nrules, NULL, so->drop_mask, so->reject_mask,
		                         st.rules[s], sizeof(st.rules[s]));
		ruleset_release(rs, so->nrules);
	}
	lab_fed_fault_names(o->faults, st.faults, sizeof(st.faults));
	if (!rc)
		rc = lab_state_write(dir, &st);
	if (rc)
		snprintf(err, len, "%s: its state: %s", dir, strerror(rc));
	return rc;
}

int labs_fed_up(const struct lab_fed_opts *fo, const char *name, const char *dir, char *err,
                size_t len)
{
	struct lab_fed_opts o = *fo;
	struct lab_fed *f;
	o.name = name;
	o.dir = dir;
	int rc = describe(&o, dir, err, len);
	if (rc) {
		lab_remove_tree(dir);
		return rc;
	}
	rc = lab_fed_up(&f, &o, err, len);
	if (rc)
		return rc; /* torn down, its directory too */
	rc = lab_state_set_ready(dir);
	if (rc) {
		snprintf(err, len, "%s: writing its state: %s", dir, strerror(rc));
		lab_fed_down(f);
		return rc;
	}
	lab_fed_close(f);
	return 0;
}

bool labs_fed_any(const char *name, char *which, size_t cap)
{
	struct lab_fed f;
	const char *ns[LAB_FED_NS];
	lab_fed_names(&f, NULL, name, "", false);
	lab_fed_namespaces(&f, ns);
	for (size_t i = 0; i < LAB_FED_NS; i++) {
		if (lab_ns_exists(ns[i])) {
			snprintf(which, cap, "%s", ns[i]);
			return true;
		}
	}
	return false;
}

int labs_fed_destroy(const char *name)
{
	struct lab_fed f;
	const char *ns[LAB_FED_NS];
	char dir[LAB_PATH_MAX];
	int there = 0;
	snprintf(dir, sizeof(dir), LABS_ROOT "/%s", name);
	lab_fed_names(&f, NULL, name, dir, false);
	lab_fed_namespaces(&f, ns);
	for (size_t i = 0; i < LAB_FED_NS; i++)
		there += lab_ns_exists(ns[i]);
	return there - lab_fed_net_destroy(&f);
}

int lab_fed_open(const char *name, struct lab_fed **fp, char *err, size_t len)
{
	struct labs_info info;
	char dir[LAB_PATH_MAX];
	*fp = NULL;
	int rc = labs_ready(name, &info, err, len);
	if (rc)
		return rc;
	if (!info.federation)
		return snprintf(err, len, "lab %s is a single-site lab", name), EINVAL;
	struct lab_fed *f = calloc(1, sizeof(*f));
	if (!f)
		return snprintf(err, len, "out of memory"), ENOMEM;
	f->o = &f->own;
	snprintf(dir, sizeof(dir), LABS_ROOT "/%s", name);
	lab_fed_names(f, NULL, name, dir, false);
	*fp = f;
	return 0;
}
