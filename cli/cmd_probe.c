/* edgelab probe: run the rows from the outside and print the matrix. */
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli/cmd.h"
#include "cli/ctl_opts.h"
#include "cli/opts.h"
#include "cli/report_opts.h"
#include "core/addr.h"
#include "probe/probe.h"

/* What the options fill in; probe_opts is the probe library's part. */
struct probe_args {
	struct probe_opts o;
	enum report_format fmt;
	const char *output;          /* NULL: stdout */
	struct report_files reports; /* --report: more formats, each to its file */
	const char *pki;             /* --pki, for the controller's certificate */
	struct ctl_opts_arg ctl;     /* --control and its credentials, into o.control */
};

#define AT(field)   offsetof(struct probe_args, field)
#define SIZE(field) sizeof(((struct probe_args *)0)->field)

static int set_bind(const struct cli_opt *o, const char *value, char *why, size_t why_len,
                    void *arg)
{
	struct probe_args *a = arg;
	int err = cli_opt_addr(o, value, why, why_len, arg);
	if (!err)
		a->o.have_bind = true;
	return err;
}

static int set_format(const struct cli_opt *o, const char *value, char *why, size_t why_len,
                      void *arg)
{
	struct probe_args *a = arg;
	(void)o;
	(void)why;
	(void)why_len;
	return report_format_parse(value, &a->fmt);
}

static int set_pki(const struct cli_opt *o, const char *value, char *why, size_t why_len, void *arg)
{
	struct probe_args *a = arg;
	(void)o;
	(void)why;
	(void)why_len;
	probe_opts_set_pki(&a->o, value);
	a->pki = value;
	return 0;
}

/* The control API once every option is in (cli/ctl_opts.h); --strict
 * needs it. */
static int check_control(struct probe_args *a, char *why, size_t why_len)
{
	if (a->o.strict && a->ctl.target.kind == CTL_NONE) {
		snprintf(why, why_len, "--strict needs the edge's control API (--control)");
		return EINVAL;
	}
	if (ctl_opts_finish(&a->ctl, a->pki, a->o.ca_file, a->o.edge_fqdn, true, why, why_len))
		return EINVAL;
	a->o.control = a->ctl.target;
	return 0;
}

static int check_args(char *why, size_t why_len, void *arg)
{
	struct probe_args *a = arg;
	if (check_control(a, why, why_len))
		return EINVAL;
	return report_files_check(&a->reports, a->output, why, why_len);
}

static int set_dialect(const struct cli_opt *o, const char *value, char *why, size_t why_len,
                       void *arg)
{
	struct probe_args *a = arg;
	(void)o;
	(void)why;
	(void)why_len;
	return probe_dialects_parse(value, &a->o.dialects);
}

static const struct cli_opt probe_options[] = {
    {.name = "edge",
     .letter = 'e',
     .arg = "ADDR",
     .set = cli_opt_addr,
     .offset = AT(o.edge),
     .expect = "an IPv4 or IPv6 address",
     .help = "the edge's access address (default 198.51.100.10, the lab's)"},
    {.name = "bind",
     .letter = 'b',
     .arg = "ADDR",
     .set = set_bind,
     .offset = AT(o.bind),
     .expect = "an IPv4 or IPv6 address",
     .help = "probe from this source address"},
    {.name = "rows",
     .letter = 'r',
     .arg = "LIST",
     .set = cli_opt_rows,
     .offset = AT(o.rows),
     .help = "all (default) or a list such as 1,3,6"},
    {.name = "format",
     .letter = 'f',
     .arg = "FMT",
     .set = set_format,
     .expect = "table, json, junit, tap or html",
     .help = "table (default), json, junit, tap or html"},
    {.name = "output",
     .letter = 'o',
     .arg = "FILE",
     .set = cli_opt_string,
     .offset = AT(output),
     .help = "write the report to FILE instead of stdout"},
    {.name = "report",
     .arg = "FMT:FILE",
     .set = report_opt_file,
     .offset = AT(reports),
     .expect = "FMT:FILE, FMT table, json, junit, tap or html",
     .help = "also write the report as FMT into FILE, whole or not at all\n"
             "(FILE.tmp, then renamed); up to " CLI_STR(REPORT_FILES_MAX) " of them"},
    {.name = "timeout",
     .letter = 't',
     .arg = "SECS",
     .set = cli_opt_seconds,
     .offset = AT(o.timeout_ms),
     .expect = CLI_SECONDS_EXPECT,
     .help = "per flow; no answer by then is BLOCKED (default 3)"},
    {.name = "stun-port",
     .arg = "N",
     .set = cli_opt_port,
     .offset = AT(o.stun_port),
     .expect = "a port 1-65535",
     .help = "the edge's STUN/UDP port (default 3478)"},
    {.name = "allow-nat",
     .set = cli_opt_flag,
     .offset = AT(o.allow_nat),
     .help = "row 6 passes when the mapped address is not ours"},
    {.name = "dialect",
     .arg = "D",
     .set = set_dialect,
     .expect = "msturn, rfc5389 or both",
     .help = "rows 5 and 6 (STUN on UDP 3478): msturn, rfc5389 or both\n"
             "(default both: one result per dialect, RFC 5389 first)"},
    {.help = "SIP rows (1: OPTIONS over MTLS as a partner; 3: REGISTER over TLS):"},
    {.name = "pki",
     .arg = "DIR",
     .set = set_pki,
     .help = "ca.pem, partner.pem, partner.key of `edgelab pki` (default ./pki)"},
    CTL_OPTS_EDGE_CERT(AT(o.ca_file), SIZE(o.ca_file), AT(o.edge_fqdn), SIZE(o.edge_fqdn)),
    {.name = "cert",
     .arg = "FILE",
     .set = cli_opt_text,
     .offset = AT(o.cert_file),
     .size = SIZE(o.cert_file),
     .help = "the partner's certificate (row 1)"},
    {.name = "key",
     .arg = "FILE",
     .set = cli_opt_text,
     .offset = AT(o.key_file),
     .size = SIZE(o.key_file),
     .help = "the partner's private key"},
    {.name = "sip-domain",
     .arg = "D",
     .set = cli_opt_dns_name,
     .offset = AT(o.sip_domain),
     .size = SIZE(o.sip_domain),
     .expect = "a DNS name",
     .help = "the edge's SIP domain, for REGISTER (edge.example)"},
    {.name = "partner-domain",
     .arg = "D",
     .set = cli_opt_dns_name,
     .offset = AT(o.partner_domain),
     .size = SIZE(o.partner_domain),
     .expect = "a DNS name",
     .help = "who the probe is on 5061 (partner.example)"},
    {.name = "sip-tls-port",
     .arg = "N",
     .set = cli_opt_port,
     .offset = AT(o.sip_tls_port),
     .expect = "a port 1-65535",
     .help = "the edge's SIP over TLS port (443)"},
    {.name = "sip-mtls-port",
     .arg = "N",
     .set = cli_opt_port,
     .offset = AT(o.sip_mtls_port),
     .expect = "a port 1-65535",
     .help = "the edge's SIP over mutual TLS port (5061)"},
    {.name = "partner-port",
     .arg = "N",
     .set = cli_opt_port,
     .offset = AT(o.partner_port),
     .expect = "a port 1-65535",
     .help = "row 2: where the probe listens as the partner (5061)"},
    {.help = "The edge's control API (rows 2, 4, 5 and --strict):"},
    CTL_OPTS_CONTROL(AT(ctl), ": has the\n"
                              "edge send rows 2 (without it, row 2 waits for the edge's\n"
                              "keep-alive), 4 and 5, and tells what became of them"),
    {.name = "strict",
     .set = cli_opt_flag,
     .offset = AT(o.strict),
     .help = "also the flows the table does not allow, each CLOSED or\n"
             "EXPOSED (needs --control and the edge's canaries)"},
    {.help = "Rows 4 and 5 (the edge's source ports 50000-59999 to a client):"},
    {.name = "client-tcp-port",
     .arg = "N",
     .set = cli_opt_port,
     .offset = AT(o.client_tcp_port),
     .expect = "a port 1-65535",
     .help = "row 4: where the probe listens for RTP/TCP (443)"},
    {.name = "client-udp-port",
     .arg = "N",
     .set = cli_opt_port,
     .offset = AT(o.client_udp_port),
     .expect = "a port 1-65535",
     .help = "row 5: where the probe listens for STUN (3478)"},
    {0},
};

