/* edgelab assess: calls through an edge's relay, measured and judged as
 * Microsoft's Network Assessment Tool does (assess/assess.h); reports on
 * the terminal, as Results.tsv and as JSON (assess/report.h). */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "assess/assess.h"
#include "assess/packet.h"
#include "assess/report.h"
#include "cli/cmd.h"
#include "cli/opts.h"
#include "core/addr.h"

struct assess_args {
	struct assess_opts o;
	bool have_server, have_reflector, elsewhere, reflect_only;
	bool server_port_given; /* else 3478, or 443 with pseudo-TLS */
	const char *tsv, *json, *html;
};

#define AT(field) offsetof(struct assess_args, field)

/* A number in [min, max] into *out: 0 or EINVAL with why written. */
static int u32_in(const char *value, uint32_t min, uint32_t max, uint32_t *out, char *why,
                  size_t why_len)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(value, &end, 10);
	if (errno || end == value || *end || value[0] == '-' || v < min || v > max) {
		snprintf(why, why_len, "'%s' is not a number from %u to %u", value, min, max);
		return EINVAL;
	}
	*out = (uint32_t)v;
	return 0;
}

#define U32_SETTER(name, field, min, max)                                                          \
	static int name(const struct cli_opt *o, const char *value, char *why, size_t why_len,     \
	                void *arg)                                                                 \
	{                                                                                          \
		(void)o;                                                                           \
		return u32_in(value, min, max, &((struct assess_args *)arg)->o.field, why,         \
		              why_len);                                                            \
	}
U32_SETTER(set_calls, calls, 1, ASSESS_MAX_CALLS)
U32_SETTER(set_ramp, ramp_step, 1, ASSESS_MAX_CALLS)
U32_SETTER(set_duration, duration_s, 1, ASSESS_MAX_DURATION)
U32_SETTER(set_rate, rate, 1, 1000)
U32_SETTER(set_size, size, ASSESS_PKT_MIN, ASSESS_PKT_MAX)

/* ADDR[:PORT], the port ASSESS_REFLECTOR_PORT (3478) when not given (the
 * server's is 443 with pseudo-TLS: assess_check sets it). */
static int set_endpoint(const struct cli_opt *o, const char *value, char *why, size_t why_len,
                        void *arg)
{
	struct assess_args *a = arg;
	bool server = !strcmp(o->name, "server");
	struct sockaddr_storage *sa = server ? &a->o.server : &a->o.reflector;
	if (addr_parse(value, 0, sa)) {
		snprintf(why, why_len, "'%s' is not ADDR[:PORT] ([V6]:PORT for IPv6)", value);
		return EINVAL;
	}
	if (server)
		a->server_port_given = addr_port((struct sockaddr *)sa) != 0;
	if (!addr_port((struct sockaddr *)sa))
		addr_set_port((struct sockaddr *)sa, ASSESS_REFLECTOR_PORT);
	*(server ? &a->have_server : &a->have_reflector) = true;
	return 0;
}

static int set_dialect(const struct cli_opt *o, const char *value, char *why, size_t why_len,
                       void *arg)
{
	(void)o, (void)why, (void)why_len;
	struct assess_args *a = arg;
	if (!strcmp(value, "msturn"))
		a->o.dialect = ASSESS_DIALECT_MSTURN;
	else if (!strcmp(value, "rfc5766"))
		a->o.dialect = ASSESS_DIALECT_RFC5766;
	else
		return EINVAL;
	return 0;
}

static int set_transport(const struct cli_opt *o, const char *value, char *why, size_t why_len,
                         void *arg)
{
	(void)o, (void)why, (void)why_len;
	static const char *const names[] = {"udp", "tcp", "pseudo-tls"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(value, names[i])) {
			((struct assess_args *)arg)->o.transport = (enum assess_transport)i;
			return 0;
		}
	return EINVAL;
}

static int set_profile(const struct cli_opt *o, const char *value, char *why, size_t why_len,
                       void *arg)
{
	(void)o, (void)why, (void)why_len;
	return assess_profile_parse(value, &((struct assess_args *)arg)->o.profile);
}

