/* edgelab lab up|list|down|scenarios, and the sub-verbs' dispatch
 * (cli/cmd_labs_use.c has probe, check, rules and exec). */
#include "cli/cmd_labs.h"

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cmd.h"
#include "cli/fed_opts.h"
#include "cli/lab_opts.h"
#include "cli/labs_int.h"
#include "cli/opts.h"
#include "lab/impair_spec.h"
#include "lab/labs.h"
#include "lab/scenario.h"

#define ERR_MAX 2048

/* ---- lab up ---- */

struct up_args {
	const char *name; /* first: name_operand's */
	struct labs_up_opts up;
	struct lab_rules_arg rules;
	struct lab_fed_args fed;
	struct lab_fed_opts fed_opts; /* up.fed's, with --topology federation */
};
_Static_assert(offsetof(struct up_args, name) == 0, "labs_name_operand stores at offset 0");

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

/* --impair (both directions), --impair-in, --impair-out. */
static int set_impair(const struct cli_opt *o, const char *value, char *why, size_t why_len,
                      void *arg)
{
	struct up_args *a = arg;
	struct impair_spec sp;
	if (impair_spec_parse(value, &sp, why, why_len))
		return EINVAL;
	if (strcmp(o->name, "impair-out"))
		a->up.impair_in = sp;
	if (strcmp(o->name, "impair-in"))
		a->up.impair_out = sp;
	return 0;
}

static int up_check(char *why, size_t why_len, void *arg)
{
	struct up_args *a = arg;
	bool single = a->rules.n || a->up.drop_mask || a->up.reject_mask || a->up.scenario ||
	              impair_spec_on(&a->up.impair_in) || impair_spec_on(&a->up.impair_out);
	if (lab_rules_finish(&a->rules, why, why_len))
		return EINVAL;
	if (lab_fed_args_check(&a->fed, single, "--rules, --drop, --reject, --scenario, --impair",
	                       why, why_len))
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
     .set = labs_opt_name,
     .offset = offsetof(struct up_args, name),
     .help = "the lab's name (default: the first free of lab1, lab2, ...)"},
    LAB_OPT_RULES(offsetof(struct up_args, rules)),
    LAB_OPT_MASKS(offsetof(struct up_args, up.drop_mask), offsetof(struct up_args, up.reject_mask)),
    {.name = "scenario",
     .letter = 's',
     .arg = "NAME",
     .set = set_scenario,
     .help = "a training scenario's faulty ruleset (`edgelab lab scenarios`)"},
    {.name = "impair",
     .arg = "SPEC",
     .set = set_impair,
     .help = "fw's links impaired both ways, in netem's words: \"delay 40ms 10ms loss\n"
             "0.5% reorder 25%\" (`edgelab lab impair` changes it; docs/lab.md)"},
    {.name = "impair-in",
     .arg = "SPEC",
     .set = set_impair,
     .help = "only what goes from outside to the edge"},
    {.name = "impair-out",
     .arg = "SPEC",
     .set = set_impair,
     .help = "only what goes from the edge to outside"},
    {.name = "verbose",
     .letter = 'v',
     .set = cli_opt_flag,
     .offset = offsetof(struct up_args, up.verbose),
     .help = "say each step"},
    LAB_OPT_FED(offsetof(struct up_args, fed)),
    {0},
};

static const struct cli_opts up_verb = {
    .verb = "lab up",
    .synopsis = "[[--name] NAME] [--rules FILE | --scenario NAME | --drop/--reject LIST]\n"
                "                      [--impair SPEC | --impair-in SPEC --impair-out SPEC]\n"
                "       edgelab lab up [[--name] NAME] --topology federation [--rules-a FILE]\n"
                "                      [--rules-b FILE] [--drop-a/-b LIST] [--reject-a/-b LIST]\n"
                "                      [--fault NAME]...",
    .about = "As root: builds a lab (`edgelab lab --help` has its network), loads the\n"
             "ruleset into fw, starts the edge and returns, leaving the lab up until\n"
             "`edgelab lab down`. Its state lives in " LABS_ROOT "/NAME; labs do not\n"
             "clash (each has its own namespaces, edgelab-NAME-outside, -fw, -edge).\n"
             "With --topology federation: the federation lab (docs/federation-lab.md),\n"
             "two sites and the internet between them, namespaces edgelab-NAME-inet,\n"
             "-a-fw, -a-edge, -b-fw, -b-edge; its edges and dnsmasq stay up.\n",
    .opts = up_options,
    .notes = "Exit status: 0 the lab is up, 2 usage, 4 it could not be built (nothing is\n"
             "left behind).\n",
    .check = up_check,
    .operand = labs_name_operand,
};

