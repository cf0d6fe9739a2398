/* The strict mode: flows the port table does not allow, each of which must
 * find no way through the firewall (CLOSED) rather than get through
 * (EXPOSED). Every one carries a fresh marker, so that the edge can tell
 * what reached it:
 *   inbound  the probe sends `edgelab marker=M\n` to a port of the edge's
 *            access address where the edge runs a canary (the lab's: TCP
 *            80 3478 5060 5062 59999, UDP 3479 5060 59999); a TCP
 *            connection set up, or a hit for M at the canary (GET
 *            /canary?marker=M), is EXPOSED;
 *   outbound the edge connects from a source port below 50000 (outside the
 *            relay range row 4's rule admits) to the probe's 443 and 5060
 *            (POST /strict/tcp); arrived is EXPOSED, and otherwise the
 *            edge's record names what stopped it. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/addr.h"
#include "probe/flow.h"
#include "probe/hub.h"
#include "probe/probe.h"

#define CANARY_WAIT_MAX_MS 10000 /* the control API's longest wait */
#define CONFIRM_WAIT_MS    1000  /* a connection made: for the canary to show it */

static const struct strict_flow {
	const char *name;
	bool out;
	int type;
	uint16_t port; /* inbound: the edge's; outbound: 0 for client_tcp_port, else
	                * strict_sip_port */
} strict_flows[PROBE_STRICT_FLOWS] = {
    {"client -> edge TCP/5060", false, SOCK_STREAM, 5060},
    {"client -> edge UDP/5060", false, SOCK_DGRAM, 5060},
    {"client -> edge TCP/5062", false, SOCK_STREAM, 5062},
    {"client -> edge TCP/80", false, SOCK_STREAM, 80},
    {"client -> edge UDP/3479", false, SOCK_DGRAM, 3479},
    {"client -> edge TCP/3478", false, SOCK_STREAM, 3478},
    {"client -> edge TCP/59999", false, SOCK_STREAM, 59999},
    {"client -> edge UDP/59999", false, SOCK_DGRAM, 59999},
    {"edge -> client TCP/443 from port < 50000", true, SOCK_STREAM, 0},
    {"edge -> client TCP/5060", true, SOCK_STREAM, 5060},
};

struct strict {
	const struct probe_opts *o;
	struct probe_result *r;
	const struct strict_flow *sf;
	double deadline;
	char marker[FLOW_MARKER_LEN + 1];
	char expect[sizeof(ROWS_MARKER_PREFIX) + FLOW_MARKER_LEN + 1];
	struct sockaddr_storage to; /* inbound: the edge's port */
	char to_str[ADDR_STR_MAX];
};

/* GET /canary?marker=M[&wait=MS]: 0 and the hit, ENOENT (no hit), or
 * another errno with why. *listens: whether the edge runs a canary where the
 * flow went (its "listening:" lines). */
static int canary_hit(struct strict *s, unsigned wait_ms, struct ctl_hit *hit, bool *listens,
                      char *why, size_t why_len)
{
	struct ctl_answer a;
	char path[128];
	if (wait_ms > CANARY_WAIT_MAX_MS)
		wait_ms = CANARY_WAIT_MAX_MS;
	snprintf(path, sizeof(path), "/canary?marker=%s&wait=%u", s->marker, wait_ms);
	int rc =
	    flow_control_get(s->o, path, flow_now() + wait_ms / 1000.0 + 2.0, &a, why, why_len);
	*listens = false;
	if (rc)
		return rc == ENOENT ? EPROTO : rc; /* a 404 is no canary, not no hit */
	*listens = ctl_canary_listens(a.body, strlen(a.body),
	                              s->sf->type == SOCK_STREAM ? "tcp" : "udp", s->sf->port);
	return ctl_hits_find(a.body, strlen(a.body), s->marker, hit);
}

/* No canary where the flow went: an RST or ICMP may be the edge's own
 * kernel answering (the flow got through), and silence proves nothing. */
static void no_canary(struct strict *s, const char *seen)
{
	flow_verdict(s->r, VERDICT_FAILED,
	             "%s from %s, but the edge runs no canary on %s %u (canary_%s): whether "
	             "it got through cannot be told",
	             seen, s->to_str, s->sf->type == SOCK_STREAM ? "TCP" : "UDP", s->sf->port,
	             s->sf->type == SOCK_STREAM ? "tcp" : "udp");
}

static void send_marker(struct strict *s, int fd)
{
	char line[sizeof(s->expect) + 1];
	int n = snprintf(line, sizeof(line), "%s\n", s->expect);
	ssize_t rc = send(fd, line, (size_t)n, MSG_NOSIGNAL);
	(void)rc; /* what the canary saw is the judge */
}

/* A TCP connect to the edge, bounded by the deadline: 0 connected, or the
 * errno (ETIMEDOUT: nothing came back). */
