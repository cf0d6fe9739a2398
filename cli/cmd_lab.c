/* edgelab lab: build the outside/fw/edge namespaces, probe, print the matrix,
 * tear down. */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <unistd.h>

#include "cli/cmd.h"
#include "cli/opts.h"
#include "lab/lab.h"
#include "probe/report.h"

/* What the options fill in. The probe's options go on to `edgelab probe`
 * as text; they are checked here, so that a bad one fails before the lab
 * is built. */
struct lab_args {
	struct lab_opts lab;
	bool cleanup;
	unsigned rows_mask, timeout_ms; /* checked, then unused */
};

#define AT(field) offsetof(struct lab_args, field)

static int set_rows(const struct cli_opt *o, const char *value, char *why, size_t why_len,
                    void *arg)
{
	struct lab_args *a = arg;
	int err = cli_opt_rows(o, value, why, why_len, arg);
	if (!err)
		a->lab.rows = value;
	return err;
}

static int set_format(const struct cli_opt *o, const char *value, char *why, size_t why_len,
                      void *arg)
{
	struct lab_args *a = arg;
	enum report_format fmt;
	(void)o;
	(void)why;
	(void)why_len;
	if (report_format_parse(value, &fmt))
		return EINVAL;
	a->lab.format = value;
	return 0;
}

static int set_timeout(const struct cli_opt *o, const char *value, char *why, size_t why_len,
                       void *arg)
{
	struct lab_args *a = arg;
	int err = cli_opt_seconds(o, value, why, why_len, arg);
	if (!err)
		a->lab.timeout = value;
	return err;
}

static int check_masks(char *why, size_t why_len, void *arg)
{
	const struct lab_args *a = arg;
	if (a->lab.rules && (a->lab.drop_mask || a->lab.reject_mask)) {
		snprintf(why, why_len,
		         "--drop and --reject shape our ruleset, not one from --rules");
		return EINVAL;
	}
	if (!(a->lab.drop_mask & a->lab.reject_mask))
		return 0;
	snprintf(why, why_len, "a row cannot be both dropped and rejected");
	return EINVAL;
}

static const struct cli_opt lab_options[] = {
    {.name = "drop",
     .letter = 'd',
     .arg = "LIST",
     .set = cli_opt_rows_add,
     .offset = AT(lab.drop_mask),
     .help = "leave these rows' rules out (the flow should be BLOCKED)"},
    {.name = "reject",
     .letter = 'j',
     .arg = "LIST",
     .set = cli_opt_rows_add,
     .offset = AT(lab.reject_mask),
     .help = "reject instead of accept (the flow should be REJECTED)"},
    {.name = "rows",
     .letter = 'r',
     .arg = "LIST",
     .set = set_rows,
     .offset = AT(rows_mask),
     .help = "rows to probe: all (default) or e.g. 6"},
    {.name = "format",
     .letter = 'f',
     .arg = "FMT",
     .set = set_format,
     .expect = "table, json, junit, tap or html",
     .help = "table (default), json, junit, tap or html"},
    {.name = "timeout",
     .letter = 't',
     .arg = "SECS",
     .set = set_timeout,
     .offset = AT(timeout_ms),
     .expect = "seconds, more than 0, at most 3600",
     .help = "per flow (default 3)"},
    {.name = "rules",
     .arg = "FILE",
     .set = cli_opt_string,
     .offset = AT(lab.rules),
     .help = "load this nftables ruleset into fw instead of ours (--drop and --reject "
             "then do nothing)"},
    {.name = "no-strict",
     .set = cli_opt_flag,
     .offset = AT(lab.no_strict),
     .help = "probe only the six rows, not the flows that must stay closed"},
    {.name = "verbose",
     .letter = 'v',
     .set = cli_opt_flag,
     .offset = AT(lab.verbose),
     .help = "say each step and show the edge's log"},
    {.name = "cleanup",
     .set = cli_opt_flag,
     .offset = AT(cleanup),
     .help = "remove namespaces left by a killed lab, and exit"},
    {0},
};

static const struct cli_opts lab_verb = {
    .verb = "lab",
    .synopsis = "[--drop N[,N]] [--reject N[,N]] [--rules FILE] [--rows LIST] [--format FMT]",
    .about = "As root: builds three network namespaces (outside " LAB_OUTSIDE_ADDR
             ", fw, edge " LAB_EDGE_ADDR "),\n"
             "loads the nftables policy of `edgelab rules` into fw, starts `edgelab serve` in\n"
             "edge and `edgelab probe --strict` in outside, prints the matrix and tears it all\n"
             "down (also on Ctrl-C and on failure). The probe reaches the edge's control API\n"
             "over HTTPS on a management link (outside " LAB_PROBE_MGMT_ADDR
             " - edge " LAB_EDGE_MGMT_ADDR ":" LAB_CONTROL_PORT "),\n"
             "which bypasses fw; fw forwards between its interfaces fw-out (192.0.2.1) and\n"
             "fw-edge (198.51.100.1).\n",
    .opts = lab_options,
    .notes = "Exit status: the probe's (0 every requested row passed and every strict flow\n"
             "was CLOSED, 1 otherwise),\n"
             "2 on usage errors, 4 when the lab could not be built or was interrupted.\n",
    .check = check_masks,
};

int cmd_lab(int argc, char **argv)
{
	struct lab_args a = {.lab = {.rows = "all", .format = "table", .timeout = "3"}};
	struct lab_opts *o = &a.lab;
	int status;
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
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0) {
		fprintf(stderr, "edgelab lab: cannot find its own binary\n");
		return EXIT_LAB;
	}
	self[n] = '\0';
	o->self = self;
	char err[512];
	status = lab_run(o, err, sizeof(err));
	if (status < 0) {
		fprintf(stderr, "edgelab lab: %s\n", err);
		return EXIT_LAB;
	}
	return status;
}
