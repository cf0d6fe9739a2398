/* edgelab lab up|probe|check|exec|rules|list|down|scenarios. */
#include "cli/cmd_labs.h"

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cmd.h"
#include "cli/lab_opts.h"
#include "cli/opts.h"
#include "lab/labs.h"
#include "lab/scenario.h"

#define ERR_MAX 2048

/* ---- what several sub-verbs share ---- */

static int set_name(const struct cli_opt *o, const char *value, char *why, size_t why_len,
                    void *arg)
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

/* The lab's name as the one operand (the same as --name). */
static int name_operand(size_t index, const char *value, char *why, size_t why_len, void *arg)
{
	static const struct cli_opt at = {.offset = 0}; /* every sub-verb's args start with it */
	if (index > 0) {
		snprintf(why, why_len, "unexpected argument '%s'", value);
		return EINVAL;
	}
	return set_name(&at, value, why, why_len, arg);
}

/* A lab named, or the only one up. */
static int resolve_name(const char *verb, const char **name)
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

static bool need_root(const char *verb)
{
	if (geteuid() == 0)
		return true;
	fprintf(stderr, "edgelab lab %s: must run as root (network namespaces, nftables)\n", verb);
	return false;
}

#define NAME_OPT(type)                                                                             \
	{                                                                                          \
		.name = "name", .letter = 'n', .arg = "NAME", .set = set_name,                     \
		.offset = offsetof(type, name), .help = "the lab (default: the only one up)"       \
	}

/* ---- lab up ---- */

struct up_args {
	const char *name; /* first: name_operand's */
	struct labs_up_opts up;
	struct lab_rules_arg rules;
};
_Static_assert(offsetof(struct up_args, name) == 0, "name_operand stores at offset 0");

static int set_scenario(const struct cli_opt *o, const char *value, char *why, size_t why_len,
                        void *arg)
{
	(void)o;
	if (!scenario_find(value)) {
		snprintf(why, why_len, "no scenario called '%s' (`edgelab lab scenarios`)", value);
		return EINVAL;
	}
	((struct up_args *)arg)->up.scenario = value;
	return 0;
}

static int up_check(char *why, size_t why_len, void *arg)
{
	struct up_args *a = arg;
	if (lab_rules_finish(&a->rules, why, why_len))
		return EINVAL;
	if (!a->up.scenario || !(a->rules.n || a->up.drop_mask || a->up.reject_mask))
		return lab_rules_masks_check(&a->rules, a->up.drop_mask, a->up.reject_mask, why,
		                             why_len);
	snprintf(why, why_len,
	         "--scenario brings its own ruleset: no --rules, --drop or --reject "
	         "with it");
	return EINVAL;
}

static const struct cli_opt up_options[] = {
    {.name = "name",
     .letter = 'n',
     .arg = "NAME",
     .set = set_name,
     .offset = offsetof(struct up_args, name),
     .help = "the lab's name (default: the first free of lab1, lab2, ...)"},
    LAB_OPT_RULES(offsetof(struct up_args, rules)),
    LAB_OPT_MASKS(offsetof(struct up_args, up.drop_mask), offsetof(struct up_args, up.reject_mask)),
    {.name = "scenario",
     .letter = 's',
     .arg = "NAME",
     .set = set_scenario,
     .help = "a training scenario's faulty ruleset (`edgelab lab scenarios`)"},
    {.name = "verbose",
     .letter = 'v',
     .set = cli_opt_flag,
     .offset = offsetof(struct up_args, up.verbose),
     .help = "say each step"},
    {0},
};

static const struct cli_opts up_verb = {
    .verb = "lab up",
    .synopsis = "[[--name] NAME] [--rules FILE | --scenario NAME | --drop/--reject LIST]",
    .about = "As root: builds a lab (`edgelab lab --help` has its network), loads the\n"
             "ruleset into fw, starts the edge and returns, leaving the lab up until\n"
             "`edgelab lab down`. Its state lives in " LABS_ROOT "/NAME; labs do not\n"
             "clash (each has its own namespaces, edgelab-NAME-outside, -fw, -edge).\n",
    .opts = up_options,
    .notes = "Exit status: 0 the lab is up, 2 usage, 4 it could not be built (nothing is\n"
             "left behind).\n",
    .check = up_check,
    .operand = name_operand,
};