static const struct cli_opt assess_options[] = {
    {.name = "server",
     .letter = 's',
     .arg = "ADDR[:PORT]",
     .set = set_endpoint,
     .help = "the edge's STUN/TURN address (port 3478 by default; 443 with pseudo-tls)"},
    {.name = "user",
     .letter = 'u',
     .arg = "NAME",
     .set = cli_opt_string,
     .offset = AT(o.user),
     .help = "the TURN user (serve's turn_user, or `edgelab mras`'s username)"},
    {.name = "password",
     .letter = 'p',
     .arg = "P",
     .set = cli_opt_string,
     .offset = AT(o.pass),
     .help = "its password (or EDGELAB_ASSESS_PASSWORD in the environment, which ps\n"
             "does not show)"},
    {.name = "dialect",
     .letter = 'd',
     .arg = "D",
     .set = set_dialect,
     .expect = "msturn or rfc5766",
     .help = "msturn (Lync's, the default) or rfc5766"},
    {.name = "transport",
     .arg = "T",
     .set = set_transport,
     .expect = "udp, tcp or pseudo-tls",
     .help = "udp (the default), tcp, or pseudo-tls (MS-TURN's hello first, as on an A/V\n"
             "edge's 443, the port then 443 by default); MS-TURN over TCP relays over\n"
             "TCP, and the reflector answers on TCP too"},
    {.help = "Calls:"},
    {.name = "calls",
     .letter = 'n',
     .arg = "N",
     .set = set_calls,
     .help = "concurrent calls, 1.." CLI_STR(ASSESS_MAX_CALLS) " [1]; with --ramp, the most"},
    {.name = "ramp",
     .letter = 'r',
     .arg = "STEP",
     .set = set_ramp,
     .help = "steps of STEP, 2 STEP... calls up to --calls, until a step misses a target:\n"
             "the capacity is the last step whose every call met every target"},
    {.name = "duration",
     .letter = 't',
     .arg = "S",
     .set = set_duration,
     .help = "each call's media, in seconds, 1.." CLI_STR(
         ASSESS_MAX_DURATION) " [17, as Microsoft's tool]"},
    {.name = "rate", .arg = "PPS", .set = set_rate, .help = "packets a second [50: 20 ms audio]"},
    {.name = "size",
     .arg = "BYTES",
     .set = set_size,
     .help = "bytes a packet, " CLI_STR(ASSESS_PKT_MIN) ".." CLI_STR(
         ASSESS_PKT_MAX) " [172: RTP with 20 ms of G.711]"},
    {.name = "profile",
     .arg = "P",
     .set = set_profile,
     .expect = "client or edge",
     .help = "Microsoft's targets: client (client to edge, the default) or edge (edge to edge)"},
    {.help = "The reflector:"},
    {.name = "reflector",
     .arg = "ADDR[:PORT]",
     .set = set_endpoint,
     .help = "where the relay sends the calls' packets, which this process reflects\n"
             "[this host's address toward --server, port 3478]"},
    {.name = "reflector-elsewhere",
     .set = cli_opt_flag,
     .offset = AT(elsewhere),
     .help = "another host reflects at --reflector (it runs `assess --reflect-only`)"},
    {.name = "reflect-only",
     .set = cli_opt_flag,
     .offset = AT(reflect_only),
     .help = "only reflect, at --reflector, until interrupted"},
    {.help = "Reports:"},
    {.name = "tsv",
     .arg = "FILE",
     .set = cli_opt_string,
     .offset = AT(tsv),
     .help = "the Network Assessment Tool's Results.tsv, a line per call"},
    {.name = "json",
     .arg = "FILE",
     .set = cli_opt_string,
     .offset = AT(json),
     .help = "every figure, each call's seconds too"},
    {.name = "html",
     .arg = "FILE",
     .set = cli_opt_string,
     .offset = AT(html),
     .help = "a page: the calls, and their loss, jitter and RTT second by second"},
    {0},
};

static int assess_check(char *why, size_t why_len, void *arg)
{
	struct assess_args *a = arg;
	if (a->reflect_only) {
		if (!a->have_reflector)
			snprintf(why, why_len, "--reflect-only needs --reflector ADDR[:PORT]");
		return a->have_reflector ? 0 : EINVAL;
	}
	if (!a->o.pass) /* out of argv, where ps shows it */
		a->o.pass = getenv("EDGELAB_ASSESS_PASSWORD");
	const char *missing = !a->have_server ? "--server"
	                      : !a->o.user    ? "--user"
	                      : !a->o.pass    ? "--password (or EDGELAB_ASSESS_PASSWORD)"
	                                      : NULL;
	if (missing) {
		snprintf(why, why_len, "%s is required", missing);
		return EINVAL;
	}
	if (a->elsewhere && !a->have_reflector) {
		snprintf(why, why_len, "--reflector-elsewhere needs --reflector ADDR[:PORT]");
		return EINVAL;
	}
	if (a->o.transport == ASSESS_TRANSPORT_PSEUDO_TLS) {
		if (a->o.dialect != ASSESS_DIALECT_MSTURN) {
			snprintf(
			    why, why_len,
			    "--transport pseudo-tls is MS-TURN's (an A/V edge's 443): not with "
			    "--dialect rfc5766");
			return EINVAL;
		}
		if (!a->server_port_given)
			addr_set_port((struct sockaddr *)&a->o.server, 443);
	}
	uint64_t packets = (uint64_t)a->o.calls * a->o.duration_s * a->o.rate;
	if (packets > ASSESS_MAX_STEP_PACKETS) {
		snprintf(why, why_len,
		         "%u calls of %u s at %u packets/s are %llu packets to keep, more than %u: "
		         "fewer "
		         "calls, a shorter --duration or a lower --rate",
		         a->o.calls, a->o.duration_s, a->o.rate, (unsigned long long)packets,
		         ASSESS_MAX_STEP_PACKETS);
		return EINVAL;
	}
	if (a->o.ramp_step > a->o.calls) {
		snprintf(why, why_len, "--ramp %u is more than --calls %u", a->o.ramp_step,
		         a->o.calls);
		return EINVAL;
	}
	return 0;
}

