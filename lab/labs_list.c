/* What `lab list` says of each standing lab: found by its directory or its
 * namespaces, judged by its state file and what is there. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lab/fed_int.h"
#include "lab/lab_int.h"
#include "lab/labs.h"

static const char *const health_names[] = {
    [LABS_READY] = "ready",
    [LABS_EDGE_DOWN] = "edge down",
    [LABS_EDGE_SILENT] = "edge silent",
    [LABS_DNS_DOWN] = "dns down",
    [LABS_BUILDING] = "building",
    [LABS_BROKEN] = "broken",
};

const char *labs_health_name(enum labs_health h)
{
	return (unsigned)h < sizeof(health_names) / sizeof(health_names[0]) ? health_names[h] : "?";
}

/* What a lab must have to be ready: its namespaces, and its processes
 * running (each edge answering /healthz too). */
struct needs {
	const char *ns[LAB_FED_NS]; /* LAB_ROLES of a single-site lab */
	size_t nns;
	struct need_proc {
		const char *tag;                /* "edge A", for the ready line */
		const char *what;               /* "its edgelab serve", for the others */
		const struct lab_proc_rec *rec; /* in the state */
		const char *log;
		const struct lab_env *edge; /* asked for /healthz; NULL: dnsmasq */
	} proc[LAB_STATE_EDGES + 1];
	size_t nproc;
};

static void needs_single(const struct lab_env *e, const struct lab_state *s, struct needs *n)
{
	for (int i = 0; i < LAB_ROLES; i++)
		n->ns[n->nns++] = e->ns[i];
	n->proc[n->nproc++] =
	    (struct need_proc){"edge", "its edgelab serve", &s->serve[0], e->edge_log, e};
}

static void needs_fed(const struct lab_fed *f, const struct lab_state *s, struct needs *n)
{
	static const char *const tag[] = {"edge A", "edge B"};
	static const char *const what[] = {"edge A's edgelab serve", "edge B's edgelab serve"};
	lab_fed_namespaces(f, n->ns);
	n->nns = LAB_FED_NS;
	for (int i = 0; i < LAB_SITES; i++) {
		n->proc[n->nproc++] = (struct need_proc){tag[i], what[i], &s->serve[i],
		                                         f->site[i].edge_log, &f->site[i]};
	}
	n->proc[n->nproc++] =
	    (struct need_proc){"dnsmasq", "its dnsmasq", &s->dns, f->dns_log, NULL};
}

/* The lab's health from its state and what is there. */
static void judge(const char *name, const struct needs *n, const struct lab_state *s, int state_rc,
                  struct labs_info *info)
{
	info->health = LABS_READY;
	if (state_rc == 0 && !s->ready && lab_state_alive(&s->up)) {
		info->health = LABS_BUILDING;
		snprintf(info->why, sizeof(info->why), "`edgelab lab up` (PID %ld) is building it",
		         s->up.pid);
		return;
	}
	if (state_rc || !s->ready) {
		info->health = LABS_BROKEN;
		snprintf(info->why, sizeof(info->why),
		         "its `edgelab lab up` did not finish: `edgelab lab down %s`", name);
		return;
	}
	for (size_t i = 0; i < n->nns; i++) {
		if (lab_ns_exists(n->ns[i]))
			continue;
		info->health = LABS_BROKEN;
		snprintf(info->why, sizeof(info->why),
		         "namespace %s is gone (a reboot?): `edgelab lab down %s`", n->ns[i], name);
		return;
	}
	size_t used = 0;
	for (size_t i = 0; i < n->nproc; i++) {
		const struct need_proc *p = &n->proc[i];
		if (!lab_state_alive(p->rec)) {
			info->health = p->edge ? LABS_EDGE_DOWN : LABS_DNS_DOWN;
			snprintf(info->why, sizeof(info->why), "%s (PID %ld) has exited; see %s",
			         p->what, p->rec->pid, p->log);
			return;
		}
		if (p->edge && !lab_edge_healthy(p->edge)) {
			info->health = LABS_EDGE_SILENT;
			snprintf(info->why, sizeof(info->why),
			         "%s (PID %ld) does not answer /healthz; see %s", p->what,
			         p->rec->pid, p->log);
			return;
		}
		if (used < sizeof(info->why))
			used +=
			    (size_t)snprintf(info->why + used, sizeof(info->why) - used,
			                     "%s%s PID %ld", i ? ", " : "", p->tag, p->rec->pid);
	}
	if (used < sizeof(info->why))
		snprintf(info->why + used, sizeof(info->why) - used, " answering");
}

bool labs_is_federation(const char *name)
{
	char dir[LAB_PATH_MAX], inet[96];
	struct lab_state s;
	snprintf(dir, sizeof(dir), LABS_ROOT "/%s", name);
	if (lab_state_read(dir, &s) == 0)
		return s.federation;
	snprintf(inet, sizeof(inet), "edgelab-%s-inet", name);
	return lab_ns_exists(inet);
}

bool labs_fed_member(const char *name)
{
	char parent[LABS_NAME_MAX + 1];
	size_t n = strlen(name);
	if (n < 3 || n > LABS_NAME_MAX || name[n - 2] != '-' || !strchr("ab", name[n - 1]))
		return false;
	snprintf(parent, sizeof(parent), "%.*s", (int)(n - 2), name);
	return labs_name_valid(parent) && labs_is_federation(parent);
}

