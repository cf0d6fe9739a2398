/*
 * nice_relay: TURN with a full ICE stack written by others (libnice).
 *
 * One process, one GMainLoop, two NiceAgents (L controlling, R controlled) in
 * the chosen compatibility mode, both with force-relay, so that the only
 * candidates are the ones a TURN server allocated. Each gathers through the
 * server, the credentials and candidates are exchanged in-process, the
 * connectivity checks run through the relay, and once both components are
 * READY each side sends --count messages to the other, every one of which
 * must arrive intact. The selected pair's local candidate must be RELAYED
 * with a port in --port-min..--port-max.
 *
 * Exit status: 0 success, 1 failure (the reason is the last line printed,
 * "nice_relay: FAIL: ..."), 2 usage. --debug sends libnice's own ICE and
 * STUN debug output to stderr.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>
#include <nice/agent.h>
#include <nice/debug.h>
#include <nice/nice-version.h>

#define COMPONENT      1
#define MSG_MAGIC      "EDGELAB-NICE"
#define MSG_HEADER_LEN 24 /* "EDGELAB-NICE L>R 00000 " plus a NUL we do not send */
#define MSG_MAX        1500
#define MAX_COUNT      10000

struct options {
	char server_host[64];
	unsigned server_port;
	const char *user;
	const char *pass;
	const char *local;
	NiceCompatibility compat;
	const char *compat_name;
	NiceRelayType relay;
	const char *relay_name;
	unsigned timeout_s;
	unsigned count;
	unsigned interval_ms;
	unsigned port_min;
	unsigned port_max;
	bool debug;
};

struct side {
	const char *name; /* "L" (controlling) or "R" (controlled) */
	struct side *peer;
	NiceAgent *agent;
	guint stream;
	bool gathered;
	bool closed;
	NiceComponentState state;
	unsigned sent;
	unsigned received; /* distinct intact messages from the peer */
	unsigned corrupt;
	unsigned duplicate;
	unsigned char *seen; /* seen[i]: message i from the peer arrived */
};

enum phase { PHASE_GATHER, PHASE_CHECKS, PHASE_DATA, PHASE_DONE };

static struct options opt;
static struct side sides[2];
static GMainLoop *loop;
static gint64 t_start;
static enum phase phase = PHASE_GATHER;
static guint deadline_source;
static guint send_source;
static int exit_code = 1;

static double elapsed(void)
{
	return (double)(g_get_monotonic_time() - t_start) / 1e6;
}

