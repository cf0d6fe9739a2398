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
	/* --topology federation's own */
	const char *topology;
	struct lab_rules_arg site_rules[LAB_SITES];
	unsigned site_drop[LAB_SITES], site_reject[LAB_SITES];
	unsigned faults;
};

#define AT(field) offsetof(struct lab_args, field)

static int set_topology(const struct cli_opt *o, const char *value, char *why, size_t why_len,
                        void *arg)
{
	(void)o;
	if (strcmp(value, "single") && strcmp(value, "federation"))
		return snprintf(why, why_len, "single or federation"), EINVAL;
	((struct lab_args *)arg)->topology = value;
	return 0;
}

static int set_fault(const struct cli_opt *o, const char *value, char *why, size_t why_len,
                     void *arg)
{
	unsigned bit;
	(void)o;
	if (lab_fed_fault_parse(value, &bit))
		return snprintf(why, why_len, "one of %s", lab_fed_fault_list()), EINVAL;
	((struct lab_args *)arg)->faults |= bit;
	return 0;
}

static bool federation(const struct lab_args *a)
{
	return a->topology && !strcmp(a->topology, "federation");
}

/* The federation's options go with --topology federation only, and the
 * single lab's ruleset, masks and probe options without it. */
static int check_topology(struct lab_args *a, char *why, size_t why_len)
{
	bool fed_opts = a->faults != 0;
	for (int s = 0; s < LAB_SITES; s++)
		fed_opts = fed_opts || a->site_rules[s].n || a->site_drop[s] || a->site_reject[s];
	if (!federation(a) && fed_opts)
		return snprintf(why, why_len,
		                "--rules-a/-b, --drop-a/-b, --reject-a/-b and --fault need "
		                "--topology federation"),
		       EINVAL;
	if (federation(a) && (a->rules.n || a->lab.drop_mask || a->lab.reject_mask ||
	                      strcmp(a->lab.probe.rows, "all") || a->lab.probe.no_strict ||
	                      strcmp(a->lab.probe.timeout, "3")))
		return snprintf(why, why_len,
		                "with --topology federation, each site has its own rules: "
		                "--rules-a/-b, --drop-a/-b, --reject-a/-b (no --rules, --drop, "
		                "--reject, --rows, --timeout, --no-strict)"),
		       EINVAL;
	for (int s = 0; s < LAB_SITES; s++)
		if (lab_rules_finish(&a->site_rules[s], why, why_len) ||
		    lab_rules_masks_check(&a->site_rules[s], a->site_drop[s], a->site_reject[s],
		                          why, why_len))
			return EINVAL;
	return 0;
}

static int check_args(char *why, size_t why_len, void *arg)
{
	struct lab_args *a = arg;
	if (lab_rules_finish(&a->rules, why, why_len))
		return EINVAL;
	if (check_topology(a, why, why_len))
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
    {.name = "topology",
     .arg = "NAME",
     .set = set_topology,
     .expect = "single or federation",
     .help = "single (default), or federation: two edges behind two firewalls\n"
             "finding each other by DNS SRV (docs/federation-lab.md)"},
    {.name = "rules-a",
     .arg = "FILE",
     .set = lab_opt_rules,
     .offset = AT(site_rules[0]),
     .help = "federation: your ruleset for site A's fw (twice for both families)"},
    {.name = "rules-b",
     .arg = "FILE",
     .set = lab_opt_rules,
     .offset = AT(site_rules[1]),
     .help = "federation: site B's"},
    {.name = "drop-a",
     .arg = "LIST",
     .set = cli_opt_rows_add,
     .offset = AT(site_drop[0]),
     .help = "federation: leave these rows out of site A's policy"},
    {.name = "reject-a",
     .arg = "LIST",
     .set = cli_opt_rows_add,
     .offset = AT(site_reject[0]),
     .help = "federation: reject these rows in site A's policy"},
    {.name = "drop-b",
     .arg = "LIST",
     .set = cli_opt_rows_add,
     .offset = AT(site_drop[1]),
     .help = "federation: the same for site B"},
    {.name = "reject-b",
     .arg = "LIST",
     .set = cli_opt_rows_add,
     .offset = AT(site_reject[1]),
     .help = "federation: the same for site B"},
    {.name = "fault",
     .arg = "NAME",
     .set = set_fault,
     .help = "federation: break a DNS record or a certificate (repeatable): no-srv-a|b,\n"
             "srv-port-a|b (SRV to port 5062), dns-silent, cert-name-a|b"},
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
	struct probe_fed_opts fo = {
	    .lab = {.self = self, .faults = a->faults, .verbose = a->lab.verbose}};
	char err[2048];
	if (report_format_parse(a->lab.probe.format, &fo.format))
		return EXIT_USAGE; /* checked by lab_opt_format already */
	for (int s = 0; s < LAB_SITES; s++) {
		struct lab_fed_site_opts *so = &fo.lab.site[s];
		so->drop_mask = a->site_drop[s];
		so->reject_mask = a->site_reject[s];
		memcpy(so->rules, a->site_rules[s].files, sizeof(so->rules));
		so->nrules = a->site_rules[s].n;
	}
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
	if (federation(&a))
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