static void print_lines(const char *name, const char *const lines[][3], size_t count)
{
	char cmd[96];
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

static void print_way_in(const char *name, const char *scenario)
{
	char symptom[SCENARIO_SYMPTOM_MAX];
	static const char *const lines[][3] = {
	    {"probe", "", "the matrix and the strict flows, as often as you like"},
	    {"check", "", "does fw implement the port table?"},
	    {"exec", " fw -- nft list ruleset", ""},
	    {"exec", " fw -- bash", "a shell in fw (or outside, edge)"},
	    {"rules", " FILE", "replace fw's ruleset"},
	    {"assess", " --calls 50 --ramp 10", "calls through fw, judged on Microsoft's targets"},
	    {"impair", " \"delay 40ms loss 1%\"", "fw's links delay and lose (off: no more)"},
	    {"down", "", ""},
	};
	if (scenario)
		printf("lab %s is up with scenario %s:\n  %s\n\n", name, scenario,
		       scenario_symptom(scenario_find(scenario), symptom, sizeof(symptom)));
	else
		printf("lab %s is up.\n\n", name);
	print_lines(name, lines, sizeof(lines) / sizeof(lines[0]));
}

static void print_way_in_fed(const char *name)
{
	static const char *const lines[][3] = {
	    {"probe", "", "federation, IM and A/V both ways, each judged where it breaks"},
	    {"check", "", "does every flow PASS?"},
	    {"exec", " b-fw -- nft list ruleset", ""},
	    {"exec", " inet -- bash", "a shell on the internet (or a-fw, a-edge, b-fw, b-edge)"},
	    {"rules", " --site b FILE", "replace fw B's ruleset"},
	    {"down", "", ""},
	};
	printf("lab %s is up: federation, a.example (edge 198.51.100.10) and b.example\n"
	       "(edge 203.0.113.10), DNS " LAB_FED_DNS_ADDR ".\n\n",
	       name);
	print_lines(name, lines, sizeof(lines) / sizeof(lines[0]));
}

static int cmd_up(int argc, char **argv)
{
	struct up_args a = {0};
	char name[LABS_NAME_MAX + 1], self[PATH_MAX], err[ERR_MAX];
	int status;
	if (!cli_opts_parse(&up_verb, argc, argv, &a, &status))
		return status;
	if (!labs_need_root("up"))
		return EXIT_LAB;
	if (lab_self(self, sizeof(self)))
		return fprintf(stderr, "edgelab lab up: cannot find its own binary\n"), EXIT_LAB;
	a.up.self = self;
	a.up.name = a.name;
	memcpy(a.up.rules, a.rules.files, sizeof(a.up.rules));
	a.up.nrules = a.rules.n;
	if (lab_fed_args_on(&a.fed)) {
		lab_fed_args_opts(&a.fed, self, a.up.verbose, &a.fed_opts);
		a.up.fed = &a.fed_opts;
	}
	if (labs_up(&a.up, name, err, sizeof(err))) {
		fprintf(stderr, "edgelab lab up: %s\n", err);
		return EXIT_LAB;
	}
	if (a.up.fed)
		print_way_in_fed(name);
	else
		print_way_in(name, a.up.scenario);
	return EXIT_OK;
}

/* ---- lab list, lab down ---- */

static const struct cli_opts list_verb = {
    .verb = "lab list",
    .synopsis = "",
    .about = "Lists the labs that are up: name, state, age, topology (single or\n"
             "federation) and what fw has (a federation lab's fw A and fw B, and its\n"
             "faults).\n",
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
	if (!labs_need_root("list"))
		return EXIT_LAB;
	labs_list(labs, LABS_MAX, &n);
	if (n == 0) {
		printf("no labs are up\n");
		return EXIT_OK;
	}
	printf("%-16s  %-11s  %-7s  %-10s  %s\n", "NAME", "STATE", "AGE", "TOPOLOGY", "RULES");
	for (size_t i = 0; i < n; i++) {
		char age[32];
		age_text(labs[i].created, age, sizeof(age));
		printf("%-16s  %-11s  %-7s  %-10s  %s\n", labs[i].name,
		       labs_health_name(labs[i].health), age,
		       labs[i].federation ? "federation" : "single", labs[i].rules);
		if (labs[i].health != LABS_READY)
			printf("%-16s  %s\n", "", labs[i].why);
	}
	return EXIT_OK;
}

struct down_args {
	const char *name;
	bool all;
};
_Static_assert(offsetof(struct down_args, name) == 0, "labs_name_operand stores at offset 0");

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
    .about = "Tears a lab down: its edge (a federation lab's edges and dnsmasq), its\n"
             "namespaces, its state. Works on whatever is left of one (a dead edge, a\n"
             "killed `lab up`, namespaces gone after a reboot).\n",
    .opts = (const struct cli_opt[]){LABS_NAME_OPT(struct down_args),
                                     {.name = "all",
                                      .letter = 'a',
                                      .set = cli_opt_flag,
                                      .offset = offsetof(struct down_args, all),
                                      .help = "every lab"},
                                     {0}},
    .notes = "Exit status: 0 torn down, 2 usage, 4 no such lab.\n",
    .check = down_check,
    .operand = labs_name_operand,
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
	if (!labs_need_root("down"))
		return EXIT_LAB;
	if (!a.all) {
		if ((status = labs_resolve_name("down", &a.name)))
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

/* ---- lab scenarios, and the sub-verbs ---- */

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
    {"up", cmd_up},
    {"probe", cmd_labs_probe},
    {"check", cmd_labs_check},
    {"exec", cmd_labs_exec},
    {"rules", cmd_labs_rules},
    {"assess", cmd_labs_assess},
    {"impair", cmd_labs_impair},
    {"impairer", cmd_labs_impairer},
    {"list", cmd_list},
    {"down", cmd_down},
    {"scenarios", cmd_scenarios},
    {"fw", cmd_lab_fw},
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