static void print_way_in(const char *name, const char *scenario)
{
	char symptom[SCENARIO_SYMPTOM_MAX], cmd[96];
	static const char *const lines[][3] = {
	    {"probe", "", "the matrix and the strict flows, as often as you like"},
	    {"check", "", "does fw implement the port table?"},
	    {"exec", " fw -- nft list ruleset", ""},
	    {"exec", " fw -- bash", "a shell in fw (or outside, edge)"},
	    {"rules", " FILE", "replace fw's ruleset"},
	    {"down", "", ""},
	};
	if (scenario)
		printf("lab %s is up with scenario %s:\n  %s\n\n", name, scenario,
		       scenario_symptom(scenario_find(scenario), symptom, sizeof(symptom)));
	else
		printf("lab %s is up.\n\n", name);
	size_t count = sizeof(lines) / sizeof(lines[0]);
	int width = 0;
	for (size_t i = 0; i < count; i++) {
		int len = snprintf(cmd, sizeof(cmd), "%s %s%s", lines[i][0], name, lines[i][1]);
		if (lines[i][2][0] && len > width)
			width = len;
	}
	for (size_t i = 0; i < count; i++) {
		snprintf(cmd, sizeof(cmd), "%s %s%s", lines[i][0], name, lines[i][1]);
		if (lines[i][2][0])
			printf("  edgelab lab %-*s  %s\n", width, cmd, lines[i][2]);
		else
			printf("  edgelab lab %s\n", cmd);
	}
}

static int cmd_up(int argc, char **argv)
{
	struct up_args a = {0};
	char name[LABS_NAME_MAX + 1], self[PATH_MAX], err[ERR_MAX];
	int status;
	if (!cli_opts_parse(&up_verb, argc, argv, &a, &status))
		return status;
	if (!need_root("up"))
		return EXIT_LAB;
	if (lab_self(self, sizeof(self)))
		return fprintf(stderr, "edgelab lab up: cannot find its own binary\n"), EXIT_LAB;
	a.up.self = self;
	a.up.name = a.name;
	memcpy(a.up.rules, a.rules.files, sizeof(a.up.rules));
	a.up.nrules = a.rules.n;
	if (labs_up(&a.up, name, err, sizeof(err))) {
		fprintf(stderr, "edgelab lab up: %s\n", err);
		return EXIT_LAB;
	}
	print_way_in(name, a.up.scenario);
	return EXIT_OK;
}

/* ---- lab probe, lab check ---- */

struct probe_args {
	const char *name;
	struct lab_probe_args probe;
};
_Static_assert(offsetof(struct probe_args, name) == 0, "name_operand stores at offset 0");

static const struct cli_opt probe_options[] = {
    NAME_OPT(struct probe_args),
    LAB_OPT_PROBE(offsetof(struct probe_args, probe)),
    {0},
};

static const struct cli_opts probe_verb = {
    .verb = "lab probe",
    .synopsis = "[NAME] [--rows LIST] [--format FMT] [--timeout SECS] [--no-strict]",
    .about = "Runs `edgelab probe --strict` from the lab's outside against its edge,\n"
             "through its fw, as often as wanted.\n",
    .opts = probe_options,
    .notes = "Exit status: the probe's (0 all passed and all strict flows CLOSED, 1 not),\n"
             "2 usage, 4 no such lab, or its edge is down (it says so).\n",
    .operand = name_operand,
};

/* check: the whole table, strict; only the format and time are the user's. */
static const struct cli_opt check_options[] = {
    NAME_OPT(struct probe_args),
    LAB_OPT_REPORT(offsetof(struct probe_args, probe)),
    {0},
};

static const struct cli_opts check_verb = {
    .verb = "lab check",
    .synopsis = "[NAME] [--format FMT] [--timeout SECS]",
    .about = "Says whether the lab's fw now implements the port table: every row PASS and\n"
             "every strict negative flow CLOSED (a trainee's fix, a ruleset of yours).\n",
    .opts = check_options,
    .notes = "Exit status: 0 it does, 1 not yet, 2 usage, 4 no such lab or its edge is down.\n",
    .operand = name_operand,
};

static int run_probe(const char *verb, struct probe_args *a, bool check)
{
	char self[PATH_MAX], err[ERR_MAX];
	int status, rc = resolve_name(verb, &a->name);
	if (rc)
		return rc;
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
	if (!need_root(argv[0]))
		return EXIT_LAB;
	return run_probe(argv[0], &a, check);
}

