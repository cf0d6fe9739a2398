/* Standing labs (lab/labs.h): up, down, and what runs against one. */
#include "lab/labs.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lab/lab_int.h"
#include "lab/proc.h"
#include "lab/scenario.h"

#define STOP_GRACE_MS 3000  /* the edge's, after SIGTERM */
#define UP_GRACE_MS   15000 /* an interrupted `lab up`'s, to tear down */

static void lab_dir(const char *name, char *dir, size_t cap)
{
	snprintf(dir, cap, LABS_ROOT "/%s", name);
}

/* The lab's directory, made by us alone: a second `up` of the same name
 * fails here, before it touches anything; so does one whose namespaces are
 * there without a directory (what is in them is not ours to remove). */
static int claim(const char *name, char *dir, size_t cap, char *err, size_t err_len)
{
	struct lab_env e;
	char ns[64];
	lab_dir(name, dir, cap);
	lab_env_init(&e, NULL, name, dir, false);
	if ((mkdir("/run/edgelab", 0755) && errno != EEXIST) ||
	    (mkdir(LABS_ROOT, 0755) && errno != EEXIST)) {
		snprintf(err, err_len, "%s: %s", LABS_ROOT, strerror(errno));
		return errno;
	}
	int rc = lab_net_any(&e, ns, sizeof(ns)) ? EEXIST : mkdir(dir, 0700) ? errno : 0;
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
static int claim_name(const char *wanted, char *name, char *dir, size_t cap, char *err,
                      size_t err_len)
{
	if (wanted) {
		snprintf(name, LABS_NAME_MAX + 1, "%s", wanted);
		return claim(name, dir, cap, err, err_len);
	}
	for (int i = 1; i <= LABS_MAX; i++) {
		snprintf(name, LABS_NAME_MAX + 1, "lab%d", i);
		int rc = claim(name, dir, cap, err, err_len);
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

/* Appends s to buf with control characters as '?': a file name may hold a
 * newline, and the state file is one `key value` a line. */
static size_t append_clean(char *buf, size_t used, size_t cap, const char *s)
{
	for (; *s && used + 1 < cap; s++)
		buf[used++] = (unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s;
	buf[used < cap ? used : cap - 1] = '\0';
	return used;
}

/* " --drop 2,3" for a row mask (bit n = row n), or nothing. */
static size_t append_rows(char *buf, size_t used, size_t cap, const char *flag, unsigned mask)
{
	bool first = true;
	for (int row = 1; row < 32 && used < cap; row++) {
		if (!(mask >> row & 1u))
			continue;
		if (first)
			used += (size_t)snprintf(buf + used, cap - used, " %s %d", flag, row);
		else
			used += (size_t)snprintf(buf + used, cap - used, ",%d", row);
		first = false;
	}
	return used < cap ? used : cap - 1;
}

/* What fw has, in words, for `lab list`. */
static void describe_rules(const struct ruleset *rs, size_t n, const struct labs_up_opts *o,
                           char *buf, size_t cap)
{
	size_t used = 0;
	buf[0] = '\0';
	if (o && o->scenario) {
		snprintf(buf, cap, "scenario %s", o->scenario);
		return;
	}
	if (n == 0) {
		used = (size_t)snprintf(buf, cap, "generated policy");
		used = append_rows(buf, used, cap, "--drop", o ? o->drop_mask : 0);
		append_rows(buf, used, cap, "--reject", o ? o->reject_mask : 0);
		return;
	}
	for (size_t i = 0; i < n && used + 1 < cap; i++) {
		used = append_clean(buf, used, cap, i ? ", " : "");
		used = append_clean(buf, used, cap, rs[i].path);
		used = append_clean(buf, used, cap, " (");
		used = append_clean(buf, used, cap, ruleset_format_name(rs[i].fmt));
		used = append_clean(buf, used, cap, ")");
	}
}

/* Records the edge as soon as it is started: a `lab up` killed while it
 * waits for the edge leaves a state that `down` can stop it from. */
static int record_edge(const struct lab_env *e, struct lab_state *st, pid_t serve)
{
	st->serve_pid = serve;
	st->serve_start = proc_start_time(serve);
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
	describe_rules(rs, n, o, st->rules, sizeof(st->rules));
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
	return rc;
}

/* Stops a recorded process, if it is still that one: SIGTERM, then SIGKILL
 * after grace_ms. Through a pidfd, so that a PID reused after the check is
 * never signalled; reaped when it is our child (`up` failing). */
static void stop_recorded(long pid, unsigned long long start, unsigned grace_ms)
{
	int fd = pid > 0 ? pidfd_open((pid_t)pid, 0) : -1;
	if (fd < 0)
		return;
	if (lab_state_alive(pid, start) && pidfd_send_signal(fd, SIGTERM, NULL, 0) == 0) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		if (poll(&pfd, 1, (int)grace_ms) == 0)
			pidfd_send_signal(fd, SIGKILL, NULL, 0);
		waitpid((pid_t)pid, NULL, WNOHANG);
	}
	close(fd);
}

static void stop_edge(const struct lab_state *st)
{
	stop_recorded(st->serve_pid, st->serve_start, STOP_GRACE_MS);
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
	stop_edge(st);
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
	int rc = claim_name(o->name, name, dir, sizeof(dir), err, err_len);
	if (rc)
		return rc;
	lab_env_init(&e, o->self, name, dir, o->verbose);
	struct lab_state st = {.created = (long)time(NULL), .up_pid = (long)getpid()};
	st.up_start = proc_start_time(st.up_pid);
	rc = lab_state_write(dir, &st);
	if (rc)
		snprintf(err, err_len, "%s: writing its state: %s", dir, strerror(rc));
	if (!rc)
		rc = build(o, &e, &st, err, err_len);
	if (!rc) {
		st.ready = true;
		rc = lab_state_write(dir, &st);
		if (rc)
			snprintf(err, err_len, "%s: writing its state: %s", dir, strerror(rc));
	}
	if (rc)
		undo_up(&e, &st, rc);
	return rc;
}

/* A `lab up` still building this lab: interrupt it (it then tears down
 * what it built) and give it time to. */
static void stop_up(const struct lab_state *st)
{
	if (!st->ready)
		stop_recorded(st->up_pid, st->up_start, UP_GRACE_MS);
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
	bool found = stat(dir, &sb) == 0;
	if (lab_state_read(dir, &st) == 0) {
		stop_up(&st);
		stop_edge(&st);
	}
	found |= lab_net_destroy(&e) > 0;
	if (lab_net_any(&e, ns, sizeof(ns))) {
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

/* The lab, ready; err says what is wrong with it otherwise. */
static int ready_lab(const char *name, struct lab_env *e, const char *self, char *err,
                     size_t err_len)
{
	struct labs_info info;
	char dir[LAB_PATH_MAX];
	int rc = labs_info(name, &info);
	if (rc) {
		snprintf(err, err_len, "no lab called %s (`edgelab lab list`)", name);
		return rc;
	}
	if (info.health != LABS_READY) {
		snprintf(err, err_len, "lab %s is not ready: %s: %s", name,
		         labs_health_name(info.health), info.why);
		return info.health == LABS_EDGE_DOWN || info.health == LABS_EDGE_SILENT ? ESRCH
		                                                                        : EAGAIN;
	}
	lab_dir(name, dir, sizeof(dir));
	lab_env_init(e, self, name, dir, false);
	return 0;
}

int labs_probe(const char *name, const char *self, const struct lab_probe_args *a, int *status,
               char *err, size_t err_len)
{
	struct lab_env e;
	int rc = ready_lab(name, &e, self, err, err_len);
	if (rc)
		return rc;
	proc_block_signals();
	return lab_probe_run(&e, a, status, err, err_len);
}

int labs_set_rules(const char *name, struct ruleset *rs, size_t n, char *err, size_t err_len)
{
	struct lab_env e;
	struct lab_state st;
	if (err_len)
		err[0] = '\0';
	int rc = ready_lab(name, &e, NULL, err, err_len);
	if (!rc)
		rc = ruleset_resolve(rs, n, err, err_len);
	if (rc)
		return rc;
	/* An interrupt between the flush and the load must still end in a
	 * closed fw (ruleset_load's failsafe), not a dead command. */
	proc_block_signals();
	rc = ruleset_load(e.ns[LAB_FW], rs, n, err, err_len);
	if (!rc && (rc = lab_state_read(e.dir, &st)) == 0) {
		describe_rules(rs, n, NULL, st.rules, sizeof(st.rules));
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
	struct lab_env e;
	enum lab_role r;
	if (lab_role_parse(role, &r)) {
		snprintf(err, err_len, "'%s' is not outside, fw or edge", role);
		return EINVAL;
	}
	if (!labs_name_valid(name)) {
		snprintf(err, err_len, "'%s' is not a lab name", name);
		return EINVAL;
	}
	lab_env_init(&e, NULL, name, "", false);
	if (!lab_ns_exists(e.ns[r])) {
		snprintf(err, err_len, "lab %s has no %s namespace (%s): `edgelab lab list`", name,
		         role, e.ns[r]);
		return ENOENT;
	}
	snprintf(ns, ns_len, "%s", e.ns[r]);
	return 0;
}
