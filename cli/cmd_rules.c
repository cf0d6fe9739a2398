/* edgelab rules: prints the firewall policy the port table implies. */
#include "cli/cmd.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "cli/opts.h"
#include "core/addr.h"
#include "core/rows.h"
#include "lab/lab.h"
#include "lab/rules.h"

/* The lab's edge access address (TEST-NET-2), as `edgelab lab` sets it up. */
#define RULES_EDGE_DEFAULT LAB_EDGE_ADDR

enum rules_format { FORMAT_NFT, FORMAT_IPTABLES };

struct rules_args {
	struct rules_opts opts;
	enum rules_format format;
	bool lab; /* name fw's interfaces */
};

#define AT(field) offsetof(struct rules_args, field)

static int set_edge(const struct cli_opt *o, const char *value, char *why, size_t why_len,
                    void *arg)
{
	struct rules_args *a = arg;
	(void)o;
	if (addr_parse(value, 0, &a->opts.edge)) {
		snprintf(why, why_len, "'%s' is not an IPv4 or IPv6 address", value);
		return EINVAL;
	}
	if (addr_port((const struct sockaddr *)&a->opts.edge) != 0) {
		snprintf(why, why_len, "'%s': give an address without a port", value);
		return EINVAL;
	}
	return 0;
}

/* --dns and --av-edge: an address without a port, into the field at o->offset. */
static int set_extra_addr(const struct cli_opt *o, const char *value, char *why, size_t why_len,
                          void *arg)
{
	struct sockaddr_storage *sa = (struct sockaddr_storage *)((char *)arg + o->offset);
	if (addr_parse(value, 0, sa) || addr_port((const struct sockaddr *)sa) != 0) {
		snprintf(why, why_len, "'%s' is not an IPv4 or IPv6 address (without a port)",
		         value);
		return EINVAL;
	}
	return 0;
}

static int set_format(const struct cli_opt *o, const char *value, char *why, size_t why_len,
                      void *arg)
{
	struct rules_args *a = arg;
	(void)o;
	if (strcmp(value, "nft") == 0 || strcmp(value, "nftables") == 0) {
		a->format = FORMAT_NFT;
	} else if (strcmp(value, "iptables") == 0) {
		a->format = FORMAT_IPTABLES;
	} else {
		snprintf(why, why_len, "'%s' is not nft or iptables", value);
		return EINVAL;
	}
	return 0;
}

static int set_table(const struct cli_opt *o, const char *value, char *why, size_t why_len,
                     void *arg)
{
	struct rules_args *a = arg;
	/* The library owns the rule for names; ask it rather than repeat it. */
	struct rules_opts probe = {.table = value};
	(void)o;
	probe.edge.ss_family = AF_INET;
	if (rules_opts_check(&probe)) {
		snprintf(why, why_len,
		         "'%s' is not a name of up to %d letters, digits, '_' or '-' starting with"
		         " a letter or '_'",
		         value, RULES_TABLE_MAX);
		return EINVAL;
	}
	a->opts.table = value;
	return 0;
}

static int check_masks(char *why, size_t why_len, void *arg)
{
	const struct rules_args *a = arg;
	if (a->opts.drop_mask & a->opts.reject_mask)
		return snprintf(why, why_len, "a row cannot be both in --drop and --reject"),
		       EINVAL;
	if ((a->opts.dns.ss_family || a->opts.av_edge.ss_family) && rules_opts_check(&a->opts))
		return snprintf(why, why_len, "--dns, --av-edge and --edge must be of one family"),
		       EINVAL;
	return 0;
}

static const struct cli_opt rules_options[] = {
    {.name = "edge",
     .letter = 'e',
     .arg = "ADDR",
     .set = set_edge,
     .help = "the edge's access address, IPv4 or IPv6\n"
             "(default " RULES_EDGE_DEFAULT ", the lab's edge)"},
    {.name = "format",
     .letter = 'f',
     .arg = "FMT",
     .set = set_format,
     .help = "nft (default): `nft -f` input, replaces only its table;\n"
             "iptables: iptables-restore input (ip6tables-restore for\n"
             "an IPv6 edge), filter table, FORWARD chain"},
    {.name = "drop",
     .letter = 'd',
     .arg = "ROWS",
     .set = cli_opt_rows_add,
     .offset = AT(opts.drop_mask),
     .help = "leave these rows out, so the policy drops them\n"
             "(\"1,3\", \"all\"); the probe then says BLOCKED"},
    {.name = "reject",
     .letter = 'r',
     .arg = "ROWS",
     .set = cli_opt_rows_add,
     .offset = AT(opts.reject_mask),
     .help = "reject these rows with a TCP RST or ICMP port\n"
             "unreachable; the probe then says REJECTED"},
    {.name = "dns",
     .arg = "ADDR",
     .set = set_extra_addr,
     .offset = AT(opts.dns),
     .help = "also let the edge query this DNS server (UDP and TCP 53):\n"
             "not a port-table row, but an edge that finds partners by\n"
             "SRV needs it (the federation lab's fw: --dns 192.0.2.53)"},
    {.name = "av-edge",
     .arg = "ADDR",
     .set = set_extra_addr,
     .offset = AT(opts.av_edge),
     .help = "also let TCP 443 in to this A/V edge address (MS-TURN\n"
             "over TCP, pseudo-TLS): not a port-table row, but A/V over\n"
             "TCP needs it (the federation lab's fw A: --av-edge 198.51.100.11)"},
    {.name = "lab",
     .letter = 'l',
     .set = cli_opt_flag,
     .offset = AT(lab),
     .help = "also match the lab fw's interfaces (in on " LAB_FW_OUTSIDE_IF
             ", out on\n" LAB_FW_EDGE_IF " for inbound rows; the reverse outbound):\n"
             "the policy `edgelab lab` loads, to start your own from"},
    {.name = "table",
     .letter = 't',
     .arg = "NAME",
     .set = set_table,
     .help = "nft table name (default " RULES_TABLE_DEFAULT "; nft only)"},
    {0},
};

static const struct cli_opts rules_verb = {
    .verb = "rules",
    .synopsis = "[--edge ADDR] [--format nft|iptables] [--lab] [--drop N[,N]]\n"
                "                     [--reject N[,N]] [--table NAME] [--dns ADDR]\n"
                "                     [--av-edge ADDR]",
    .about = "Prints the stateful forward policy of the router between the outside and\n"
             "the edge's access interface: one commented rule per port-table row.\n",
    .opts = rules_options,
    .notes = "Rows are 1-" CLI_STR(
        ROWS_COUNT) ", as in docs/port-table.md. Exit status: 0, 1 "
                    "if the output\ncould not be written, 2 for a usage error.\n",
    .check = check_masks,
};

int cmd_rules(int argc, char **argv)
{
	struct rules_args a = {.format = FORMAT_NFT};
	int status, err;
	if (addr_parse(RULES_EDGE_DEFAULT, 0, &a.opts.edge))
		return EXIT_FAIL; /* cannot happen: a literal */
	if (!cli_opts_parse(&rules_verb, argc, argv, &a, &status))
		return status;
	if (a.lab) {
		a.opts.outside_if = LAB_FW_OUTSIDE_IF;
		a.opts.edge_if = LAB_FW_EDGE_IF;
	}
	err = a.format == FORMAT_NFT ? rules_write_nft(stdout, &a.opts)
	                             : rules_write_iptables(stdout, &a.opts);
	if (err) {
		fprintf(stderr, "edgelab rules: cannot write the rules: %s\n", strerror(err));
		return err == EINVAL ? EXIT_USAGE : EXIT_FAIL;
	}
	return EXIT_OK;
}
