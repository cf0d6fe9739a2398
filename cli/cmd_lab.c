/* edgelab lab: build the outside/fw/edge namespaces, probe, print the matrix,
 * tear down; or, with a sub-verb (cli/cmd_labs.c), a lab that stays up. */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cmd.h"
#include "cli/cmd_labs.h"
#include "cli/fed_opts.h"
#include "cli/lab_opts.h"
#include "cli/opts.h"
#include "lab/fed.h"
#include "lab/lab.h"
#include "probe/fed.h"

/* What the options fill in. */
struct lab_args {
	struct lab_opts lab;
	struct lab_rules_arg rules;
	bool cleanup;
	struct lab_fed_args fed; /* --topology federation's own */
};

#define AT(field) offsetof(struct lab_args, field)

static int check_args(char *why, size_t why_len, void *arg)
{
	struct lab_args *a = arg;
	bool single = a->rules.n || a->lab.drop_mask || a->lab.reject_mask ||
	              strcmp(a->lab.probe.rows, "all") || a->lab.probe.no_strict ||
	              strcmp(a->lab.probe.timeout, "3");
	if (lab_rules_finish(&a->rules, why, why_len))
		return EINVAL;
	if (lab_fed_args_check(&a->fed, single,
	                       "--rules, --drop, --reject, --rows, --timeout, --no-strict", why,
	                       why_len))
		return EINVAL;
	return lab_rules_masks_check(&a->rules, a->lab.drop_mask, a->lab.reject_mask, why, why_len);
}

static const struct cli_opt lab_options[] = {
    LAB_OPT_MASKS(AT(lab.drop_mask), AT(lab.reject_mask)),
    LAB_OPT_RULES(AT(rules)),
    LAB_OPT_PROBE(AT(lab.probe)),
    {.name = "verbose",
     .letter = 'v',
     .set = cli_opt_flag,
     .offset = AT(lab.verbose),
     .help = "say each step and show the edge's log"},
    LAB_OPT_FED(AT(fed)),
    {.name = "cleanup",
     .set = cli_opt_flag,
     .offset = AT(cleanup),
     .help = "remove namespaces left by a killed one-shot lab, and exit"},
    {0},
};

static const struct cli_opts lab_verb = {
    .verb = "lab",
    .synopsis = "[--drop N[,N]] [--reject N[,N]] [--rules FILE [--rules-format FMT]]\n"
                "                   [--rows LIST] [--format FMT] [--no-strict]\n"
                "       edgelab lab --topology federation [--rules-a/-b FILE] [--drop-a/-b LIST]\n"
                "                   [--reject-a/-b LIST] [--fault NAME]... [--format FMT]\n"
                "       edgelab lab up|probe|check|exec|rules|list|down|scenarios ... (a lab "
                "that stays up)\n"
                "       edgelab lab fw [--rules FILE | --rules-from PATH] (this host as the "
                "lab's fw)",
    .about = "As root: builds three network namespaces, loads the nftables policy of\n"
             "`edgelab rules --lab` (or your --rules) into fw, starts `edgelab serve` in edge\n"
             "and `edgelab probe --strict` in outside, prints the matrix and tears it all\n"
             "down (also on Ctrl-C and on failure).\n"
             "\n"
             "  outside  " LAB_HOST_FW_IF " " LAB_OUTSIDE_ADDR
             "/24, default via " LAB_FW_OUTSIDE_ADDR "\n"
             "  fw       " LAB_FW_OUTSIDE_IF " " LAB_FW_OUTSIDE_ADDR
             "/24 (faces outside), " LAB_FW_EDGE_IF " " LAB_FW_EDGE_ADDR "/24 (faces edge);\n"
             "           forwards between them under the ruleset\n"
             "  edge     " LAB_HOST_FW_IF " " LAB_EDGE_ADDR "/24, default via " LAB_FW_EDGE_ADDR
             "; the edge's access interface\n"
             "  mgmt     outside " LAB_MGMT_IF " " LAB_PROBE_MGMT_ADDR " - edge " LAB_MGMT_IF
             " " LAB_EDGE_MGMT_ADDR ":" LAB_CONTROL_PORT " (control API),\n"
             "           bypassing fw, as an out-of-band management network would\n"
             "\n"
             "A ruleset of yours may name fw's interfaces and these addresses: start from\n"
             "`edgelab rules --lab` (docs/lab.md has a worked example). Verdict: the six rows\n"
             "must PASS and every strict negative flow must be CLOSED.\n",
    .opts = lab_options,
    .notes = "Exit status: the probe's (0 every requested row passed and every strict flow\n"
             "was CLOSED, 1 otherwise), 2 on usage errors, 4 when the lab could not be\n"
             "built (a ruleset that does not load: the tool's message is quoted) or was\n"
             "interrupted. `edgelab lab up --help` and docs/lab.md: labs that stay up.\n",
    .check = check_args,
};

static int run_federation(const struct lab_args *a, const char *self)
{
	struct probe_fed_opts fo = {0};
	char err[2048];
	if (report_format_parse(a->lab.probe.format, &fo.format))
		return EXIT_USAGE; /* checked by lab_opt_format already */
	lab_fed_args_opts(&a->fed, self, a->lab.verbose, &fo.lab);
	int status = probe_fed_lab(&fo, stdout, err, sizeof(err));
	if (status < 0) {
		fprintf(stderr, "edgelab lab: %s\n", err);
		return EXIT_LAB;
	}
	return status;
}

int cmd_lab(int argc, char **argv)
{
	struct lab_args a = {.lab = {.probe = {.rows = "all", .format = "table", .timeout = "3"}}};
	struct lab_opts *o = &a.lab;
	int status;
	if (argc > 1 && cmd_labs_is_sub(argv[1]))
		return cmd_labs(argc - 1, argv + 1);
	if (!cli_opts_parse(&lab_verb, argc, argv, &a, &status))
		return status;
	if (geteuid() != 0) {
		fprintf(stderr, "edgelab lab: must run as root (network namespaces, nftables)\n");
		return EXIT_LAB;
	}
	if (a.cleanup) {
		printf("removed %d stale lab namespace(s)\n", lab_cleanup_stale());
		return EXIT_OK;
	}
	char self[PATH_MAX];
	if (lab_self(self, sizeof(self))) {
		fprintf(stderr, "edgelab lab: cannot find its own binary\n");
		return EXIT_LAB;
	}
	o->self = self;
	if (lab_fed_args_on(&a.fed))
		return run_federation(&a, self);
	memcpy(o->rules, a.rules.files, sizeof(o->rules));
	o->nrules = a.rules.n;
	char err[2048];
	status = lab_run(o, err, sizeof(err));
	if (status < 0) {
		fprintf(stderr, "edgelab lab: %s\n", err);
		return EXIT_LAB;
	}
	return status;
}
