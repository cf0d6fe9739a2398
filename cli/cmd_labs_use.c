/* edgelab lab probe|check|rules|exec|assess: what is done to a lab that is up,
 * single-site or federation (lab/labs.h, lab/fed.h). */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cmd.h"
#include "cli/lab_opts.h"
#include "cli/labs_int.h"
#include "lab/labs.h"
#include "probe/fed.h"

#define ERR_MAX 2048

/* ---- lab probe, lab check ---- */

struct probe_args {
	const char *name;
	struct lab_probe_args probe;
};
_Static_assert(offsetof(struct probe_args, name) == 0, "labs_name_operand stores at offset 0");

static const struct cli_opt probe_options[] = {
    LABS_NAME_OPT(struct probe_args),
    LAB_OPT_PROBE(offsetof(struct probe_args, probe)),
    {0},
};

static const struct cli_opts probe_verb = {
    .verb = "lab probe",
    .synopsis = "[NAME] [--rows LIST] [--format FMT] [--timeout SECS] [--no-strict]",
    .about = "Runs `edgelab probe --strict` from the lab's outside against its edge,\n"
             "through its fw, as often as wanted. A federation lab (`lab up --topology\n"
             "federation`): every flow of `edgelab lab --topology federation` (the federation\n"
             "hops, IM and A/V both ways, the fws' counters), judged where they break\n"
             "(--format only).\n",
    .opts = probe_options,
    .notes = "Exit status: the probe's (0 all passed and all strict flows CLOSED, 1 not),\n"
             "2 usage, 4 no such lab, or its edge is down (it says so).\n",
    .operand = labs_name_operand,
};

/* check: the whole table, strict; only the format and time are the user's. */
static const struct cli_opt check_options[] = {
    LABS_NAME_OPT(struct probe_args),
    LAB_OPT_REPORT(offsetof(struct probe_args, probe)),
    {0},
};

static const struct cli_opts check_verb = {
    .verb = "lab check",
    .synopsis = "[NAME] [--format FMT] [--timeout SECS]",
    .about = "Says whether the lab's fw now implements the port table: every row PASS and\n"
             "every strict negative flow CLOSED (a trainee's fix, a ruleset of yours). A\n"
             "federation lab: whether every flow PASSes: federation, IM, A/V (--format only).\n",
    .opts = check_options,
    .notes = "Exit status: 0 it does, 1 not yet, 2 usage, 4 no such lab or its edge is down.\n",
    .operand = labs_name_operand,
};

/* A federation lab's flows (probe/fed.h) on the lab as it is. */
static int run_fed(const char *verb, const struct probe_args *a, bool check)
{
	char err[ERR_MAX];
	enum report_format format;
	struct lab_fed *f;
	if (strcmp(a->probe.rows, "all") || a->probe.no_strict || strcmp(a->probe.timeout, "3")) {
		fprintf(stderr,
		        "edgelab lab %s: lab %s is a federation lab: --rows, --timeout and "
		        "--no-strict are a single-site lab's\n",
		        verb, a->name);
		return EXIT_USAGE;
	}
	if (report_format_parse(a->probe.format, &format))
		return EXIT_USAGE; /* checked by lab_opt_format already */
	if (lab_fed_open(a->name, &f, err, sizeof(err))) {
		fprintf(stderr, "edgelab lab %s: %s\n", verb, err);
		return EXIT_LAB;
	}
	int status = probe_fed_standing(f, format, stdout, err, sizeof(err));
	lab_fed_close(f);
	if (status < 0) {
		fprintf(stderr, "edgelab lab %s: %s\n", verb, err);
		return EXIT_LAB;
	}
	if (status)
		fprintf(stderr,
		        "edgelab lab %s: the logs are in " LABS_ROOT
		        "/%s: lab.log, dns.log, a/edge.log, b/edge.log\n",
		        verb, a->name);
	if (check && strcmp(a->probe.format, "table") == 0)
		printf("\nlab %s: %s\n", a->name,
		       status == 0 ? "every flow PASSes: federation, IM and A/V cross both fws "
		                     "on the table's rows"
		                   : "not yet: a flow does not pass (see above)");
	return status;
}

static int run_probe(const char *verb, struct probe_args *a, bool check)
{
	char self[PATH_MAX], err[ERR_MAX];
	struct labs_info info;
	int status, rc = labs_resolve_name(verb, &a->name);
	if (rc)
		return rc;
	if (labs_info(a->name, &info) == 0 && info.federation)
		return run_fed(verb, a, check);
	if (lab_self(self, sizeof(self)))
		return fprintf(stderr, "edgelab lab %s: cannot find its own binary\n", verb),
		       EXIT_LAB;
	if (labs_probe(a->name, self, &a->probe, &status, err, sizeof(err))) {
		fprintf(stderr, "edgelab lab %s: %s\n", verb, err);
		return EXIT_LAB;
	}
	if (check && strcmp(a->probe.format, "table") == 0)
		printf("\nlab %s: %s\n", a->name,
		       status == 0 ? "fw implements the port table: every row PASS, every strict "
		                     "flow CLOSED"
		                   : "not yet: fw does not implement the port table (see above)");
	return status;
}

