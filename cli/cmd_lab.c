/* edgelab lab: build the outside/fw/edge namespaces, probe, print the matrix,
 * tear down. */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cmd.h"
#include "core/rows.h"
#include "lab/lab.h"
#include "probe/report.h"

static void usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: edgelab lab [--drop N[,N]] [--reject N[,N]] [--rows LIST] [--format FMT]\n\n"
	    "As root: builds three network namespaces (outside %s, fw, edge %s),\n"
	    "loads the nftables policy of `edgelab rules` into fw, starts `edgelab serve` in\n"
	    "edge and `edgelab probe` in outside, prints the matrix and tears it all down\n"
	    "(also on Ctrl-C and on failure).\n\n"
	    "  -d, --drop LIST      leave these rows' rules out (the flow should be BLOCKED)\n"
	    "  -j, --reject LIST    reject instead of accept (the flow should be REJECTED)\n"
	    "  -r, --rows LIST      rows to probe: all (default) or e.g. 6\n"
	    "  -f, --format FMT     table (default), json, junit or tap\n"
	    "  -t, --timeout SECS   per flow (default 3)\n"
	    "  -v, --verbose        say each step and show the edge's log\n"
	    "      --cleanup        remove namespaces left by a killed lab, and exit\n\n"
	    "Exit status: the probe's (0 every requested row passed, 1 a row did not),\n"
	    "2 on usage errors, 4 when the lab could not be built or was interrupted.\n",
	    LAB_OUTSIDE_ADDR, LAB_EDGE_ADDR);
}

static int bad(const char *opt, const char *value)
{
	fprintf(stderr, "edgelab lab: %s: bad value '%s'\n", opt, value);
	return EXIT_USAGE;
}

int cmd_lab(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"drop", required_argument, NULL, 'd'},
	    {"reject", required_argument, NULL, 'j'},
	    {"rows", required_argument, NULL, 'r'},
	    {"format", required_argument, NULL, 'f'},
	    {"timeout", required_argument, NULL, 't'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"cleanup", no_argument, NULL, 1},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	struct lab_opts o = {.rows = "all", .format = "table", .timeout = "3"};
	enum report_format fmt;
	unsigned mask;
	bool cleanup = false;
	int c;
	while ((c = getopt_long(argc, argv, "d:j:r:f:t:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			if (rows_parse_mask(optarg, &mask))
				return bad("--drop", optarg);
			o.drop_mask |= mask;
			break;
		case 'j':
			if (rows_parse_mask(optarg, &mask))
				return bad("--reject", optarg);
			o.reject_mask |= mask;
			break;
		case 'r':
			if (rows_parse_mask(optarg, &mask))
				return bad("--rows", optarg);
			o.rows = optarg;
			break;
		case 'f':
			if (report_format_parse(optarg, &fmt))
				return bad("--format", optarg);
			o.format = optarg;
			break;
		case 't':
			if (atof(optarg) <= 0)
				return bad("--timeout", optarg);
			o.timeout = optarg;
			break;
		case 'v':
			o.verbose = true;
			break;
		case 1:
			cleanup = true;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "edgelab lab: unexpected argument '%s'\n", argv[optind]);
		return EXIT_USAGE;
	}
	if (o.drop_mask & o.reject_mask) {
		fprintf(stderr, "edgelab lab: a row cannot be both dropped and rejected\n");
		return EXIT_USAGE;
	}
	if (geteuid() != 0) {
		fprintf(stderr, "edgelab lab: must run as root (network namespaces, nftables)\n");
		return EXIT_LAB;
	}
	if (cleanup) {
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
	o.self = self;
	char err[512];
	int status = lab_run(&o, err, sizeof(err));
	if (status < 0) {
		fprintf(stderr, "edgelab lab: %s\n", err);
		return EXIT_LAB;
	}
	return status;
}
