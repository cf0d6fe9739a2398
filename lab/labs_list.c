/* What `lab list` says of each standing lab: found by its directory or its
 * namespaces, judged by its state file and what is there. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lab/lab_int.h"
#include "lab/labs.h"

static const char *const health_names[] = {
    [LABS_READY] = "ready",
    [LABS_EDGE_DOWN] = "edge down",
    [LABS_EDGE_SILENT] = "edge silent",
    [LABS_BUILDING] = "building",
    [LABS_BROKEN] = "broken",
};

const char *labs_health_name(enum labs_health h)
{
	return (unsigned)h < sizeof(health_names) / sizeof(health_names[0]) ? health_names[h] : "?";
}

/* The lab's health from its state and what is there. */
static void judge(const char *name, const struct lab_env *e, const struct lab_state *s,
                  int state_rc, struct labs_info *info)
{
	info->health = LABS_READY;
	if (state_rc == 0 && !s->ready && lab_state_alive(s->up_pid, s->up_start)) {
		info->health = LABS_BUILDING;
		snprintf(info->why, sizeof(info->why), "`edgelab lab up` (PID %ld) is building it",
		         s->up_pid);
		return;
	}
	if (state_rc || !s->ready) {
		info->health = LABS_BROKEN;
		snprintf(info->why, sizeof(info->why),
		         "its `edgelab lab up` did not finish: `edgelab lab down %s`", name);
		return;
	}
	for (int i = 0; i < LAB_ROLES; i++) {
		if (lab_ns_exists(e->ns[i]))
			continue;
		info->health = LABS_BROKEN;
		snprintf(info->why, sizeof(info->why),
		         "namespace %s is gone (a reboot?): `edgelab lab down %s`", e->ns[i], name);
		return;
	}
	if (!lab_state_alive(s->serve_pid, s->serve_start)) {
		info->health = LABS_EDGE_DOWN;
		snprintf(info->why, sizeof(info->why),
		         "its edgelab serve (PID %ld) has exited; see %s", s->serve_pid,
		         e->edge_log);
	} else if (!lab_edge_healthy(e)) {
		info->health = LABS_EDGE_SILENT;
		snprintf(info->why, sizeof(info->why),
		         "its edgelab serve (PID %ld) does not answer /healthz; see %s",
		         s->serve_pid, e->edge_log);
	} else {
		snprintf(info->why, sizeof(info->why), "edge PID %ld answering", s->serve_pid);
	}
}

int labs_info(const char *name, struct labs_info *info)
{
	char dir[LAB_PATH_MAX];
	struct lab_env e;
	struct lab_state s;
	struct stat st;
	memset(info, 0, sizeof(*info));
	if (!labs_name_valid(name))
		return EINVAL;
	snprintf(dir, sizeof(dir), LABS_ROOT "/%s", name);
	lab_env_init(&e, NULL, name, dir, false);
	bool has_dir = stat(dir, &st) == 0, has_ns = false;
	for (int i = 0; i < LAB_ROLES; i++)
		has_ns |= lab_ns_exists(e.ns[i]);
	if (!has_dir && !has_ns)
		return ENOENT;
	snprintf(info->name, sizeof(info->name), "%s", name);
	int rc = has_dir ? lab_state_read(dir, &s) : ENOENT;
	info->created = rc == 0 ? (time_t)s.created : has_dir ? st.st_mtime : 0;
	snprintf(info->rules, sizeof(info->rules), "%s", rc == 0 ? s.rules : "?");
	judge(name, &e, &s, rc, info);
	return 0;
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

/* A standing lab's namespace: edgelab-NAME-ROLE, NAME not a PID. */
static bool ns_lab_name(const char *ns, char *name, size_t cap)
{
	static const char prefix[] = "edgelab-";
	if (strncmp(ns, prefix, sizeof(prefix) - 1) != 0)
		return false;
	const char *mid = ns + sizeof(prefix) - 1, *dash = strrchr(mid, '-');
	enum lab_role role;
	if (!dash || lab_role_parse(dash + 1, &role) || (size_t)(dash - mid) >= cap)
		return false;
	snprintf(name, cap, "%.*s", (int)(dash - mid), mid);
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
