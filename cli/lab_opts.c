#include "cli/lab_opts.h"

#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include "probe/report.h"

int lab_opt_rows(const struct cli_opt *o, const char *value, char *why, size_t why_len, void *arg)
{
	unsigned mask;
	struct cli_opt check = {.offset = 0};
	int err = cli_opt_rows(&check, value, why, why_len, &mask);
	if (!err)
		CLI_OPT_FIELD(o, arg, struct lab_probe_args)->rows = value;
	return err;
}

int lab_opt_format(const struct cli_opt *o, const char *value, char *why, size_t why_len, void *arg)
{
	enum report_format fmt;
	(void)why;
	(void)why_len;
	if (report_format_parse(value, &fmt))
		return EINVAL;
	CLI_OPT_FIELD(o, arg, struct lab_probe_args)->format = value;
	return 0;
}

int lab_opt_timeout(const struct cli_opt *o, const char *value, char *why, size_t why_len,
                    void *arg)
{
	unsigned ms;
	struct cli_opt check = {.offset = 0};
	int err = cli_opt_seconds(&check, value, why, why_len, &ms);
	if (!err)
		CLI_OPT_FIELD(o, arg, struct lab_probe_args)->timeout = value;
	return err;
}

int lab_opt_rules(const struct cli_opt *o, const char *value, char *why, size_t why_len, void *arg)
{
	struct lab_rules_arg *r = CLI_OPT_FIELD(o, arg, struct lab_rules_arg);
	if (r->n == RULESET_FILES_MAX) {
		snprintf(why, why_len, "at most %d files (e.g. rules.v4 and rules.v6)",
		         RULESET_FILES_MAX);
		return EINVAL;
	}
	r->files[r->n++].path = value;
	return 0;
}

int lab_opt_rules_format(const struct cli_opt *o, const char *value, char *why, size_t why_len,
                         void *arg)
{
	(void)why;
	(void)why_len;
	return ruleset_format_parse(value, &CLI_OPT_FIELD(o, arg, struct lab_rules_arg)->fmt);
}

int lab_rules_finish(struct lab_rules_arg *r, char *why, size_t why_len)
{
	if (r->fmt != RULESET_AUTO && r->n == 0) {
		snprintf(why, why_len, "--rules-format says how to read --rules FILE: give one");
		return EINVAL;
	}
	for (size_t i = 0; i < r->n; i++)
		r->files[i].fmt = r->fmt;
	return 0;
}

int lab_rules_masks_check(const struct lab_rules_arg *r, unsigned drop_mask, unsigned reject_mask,
                          char *why, size_t why_len)
{
	if (r->n && (drop_mask || reject_mask))
		snprintf(why, why_len,
		         "--drop and --reject shape our ruleset, not one from --rules");
	else if (drop_mask & reject_mask)
		snprintf(why, why_len, "a row cannot be both dropped and rejected");
	else
		return 0;
	return EINVAL;
}

int lab_self(char *buf, size_t cap)
{
	ssize_t n = readlink("/proc/self/exe", buf, cap - 1);
	if (n <= 0)
		return n < 0 ? errno : ENOENT;
	buf[n] = '\0';
	return 0;
}