static void finish(bool success, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

/* Ends the run: prints the verdict and stops the main loop. */
static void finish(bool success, const char *fmt, ...)
{
	va_list ap;

	if (phase == PHASE_DONE)
		return;
	phase = PHASE_DONE;
	printf("nice_relay: %s: ", success ? "PASS" : "FAIL");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf(" (%.3f s)\n", elapsed());
	exit_code = success ? 0 : 1;
	if (send_source) {
		g_source_remove(send_source);
		send_source = 0;
	}
	if (deadline_source) {
		g_source_remove(deadline_source);
		deadline_source = 0;
	}
	g_main_loop_quit(loop);
}

static const char *state_name(NiceComponentState s)
{
	return s == NICE_COMPONENT_STATE_LAST ? "none" : nice_component_state_to_string(s);
}

static void cand_str(const NiceCandidate *c, char *buf, size_t len)
{
	char a[NICE_ADDRESS_STRING_LEN], b[NICE_ADDRESS_STRING_LEN];

	nice_address_to_string(&c->addr, a);
	nice_address_to_string(&c->base_addr, b);
	snprintf(buf, len, "%s %s %s:%u (base %s:%u)", nice_candidate_type_to_string(c->type),
	         nice_candidate_transport_to_string(c->transport), a,
	         nice_address_get_port(&c->addr), b, nice_address_get_port(&c->base_addr));
}

/* The deadline of the current phase has passed: say what was missing. */
static gboolean on_deadline(gpointer data)
{
	(void)data;
	deadline_source = 0;
	switch (phase) {
	case PHASE_GATHER:
		finish(false,
		       "candidate gathering not done within %u s (L %s, R %s): no answer from "
		       "the TURN server at %s:%u?",
		       opt.timeout_s, sides[0].gathered ? "done" : "not done",
		       sides[1].gathered ? "done" : "not done", opt.server_host, opt.server_port);
		break;
	case PHASE_CHECKS:
		finish(false,
		       "not READY within %u s: L is %s, R is %s (connectivity checks through the "
		       "relay did not complete)",
		       opt.timeout_s, state_name(sides[0].state), state_name(sides[1].state));
		break;
	case PHASE_DATA:
		finish(false,
		       "data not all through within %u s: L->R %u/%u intact (sent %u, %u corrupt, "
		       "%u duplicate), R->L %u/%u intact (sent %u, %u corrupt, %u duplicate)",
		       opt.timeout_s, sides[1].received, opt.count, sides[0].sent, sides[1].corrupt,
		       sides[1].duplicate, sides[0].received, opt.count, sides[1].sent,
		       sides[0].corrupt, sides[0].duplicate);
		break;
	case PHASE_DONE:
		break;
	}
	return G_SOURCE_REMOVE;
}

static void arm_deadline(void)
{
	if (deadline_source)
		g_source_remove(deadline_source);
	deadline_source = g_timeout_add_seconds(opt.timeout_s, on_deadline, NULL);
}

/* Message i from side `from`: a header naming direction and index, then a
 * payload that depends on both, of a length that varies with i. */
static size_t make_message(const struct side *from, unsigned i, char *buf)
{
	size_t len = MSG_HEADER_LEN + (i * 37u) % 1000u;
	unsigned dir = from == &sides[0] ? 0 : 1;

	snprintf(buf, MSG_HEADER_LEN, "%s %s>%s %05u ", MSG_MAGIC, from->name, from->peer->name, i);
	buf[MSG_HEADER_LEN - 1] = ' ';
	for (size_t j = MSG_HEADER_LEN; j < len; j++)
		buf[j] = (char)((i * 31u + j * 7u + dir * 101u) & 0xffu);
	return len;
}

static void on_recv(NiceAgent *agent, guint stream, guint component, guint len, gchar *buf,
                    gpointer data)
{
	struct side *to = data;
	char want[MSG_MAX];
	unsigned i;
	char prefix[MSG_HEADER_LEN];

	(void)agent;
	(void)stream;
	(void)component;
	snprintf(prefix, sizeof(prefix), "%s %s>%s ", MSG_MAGIC, to->peer->name, to->name);
	/* libnice hands the application a STUN message it could not validate
	 * (seen: its own connectivity check sent with a wrong FINGERPRINT,
	 * relayed intact): ICE's business, not a damaged message of ours. */
	if (len >= 20 && (buf[0] & 0xC0) == 0 && memcmp(buf + 4, "\x21\x12\xA4\x42", 4) == 0) {
		printf("nice_relay: %s: libnice passed up a %u-byte STUN message it refused\n",
		       to->name, len);
		return;
	}
	if (len < MSG_HEADER_LEN || memcmp(buf, prefix, strlen(prefix)) != 0 ||
	    sscanf(buf + strlen(prefix), "%5u", &i) != 1 || i >= opt.count) {
		to->corrupt++;
		printf("nice_relay: %s received %u bytes that are not one of our messages\n",
		       to->name, len);
		return;
	}
	if (make_message(to->peer, i, want) != len || memcmp(want, buf, len) != 0) {
		to->corrupt++;
		printf("nice_relay: %s received message %u damaged (%u bytes)\n", to->name, i, len);
		return;
	}
	if (to->seen[i]) {
		to->duplicate++;
		return;
	}
	to->seen[i] = 1;
	to->received++;
	if (phase == PHASE_DATA && sides[0].received == opt.count &&
	    sides[1].received == opt.count) {
		if (sides[0].corrupt || sides[1].corrupt)
			finish(false,
			       "all messages arrived but %u (at L) and %u (at R) were damaged",
			       sides[0].corrupt, sides[1].corrupt);
		else
			finish(true,
			       "%s, TURN/%s: both agents READY through the relay; %u messages each "
			       "way intact (%u and %u duplicates)",
			       opt.compat_name, opt.relay_name, opt.count, sides[0].duplicate,
			       sides[1].duplicate);
	}
}

/* One message each way per tick until --count have gone. */
static gboolean on_send_tick(gpointer data)
{
	char buf[MSG_MAX];

	(void)data;
	for (int k = 0; k < 2; k++) {
		struct side *s = &sides[k];
		size_t len = make_message(s, s->sent, buf);
		int n = nice_agent_send(s->agent, s->stream, COMPONENT, (guint)len, buf);

		if (n != (int)len) {
			send_source = 0;
			finish(false, "%s: nice_agent_send of message %u (%zu bytes) returned %d",
			       s->name, s->sent, len, n);
			return G_SOURCE_REMOVE;
		}
		s->sent++;
	}
	if (sides[0].sent < opt.count)
		return G_SOURCE_CONTINUE;
	send_source = 0;
	return G_SOURCE_REMOVE;
}

/* Both READY: the selected pairs must be relayed, in the relay port range. */
static bool check_selected_pairs(void)
{
	for (int k = 0; k < 2; k++) {
		struct side *s = &sides[k];
		NiceCandidate *local = NULL, *remote = NULL;
		char l[160], r[160];
		unsigned port;

		if (!nice_agent_get_selected_pair(s->agent, s->stream, COMPONENT, &local,
		                                  &remote)) {
			finish(false, "%s is READY but has no selected pair", s->name);
			return false;
		}
		cand_str(local, l, sizeof(l));
		cand_str(remote, r, sizeof(r));
		printf("nice_relay: %s selected pair: local %s <-> remote %s\n", s->name, l, r);
		if (local->type != NICE_CANDIDATE_TYPE_RELAYED) {
			finish(false, "%s: the selected pair's local candidate is %s, not relay",
			       s->name, nice_candidate_type_to_string(local->type));
			return false;
		}
		port = nice_address_get_port(&local->addr);
		if (port < opt.port_min || port > opt.port_max) {
			finish(false, "%s: relayed port %u is outside %u-%u", s->name, port,
			       opt.port_min, opt.port_max);
			return false;
		}
		if (remote->type != NICE_CANDIDATE_TYPE_RELAYED) {
			finish(false, "%s: the selected pair's remote candidate is %s, not relay",
			       s->name, nice_candidate_type_to_string(remote->type));
			return false;
		}
	}
	return true;
}

static void on_state(NiceAgent *agent, guint stream, guint component, guint state, gpointer data)
{
	struct side *s = data;

	(void)agent;
	(void)stream;
	if (component != COMPONENT)
		return;
	s->state = (NiceComponentState)state;
	printf("nice_relay: %.3f s: %s component %s\n", elapsed(), s->name, state_name(s->state));
	if (phase == PHASE_DONE)
		return;
	if (state == NICE_COMPONENT_STATE_FAILED) {
		finish(false,
		       "%s went FAILED (connectivity checks through the relay failed; L is %s, R "
		       "is %s)",
		       s->name, state_name(sides[0].state), state_name(sides[1].state));
		return;
	}
	if (phase == PHASE_CHECKS && sides[0].state == NICE_COMPONENT_STATE_READY &&
	    sides[1].state == NICE_COMPONENT_STATE_READY) {
		if (!check_selected_pairs())
			return;
		phase = PHASE_DATA;
		arm_deadline();
		send_source = g_timeout_add(opt.interval_ms, on_send_tick, NULL);
	}
}

/* Candidates of `from` (all must be relayed) and its credentials to `to`. */
static bool hand_over(struct side *from, struct side *to)
{
	GSList *cands = nice_agent_get_local_candidates(from->agent, from->stream, COMPONENT);
	gchar *ufrag = NULL, *pwd = NULL;
	unsigned n = 0;
	bool good = true;
	int added;

	for (GSList *i = cands; i; i = i->next) {
		NiceCandidate *c = i->data;
		char buf[160];

		cand_str(c, buf, sizeof(buf));
		printf("nice_relay: %s candidate: %s\n", from->name, buf);
		if (c->type != NICE_CANDIDATE_TYPE_RELAYED)
			good = false;
		n++;
	}
	if (n == 0) {
		finish(false,
		       "%s gathered no relayed candidate: the TURN Allocate through %s:%u failed "
		       "(run with --debug to see what libnice sent and got)",
		       from->name, opt.server_host, opt.server_port);
		goto out;
	}
	if (!good) {
		finish(false, "%s has a candidate that is not relayed despite force-relay",
		       from->name);
		goto out;
	}
	if (!nice_agent_get_local_credentials(from->agent, from->stream, &ufrag, &pwd) ||
	    !nice_agent_set_remote_credentials(to->agent, to->stream, ufrag, pwd)) {
		finish(false, "credentials from %s to %s could not be set", from->name, to->name);
		good = false;
		goto out;
	}
	added = nice_agent_set_remote_candidates(to->agent, to->stream, COMPONENT, cands);
	if (added < 1) {
		finish(false, "%s refused %s's candidates (%d added)", to->name, from->name, added);
		good = false;
	}
out:
	g_free(ufrag);
	g_free(pwd);
	g_slist_free_full(cands, (GDestroyNotify)nice_candidate_free);
	return good && n > 0;
}

static void on_gathering_done(NiceAgent *agent, guint stream, gpointer data)
{
	struct side *s = data;

	(void)agent;
	(void)stream;
	s->gathered = true;
	printf("nice_relay: %.3f s: %s gathering done\n", elapsed(), s->name);
	if (phase != PHASE_GATHER || !sides[0].gathered || !sides[1].gathered)
		return;
	phase = PHASE_CHECKS;
	arm_deadline();
	if (hand_over(&sides[0], &sides[1]))
		hand_over(&sides[1], &sides[0]);
}

static void on_closed(GObject *src, GAsyncResult *res, gpointer data)
{
	struct side *s = data;

	(void)src;
	(void)res;
	s->closed = true;
}

static gboolean on_close_deadline(gpointer data)
{
	bool *expired = data;

	*expired = true;
	return G_SOURCE_REMOVE;
}

/* Microsoft's modes: MS-TURN towards the relay. */
static bool ms_mode(void)
{
	return opt.compat == NICE_COMPATIBILITY_OC2007 || opt.compat == NICE_COMPATIBILITY_OC2007R2;
}

static bool setup_side(struct side *s, bool controlling)
{
	const char *user = opt.user, *pass = opt.pass;
	gchar *user64 = NULL, *pass64 = NULL;
	bool good = true;

	s->agent = nice_agent_new(NULL, opt.compat);
	s->state = NICE_COMPONENT_STATE_LAST;
	s->seen = g_malloc0(opt.count);
	/* MS-TURN over TCP gives a TCP relayed address ([MS-TURN]), and libnice
	 * frames its TURN/TCP stream the MS-TURN way (0x02/0x03, length) only on
	 * a TCP host candidate's socket: from a UDP one it sends `03 00` and no
	 * length. So OC2007 over TCP or pseudo-TLS runs as ICE-TCP. */
	bool ice_tcp = ms_mode() && opt.relay != NICE_RELAY_TYPE_TURN_UDP;
	g_object_set(s->agent, "controlling-mode", controlling, "force-relay", TRUE, "upnp", FALSE,
	             "ice-udp", !ice_tcp, "ice-tcp", ice_tcp, NULL);
	if (opt.compat == NICE_COMPATIBILITY_RFC5245)
		nice_agent_set_software(s->agent, controlling ? "edgelab nice_relay L"
		                                              : "edgelab nice_relay R");
	if (opt.local) {
		NiceAddress a;

		if (!nice_address_set_from_string(&a, opt.local)) {
			fprintf(stderr, "nice_relay: --local %s is not an IP address\n", opt.local);
			return false;
		}
		nice_agent_add_local_address(s->agent, &a);
	}
	g_signal_connect(s->agent, "candidate-gathering-done", G_CALLBACK(on_gathering_done), s);
	g_signal_connect(s->agent, "component-state-changed", G_CALLBACK(on_state), s);
	s->stream = nice_agent_add_stream(s->agent, 1);
	if (s->stream == 0) {
		fprintf(stderr, "nice_relay: %s: nice_agent_add_stream failed\n", s->name);
		return false;
	}
	/* In the Microsoft modes libnice base64-decodes the TURN username and
	 * password it is given (MS-TURN credentials may be binary). */
	if (ms_mode()) {
		user = user64 = g_base64_encode((const guchar *)opt.user, strlen(opt.user));
		pass = pass64 = g_base64_encode((const guchar *)opt.pass, strlen(opt.pass));
	}
	if (!nice_agent_set_relay_info(s->agent, s->stream, COMPONENT, opt.server_host,
	                               opt.server_port, user, pass, opt.relay)) {
		fprintf(stderr, "nice_relay: %s: nice_agent_set_relay_info(%s, %u) refused\n",
		        s->name, opt.server_host, opt.server_port);
		good = false;
	}
	g_free(user64);
	g_free(pass64);
	if (!good)
		return false;
	nice_agent_attach_recv(s->agent, s->stream, COMPONENT, NULL, on_recv, s);
	return true;
}

/* Frees the allocations on the server (Refresh with lifetime 0), bounded. */
static void close_agents(void)
{
	bool expired = false;
	guint src;

	for (int k = 0; k < 2; k++)
		if (sides[k].agent)
			nice_agent_close_async(sides[k].agent, on_closed, &sides[k]);
		else
			sides[k].closed = true;
	src = g_timeout_add(2000, on_close_deadline, &expired);
	while (!(sides[0].closed && sides[1].closed) && !expired)
		g_main_context_iteration(NULL, TRUE);
	if (!expired)
		g_source_remove(src);
	for (int k = 0; k < 2; k++) {
		if (sides[k].agent)
			g_object_unref(sides[k].agent);
		g_free(sides[k].seen);
	}
	/* Let the agents' last sources run down. */
	while (g_main_context_iteration(NULL, FALSE))
		;
}

static void usage(FILE *f)
{
	fprintf(
	    f, "usage: nice_relay [options]\n"
	       "  --server HOST:PORT   TURN server (IP address; [v6]:port) [127.0.0.1:3478]\n"
	       "  --user NAME          TURN username [alice]\n"
	       "  --pass PASSWORD      TURN password [secret]\n"
	       "  --compat MODE        rfc5245 | oc2007 | oc2007r2 [rfc5245]\n"
	       "  --relay TRANSPORT    udp | tcp | tls: how libnice reaches the server [udp]\n"
	       "  --local ADDR         the agents' only local address [the server's, if loopback]\n"
	       "  --timeout S          bound on gathering, on reaching READY and on the data [10]\n"
	       "  --count N            messages each way [20]\n"
	       "  --interval MS        between messages [5]\n"
	       "  --port-min P         lowest relayed port accepted [50000]\n"
	       "  --port-max P         highest relayed port accepted [59999]\n"
	       "  --debug              libnice's debug output (ICE and STUN) on stderr\n");
}

static bool parse_uint(const char *s, unsigned min, unsigned max, unsigned *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return false;
	*out = (unsigned)v;
	return true;
}

static bool parse_server(const char *s)
{
	const char *colon, *host = s;
	size_t hlen;

	if (*s == '[') {
		const char *close = strchr(s, ']');

		if (!close || close[1] != ':')
			return false;
		host = s + 1;
		hlen = (size_t)(close - host);
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return false;
		hlen = (size_t)(colon - s);
	}
	if (hlen == 0 || hlen >= sizeof(opt.server_host))
		return false;
	memcpy(opt.server_host, host, hlen);
	opt.server_host[hlen] = '\0';
	return parse_uint(colon + 1, 1, 65535, &opt.server_port);
}

static int parse_args(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"server", required_argument, NULL, 's'},   {"user", required_argument, NULL, 'u'},
	    {"pass", required_argument, NULL, 'p'},     {"compat", required_argument, NULL, 'c'},
	    {"relay", required_argument, NULL, 'r'},    {"local", required_argument, NULL, 'l'},
	    {"timeout", required_argument, NULL, 't'},  {"count", required_argument, NULL, 'n'},
	    {"interval", required_argument, NULL, 'i'}, {"port-min", required_argument, NULL, 'm'},
	    {"port-max", required_argument, NULL, 'M'}, {"debug", no_argument, NULL, 'd'},
	    {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0},
	};
	bool local_given = false;
	int c;

	snprintf(opt.server_host, sizeof(opt.server_host), "127.0.0.1");
	opt.server_port = 3478;
	opt.user = "alice";
	opt.pass = "secret";
	opt.compat = NICE_COMPATIBILITY_RFC5245;
	opt.compat_name = "rfc5245";
	opt.relay = NICE_RELAY_TYPE_TURN_UDP;
	opt.relay_name = "udp";
	opt.timeout_s = 10;
	opt.count = 20;
	opt.interval_ms = 5;
	opt.port_min = 50000;
	opt.port_max = 59999;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		bool good = true;

		switch (c) {
		case 's':
			good = parse_server(optarg);
			break;
		case 'u':
			opt.user = optarg;
			break;
		case 'p':
			opt.pass = optarg;
			break;
		case 'c':
			if (strcmp(optarg, "rfc5245") == 0)
				opt.compat = NICE_COMPATIBILITY_RFC5245;
			else if (strcmp(optarg, "oc2007") == 0)
				opt.compat = NICE_COMPATIBILITY_OC2007;
			else if (strcmp(optarg, "oc2007r2") == 0)
				opt.compat = NICE_COMPATIBILITY_OC2007R2;
			else
				good = false;
			opt.compat_name = optarg;
			break;
		case 'r':
			if (strcmp(optarg, "udp") == 0)
				opt.relay = NICE_RELAY_TYPE_TURN_UDP;
			else if (strcmp(optarg, "tcp") == 0)
				opt.relay = NICE_RELAY_TYPE_TURN_TCP;
			else if (strcmp(optarg, "tls") == 0)
				opt.relay = NICE_RELAY_TYPE_TURN_TLS;
			else
				good = false;
			opt.relay_name = optarg;
			break;
		case 'l':
			opt.local = optarg;
			local_given = true;
			break;
		case 't':
			good = parse_uint(optarg, 1, 3600, &opt.timeout_s);
			break;
		case 'n':
			good = parse_uint(optarg, 1, MAX_COUNT, &opt.count);
			break;
		case 'i':
			good = parse_uint(optarg, 0, 10000, &opt.interval_ms);
			break;
		case 'm':
			good = parse_uint(optarg, 1, 65535, &opt.port_min);
			break;
		case 'M':
			good = parse_uint(optarg, 1, 65535, &opt.port_max);
			break;
		case 'd':
			opt.debug = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return 2;
		}
		if (!good) {
			fprintf(stderr, "nice_relay: bad value for --%s: %s\n",
			        c == 's'   ? "server"
			        : c == 'c' ? "compat"
			        : c == 'r' ? "relay"
			                   : "option",
			        optarg);
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc || opt.port_min > opt.port_max) {
		usage(stderr);
		return 2;
	}
	/* On loopback the agents' host base must be loopback too. */
	if (!local_given &&
	    (strncmp(opt.server_host, "127.", 4) == 0 || strcmp(opt.server_host, "::1") == 0))
		opt.local = opt.server_host;
	return 0;
}

