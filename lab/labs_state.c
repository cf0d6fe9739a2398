/* A standing lab's state file, and the names labs may have. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lab/lab_int.h"
#include "lab/labs.h"
#include "lab/proc.h"

#define STATE_FILE "state"

int lab_state_write(const char *dir, const struct lab_state *s)
{
	char path[LAB_PATH_MAX], tmp[LAB_PATH_MAX + 8];
	snprintf(path, sizeof(path), "%s/" STATE_FILE, dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	FILE *f = fopen(tmp, "w");
	if (!f)
		return errno;
	fprintf(f,
	        "# edgelab lab up: this lab's state (edgelab lab list)\n"
	        "created %ld\nup_pid %ld\nup_start %llu\nserve_pid %ld\nserve_start %llu\n"
	        "ready %d\nrules %s\n",
	        s->created, s->up_pid, s->up_start, s->serve_pid, s->serve_start, s->ready ? 1 : 0,
	        s->rules);
	if (fclose(f))
		return unlink(tmp), EIO;
	return rename(tmp, path) ? errno : 0;
}

int lab_state_read(const char *dir, struct lab_state *s)
{
	char path[LAB_PATH_MAX], line[256];
	snprintf(path, sizeof(path), "%s/" STATE_FILE, dir);
	memset(s, 0, sizeof(*s));
	FILE *f = fopen(path, "r");
	if (!f)
		return errno;
	/* Each key once: a file with one twice was not written by us. */
	unsigned seen = 0, dup = 0;
	int ready = 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned key = 0;
		line[strcspn(line, "\n")] = '\0';
		key |= sscanf(line, "created %ld", &s->created) == 1 ? 1u : 0;
		key |= sscanf(line, "up_pid %ld", &s->up_pid) == 1 ? 2u : 0;
		key |= sscanf(line, "up_start %llu", &s->up_start) == 1 ? 4u : 0;
		key |= sscanf(line, "serve_pid %ld", &s->serve_pid) == 1 ? 8u : 0;
		key |= sscanf(line, "serve_start %llu", &s->serve_start) == 1 ? 16u : 0;
		key |= sscanf(line, "ready %d", &ready) == 1 ? 32u : 0;
		if (strncmp(line, "rules ", 6) == 0) {
			snprintf(s->rules, sizeof(s->rules), "%.199s", line + 6);
			key |= 64u;
		}
		dup |= seen & key;
		seen |= key;
	}
	fclose(f);
	s->ready = ready == 1;
	return seen == 127 && !dup ? 0 : EINVAL;
}

bool lab_state_alive(long pid, unsigned long long start)
{
	return pid > 0 && start && proc_start_time(pid) == start;
}

bool labs_name_valid(const char *name)
{
	size_t n = strlen(name);
	if (n < 1 || n > LABS_NAME_MAX || name[0] < 'a' || name[0] > 'z')
		return false;
	return strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789-") == n;
}
