/* edgelab rules: prints the firewall policy the port table implies. */
#include "cli/cmd.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/addr.h"
#include "core/rows.h"
#include "lab/rules.h"

/* The lab's edge access address (TEST-NET-2), as `edgelab lab` sets it up. */
#define RULES_EDGE_DEFAULT "198.51.100.10"

enum rules_format { FORMAT_NFT, FORMAT_IPTABLES };

struct rules_args {
	struct rules_opts opts;
	enum rules_format format;
};

static const struct option long_opts[] = {
    {"edge", required_argument, NULL, 'e'},
    {"format", required_argument, NULL, 'f'},
    {"drop", required_argument, NULL, 'd'},
    {"reject", required_argument, NULL, 'r'},
    {"table", required_argument, NULL, 't'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static void usage(FILE *out)
{
	fprintf(out,
	        "usage: edgelab rules [--edge ADDR] [--format nft|iptables] [--drop N[,N]]\n"
	        "                     [--reject N[,N]] [--table NAME]\n"
	        "\n"
	        "Prints the stateful forward policy of the router between the outside and\n"
	        "the edge's access interface: one commented rule per port-table row.\n"
	        "\n"
	        "  -e, --edge ADDR      the edge's access address, IPv4 or IPv6\n"
	        "                       (default %s, the lab's edge)\n"
	        "  -f, --format FMT     nft (default): `nft -f` input, replaces only its table;\n"
	        "                       iptables: iptables-restore input (ip6tables-restore for\n"
	        "                       an IPv6 edge), filter table, FORWARD chain\n"
	        "  -d, --drop ROWS      leave these rows out, so the policy drops them\n"
	        "                       (\"1,3\", \"all\"); the probe then says BLOCKED\n"
	        "  -r, --reject ROWS    reject these rows with a TCP RST or ICMP port\n"
	        "                       unreachable; the probe then says REJECTED\n"
	        "  -t, --table NAME     nft table name (default %s; nft only)\n"
	        "  -h, --help           this text\n"
	        "\n"
	        "Rows are 1-%d, as in DESIGN.md. Exit status: 0, 1 if the output could not\n"
	        "be written, 2 for a usage error.\n",
	        RULES_EDGE_DEFAULT, RULES_TABLE_DEFAULT, ROWS_COUNT);
}

/* rows_parse_mask says only EINVAL; name the bad part for the user. */
static void mask_complain(const char *opt, const char *s)
{
	const char *p = s;
	while (*p) {
		char *end;
		long n = strtol(p, &end, 10);
		size_t len = strcspn(p, ",");
		if (end == p || (*end && *end != ',')) {
			fprintf(stderr, "edgelab rules: --%s: '%.*s' is not a row number\n", opt,
			        (int)len, p);
			return;
		}
		if (n < 1 || n > ROWS_COUNT) {
			fprintf(stderr,
			        "edgelab rules: --%s: row %ld does not exist (rows are 1-%d)\n",
			        opt, n, ROWS_COUNT);
			return;
		}
		p = *end ? end + 1 : end;
	}
	fprintf(stderr, "edgelab rules: --%s: '%s' is not a row list (\"1,3\", \"all\")\n", opt, s);
}

static int mask_arg(const char *opt, const char *s, unsigned *mask)
{
	unsigned m;
	if (rows_parse_mask(s, &m)) {
		mask_complain(opt, s);
		return EINVAL;
	}
	*mask |= m; /* repeated options add up */
	return 0;
}

static int edge_arg(const char *s, struct sockaddr_storage *ss)
{
	if (addr_parse(s, 0, ss)) {
		fprintf(stderr, "edgelab rules: --edge: '%s' is not an IPv4 or IPv6 address\n", s);
		return EINVAL;
	}
	if (addr_port((const struct sockaddr *)ss) != 0) {
		fprintf(stderr, "edgelab rules: --edge: '%s': give an address without a port\n", s);
		return EINVAL;
	}
	return 0;
}

static int format_arg(const char *s, enum rules_format *fmt)
{
	if (strcmp(s, "nft") == 0 || strcmp(s, "nftables") == 0)
		*fmt = FORMAT_NFT;
	else if (strcmp(s, "iptables") == 0)
		*fmt = FORMAT_IPTABLES;
	else {
		fprintf(stderr, "edgelab rules: --format: '%s' is not nft or iptables\n", s);
		return EINVAL;
	}
	return 0;
}

static int table_arg(const char *s, const char **table)
{
	/* The library owns the rule for names; ask it rather than repeat it. */
	struct rules_opts probe = {.table = s};
	probe.edge.ss_family = AF_INET;
	if (rules_opts_check(&probe)) {
		fprintf(stderr,
		        "edgelab rules: --table: '%s' is not a name of up to %d letters, digits,"
		        " '_' or '-' starting with a letter or '_'\n",
		        s, RULES_TABLE_MAX);
		return EINVAL;
	}
	*table = s;
	return 0;
}

/* One option; 0, EINVAL (already reported), or -1 for --help. */
static int args_option(int c, const char *arg, const char *bad, struct rules_args *a)
{
	switch (c) {
	case 'e':
		return edge_arg(arg, &a->opts.edge);
	case 'f':
		return format_arg(arg, &a->format);
	case 'd':
		return mask_arg("drop", arg, &a->opts.drop_mask);
	case 'r':
		return mask_arg("reject", arg, &a->opts.reject_mask);
	case 't':
		return table_arg(arg, &a->opts.table);
	case 'h':
		return -1;
	case ':':
		fprintf(stderr, "edgelab rules: %s needs an argument\n", bad);
		return EINVAL;
	default:
		fprintf(stderr, "edgelab rules: unknown option '%s'\n", bad);
		return EINVAL;
	}
}

/* 0, EINVAL (reported) or -1 for --help. */
static int args_parse(int argc, char **argv, struct rules_args *a)
{
	int c;

	optind = 1; /* a verb may run after another getopt user */
	opterr = 0; /* our own messages, prefixed "edgelab rules:" */
	while ((c = getopt_long(argc, argv, ":e:f:d:r:t:h", long_opts, NULL)) != -1) {
		int err = args_option(c, optarg, argv[optind - 1], a);
		if (err)
			return err;
	}
	if (optind < argc) {
		fprintf(stderr, "edgelab rules: unexpected argument '%s'\n", argv[optind]);
		return EINVAL;
	}
	if (a->opts.drop_mask & a->opts.reject_mask) {
		fprintf(stderr, "edgelab rules: a row cannot be both in --drop and --reject\n");
		return EINVAL;
	}
	return 0;
}

int cmd_rules(int argc, char **argv)
{
	struct rules_args a;
	int err;

	memset(&a, 0, sizeof(a));
	a.format = FORMAT_NFT;
	if (addr_parse(RULES_EDGE_DEFAULT, 0, &a.opts.edge))
		return EXIT_FAIL; /* cannot happen: a literal */
	err = args_parse(argc, argv, &a);
	if (err < 0) {
		usage(stdout);
		return EXIT_OK;
	}
	if (err) {
		fprintf(stderr, "(edgelab rules --help for usage)\n");
		return EXIT_USAGE;
	}
	err = a.format == FORMAT_NFT ? rules_write_nft(stdout, &a.opts)
	                             : rules_write_iptables(stdout, &a.opts);
	if (err) {
		fprintf(stderr, "edgelab rules: cannot write the rules: %s\n", strerror(err));
		return err == EINVAL ? EXIT_USAGE : EXIT_FAIL;
	}
	return EXIT_OK;
}
