/* The option setters `edgelab lab` and its sub-verbs (lab up, lab probe,
 * lab check, lab rules) share. The probe's options are checked here and
 * passed on to `edgelab probe` as the text given; o->offset points at a
 * struct lab_probe_args (probe options) or a struct lab_rules_arg (rules)
 * inside the verb's arguments. */
#ifndef EDGELAB_CLI_LAB_OPTS_H
#define EDGELAB_CLI_LAB_OPTS_H

#include <stddef.h>

#include "cli/opts.h"
#include "lab/lab.h"
#include "lab/ruleset.h"

/* --rules FILE (repeatable up to RULESET_FILES_MAX) and --rules-format. */
struct lab_rules_arg {
	struct ruleset files[RULESET_FILES_MAX];
	size_t n;
	enum ruleset_format fmt; /* applied to every file by lab_rules_finish */
};

cli_opt_set_h lab_opt_rows;         /* lab_probe_args.rows: a row list */
cli_opt_set_h lab_opt_format;       /* lab_probe_args.format: a report format */
cli_opt_set_h lab_opt_timeout;      /* lab_probe_args.timeout: seconds */
cli_opt_set_h lab_opt_rules;        /* lab_rules_arg: one more file */
cli_opt_set_h lab_opt_rules_format; /* lab_rules_arg.fmt */

/* Gives every file the --rules-format (auto: detected when read); EINVAL
 * with why when a format was given without a file. */
int lab_rules_finish(struct lab_rules_arg *r, char *why, size_t why_len);
/* Path of the running binary into buf (for the namespaces); 0 or errno. */
int lab_self(char *buf, size_t cap);

/* The arguments together: --rules excludes --drop/--reject (they shape our
 * ruleset), a row is not both dropped and rejected. 0, or EINVAL with why. */
int lab_rules_masks_check(const struct lab_rules_arg *r, unsigned drop_mask, unsigned reject_mask,
                          char *why, size_t why_len);

#define LAB_FORMAT_EXPECT "table, json, junit, tap or html"

/* The option table rows the lab's verbs share: at is the offsetof() of the
 * field the setter fills in the verb's arguments. */
#define LAB_OPT_RULES(at)                                                                          \
	{.name = "rules",                                                                          \
	 .arg = "FILE",                                                                            \
	 .set = lab_opt_rules,                                                                     \
	 .offset = (at),                                                                           \
	 .help = "load your ruleset into fw instead of ours: nft -f input, or\n"                   \
	         "iptables-restore / ip6tables-restore input (twice for both)"},                   \
	{                                                                                          \
		.name = "rules-format", .arg = "FMT", .set = lab_opt_rules_format, .offset = (at), \
		.expect = "auto, nft, iptables or ip6tables",                                      \
		.help = "auto (default: from the content), nft, iptables or ip6tables"             \
	}
#define LAB_OPT_MASKS(drop_at, reject_at)                                                          \
	{.name = "drop",                                                                           \
	 .letter = 'd',                                                                            \
	 .arg = "LIST",                                                                            \
	 .set = cli_opt_rows_add,                                                                  \
	 .offset = (drop_at),                                                                      \
	 .help = "leave these rows' rules out of our policy (the flow should be BLOCKED)"},        \
	{                                                                                          \
		.name = "reject", .letter = 'j', .arg = "LIST", .set = cli_opt_rows_add,           \
		.offset = (reject_at),                                                             \
		.help = "reject these rows in our policy (the flow should be REJECTED)"            \
	}
#define LAB_OPT_PROBE(at)                                                                          \
	{.name = "rows",                                                                           \
	 .letter = 'r',                                                                            \
	 .arg = "LIST",                                                                            \
	 .set = lab_opt_rows,                                                                      \
	 .offset = (at),                                                                           \
	 .help = "rows to probe: all (default) or e.g. 6"},                                        \
	    LAB_OPT_REPORT(at),                                                                    \
	{                                                                                          \
		.name = "no-strict", .set = cli_opt_flag,                                          \
		.offset = (at) + offsetof(struct lab_probe_args, no_strict),                       \
		.help = "probe only the six rows, not the flows that must stay closed"             \
	}
#define LAB_OPT_REPORT(at)                                                                         \
	{.name = "format",                                                                         \
	 .letter = 'f',                                                                            \
	 .arg = "FMT",                                                                             \
	 .set = lab_opt_format,                                                                    \
	 .offset = (at),                                                                           \
	 .expect = LAB_FORMAT_EXPECT,                                                              \
	 .help = LAB_FORMAT_EXPECT " (default table)"},                                            \
	{                                                                                          \
		.name = "timeout", .letter = 't', .arg = "SECS", .set = lab_opt_timeout,           \
		.offset = (at), .expect = CLI_SECONDS_EXPECT, .help = "per flow (default 3)"       \
	}

#endif
