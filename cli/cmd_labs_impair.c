/* edgelab lab impair: a standing lab's fw links delayed, lossy or
 * reordering (lab/impair.h); and lab impairer, the process that does it in
 * fw's namespace, which `lab up` and `lab impair` start. */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "cli/cmd.h"
#include "cli/lab_opts.h"
#include "cli/labs_int.h"
#include "cli/opts.h"
#include "lab/impair.h"
#include "lab/labs.h"

#define ERR_MAX 2048

struct impair_args {
	const char *name; /* first: labs_name_operand's */
	struct impair_spec in, out;
	bool set;
};
_Static_assert(offsetof(struct impair_args, name) == 0, "labs_name_operand stores at offset 0");

/* --in, --out, or the operand SPEC after the name: both ways. */
static int set_spec(struct impair_args *a, const char *which, const char *value, char *why,
                    size_t why_len)
{
	struct impair_spec sp;
	if (impair_spec_parse(value, &sp, why, why_len))
		return EINVAL;
	if (strcmp(which, "out"))
		a->in = sp;
	if (strcmp(which, "in"))
		a->out = sp;
	a->set = true;
	return 0;
}

static int set_direction(const struct cli_opt *o, const char *value, char *why, size_t why_len,
                         void *arg)
{
	return set_spec(arg, o->name, value, why, why_len);
}

static int impair_operand(size_t index, const char *value, char *why, size_t why_len, void *arg)
{
	if (index == 0)
		return labs_name_operand(0, value, why, why_len, arg);
	if (index > 1)
		return snprintf(why, why_len, "one SPEC: quote it (\"delay 40ms loss 1%%\")"),
		       EINVAL;
	return set_spec(arg, "both", value, why, why_len);
}

static const struct cli_opt impair_options[] = {
    {.name = "in",
     .arg = "SPEC",
     .set = set_direction,
     .help = "what goes from outside to the edge"},
    {.name = "out",
     .arg = "SPEC",
     .set = set_direction,
     .help = "what goes from the edge to outside"},
    {0},
};

static const struct cli_opts impair_verb = {
    .verb = "lab impair",
    .synopsis = "NAME [SPEC | off] [--in SPEC] [--out SPEC]",
    .about = "Impairs the links of a lab's fw, as tc netem would, both ways (SPEC) or one\n"
             "(--in: outside to the edge; --out: back): \"delay TIME [JITTER]\",\n"
             "\"loss PERCENT\", \"reorder PERCENT\" (sent at once while the others are\n"
             "delayed), together in one quoted SPEC; \"off\" ends it. Without a SPEC, says\n"
             "what the lab has. Done from user space (NFQUEUE) before fw's rules see the\n"
             "packets: kernels without netem have it. docs/lab.md.\n",
    .opts = impair_options,
    .notes = "Exit status: 0, 2 usage, 4 no such lab (or a federation lab), or it could\n"
             "not be set.\n",
    .operand = impair_operand,
};

int cmd_labs_impair(int argc, char **argv)
{
	struct impair_args a = {0};
	struct impair_spec in, out;
	char self[PATH_MAX], err[ERR_MAX], s1[IMPAIR_SPEC_MAX], s2[IMPAIR_SPEC_MAX];
	int status;
	if (!cli_opts_parse(&impair_verb, argc, argv, &a, &status))
		return status;
	if (!labs_need_root("impair"))
		return EXIT_LAB;
	int rc = labs_resolve_name("impair", &a.name);
	if (rc)
		return rc;
	if (lab_self(self, sizeof(self)))
		return fprintf(stderr, "edgelab lab impair: cannot find its own binary\n"),
		       EXIT_LAB;
	if (labs_impair(a.name, self, a.set ? &a.in : NULL, a.set ? &a.out : NULL, &in, &out, err,
	                sizeof(err))) {
		fprintf(stderr, "edgelab lab impair: %s\n", err);
		return EXIT_LAB;
	}
	printf("lab %s: in (outside to edge) %s; out (edge to outside) %s\n", a.name,
	       impair_spec_str(&in, s1, sizeof(s1)), impair_spec_str(&out, s2, sizeof(s2)));
	return EXIT_OK;
}

/* ---- lab impairer: what lab up and lab impair start in fw ---- */

static const struct cli_opts impairer_verb = {
    .verb = "lab impairer",
    .synopsis = "--in SPEC --out SPEC",
    .about = "The impairer itself, in the current namespace (`lab up --impair` and `lab\n"
             "impair` start it in fw): NFQUEUE " CLI_STR(LAB_IMPAIR_QUEUE_IN) " (in) and " CLI_STR(
                 LAB_IMPAIR_QUEUE_OUT) " (out), until SIGTERM.\n",
    .opts = impair_options,
};

int cmd_labs_impairer(int argc, char **argv)
{
	struct impair_args a = {0};
	char err[ERR_MAX] = "";
	int status;
	if (!cli_opts_parse(&impairer_verb, argc, argv, &a, &status))
		return status;
	if (lab_impairer_run(&a.in, &a.out, stdout, err, sizeof(err))) {
		fprintf(stderr, "edgelab lab impairer: %s\n", err);
		return EXIT_LAB;
	}
	return EXIT_OK;
}
