#include "cli/fed_opts.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int lab_opt_topology(const struct cli_opt *o, const char *value, char *why, size_t why_len,
                     void *arg)
{
	if (strcmp(value, "single") && strcmp(value, "federation"))
		return snprintf(why, why_len, "single or federation"), EINVAL;
	CLI_OPT_FIELD(o, arg, struct lab_fed_args)->topology = value;
	return 0;
}

int lab_opt_fault(const struct cli_opt *o, const char *value, char *why, size_t why_len, void *arg)
{
	unsigned bit;
	if (lab_fed_fault_parse(value, &bit))
		return snprintf(why, why_len, "one of %s", lab_fed_fault_list()), EINVAL;
	CLI_OPT_FIELD(o, arg, struct lab_fed_args)->faults |= bit;
	return 0;
}

bool lab_fed_args_on(const struct lab_fed_args *a)
{
	return a->topology && !strcmp(a->topology, "federation");
}

int lab_fed_args_check(struct lab_fed_args *a, bool single_given, const char *single_names,
                       char *why, size_t why_len)
{
	bool fed_opts = a->faults != 0;
	for (int s = 0; s < LAB_SITES; s++)
		fed_opts = fed_opts || a->site_rules[s].n || a->site_drop[s] || a->site_reject[s];
	if (!lab_fed_args_on(a) && fed_opts)
		return snprintf(why, why_len,
		                "--rules-a/-b, --drop-a/-b, --reject-a/-b and --fault need "
		                "--topology federation"),
		       EINVAL;
	if (lab_fed_args_on(a) && single_given)
		return snprintf(why, why_len,
		                "with --topology federation, each site has its own rules: "
		                "--rules-a/-b, --drop-a/-b, --reject-a/-b (no %s)",
		                single_names),
		       EINVAL;
	for (int s = 0; s < LAB_SITES; s++)
		if (lab_rules_finish(&a->site_rules[s], why, why_len) ||
		    lab_rules_masks_check(&a->site_rules[s], a->site_drop[s], a->site_reject[s],
		                          why, why_len))
			return EINVAL;
	return 0;
}

void lab_fed_args_opts(const struct lab_fed_args *a, const char *self, bool verbose,
                       struct lab_fed_opts *o)
{
	*o = (struct lab_fed_opts){.self = self, .faults = a->faults, .verbose = verbose};
	for (int s = 0; s < LAB_SITES; s++) {
		struct lab_fed_site_opts *so = &o->site[s];
		so->drop_mask = a->site_drop[s];
		so->reject_mask = a->site_reject[s];
		memcpy(so->rules, a->site_rules[s].files, sizeof(so->rules));
		so->nrules = a->site_rules[s].n;
	}
}