static const struct cli_opts assess_verb = {
    .verb = "assess",
    .synopsis = "--server ADDR[:PORT] --user NAME --password P [--calls N [--ramp STEP]]\n"
                "       [--duration S] [--profile client|edge] [--reflector ADDR[:PORT]] [--tsv "
                "FILE] [--json FILE] [--html FILE]",
    .about = "Calls through the edge's relay, as Microsoft's Network Assessment Tool makes\n"
             "them: each allocates on --server, points its allocation at the reflector and\n"
             "streams RTP at a codec's rate; the reflector sends every packet back through\n"
             "the relay. Per call: loss (and its worst 15 s and 200 ms), RFC 3550 jitter,\n"
             "round-trip time, reorder; judged on Microsoft's targets. See docs/assess.md.\n",
    .opts = assess_options,
    .notes = "Exit 0: every call of the last step met every target; 1: a call missed one or\n"
             "failed; 2: usage; 4: it could not run (the reflector's address taken).\n",
    .check = assess_check,
};

typedef int(report_fn)(FILE *f, const struct assess_opts *o, const struct assess_result *r);

static int tsv_report(FILE *f, const struct assess_opts *o, const struct assess_result *r)
{
	(void)o;
	return assess_report_tsv(f, r);
}

/* A report into path: 0 or EXIT_FAIL with the error said. */
static int write_report(const char *path, const struct assess_opts *o,
                        const struct assess_result *r, report_fn *report)
{
	FILE *f = fopen(path, "w");
	int rc = f ? report(f, o, r) : errno;
	if (f && fclose(f) && !rc)
		rc = errno;
	if (rc)
		fprintf(stderr, "edgelab assess: cannot write %s: %s\n", path, strerror(rc));
	return rc ? EXIT_FAIL : EXIT_OK;
}

int cmd_assess(int argc, char **argv)
{
	struct assess_args a = {.o = {.dialect = ASSESS_DIALECT_MSTURN,
	                              .profile = ASSESS_PROFILE_CLIENT,
	                              .calls = 1,
	                              .duration_s = 17,
	                              .rate = 50,
	                              .size = ASSESS_PKT_DEFAULT,
	                              .setup_ms = 5000,
	                              .grace_ms = 2000}};
	char err[ASSESS_ERR_MAX] = "";
	int status;
	if (!cli_opts_parse(&assess_verb, argc, argv, &a, &status))
		return status;
	if (a.reflect_only) {
		if (assess_reflect(&a.o.reflector, stdout, err, sizeof(err))) {
			fprintf(stderr, "edgelab assess: %s\n", err);
			return EXIT_LAB;
		}
		return EXIT_OK;
	}
	a.o.reflect_here = !a.elsewhere;
	if (!a.have_reflector && assess_reflector_default(&a.o.server, &a.o.reflector)) {
		char server[64];
		addr_str((const struct sockaddr *)&a.o.server, server, sizeof(server));
		fprintf(stderr,
		        "edgelab assess: no route to %s to pick the reflector's address "
		        "(--reflector)\n",
		        server);
		return EXIT_LAB;
	}
	struct assess_result r;
	if (assess_run(&a.o, &r, err, sizeof(err))) {
		fprintf(stderr, "edgelab assess: %s\n", err[0] ? err : "out of memory");
		return EXIT_LAB;
	}
	status = assess_report_text(stdout, &a.o, &r) ? EXIT_FAIL : EXIT_OK;
	if (a.tsv && write_report(a.tsv, &a.o, &r, tsv_report))
		status = EXIT_FAIL;
	if (a.json && write_report(a.json, &a.o, &r, assess_report_json))
		status = EXIT_FAIL;
	if (a.html && write_report(a.html, &a.o, &r, assess_report_html))
		status = EXIT_FAIL;
	const struct assess_step *last = r.nsteps ? &r.steps[r.nsteps - 1] : NULL;
	if (!last || last->met != last->calls)
		status = EXIT_FAIL;
	assess_result_free(&r);
	return status;
}
