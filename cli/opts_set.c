/* The typed setters of cli/opts.h: the value types several verbs share,
 * stored at the row's offset in the verb's arguments. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/opts.h"
#include "core/addr.h"
#include "core/conf.h"
#include "core/rows.h"

int cli_opt_flag(const struct cli_opt *o, const char *value, char *why, size_t why_len, void *arg)
{
	(void)value;
	(void)why;
	(void)why_len;
	*CLI_OPT_FIELD(o, arg, bool) = true;
	return 0;
}

int cli_opt_string(const struct cli_opt *o, const char *value, char *why, size_t why_len, void *arg)
{
	(void)why;
	(void)why_len;
	*CLI_OPT_FIELD(o, arg, const char *) = value;
	return 0;
}

int cli_opt_text(const struct cli_opt *o, const char *value, char *why, size_t why_len, void *arg)
{
	size_t len = strlen(value);
	if (len >= o->size) {
		snprintf(why, why_len, "longer than %zu bytes", o->size - 1);
		return EINVAL;
	}
	memcpy(CLI_OPT_FIELD(o, arg, char), value, len + 1);
	return 0;
}

int cli_opt_dns_name(const struct cli_opt *o, const char *value, char *why, size_t why_len,
                     void *arg)
{
	if (!conf_dns_name_valid(value))
		return EINVAL;
	return cli_opt_text(o, value, why, why_len, arg);
}

int cli_opt_port(const struct cli_opt *o, const char *value, char *why, size_t why_len, void *arg)
{
	(void)why;
	(void)why_len;
	return addr_port_parse(value, false, CLI_OPT_FIELD(o, arg, uint16_t));
}

int cli_opt_addr(const struct cli_opt *o, const char *value, char *why, size_t why_len, void *arg)
{
	(void)why;
	(void)why_len;
	return addr_parse(value, 0, CLI_OPT_FIELD(o, arg, struct sockaddr_storage));
}

int cli_opt_seconds(const struct cli_opt *o, const char *value, char *why, size_t why_len,
                    void *arg)
{
	char *end;
	double v = strtod(value, &end);
	(void)why;
	(void)why_len;
	/* !(v > 0): NaN too, which no comparison lets through. */
	if (end == value || *end || !(v > 0) || v > CLI_SECONDS_MAX)
		return EINVAL;
	*CLI_OPT_FIELD(o, arg, unsigned) = (unsigned)(v * 1000.0);
	return 0;
}

/* rows_parse_mask says only EINVAL; name the bad part for the user. */
static void rows_why(const char *s, char *why, size_t why_len)
{
	const char *p = s;
	while (*p) {
		char *end;
		long n = strtol(p, &end, 10);
		size_t len = strcspn(p, ",");
		if (end == p || (*end && *end != ',')) {
			snprintf(why, why_len, "'%.*s' is not a row number", (int)len, p);
			return;
		}
		if (n < 1 || n > ROWS_COUNT) {
			snprintf(why, why_len, "row %ld does not exist (rows are 1-%d)", n,
			         ROWS_COUNT);
			return;
		}
		p = *end ? end + 1 : end;
	}
	snprintf(why, why_len, "'%s' is not a row list (\"1,3\", \"all\")", s);
}

int cli_opt_rows(const struct cli_opt *o, const char *value, char *why, size_t why_len, void *arg)
{
	unsigned mask;
	if (rows_parse_mask(value, &mask)) {
		rows_why(value, why, why_len);
		return EINVAL;
	}
	*CLI_OPT_FIELD(o, arg, unsigned) = mask;
	return 0;
}

int cli_opt_rows_add(const struct cli_opt *o, const char *value, char *why, size_t why_len,
                     void *arg)
{
	unsigned mask;
	if (rows_parse_mask(value, &mask)) {
		rows_why(value, why, why_len);
		return EINVAL;
	}
	*CLI_OPT_FIELD(o, arg, unsigned) |= mask;
	return 0;
}
