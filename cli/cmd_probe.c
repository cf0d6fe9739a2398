/* edgelab probe: run the rows from the outside and print the matrix. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cmd.h"
#include "core/addr.h"
#include "core/conf.h"
#include "probe/probe.h"

static void usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: edgelab probe [--edge ADDR] [--rows LIST] [--format FMT] [options]\n\n"
	    "Runs the port table's rows as flows against the edge and prints, per flow,\n"
	    "PASS, BLOCKED (no answer in time), REJECTED (RST or ICMP unreachable)\n"
	    "or FAILED (a wrong answer).\n\n"
	    "  -e, --edge ADDR      the edge's access address (default 198.51.100.10, the lab's)\n"
	    "  -b, --bind ADDR      probe from this source address\n"
	    "  -r, --rows LIST      all (default) or a list such as 1,3,6\n"
	    "  -f, --format FMT     table (default), json, junit or tap\n"
	    "  -o, --output FILE    write the report to FILE instead of stdout\n"
	    "  -t, --timeout SECS   per flow; no answer by then is BLOCKED (default 3)\n"
	    "      --stun-port N    the edge's STUN/UDP port (default 3478)\n"
	    "      --allow-nat      row 6 passes when the mapped address is not ours\n"
	    "      --dialect D      rows 5 and 6 (STUN on UDP 3478): msturn, rfc5389 or both\n"
	    "                       (default both: one result per dialect, RFC 5389 first)\n"
	    "SIP rows (1: OPTIONS over MTLS as a partner; 3: REGISTER over TLS):\n"
	    "      --pki DIR        ca.pem, partner.pem, partner.key of `edgelab pki` (default "
	    "./pki)\n"
	    "      --ca FILE        the CA the edge's certificate must chain to\n"
	    "      --cert FILE      the partner's certificate (row 1); --key FILE its key\n"
	    "      --edge-fqdn NAME the name the edge's certificate must carry (sip.edge.example)\n"
	    "      --sip-domain D   the edge's SIP domain, for REGISTER (edge.example)\n"
	    "      --partner-domain D  who the probe is on 5061 (partner.example)\n"
	    "      --sip-tls-port N, --sip-mtls-port N   the edge's (443, 5061)\n"
	    "      --partner-port N row 2: where the probe listens as the partner (5061)\n"
	    "      --control PATH   row 2: the edge's control socket, to have it send OPTIONS now\n"
	    "                       (without it, row 2 waits for the edge's keep-alive);\n"
	    "                       rows 4 and 5: has the edge send to us (they need it)\n"
	    "Rows 4 and 5 (the edge's source ports 50000-59999 to a client):\n"
	    "      --client-tcp-port N  row 4: where the probe listens for RTP/TCP (443)\n"
	    "      --client-udp-port N  row 5: where the probe listens for STUN (3478)\n\n"
	    "Exit status: 0 every requested flow passed (rows 5 and 6: in each dialect);\n"
	    "1 one did not pass; 2 usage error.\n");
}

static int parse_timeout(const char *s, unsigned *ms)
{
	char *end;
	double v = strtod(s, &end);
	if (end == s || *end || v <= 0 || v > 3600)
		return EINVAL;
	*ms = (unsigned)(v * 1000.0);
	return 0;
}

static int bad(const char *opt, const char *value, const char *expect)
{
	fprintf(stderr, "edgelab probe: %s: bad value '%s' (expected %s)\n", opt, value, expect);
	return EINVAL;
}

static int parse_args(int argc, char **argv, struct probe_opts *o, enum report_format *fmt,
                      const char **output)
{
	static const struct option opts[] = {
	    {"edge", required_argument, NULL, 'e'},
	    {"bind", required_argument, NULL, 'b'},
	    {"rows", required_argument, NULL, 'r'},
	    {"format", required_argument, NULL, 'f'},
	    {"output", required_argument, NULL, 'o'},
	    {"timeout", required_argument, NULL, 't'},
	    {"stun-port", required_argument, NULL, 1},
	    {"allow-nat", no_argument, NULL, 2},
	    {"pki", required_argument, NULL, 3},
	    {"ca", required_argument, NULL, 4},
	    {"cert", required_argument, NULL, 5},
	    {"key", required_argument, NULL, 6},
	    {"edge-fqdn", required_argument, NULL, 7},
	    {"sip-domain", required_argument, NULL, 8},
	    {"partner-domain", required_argument, NULL, 9},
	    {"sip-tls-port", required_argument, NULL, 10},
	    {"sip-mtls-port", required_argument, NULL, 11},
	    {"control", required_argument, NULL, 12},
	    {"partner-port", required_argument, NULL, 13},
	    {"client-tcp-port", required_argument, NULL, 14},
	    {"client-udp-port", required_argument, NULL, 15},
	    {"dialect", required_argument, NULL, 16},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	int c;
	while ((c = getopt_long(argc, argv, "e:b:r:f:o:t:h", opts, NULL)) != -1) {
		switch (c) {
		case 'e':
			if (addr_parse(optarg, 0, &o->edge))
				return bad("--edge", optarg, "an IPv4 or IPv6 address");
			break;
		case 'b':
			if (addr_parse(optarg, 0, &o->bind))
				return bad("--bind", optarg, "an IPv4 or IPv6 address");
			o->have_bind = true;
			break;
		case 'r':
			if (rows_parse_mask(optarg, &o->rows))
				return bad("--rows", optarg, "all, or rows 1-6 such as 1,6");
			break;
		case 'f':
			if (report_format_parse(optarg, fmt))
				return bad("--format", optarg, "table, json, junit or tap");
			break;
		case 'o':
			*output = optarg;
			break;
		case 't':
			if (parse_timeout(optarg, &o->timeout_ms))
				return bad("--timeout", optarg, "seconds, more than 0");
			break;
		case 1:
			if (addr_port_parse(optarg, false, &o->stun_port))
				return bad("--stun-port", optarg, "a port 1-65535");
			break;
		case 2:
			o->allow_nat = true;
			break;
		case 3:
			probe_opts_set_pki(o, optarg);
			break;
		case 4:
		case 5:
		case 6:
			snprintf(c == 4   ? o->ca_file
			         : c == 5 ? o->cert_file
			                  : o->key_file,
			         sizeof(o->ca_file), "%s", optarg);
			break;
		case 7:
		case 8:
		case 9:
			if (!conf_dns_name_valid(optarg))
				return bad(c == 7   ? "--edge-fqdn"
				           : c == 8 ? "--sip-domain"
				                    : "--partner-domain",
				           optarg, "a DNS name");
			snprintf(c == 7   ? o->edge_fqdn
			         : c == 8 ? o->sip_domain
			                  : o->partner_domain,
			         sizeof(o->edge_fqdn), "%s", optarg);
			break;
		case 12:
			if (strlen(optarg) >= sizeof(o->control_socket))
				return bad("--control", optarg, "a unix socket path");
			snprintf(o->control_socket, sizeof(o->control_socket), "%s", optarg);
			break;
		case 13:
			if (addr_port_parse(optarg, false, &o->partner_port))
				return bad("--partner-port", optarg, "a port 1-65535");
			break;
		case 14:
		case 15:
			if (addr_port_parse(optarg, false,
			                    c == 14 ? &o->client_tcp_port : &o->client_udp_port))
				return bad(c == 14 ? "--client-tcp-port" : "--client-udp-port",
				           optarg, "a port 1-65535");
			break;
		case 16:
			if (probe_dialects_parse(optarg, &o->dialects))
				return bad("--dialect", optarg, "msturn, rfc5389 or both");
			break;
		case 10:
		case 11:
			if (addr_port_parse(optarg, false,
			                    c == 10 ? &o->sip_tls_port : &o->sip_mtls_port))
				return bad(c == 10 ? "--sip-tls-port" : "--sip-mtls-port", optarg,
				           "a port 1-65535");
			break;
		case 'h':
			usage(stdout);
			exit(EXIT_OK);
		default:
			usage(stderr);
			return EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "edgelab probe: unexpected argument '%s'\n", argv[optind]);
		return EINVAL;
	}
	return 0;
}

static int exit_status(const struct probe_result *results, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (results[i].verdict != VERDICT_PASS)
			return EXIT_FAIL;
	return EXIT_OK;
}

int cmd_probe(int argc, char **argv)
{
	struct probe_opts o;
	enum report_format fmt = REPORT_TABLE;
	const char *output = NULL;
	probe_opts_default(&o);
	/* A peer that closes mid-write is a verdict, not a reason to die. */
	signal(SIGPIPE, SIG_IGN);
	if (parse_args(argc, argv, &o, &fmt, &output))
		return EXIT_USAGE;

	char target[ADDR_STR_MAX], started[32];
	time_t now = time(NULL);
	struct tm tm;
	strftime(started, sizeof(started), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
	addr_ip_str((struct sockaddr *)&o.edge, target, sizeof(target));

	struct probe_result results[PROBE_MAX_RESULTS];
	size_t n;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	probe_run(&o, results, PROBE_MAX_RESULTS, &n);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	struct report_meta meta = {target, started,
	                           (double)(t1.tv_sec - t0.tv_sec) +
	                               (double)(t1.tv_nsec - t0.tv_nsec) / 1e9};

	FILE *out = output ? fopen(output, "w") : stdout;
	if (!out) {
		fprintf(stderr, "edgelab probe: %s: %s\n", output, strerror(errno));
		return EXIT_USAGE;
	}
	int rc = report_write(out, fmt, &meta, results, n);
	if ((output && fclose(out)) || rc) {
		fprintf(stderr, "edgelab probe: writing the report failed\n");
		return EXIT_FAIL;
	}
	return exit_status(results, n);
}