int main(int argc, char **argv)
{
	int rc;

	setvbuf(stdout, NULL, _IOLBF, 0);
	rc = parse_args(argc, argv);
	if (rc)
		return rc;
	if (opt.debug) {
		g_setenv("G_MESSAGES_DEBUG", "all", TRUE);
		g_log_writer_default_set_use_stderr(TRUE);
		nice_debug_enable(TRUE);
	} else {
		nice_debug_disable(TRUE);
	}
	printf("nice_relay: libnice %d.%d.%d, compatibility %s, TURN/%s to %s:%u as %s, local %s, "
	       "%u messages each way, relayed ports %u-%u\n",
	       NICE_VERSION_MAJOR, NICE_VERSION_MINOR, NICE_VERSION_MICRO, opt.compat_name,
	       opt.relay_name, opt.server_host, opt.server_port, opt.user,
	       opt.local ? opt.local : "all", opt.count, opt.port_min, opt.port_max);

	loop = g_main_loop_new(NULL, FALSE);
	t_start = g_get_monotonic_time();
	sides[0].name = "L";
	sides[1].name = "R";
	sides[0].peer = &sides[1];
	sides[1].peer = &sides[0];
	if (!setup_side(&sides[0], true) || !setup_side(&sides[1], false)) {
		close_agents();
		g_main_loop_unref(loop);
		return 1;
	}
	arm_deadline();
	for (int k = 0; k < 2; k++)
		if (!nice_agent_gather_candidates(sides[k].agent, sides[k].stream))
			finish(false, "%s: nice_agent_gather_candidates failed", sides[k].name);
	if (phase != PHASE_DONE)
		g_main_loop_run(loop);
	close_agents();
	g_main_loop_unref(loop);
	return exit_code;
}