static const struct cli_opts probe_verb = {
    .verb = "probe",
    .synopsis = "[--edge ADDR] [--rows LIST] [--format FMT] [options]",
    .about = "Runs the port table's rows as flows against the edge, all at once, and\n"
             "prints, per flow, PASS, BLOCKED (no answer in time), REJECTED (RST or ICMP\n"
             "unreachable) or FAILED (a wrong answer); with --strict also the flows the\n"
             "table does not allow, each CLOSED or EXPOSED.\n",
    .opts = probe_options,
    .notes = "Exit status: 0 every requested flow passed (rows 5 and 6: in each dialect)\n"
             "and, with --strict, every negative flow was CLOSED; 1 one did not pass or\n"
             "was EXPOSED, or a report could not be written; 2 usage error (a --report\n"
             "whose directory is not there too: before any flow runs).\n",
    .check = check_args,
};

static int exit_status(const struct probe_result *results, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!probe_result_ok(&results[i]))
			return EXIT_FAIL;
	return EXIT_OK;
}

int cmd_probe(int argc, char **argv)
{
	struct probe_args a = {.fmt = REPORT_TABLE, .pki = "pki"};
	struct probe_opts *o = &a.o;
	int status;
	probe_opts_default(o);
	/* A peer that closes mid-write is a verdict, not a reason to die. */
	signal(SIGPIPE, SIG_IGN);
	if (!cli_opts_parse(&probe_verb, argc, argv, &a, &status))
		return status;

	char target[ADDR_STR_MAX], started[32];
	time_t now = time(NULL);
	struct tm tm;
	strftime(started, sizeof(started), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
	addr_ip_str((struct sockaddr *)&o->edge, target, sizeof(target));

	struct probe_result results[PROBE_MAX_RESULTS];
	size_t n;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	probe_run(o, results, PROBE_MAX_RESULTS, &n);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	struct report_meta meta = {target, started,
	                           (double)(t1.tv_sec - t0.tv_sec) +
	                               (double)(t1.tv_nsec - t0.tv_nsec) / 1e9};

	FILE *out = a.output ? fopen(a.output, "w") : stdout;
	if (!out) {
		fprintf(stderr, "edgelab probe: %s: %s\n", a.output, strerror(errno));
		return EXIT_USAGE;
	}
	int rc = report_write(out, a.fmt, &meta, results, n);
	if ((a.output && fclose(out)) || rc) {
		fprintf(stderr, "edgelab probe: writing the report failed\n");
		status = EXIT_FAIL;
	} else {
		status = exit_status(results, n);
	}
	/* Each file on its own: one that cannot be written spoils no other. */
	for (size_t i = 0; i < a.reports.n; i++) {
		const struct report_file *f = &a.reports.f[i];
		int err = report_write_file(f->path, f->fmt, &meta, results, n);
		if (err) {
			fprintf(stderr, "edgelab probe: --report %s: %s\n", f->spec, strerror(err));
			status = EXIT_FAIL;
		}
	}
	return status;
}
