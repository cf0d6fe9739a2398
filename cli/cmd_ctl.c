/* edgelab ctl: the edge's control API (docs/control-api.md) from a shell or
 * a container's HEALTHCHECK: healthz, metrics, and an outbound row's
 * trigger followed to its end. The arguments and where the API is; the
 * requests are cli/ctl_run.c's. */
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "cli/cmd.h"
#include "cli/ctl_opts.h"
#include "cli/ctl_run.h"
#include "cli/opts.h"
#include "core/addr.h"
#include "core/conf.h"
#include "core/rows.h"

#define AT(field)   offsetof(struct ctl_args, field)
#define SIZE(field) sizeof(((struct ctl_args *)0)->field)

static const char *const cmd_names[] = {
    [CTL_CMD_HEALTHZ] = "healthz",
    [CTL_CMD_METRICS] = "metrics",
    [CTL_CMD_ROW] = "row",
};

/* healthz, metrics or row, then row's number. */
static int set_operand(size_t index, const char *value, char *why, size_t why_len, void *arg)
{
	struct ctl_args *a = arg;
	if (index == 0) {
		for (size_t i = 1; i < sizeof(cmd_names) / sizeof(cmd_names[0]); i++) {
			if (strcmp(value, cmd_names[i]) == 0) {
				a->cmd = (enum ctl_cmd)i;
				return 0;
			}
		}
		snprintf(why, why_len, "unknown command '%s' (healthz, metrics or row N)", value);
	} else if (index == 1 && a->cmd == CTL_CMD_ROW) {
		if (strcmp(value, "2") == 0 || strcmp(value, "4") == 0 || strcmp(value, "5") == 0) {
			a->row = value[0] - '0';
			return 0;
		}
		snprintf(why, why_len,
		         "row '%s': the control API has the edge send rows 2, 4 and 5", value);
	} else {
		snprintf(why, why_len, "unexpected argument '%s'", value);
	}
	return EINVAL;
}

static int set_marker(const struct cli_opt *o, const char *value, char *why, size_t why_len,
                      void *arg)
{
	(void)why;
	(void)why_len;
	if (!rows_marker_valid(value))
		return EINVAL;
	snprintf(CLI_OPT_FIELD(o, arg, char), o->size, "%s", value);
	return 0;
}

static int set_dialect(const struct cli_opt *o, const char *value, char *why, size_t why_len,
                       void *arg)
{
	(void)why;
	(void)why_len;
	if (strcmp(value, "rfc5389") && strcmp(value, "msturn"))
		return EINVAL;
	*CLI_OPT_FIELD(o, arg, const char *) = value;
	return 0;
}

/* Row N's options against its number: what it needs, what it does not
 * take. 0, or EINVAL with why. */
static int check_row(struct ctl_args *a, char *why, size_t why_len)
{
	struct sockaddr_storage ss;
	bool media = a->row == 4 || a->row == 5;
	if (a->cmd != CTL_CMD_ROW) {
		if (a->target || a->marker[0] || a->partner[0] || a->dialect || a->wait_ms)
			snprintf(
			    why, why_len,
			    "--target, --marker, --partner, --dialect and --wait are for row N");
		return why[0] ? EINVAL : 0;
	}
	if (!a->row)
		snprintf(why, why_len, "row needs its number: 2, 4 or 5");
	else if (media && !a->target)
		snprintf(why, why_len, "row %d needs --target IP:PORT (where the edge sends)",
		         a->row);
	else if (!media && (a->target || a->marker[0]))
		snprintf(why, why_len, "--target and --marker are for rows 4 and 5");
	else if (a->row != 2 && a->partner[0])
		snprintf(why, why_len, "--partner is for row 2");
	else if (a->row != 5 && a->dialect)
		snprintf(why, why_len, "--dialect is for row 5");
	else if (media && (addr_parse(a->target, a->row == 5 ? 3478 : 0, &ss) ||
	                   !addr_port((struct sockaddr *)&ss)))
		snprintf(why, why_len, "--target: bad value '%s' (expected IP:PORT%s)", a->target,
		         a->row == 5 ? " or IP, port 3478" : "");
	return why[0] ? EINVAL : 0;
}

/* Where the control API is when --control does not say: --config's
 * control_socket, else the one serve takes by default (its "auto", from
 * the configuration's own defaults, so that the rule lives in one place). */
static int where_default(struct ctl_args *a, char *why, size_t why_len)
{
	struct conf *conf;
	char err[CONF_ERR_MAX];
	int rc =
	    a->config ? conf_load_file(a->config, &conf, err, sizeof(err)) : conf_defaults(&conf);
	if (rc) {
		snprintf(why, why_len, "%s", a->config ? err : strerror(rc));
		return EINVAL;
	}
	if (!conf->control_socket[0])
		snprintf(why, why_len,
		         "%s has control_socket off: no socket to ask (give --control)", a->config);
	else if (ctl_target_parse(conf->control_socket, &a->ctl.target))
		snprintf(why, why_len, "control_socket %s: too long", conf->control_socket);
	conf_unref(conf);
	return why[0] ? EINVAL : 0;
}