static int cmd_probe_lab(int argc, char **argv, bool check)
{
	struct probe_args a = {.probe = {.rows = "all", .format = "table", .timeout = "3"}};
	int status;
	if (!cli_opts_parse(check ? &check_verb : &probe_verb, argc, argv, &a, &status))
		return status;
	if (!labs_need_root(argv[0]))
		return EXIT_LAB;
	return run_probe(argv[0], &a, check);
}

int cmd_labs_probe(int argc, char **argv)
{
	return cmd_probe_lab(argc, argv, false);
}

int cmd_labs_check(int argc, char **argv)
{
	return cmd_probe_lab(argc, argv, true);
}

/* ---- lab rules ---- */

struct rules_args {
	const char *name;
	struct lab_rules_arg rules;
	const char *site; /* a federation lab's "a" or "b" */
};
_Static_assert(offsetof(struct rules_args, name) == 0, "labs_name_operand stores at offset 0");

static int rules_operand(size_t index, const char *value, char *why, size_t why_len, void *arg)
{
	static const struct cli_opt at = {.offset = offsetof(struct rules_args, rules)};
	if (index == 0)
		return labs_name_operand(0, value, why, why_len, arg);
	return lab_opt_rules(&at, value, why, why_len, arg);
}

static int set_site(const struct cli_opt *o, const char *value, char *why, size_t why_len,
                    void *arg)
{
	(void)o;
	if (strcmp(value, "a") && strcmp(value, "b"))
		return snprintf(why, why_len, "a or b"), EINVAL;
	((struct rules_args *)arg)->site = value;
	return 0;
}

static int rules_check(char *why, size_t why_len, void *arg)
{
	struct rules_args *a = arg;
	if (lab_rules_finish(&a->rules, why, why_len))
		return EINVAL;
	if (a->name && a->rules.n)
		return 0;
	snprintf(why, why_len,
	         "name the lab and the ruleset: `edgelab lab rules NAME [--site a|b] FILE`");
	return EINVAL;
}

static const struct cli_opt rules_options[] = {
    {.name = "site",
     .arg = "SITE",
     .set = set_site,
     .expect = "a or b",
     .help = "a federation lab's fw to load: a or b (required there, refused elsewhere)"},
    {.name = "rules-format",
     .arg = "FMT",
     .set = lab_opt_rules_format,
     .offset = offsetof(struct rules_args, rules),
     .expect = "auto, nft, iptables or ip6tables",
     .help = "auto (default: from the content), nft, iptables or ip6tables"},
    {0},
};

static const struct cli_opts rules_verb = {
    .verb = "lab rules",
    .synopsis = "NAME [--site a|b] FILE [FILE] [--rules-format FMT]",
    .about = "Replaces the lab's fw ruleset with FILE (nft -f, iptables-restore or\n"
             "ip6tables-restore input; twice for a v4 and a v6 file); a federation lab's\n"
             "fw A or fw B (--site). The file is checked by its tool first: a ruleset\n"
             "that does not load changes nothing, and the tool's message is quoted.\n",
    .opts = rules_options,
    .notes = "Exit status: 0 loaded, 2 usage (--site missing for a federation lab, or\n"
             "given for another), 4 not loaded (or no such lab).\n",
    .check = rules_check,
    .operand = rules_operand,
};

int cmd_labs_rules(int argc, char **argv)
{
	struct rules_args a = {0};
	struct labs_info info;
	char err[ERR_MAX];
	int status;
	if (!cli_opts_parse(&rules_verb, argc, argv, &a, &status))
		return status;
	if (!labs_need_root("rules"))
		return EXIT_LAB;
	if (labs_info(a.name, &info) == 0 && info.federation != (a.site != NULL)) {
		fprintf(stderr, "edgelab lab rules: lab %s is a %s\n", a.name,
		        info.federation ? "federation lab: name its fw, --site a or --site b"
		                        : "single-site lab: it has one fw, no --site");
		return EXIT_USAGE;
	}
	if (labs_set_rules(a.name, a.site, a.rules.files, a.rules.n, err, sizeof(err))) {
		fprintf(stderr, "edgelab lab rules: %s\n", err);
		return EXIT_LAB;
	}
	if (a.site)
		printf("lab %s: fw %c has the new ruleset; the edges' connections to each other "
		       "were cut, so that the next probe opens them through it\n",
		       a.name, a.site[0] - 'a' + 'A');
	else
		printf("lab %s: fw has the new ruleset\n", a.name);
	return EXIT_OK;
}

