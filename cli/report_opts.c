/* --report FMT:FILE (cli/report_opts.h). */
#include "cli/report_opts.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int report_opt_file(const struct cli_opt *o, const char *value, char *why, size_t why_len,
                    void *arg)
{
	struct report_files *r = CLI_OPT_FIELD(o, arg, struct report_files);
	const char *colon = strchr(value, ':');
	char fmt[16];
	if (r->n == REPORT_FILES_MAX) {
		snprintf(why, why_len, "at most %d of them", REPORT_FILES_MAX);
		return EINVAL;
	}
	if (!colon || !colon[1] || (size_t)(colon - value) >= sizeof(fmt))
		return EINVAL;
	memcpy(fmt, value, (size_t)(colon - value));
	fmt[colon - value] = '\0';
	struct report_file *f = &r->f[r->n];
	if (report_format_parse(fmt, &f->fmt)) {
		snprintf(why, why_len, "'%s' is not a format (table, json, junit, tap or html)",
		         fmt);
		return EINVAL;
	}
	f->path = colon + 1;
	f->spec = value;
	r->n++;
	return 0;
}

/* FILE's directory is there and ours to write in: the .tmp and the rename
 * need both. 0, or EINVAL with why. */
static int dir_check(const char *path, char *why, size_t why_len)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	struct stat st;
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else
		snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 : (int)(slash - path), path);
	int err = stat(dir, &st)         ? errno
	          : !S_ISDIR(st.st_mode) ? ENOTDIR
	          : access(dir, W_OK)    ? errno
	                                 : 0;
	if (err)
		snprintf(why, why_len, "%s: %s", dir, strerror(err));
	return err ? EINVAL : 0;
}

int report_files_check(const struct report_files *r, const char *output, char *why, size_t why_len)
{
	char dir_why[PATH_MAX + 64];
	for (size_t i = 0; i < r->n; i++) {
		const struct report_file *f = &r->f[i];
		bool twice = output && strcmp(f->path, output) == 0;
		for (size_t j = 0; j < i && !twice; j++)
			twice = strcmp(f->path, r->f[j].path) == 0;
		if (twice) {
			snprintf(why, why_len,
			         "--report %s: %s is written by another --report or --output",
			         f->spec, f->path);
			return EINVAL;
		}
		if (dir_check(f->path, dir_why, sizeof(dir_why))) {
			snprintf(why, why_len, "--report %s: %s", f->spec, dir_why);
			return EINVAL;
		}
	}
	return 0;
}