static int tcp_connect(struct strict *s, int *fd)
{
	*fd = socket(s->to.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (*fd < 0)
		return errno;
	if (s->o->have_bind) {
		struct sockaddr_storage b = s->o->bind;
		addr_set_port((struct sockaddr *)&b, 0);
		if (bind(*fd, (struct sockaddr *)&b, addr_len((struct sockaddr *)&b)))
			return errno;
	}
	if (connect(*fd, (struct sockaddr *)&s->to, addr_len((struct sockaddr *)&s->to)) == 0)
		return 0;
	if (errno != EINPROGRESS)
		return errno;
	struct pollfd pfd = {.fd = *fd, .events = POLLOUT};
	if (poll(&pfd, 1, flow_left_ms(s->deadline)) <= 0)
		return ETIMEDOUT;
	int err = 0;
	socklen_t len = sizeof(err);
	getsockopt(*fd, SOL_SOCKET, SO_ERROR, &err, &len);
	return err;
}

/* How a refused or unanswered attempt reads. */
static const char *refusal(int err, int type)
{
	switch (err) {
	case ECONNREFUSED:
		return type == SOCK_STREAM ? "TCP RST" : "ICMP port unreachable";
	case EHOSTUNREACH:
		return "ICMP host unreachable";
	case ENETUNREACH:
		return "ICMP network unreachable";
	case EACCES:
	case EPERM:
		return "refused locally (a firewall on this host)";
	default:
		return NULL;
	}
}

static void strict_in_tcp(struct strict *s)
{
	struct ctl_hit hit;
	char why[200];
	bool listens;
	int fd = -1, err = tcp_connect(s, &fd);
	if (err == 0) {
		send_marker(s, fd);
		int rc = canary_hit(s, CONFIRM_WAIT_MS, &hit, &listens, why, sizeof(why));
		flow_verdict(s->r, VERDICT_EXPOSED, "connected to %s and sent our marker; %s%s",
		             s->to_str,
		             rc == 0        ? "confirmed by the canary, hit from "
		             : rc == ENOENT ? "the canary did not see it: something else answers"
		                            : "the canary could not be asked: ",
		             rc == 0        ? hit.source
		             : rc == ENOENT ? ""
		                            : why);
	} else {
		const char *how = refusal(err, SOCK_STREAM);
		char seen[96];
		if (how)
			snprintf(seen, sizeof(seen), "%s", how);
		else if (err == ETIMEDOUT)
			snprintf(seen, sizeof(seen), "no answer in %.1f s",
			         s->o->timeout_ms / 1000.0);
		else
			snprintf(seen, sizeof(seen), "connect: %s", strerror(err));
		int rc = canary_hit(s, 0, &hit, &listens, why, sizeof(why));
		if (rc == 0)
			flow_verdict(s->r, VERDICT_EXPOSED,
			             "%s from %s, yet the canary saw our marker from %s", seen,
			             s->to_str, hit.source);
		else if (rc == ENOENT && !listens)
			no_canary(s, seen);
		else
			flow_verdict(s->r, VERDICT_CLOSED, "%s from %s%s%s%s", seen, s->to_str,
			             rc == ENOENT ? "" : " (the canary could not be asked: ",
			             rc == ENOENT ? "" : why, rc == ENOENT ? "" : ")");
	}
	if (fd >= 0)
		close(fd);
}

static void strict_in_udp(struct strict *s)
{
	struct ctl_hit hit;
	char why[200], seen[64];
	bool listens;
	int fd = socket(s->to.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0), err = 0;
	socklen_t len = sizeof(err);
	/* Connected, so that an ICMP error comes back on the socket. */
	if (fd < 0 ||
	    (s->o->have_bind && bind(fd, (const struct sockaddr *)&s->o->bind,
	                             addr_len((const struct sockaddr *)&s->o->bind))) ||
	    connect(fd, (struct sockaddr *)&s->to, addr_len((struct sockaddr *)&s->to))) {
		flow_verdict(s->r, VERDICT_FAILED, "the probe cannot send to %s: %s", s->to_str,
		             strerror(errno));
		if (fd >= 0)
			close(fd);
		return;
	}
	send_marker(s, fd);
	int rc = canary_hit(s, s->o->timeout_ms, &hit, &listens, why, sizeof(why));
	getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
	const char *icmp = refusal(err, SOCK_DGRAM);
	close(fd);
	snprintf(seen, sizeof(seen), "%s came back", icmp ? icmp : "nothing");
	if (rc == ENOENT && !listens)
		no_canary(s, seen);
	else if (rc == 0)
		flow_verdict(s->r, VERDICT_EXPOSED, "the canary on %s saw our datagram, from %s",
		             s->to_str, hit.source);
	else if (rc == ENOENT)
		flow_verdict(s->r, VERDICT_CLOSED, "no hit at the canary on %s in %.1f s; %s%s",
		             s->to_str, s->o->timeout_ms / 1000.0, icmp ? icmp : "nothing",
		             " came back");
	else
		flow_verdict(s->r, VERDICT_FAILED, "the canary could not be asked: %s", why);
}

/* The edge's record of an outbound flow that did not arrive, judged. */
static void strict_out_unseen(struct strict *s, const char *location)
{
	struct ctl_flow rec;
	char why[200], view[256];
	if (!location[0])
		return flow_verdict(s->r, VERDICT_FAILED,
		                    "nothing arrived in %.1f s, and the edge gave no record of its "
		                    "flow to tell why",
		                    s->o->timeout_ms / 1000.0);
	if (flow_edge_record(s->o, location, &rec, why, sizeof(why)))
		return flow_verdict(s->r, VERDICT_FAILED,
		                    "nothing arrived, and the edge's record %s: %s", location, why);
	switch (rec.outcome) {
	case CTL_OUTCOME_RESET:
	case CTL_OUTCOME_ICMP:
	case CTL_OUTCOME_TIMEOUT:
		flow_edge_view(&rec, "SYN", view, sizeof(view));
		return flow_verdict(s->r, VERDICT_CLOSED, "%s", view);
	case CTL_OUTCOME_PENDING:
		flow_edge_view(&rec, "SYN", view, sizeof(view));
		return flow_verdict(s->r, VERDICT_FAILED, "nothing arrived, but %s", view);
	case CTL_OUTCOME_CONNECTED:
		return flow_verdict(s->r, VERDICT_EXPOSED,
		                    "the edge connected to %s from %s, but not to the probe: "
		                    "something between let it out and answered",
		                    rec.target, rec.source);
	case CTL_OUTCOME_ERROR:
		return flow_verdict(s->r, VERDICT_FAILED, "the edge could not send it: %s",
		                    rec.detail);
	default:
		return flow_verdict(s->r, VERDICT_FAILED, "the edge's record says outcome '%s'",
		                    rec.outcome_word);
	}
}

static void strict_out(struct strict *s, struct probe_hub *hub)
{
	struct sockaddr_storage us;
	struct hub_slot *slot = NULL;
	struct hub_item it;
	char where[ADDR_STR_MAX], target[3 * ADDR_STR_MAX], path[300], loc[CTL_LOCATION_MAX];
	uint16_t port = s->sf->port ? s->o->strict_sip_port : s->o->client_tcp_port;
	int rc = flow_our_address(s->o, port, &us);
	if (!rc)
		rc = hub_expect(hub, SOCK_STREAM, (struct sockaddr *)&us, s->expect, &slot);
	addr_str((struct sockaddr *)&us, where, sizeof(where));
	if (rc)
		return flow_verdict(s->r, VERDICT_FAILED, "the probe cannot listen on %s: %s",
		                    where, strerror(rc));
	ctl_url_encode(where, target, sizeof(target));
	snprintf(path, sizeof(path), "/strict/tcp?target=%s&marker=%s", target, s->marker);
	if (!flow_trigger(s->o, path, s->deadline, s->r, loc, sizeof(loc)))
		return hub_done(slot);
	rc = hub_wait(slot, s->deadline, &it);
	hub_done(slot);
	if (rc)
		return strict_out_unseen(s, loc);
	close(it.fd);
	addr_str((struct sockaddr *)&it.from, where, sizeof(where));
	flow_verdict(s->r, VERDICT_EXPOSED,
	             "the edge connected from %s to our TCP %u with our marker", where, port);
}

void probe_strict(const struct probe_opts *o, size_t i, struct probe_result *r)
{
	struct strict s = {.o = o, .r = r, .sf = &strict_flows[i % PROBE_STRICT_FLOWS]};
	struct probe_hub *own = NULL;
	double start = flow_now();
	r->row = 0;
	r->flow = s.sf->name;
	s.deadline = start + o->timeout_ms / 1000.0;
	s.to = o->edge;
	addr_set_port((struct sockaddr *)&s.to, s.sf->port);
	addr_str((struct sockaddr *)&s.to, s.to_str, sizeof(s.to_str));
	int rc = flow_marker_new(s.marker, s.expect, sizeof(s.expect));
	if (!rc && o->control.kind == CTL_NONE)
		rc = EINVAL;
	if (!rc && s.sf->out && !o->hub)
		rc = hub_new(&own);
	if (rc)
		flow_verdict(r, VERDICT_FAILED, "%s",
		             rc == EINVAL
		                 ? "the strict mode needs the edge's control API (--control)"
		                 : strerror(rc));
	else if (s.sf->out)
		strict_out(&s, o->hub ? o->hub : own);
	else if (s.sf->type == SOCK_STREAM)
		strict_in_tcp(&s);
	else
		strict_in_udp(&s);
	hub_free(own);
	r->seconds = flow_now() - start;
}
