/* What the lab sub-verbs share (cli/labs_int.h). */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include "cli/cmd.h"
#include "cli/labs_int.h"
#include "lab/labs.h"

int labs_opt_name(const struct cli_opt *o, const char *value, char *why, size_t why_len, void *arg)
{
	const char **name = CLI_OPT_FIELD(o, arg, const char *);
	if (!labs_name_valid(value)) {
		snprintf(why, why_len, "'%s' is not a lab name (1-%d of a-z 0-9 -, from a letter)",
		         value, LABS_NAME_MAX);
		return EINVAL;
	}
	if (*name) {
		snprintf(why, why_len, "one lab at a time: '%s' and '%s'", *name, value);
		return EINVAL;
	}
	*name = value;
	return 0;
}

int labs_name_operand(size_t index, const char *value, char *why, size_t why_len, void *arg)
{
	static const struct cli_opt at = {.offset = 0};
	if (index > 0) {
		snprintf(why, why_len, "unexpected argument '%s'", value);
		return EINVAL;
	}
	return labs_opt_name(&at, value, why, why_len, arg);
}

int labs_resolve_name(const char *verb, const char **name)
{
	static struct labs_info labs[LABS_MAX];
	size_t n;
	if (*name)
		return 0;
	labs_list(labs, LABS_MAX, &n);
	if (n == 1) {
		*name = labs[0].name;
		return 0;
	}
	if (n == 0)
		fprintf(stderr, "edgelab lab %s: no lab is up (`edgelab lab up`)\n", verb);
	else
		fprintf(stderr, "edgelab lab %s: %zu labs are up: name one (`edgelab lab list`)\n",
		        verb, n);
	return EXIT_LAB;
}

bool labs_need_root(const char *verb)
{
	if (geteuid() == 0)
		return true;
	fprintf(stderr, "edgelab lab %s: must run as root (network namespaces, nftables)\n", verb);
	return false;
}