/* ---- lab exec ---- */

int cmd_labs_exec(int argc, char **argv)
{
	static const char usage[] =
	    "usage: edgelab lab exec NAME ROLE [--] COMMAND [ARG...]\n\n"
	    "Runs COMMAND in the lab's namespace ROLE (as `ip netns exec` does), e.g.\n"
	    "`nft list ruleset` in fw, or a shell. ROLE: outside, fw or edge; a federation\n"
	    "lab's inet, a-fw, a-edge, b-fw or b-edge.\n";
	char ns[64], err[256];
	if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0))
		return fputs(usage, stdout), EXIT_OK;
	int cmd = argc > 3 && strcmp(argv[3], "--") == 0 ? 4 : 3;
	if (argc <= cmd) {
		fprintf(stderr, "edgelab lab exec: name the lab, the namespace and a command\n%s",
		        usage);
		return EXIT_USAGE;
	}
	if (!labs_need_root("exec"))
		return EXIT_LAB;
	if (labs_namespace(argv[1], argv[2], ns, sizeof(ns), err, sizeof(err))) {
		fprintf(stderr, "edgelab lab exec: %s\n", err);
		return EXIT_LAB;
	}
	char *args[argc - cmd + 5];
	size_t i = 0;
	args[i++] = "ip";
	args[i++] = "netns";
	args[i++] = "exec";
	args[i++] = ns;
	for (int j = cmd; j < argc; j++)
		args[i++] = argv[j];
	args[i] = NULL;
	fflush(NULL);
	execvp("ip", args);
	fprintf(stderr, "edgelab lab exec: ip: %s\n", strerror(errno));
	return EXIT_LAB;
}

/* ---- lab assess ---- */

/* The options lab assess sets itself, as getopt would take them: the
 * short ones, and any unique start of a long one (--pass, --serv=...). */
static bool lab_owned(const char *arg)
{
	static const char *const longs[] = {
	    "server", "user", "password", "reflector", "reflector-elsewhere", "reflect-only"};
	if (arg[0] != '-')
		return false;
	if (arg[1] != '-')
		return arg[1] == 's' || arg[1] == 'u' || arg[1] == 'p';
	size_t n = strcspn(arg + 2, "=");
	for (size_t i = 0; n && i < sizeof(longs) / sizeof(longs[0]); i++)
		if (!strncmp(arg + 2, longs[i], n))
			return true;
	return false;
}

int cmd_labs_assess(int argc, char **argv)
{
	static const char usage[] =
	    "usage: edgelab lab assess [NAME] [ASSESS OPTION...]\n\n"
	    "Runs `edgelab assess` from the lab's outside through fw to its edge's relay,\n"
	    "with the lab's TURN user and the reflector beside the relay (in the edge's\n"
	    "namespace): each call's round trip crosses fw twice, as a client's media to\n"
	    "its edge does. The options are assess's (`edgelab assess --help`) but\n"
	    "--server, --user, --password and the reflector's, which the lab sets:\n"
	    "--calls, --ramp, --duration, --rate, --size, --dialect, --profile, --tsv,\n"
	    "--json. A single-site lab only.\n\n"
	    "Exit status: assess's (0 every call met every target, 1 not), 2 usage,\n"
	    "4 no such lab, its edge down, or assess could not run.\n";
	const char *name = NULL;
	int first = 1;
	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")))
		return fputs(usage, stdout), EXIT_OK;
	if (argc > 1 && argv[1][0] != '-') {
		name = argv[1];
		first = 2;
	}
	for (int i = first; i < argc; i++)
		if (lab_owned(argv[i])) {
			fprintf(stderr, "edgelab lab assess: %s is the lab's to set\n%s", argv[i],
			        usage);
			return EXIT_USAGE;
		}
	if (!labs_need_root("assess"))
		return EXIT_LAB;
	int rc = labs_resolve_name("assess", &name);
	if (rc)
		return rc;
	char self[PATH_MAX], err[ERR_MAX];
	if (lab_self(self, sizeof(self)))
		return fprintf(stderr, "edgelab lab assess: cannot find its own binary\n"),
		       EXIT_LAB;
	int status;
	fflush(NULL);
	if (labs_assess(name, self, argv + first, (size_t)(argc - first), &status, err,
	                sizeof(err))) {
		fprintf(stderr, "edgelab lab assess: %s\n", err);
		return EXIT_LAB;
	}
	return status;
}