static int check_args(char *why, size_t why_len, void *arg)
{
	struct ctl_args *a = arg;
	char ca[sizeof(a->ca_file) + 16];
	if (a->cmd == CTL_CMD_NONE) {
		snprintf(why, why_len, "what to ask: healthz, metrics or row N");
		return EINVAL;
	}
	if (check_row(a, why, why_len))
		return EINVAL;
	if (a->config && a->ctl.target.kind != CTL_NONE) {
		snprintf(why, why_len, "--control and --config both say where: give one");
		return EINVAL;
	}
	if (a->ctl.target.kind == CTL_NONE && where_default(a, why, why_len))
		return EINVAL;
	snprintf(ca, sizeof(ca), "%s", a->ca_file);
	if (!ca[0])
		snprintf(ca, sizeof(ca), "%s/ca.pem", a->pki);
	return ctl_opts_finish(&a->ctl, a->pki, ca, a->edge_fqdn, a->cmd != CTL_CMD_HEALTHZ, why,
	                       why_len);
}

static const struct cli_opt ctl_options[] = {
    CTL_OPTS_CONTROL(AT(ctl), ";\n"
                              "default: --config's control_socket, else serve's default one\n"
                              "(/run/edgelab/control.sock for root)"),
    {.name = "config",
     .letter = 'c',
     .arg = "FILE",
     .set = cli_opt_string,
     .offset = AT(config),
     .help = "ask at the control_socket of serve's configuration file"},
    {.name = "pki",
     .arg = "DIR",
     .set = cli_opt_string,
     .offset = AT(pki),
     .help = "HTTPS: ca.pem, controller.pem, controller.key of `edgelab pki`\n"
             "(default ./pki)"},
    CTL_OPTS_EDGE_CERT(AT(ca_file), SIZE(ca_file), AT(edge_fqdn), SIZE(edge_fqdn)),
    {.name = "timeout",
     .letter = 't',
     .arg = "SECS",
     .set = cli_opt_seconds,
     .offset = AT(timeout_ms),
     .expect = CLI_SECONDS_EXPECT,
     .help = "each request: connecting and the answer (default 3)"},
    {.help = "row N (2: OPTIONS to a partner; 4: RTP/TCP and 5: STUN/UDP to --target):"},
    {.name = "target",
     .arg = "IP:PORT",
     .set = cli_opt_string,
     .offset = AT(target),
     .help = "rows 4 and 5 (needed): where the edge sends (row 5: port 3478\n"
             "if none)"},
    {.name = "marker",
     .arg = "TEXT",
     .set = set_marker,
     .offset = AT(marker),
     .size = SIZE(marker),
     .expect = "1-" CLI_STR(ROWS_MARKER_MAX) " of A-Z a-z 0-9 . _ ~ -",
     .help = "rows 4 and 5: the flow's marker (default: a random one)"},
    {.name = "partner",
     .arg = "DOMAIN",
     .set = cli_opt_dns_name,
     .offset = AT(partner),
     .size = SIZE(partner),
     .expect = "a DNS name",
     .help = "row 2: the federation partner (default: the only one)"},
    {.name = "dialect",
     .arg = "D",
     .set = set_dialect,
     .offset = AT(dialect),
     .expect = "rfc5389 or msturn",
     .help = "row 5: rfc5389 (default) or msturn"},
    {.name = "wait",
     .arg = "SECS",
     .set = cli_opt_seconds,
     .offset = AT(wait_ms),
     .expect = CLI_SECONDS_EXPECT,
     .help = "follow the flow until it ends, at most this long (default 10)"},
    {0},
};

static const struct cli_opts ctl_verb = {
    .verb = "ctl",
    .synopsis = "[options] healthz | metrics | row 2|4|5 [--target IP:PORT] [--marker TEXT]\n"
                "                   [--partner DOMAIN] [--dialect rfc5389|msturn] [--wait SECS]",
    .about = "Asks the edge's control API (docs/control-api.md):\n"
             "  healthz  GET /healthz: prints ok (a container's HEALTHCHECK)\n"
             "  metrics  GET /metrics: the Prometheus text\n"
             "  row N    POST /rows/N: the edge sends row N's flow now; then follows the\n"
             "           answer's Location (GET /flows/ID?wait=MS) until the flow has\n"
             "           ended or --wait is over, and prints its record\n",
    .opts = ctl_options,
    .notes = "Exit status: 0 healthz answered ok, metrics read, or row N's flow answered\n"
             "(outcome answered or connected); 1 anything else: the reason on stderr (no\n"
             "such socket, connection refused, TLS verification, the HTTP status), for\n"
             "row N the flow's record (outcome, detail); 2 usage error, before any request.\n"
             "Example: HEALTHCHECK CMD [\"edgelab\", \"ctl\", \"healthz\"]\n",
    .check = check_args,
    .operand = set_operand,
};

int cmd_ctl(int argc, char **argv)
{
	struct ctl_args a = {.pki = "pki", .timeout_ms = 3000};
	int status;
	snprintf(a.edge_fqdn, sizeof(a.edge_fqdn), "sip.edge.example");
	/* An edge that closes mid-request is an answer to report, not a death. */
	signal(SIGPIPE, SIG_IGN);
	if (!cli_opts_parse(&ctl_verb, argc, argv, &a, &status))
		return status;
	if (!a.wait_ms)
		a.wait_ms = 10000;
	return ctl_run(&a);
}
