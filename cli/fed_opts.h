/* The federation lab's options (lab/fed.h), shared by `edgelab lab
 * --topology federation` and `edgelab lab up --topology federation`:
 * --topology, --rules-a/-b, --drop-a/-b, --reject-a/-b, --fault. */
#ifndef EDGELAB_CLI_FED_OPTS_H
#define EDGELAB_CLI_FED_OPTS_H

#include <stdbool.h>
#include <stddef.h>

#include "cli/lab_opts.h"
#include "lab/fed.h"

struct lab_fed_args {
	const char *topology; /* "single", "federation" or NULL */
	struct lab_rules_arg site_rules[LAB_SITES];
	unsigned site_drop[LAB_SITES], site_reject[LAB_SITES];
	unsigned faults;
};

cli_opt_set_h lab_opt_topology; /* lab_fed_args.topology */
cli_opt_set_h lab_opt_fault;    /* lab_fed_args.faults: one more */

/* Whether --topology federation was given. */
bool lab_fed_args_on(const struct lab_fed_args *a);
/* The federation's options go with --topology federation only, and the
 * single-site lab's (single_given; single_names for the message) without
 * it; each site's rules and rows as lab_rules_masks_check has them. 0, or
 * EINVAL with why. */
int lab_fed_args_check(struct lab_fed_args *a, bool single_given, const char *single_names,
                       char *why, size_t why_len);
/* The lab's options from them. */
void lab_fed_args_opts(const struct lab_fed_args *a, const char *self, bool verbose,
                       struct lab_fed_opts *o);

/* The option table's rows; at is the offsetof() of the struct
 * lab_fed_args in the verb's arguments. */
#define LAB_OPT_FED(at)                                                                            \
	{.name = "topology",                                                                       \
	 .arg = "NAME",                                                                            \
	 .set = lab_opt_topology,                                                                  \
	 .offset = (at),                                                                           \
	 .expect = "single or federation",                                                         \
	 .help = "single (default), or federation: two edges behind two firewalls\n"               \
	         "finding each other by DNS SRV (docs/federation-lab.md)"},                        \
	    {.name = "rules-a",                                                                    \
	     .arg = "FILE",                                                                        \
	     .set = lab_opt_rules,                                                                 \
	     .offset = (at) + offsetof(struct lab_fed_args, site_rules[0]),                        \
	     .help = "federation: your ruleset for site A's fw (twice for both families)"},        \
	    {.name = "rules-b",                                                                    \
	     .arg = "FILE",                                                                        \
	     .set = lab_opt_rules,                                                                 \
	     .offset = (at) + offsetof(struct lab_fed_args, site_rules[1]),                        \
	     .help = "federation: site B's"},                                                      \
	    {.name = "drop-a",                                                                     \
	     .arg = "LIST",                                                                        \
	     .set = cli_opt_rows_add,                                                              \
	     .offset = (at) + offsetof(struct lab_fed_args, site_drop[0]),                         \
	     .help = "federation: leave these rows out of site A's policy"},                       \
	    {.name = "reject-a",                                                                   \
	     .arg = "LIST",                                                                        \
	     .set = cli_opt_rows_add,                                                              \
	     .offset = (at) + offsetof(struct lab_fed_args, site_reject[0]),                       \
	     .help = "federation: reject these rows in site A's policy"},                          \
	    {.name = "drop-b",                                                                     \
	     .arg = "LIST",                                                                        \
	     .set = cli_opt_rows_add,                                                              \
	     .offset = (at) + offsetof(struct lab_fed_args, site_drop[1]),                         \
	     .help = "federation: the same for site B"},                                           \
	    {.name = "reject-b",                                                                   \
	     .arg = "LIST",                                                                        \
	     .set = cli_opt_rows_add,                                                              \
	     .offset = (at) + offsetof(struct lab_fed_args, site_reject[1]),                       \
	     .help = "federation: the same for site B"},                                           \
	{                                                                                          \
		.name = "fault", .arg = "NAME", .set = lab_opt_fault, .offset = (at),              \
		.help = "federation: break a DNS record or a certificate (repeatable): "           \
		        "no-srv-a|b,\n"                                                            \
		        "srv-port-a|b (SRV to port 5062), dns-silent, cert-name-a|b"               \
	}

#endif