/* "A: generated policy; B: ...; faults: no-srv-b". */
static void fed_rules(const struct lab_state *s, char *buf, size_t cap)
{
	int n = snprintf(buf, cap, "A: %s; B: %s", s->rules[0], s->rules[1]);
	if (n > 0 && (size_t)n < cap && strcmp(s->faults, "none"))
		snprintf(buf + n, cap - (size_t)n, "; faults: %s", s->faults);
}

int labs_info(const char *name, struct labs_info *info)
{
	char dir[LAB_PATH_MAX];
	struct lab_env e;
	struct lab_state s = {0}; /* read only when there is a directory */
	struct needs needs = {0};
	struct stat st;
	struct lab_fed f; /* names only */
	memset(info, 0, sizeof(*info));
	if (!labs_name_valid(name))
		return EINVAL;
	snprintf(dir, sizeof(dir), LABS_ROOT "/%s", name);
	bool has_dir = stat(dir, &st) == 0, has_ns = false;
	if (!has_dir && labs_fed_member(name))
		return ENOENT; /* the namespaces are the federation lab's */
	int rc = has_dir ? lab_state_read(dir, &s) : ENOENT;
	info->federation = rc == 0 ? s.federation : labs_is_federation(name);
	if (info->federation) {
		lab_fed_names(&f, NULL, name, dir, false);
		needs_fed(&f, &s, &needs);
	} else {
		lab_env_init(&e, NULL, name, dir, false);
		needs_single(&e, &s, &needs);
	}
	for (size_t i = 0; i < needs.nns; i++)
		has_ns |= lab_ns_exists(needs.ns[i]);
	if (!has_dir && !has_ns)
		return ENOENT;
	snprintf(info->name, sizeof(info->name), "%s", name);
	info->created = rc == 0 ? (time_t)s.created : has_dir ? st.st_mtime : 0;
	if (rc)
		snprintf(info->rules, sizeof(info->rules), "?");
	else if (s.federation)
		fed_rules(&s, info->rules, sizeof(info->rules));
	else
		snprintf(info->rules, sizeof(info->rules), "%s", s.rules[0]);
	judge(name, &needs, &s, rc, info);
	return 0;
}

int labs_ready(const char *name, struct labs_info *info, char *err, size_t err_len)
{
	int rc = labs_info(name, info);
	if (rc) {
		snprintf(err, err_len, "no lab called %s (`edgelab lab list`)", name);
		return rc;
	}
	if (info->health == LABS_READY)
		return 0;
	snprintf(err, err_len, "lab %s is not ready: %s: %s", name, labs_health_name(info->health),
	         info->why);
	return info->health == LABS_BUILDING || info->health == LABS_BROKEN ? EAGAIN : ESRCH;
}

/* Adds name to names (n so far, at most max) unless it is there. */
static void add_name(char names[][LABS_NAME_MAX + 1], size_t *n, size_t max, const char *name)
{
	if (!labs_name_valid(name))
		return;
	for (size_t i = 0; i < *n; i++)
		if (strcmp(names[i], name) == 0)
			return;
	if (*n < max)
		memcpy(names[(*n)++], name, strlen(name) + 1); /* valid: it fits */
}

/* A standing lab's namespace: edgelab-NAME-ROLE, NAME not a PID; a
 * federation lab X's edgelab-X-inet, and edgelab-X-a-fw and the like,
 * which would be a lab X-a's fw when there is no federation lab X. */
static bool ns_lab_name(const char *ns, char *name, size_t cap)
{
	static const char prefix[] = "edgelab-";
	if (strncmp(ns, prefix, sizeof(prefix) - 1) != 0)
		return false;
	const char *mid = ns + sizeof(prefix) - 1, *dash = strrchr(mid, '-');
	enum lab_role role;
	if (!dash || (strcmp(dash + 1, "inet") && lab_role_parse(dash + 1, &role)) ||
	    (size_t)(dash - mid) >= cap)
		return false;
	snprintf(name, cap, "%.*s", (int)(dash - mid), mid);
	if (labs_fed_member(name))
		name[strlen(name) - 2] = '\0';
	return labs_name_valid(name);
}

static int cmp_info(const void *a, const void *b)
{
	return strcmp(((const struct labs_info *)a)->name, ((const struct labs_info *)b)->name);
}

int labs_list(struct labs_info *out, size_t max, size_t *n)
{
	char names[LABS_MAX][LABS_NAME_MAX + 1], name[LABS_NAME_MAX + 1];
	size_t count = 0;
	struct dirent *de;
	DIR *d = opendir(LABS_ROOT);
	if (max > LABS_MAX)
		max = LABS_MAX;
	while (d && (de = readdir(d)))
		add_name(names, &count, max, de->d_name);
	if (d)
		closedir(d);
	d = opendir("/run/netns");
	while (d && (de = readdir(d)))
		if (ns_lab_name(de->d_name, name, sizeof(name)))
			add_name(names, &count, max, name);
	if (d)
		closedir(d);
	*n = 0;
	for (size_t i = 0; i < count; i++)
		if (labs_info(names[i], &out[*n]) == 0)
			(*n)++;
	qsort(out, *n, sizeof(*out), cmp_info);
	return 0;
}