static int cmd_probe_sub(int argc, char **argv)
{
	return cmd_probe_lab(argc, argv, false);
}

static int cmd_check(int argc, char **argv)
{
	return cmd_probe_lab(argc, argv, true);
}

/* ---- lab rules ---- */

struct rules_args {
	const char *name;
	struct lab_rules_arg rules;
};
_Static_assert(offsetof(struct rules_args, name) == 0, "name_operand stores at offset 0");

static int rules_operand(size_t index, const char *value, char *why, size_t why_len, void *arg)
{
	static const struct cli_opt at = {.offset = offsetof(struct rules_args, rules)};
	if (index == 0)
		return name_operand(0, value, why, why_len, arg);
	return lab_opt_rules(&at, value, why, why_len, arg);
}

static int rules_check(char *why, size_t why_len, void *arg)
{
	struct rules_args *a = arg;
	if (lab_rules_finish(&a->rules, why, why_len))
		return EINVAL;
	if (a->name && a->rules.n)
		return 0;
	snprintf(why, why_len, "name the lab and the ruleset: `edgelab lab rules NAME FILE`");
	return EINVAL;
}

static const struct cli_opt rules_options[] = {
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
    .synopsis = "NAME FILE [FILE] [--rules-format FMT]",
    .about = "Replaces the lab's fw ruleset with FILE (nft -f, iptables-restore or\n"
             "ip6tables-restore input; twice for a v4 and a v6 file). The file is checked\n"
             "by its tool first: a ruleset that does not load changes nothing, and the\n"
             "tool's message is quoted.\n",
    .opts = rules_options,
    .notes = "Exit status: 0 loaded, 2 usage, 4 not loaded (or no such lab).\n",
    .check = rules_check,
    .operand = rules_operand,
};

static int cmd_rules_sub(int argc, char **argv)
{
	struct rules_args a = {0};
	char err[ERR_MAX];
	int status;
	if (!cli_opts_parse(&rules_verb, argc, argv, &a, &status))
		return status;
	if (!need_root("rules"))
		return EXIT_LAB;
	if (labs_set_rules(a.name, a.rules.files, a.rules.n, err, sizeof(err))) {
		fprintf(stderr, "edgelab lab rules: %s\n", err);
		return EXIT_LAB;
	}
	printf("lab %s: fw has the new ruleset\n", a.name);
	return EXIT_OK;
}

/* ---- lab list, lab down ---- */

static const struct cli_opts list_verb = {
    .verb = "lab list",
    .synopsis = "",
    .about = "Lists the labs that are up: name, state, age and what fw has.\n",
    .opts = (const struct cli_opt[]){{0}},
};

static void age_text(time_t created, char *buf, size_t cap)
{
	long s = created ? (long)(time(NULL) - created) : -1;
	if (s < 0)
		snprintf(buf, cap, "?");
	else if (s < 120)
		snprintf(buf, cap, "%lds", s);
	else if (s < 7200)
		snprintf(buf, cap, "%ldm", s / 60);
	else
		snprintf(buf, cap, "%ldh%02ldm", s / 3600, s / 60 % 60);
}

static int cmd_list(int argc, char **argv)
{
	static struct labs_info labs[LABS_MAX];
	size_t n;
	int status;
	if (!cli_opts_parse(&list_verb, argc, argv, NULL, &status))
		return status;
	if (!need_root("list"))
		return EXIT_LAB;
	labs_list(labs, LABS_MAX, &n);
	if (n == 0) {
		printf("no labs are up\n");
		return EXIT_OK;
	}
	printf("%-16s  %-11s  %-7s  %s\n", "NAME", "STATE", "AGE", "RULES");
	for (size_t i = 0; i < n; i++) {
		char age[32];
		age_text(labs[i].created, age, sizeof(age));
		printf("%-16s  %-11s  %-7s  %s\n", labs[i].name, labs_health_name(labs[i].health),
		       age, labs[i].rules);
		if (labs[i].health != LABS_READY)
			printf("%-16s  %s\n", "", labs[i].why);
	}
	return EXIT_OK;
}

struct down_args {
	const char *name;
	bool all;
};
_Static_assert(offsetof(struct down_args, name) == 0, "name_operand stores at offset 0");

