/* A standing lab's state file, and the names labs may have. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lab/lab_int.h"
#include "lab/labs.h"
#include "lab/proc.h"

#define STATE_FILE "state"
#define SINGLE     1u /* a key of a single-site lab's file */
#define FED        2u /* of a federation lab's */

enum key_type { K_LONG, K_ULL, K_BOOL, K_TEXT };

/* The keys, in the order written; `topology` comes first, on its own.
 * The single-site keys are those of the files written before federation
 * labs, so that either reads the other's single-site files. */
static const struct key {
	const char *name;
	enum key_type type;
	size_t off, size; /* size: K_TEXT's buffer */
	unsigned in;      /* SINGLE, FED */
} keys[] = {
#define AT(field) offsetof(struct lab_state, field)
    {"created", K_LONG, AT(created), 0, SINGLE | FED},
    {"up_pid", K_LONG, AT(up.pid), 0, SINGLE | FED},
    {"up_start", K_ULL, AT(up.start), 0, SINGLE | FED},
    {"serve_pid", K_LONG, AT(serve[0].pid), 0, SINGLE},
    {"serve_start", K_ULL, AT(serve[0].start), 0, SINGLE},
    {"serve_a_pid", K_LONG, AT(serve[0].pid), 0, FED},
    {"serve_a_start", K_ULL, AT(serve[0].start), 0, FED},
    {"serve_b_pid", K_LONG, AT(serve[1].pid), 0, FED},
    {"serve_b_start", K_ULL, AT(serve[1].start), 0, FED},
    {"dns_pid", K_LONG, AT(dns.pid), 0, FED},
    {"dns_start", K_ULL, AT(dns.start), 0, FED},
    {"ready", K_BOOL, AT(ready), 0, SINGLE | FED},
    {"rules", K_TEXT, AT(rules[0]), sizeof(((struct lab_state *)0)->rules[0]), SINGLE},
    {"rules_a", K_TEXT, AT(rules[0]), sizeof(((struct lab_state *)0)->rules[0]), FED},
    {"rules_b", K_TEXT, AT(rules[1]), sizeof(((struct lab_state *)0)->rules[1]), FED},
    {"faults", K_TEXT, AT(faults), sizeof(((struct lab_state *)0)->faults), FED},
#undef AT
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))
_Static_assert(NKEYS <= 32, "seen and dup are bit masks");

static void write_key(FILE *f, const struct key *k, const struct lab_state *s)
{
	const char *at = (const char *)s + k->off;
	switch (k->type) {
	case K_LONG:
		fprintf(f, "%s %ld\n", k->name, *(const long *)at);
		break;
	case K_ULL:
		fprintf(f, "%s %llu\n", k->name, *(const unsigned long long *)at);
		break;
	case K_BOOL:
		fprintf(f, "%s %d\n", k->name, *(const bool *)at ? 1 : 0);
		break;
	case K_TEXT:
		fprintf(f, "%s %s\n", k->name, at);
		break;
	}
}

