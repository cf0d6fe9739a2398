/* The report's entry points: a format's name, and report_write, which
 * checks its arguments, counts the verdicts and hands over to the format's
 * writer (report_table.c, report_json.c, report_junit.c, report_tap.c,
 * report_html.c); report_write_file puts one in a file whole. */
#include "probe/report.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "probe/report_int.h"

int report_format_parse(const char *name, enum report_format *fmt)
{
	static const char *const names[] = {
	    [REPORT_TABLE] = "table", [REPORT_JSON] = "json", [REPORT_JUNIT] = "junit",
	    [REPORT_TAP] = "tap",     [REPORT_HTML] = "html",
	};
	if (!name || !fmt)
		return EINVAL;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(name, names[i]) == 0) {
			*fmt = (enum report_format)i;
			return 0;
		}
	}
	return EINVAL;
}

static void counts_get(const struct probe_result *res, size_t n, struct counts *c)
{
	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < n; i++) {
		if (res[i].row) {
			c->v[res[i].verdict]++;
			c->rows++;
		} else {
			c->neg[res[i].verdict]++;
			c->negs++;
		}
		c->not_ok += !probe_result_ok(&res[i]);
	}
}

typedef void (*writer_fn)(struct out *w, const struct report_meta *m,
                          const struct probe_result *res, size_t n, const struct counts *c);

static const writer_fn writers[] = {
    [REPORT_TABLE] = write_table, [REPORT_JSON] = write_json, [REPORT_JUNIT] = write_junit,
    [REPORT_TAP] = write_tap,     [REPORT_HTML] = write_html,
};

int report_write(FILE *out, enum report_format fmt, const struct report_meta *meta,
                 const struct probe_result *results, size_t n)
{
	struct out w = {out, 0};
	struct counts c;

	if (!out || !meta || (n && !results))
		return EINVAL;
	if ((unsigned)fmt >= sizeof(writers) / sizeof(writers[0]))
		return EINVAL;
	for (size_t i = 0; i < n; i++)
		if ((unsigned)results[i].verdict >= VERDICT_COUNT)
			return EINVAL;
	counts_get(results, n, &c);
	writers[fmt](&w, meta, results, n, &c);
	return out_finish(&w);
}

int report_write_file(const char *path, enum report_format fmt, const struct report_meta *meta,
                      const struct probe_result *results, size_t n)
{
	char tmp[PATH_MAX];
	int len = path ? snprintf(tmp, sizeof(tmp), "%s.tmp", path) : -1;
	if (len < 0)
		return EINVAL;
	if ((size_t)len >= sizeof(tmp))
		return ENAMETOOLONG;
	FILE *f = fopen(tmp, "w");
	if (!f)
		return errno;
	int rc = report_write(f, fmt, meta, results, n);
	/* fclose flushes: a full disk shows here if not before. */
	if (fclose(f) && !rc)
		rc = errno ? errno : EIO;
	if (!rc && rename(tmp, path))
		rc = errno;
	if (rc)
		unlink(tmp);
	return rc;
}