static int down_check(char *why, size_t why_len, void *arg)
{
	const struct down_args *a = arg;
	if (!(a->all && a->name))
		return 0;
	snprintf(why, why_len, "a name or --all, not both");
	return EINVAL;
}

static const struct cli_opts down_verb = {
    .verb = "lab down",
    .synopsis = "[NAME | --all]",
    .about = "Tears a lab down: its edge, its namespaces, its state. Works on whatever is\n"
             "left of one (a dead edge, a killed `lab up`, namespaces gone after a reboot).\n",
    .opts = (const struct cli_opt[]){NAME_OPT(struct down_args),
                                     {.name = "all",
                                      .letter = 'a',
                                      .set = cli_opt_flag,
                                      .offset = offsetof(struct down_args, all),
                                      .help = "every lab"},
                                     {0}},
    .notes = "Exit status: 0 torn down, 2 usage, 4 no such lab.\n",
    .check = down_check,
    .operand = name_operand,
};

static int cmd_down(int argc, char **argv)
{
	static struct labs_info labs[LABS_MAX];
	struct down_args a = {0};
	char err[ERR_MAX];
	int status, rc = EXIT_OK;
	size_t n;
	if (!cli_opts_parse(&down_verb, argc, argv, &a, &status))
		return status;
	if (!need_root("down"))
		return EXIT_LAB;
	if (!a.all) {
		if ((status = resolve_name("down", &a.name)))
			return status;
		if (labs_down(a.name, err, sizeof(err)))
			return fprintf(stderr, "edgelab lab down: %s\n", err), EXIT_LAB;
		printf("lab %s is down\n", a.name);
		return EXIT_OK;
	}
	labs_list(labs, LABS_MAX, &n);
	for (size_t i = 0; i < n; i++) {
		if (labs_down(labs[i].name, err, sizeof(err))) {
			fprintf(stderr, "edgelab lab down: %s\n", err);
			rc = EXIT_LAB;
		} else {
			printf("lab %s is down\n", labs[i].name);
		}
	}
	return rc;
}

/* ---- lab exec, lab scenarios ---- */

static int cmd_exec(int argc, char **argv)
{
	static const char usage[] = "usage: edgelab lab exec NAME outside|fw|edge [--] COMMAND "
	                            "[ARG...]\n\nRuns COMMAND in the lab's namespace (as `ip netns "
	                            "exec` does),\ne.g. `nft list ruleset` in fw, or a shell.\n";
	char ns[64], err[256];
	if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0))
		return fputs(usage, stdout), EXIT_OK;
	int cmd = argc > 3 && strcmp(argv[3], "--") == 0 ? 4 : 3;
	if (argc <= cmd) {
		fprintf(stderr, "edgelab lab exec: name the lab, the namespace and a command\n%s",
		        usage);
		return EXIT_USAGE;
	}
	if (!need_root("exec"))
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

static const struct cli_opts scenarios_verb = {
    .verb = "lab scenarios",
    .synopsis = "",
    .about = "Lists the training scenarios, each with the symptom it shows (not the\n"
             "cause): `edgelab lab up --scenario NAME` starts one; docs/training.md is the\n"
             "trainer's guide.\n",
    .opts = (const struct cli_opt[]){{0}},
};

static int cmd_scenarios(int argc, char **argv)
{
	int status;
	char symptom[SCENARIO_SYMPTOM_MAX];
	if (!cli_opts_parse(&scenarios_verb, argc, argv, NULL, &status))
		return status;
	for (size_t i = 0; i < scenario_files_count; i++)
		printf("%-28s  %s\n", scenario_files[i].name,
		       scenario_symptom(&scenario_files[i], symptom, sizeof(symptom)));
	return EXIT_OK;
}

static const struct sub {
	const char *name;
	int (*run)(int argc, char **argv);
} subs[] = {
    {"up", cmd_up},     {"probe", cmd_probe_sub},     {"check", cmd_check},
    {"exec", cmd_exec}, {"rules", cmd_rules_sub},     {"list", cmd_list},
    {"down", cmd_down}, {"scenarios", cmd_scenarios}, {"fw", cmd_lab_fw},
};

bool cmd_labs_is_sub(const char *word)
{
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
		if (strcmp(word, subs[i].name) == 0)
			return true;
	return false;
}

int cmd_labs(int argc, char **argv)
{
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
		if (strcmp(argv[0], subs[i].name) == 0)
			return subs[i].run(argc, argv);
	return EXIT_USAGE;
}