int lab_state_write(const char *dir, const struct lab_state *s)
{
	char path[LAB_PATH_MAX], tmp[LAB_PATH_MAX + 8];
	unsigned mode = s->federation ? FED : SINGLE;
	snprintf(path, sizeof(path), "%s/" STATE_FILE, dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	FILE *f = fopen(tmp, "w");
	if (!f)
		return errno;
	fprintf(f, "# edgelab lab up: this lab's state (edgelab lab list)\ntopology %s\n",
	        s->federation ? "federation" : "single");
	for (size_t i = 0; i < NKEYS; i++)
		if (keys[i].in & mode)
			write_key(f, &keys[i], s);
	if (fclose(f))
		return unlink(tmp), EIO;
	return rename(tmp, path) ? errno : 0;
}

/* value into k's field; 0 or EINVAL (not all of it a number). */
static int read_key(const struct key *k, const char *value, struct lab_state *s)
{
	char *at = (char *)s + k->off, *end;
	errno = 0;
	switch (k->type) {
	case K_LONG:
		*(long *)at = strtol(value, &end, 10);
		break;
	case K_ULL:
		*(unsigned long long *)at = strtoull(value, &end, 10);
		break;
	case K_BOOL:
		*(bool *)at = strcmp(value, "1") == 0;
		return strcmp(value, "0") && strcmp(value, "1") ? EINVAL : 0;
	case K_TEXT:
		snprintf(at, k->size, "%s", value);
		return 0;
	}
	return errno || end == value || *end ? EINVAL : 0;
}

int lab_state_read(const char *dir, struct lab_state *s)
{
	char path[LAB_PATH_MAX], line[512];
	snprintf(path, sizeof(path), "%s/" STATE_FILE, dir);
	memset(s, 0, sizeof(*s));
	FILE *f = fopen(path, "r");
	if (!f)
		return errno;
	/* Each key once: a file with one twice was not written by us. Keys
	 * we do not know are a later version's: left alone. */
	unsigned seen = 0, dup = 0, bad = 0, topology = 0;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		char *value = strchr(line, ' ');
		if (line[0] == '#' || !value)
			continue;
		*value++ = '\0';
		if (strcmp(line, "topology") == 0) {
			dup |= topology;
			topology = 1;
			s->federation = strcmp(value, "federation") == 0;
			bad |= !s->federation && strcmp(value, "single");
			continue;
		}
		for (size_t i = 0; i < NKEYS; i++) {
			if (strcmp(line, keys[i].name))
				continue;
			dup |= seen & 1u << i;
			seen |= 1u << i;
			bad |= read_key(&keys[i], value, s) != 0;
		}
	}
	fclose(f);
	unsigned need = 0, mode = s->federation ? FED : SINGLE;
	for (size_t i = 0; i < NKEYS; i++)
		if (keys[i].in & mode)
			need |= 1u << i;
	return (seen & need) == need && !dup && !bad ? 0 : EINVAL;
}

int lab_state_set_ready(const char *dir)
{
	struct lab_state s;
	int rc = lab_state_read(dir, &s);
	if (!rc) {
		s.ready = true;
		rc = lab_state_write(dir, &s);
	}
	return rc;
}

bool lab_state_alive(const struct lab_proc_rec *p)
{
	return p->pid > 0 && p->start && proc_start_time(p->pid) == p->start;
}

void lab_state_record(struct lab_proc_rec *r, long pid)
{
	r->pid = pid > 0 ? pid : 0;
	r->start = pid > 0 ? proc_start_time(pid) : 0;
}

/* Through a pidfd, so that a PID reused after the check is never
 * signalled. */
void lab_state_stop(const struct lab_proc_rec *p, unsigned grace_ms)
{
	int fd = p->pid > 0 ? pidfd_open((pid_t)p->pid, 0) : -1;
	if (fd < 0)
		return;
	if (lab_state_alive(p) && pidfd_send_signal(fd, SIGTERM, NULL, 0) == 0) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		if (poll(&pfd, 1, (int)grace_ms) == 0)
			pidfd_send_signal(fd, SIGKILL, NULL, 0);
		waitpid((pid_t)p->pid, NULL, WNOHANG);
	}
	close(fd);
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

void lab_state_describe_rules(const struct ruleset *rs, size_t n, const char *scenario,
                              unsigned drop_mask, unsigned reject_mask, char *buf, size_t cap)
{
	size_t used = 0;
	buf[0] = '\0';
	if (scenario) {
		snprintf(buf, cap, "scenario %s", scenario);
		return;
	}
	if (n == 0) {
		used = (size_t)snprintf(buf, cap, "generated policy");
		used = append_rows(buf, used, cap, "--drop", drop_mask);
		append_rows(buf, used, cap, "--reject", reject_mask);
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

bool labs_name_valid(const char *name)
{
	size_t n = strlen(name);
	if (n < 1 || n > LABS_NAME_MAX || name[0] < 'a' || name[0] > 'z')
		return false;
	return strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789-") == n;
}
