/* POST /rows/4, /rows/5 and /strict/tcp, the triggers of the outbound
 * media flows:
 *
 *   POST /rows/4?target=IP:PORT&marker=TEXT   RTP over TCP (RFC 4571 framing)
 *   POST /rows/5?target=IP[:PORT]&marker=TEXT[&dialect=rfc5389|msturn]
 *                                              a STUN Binding request over UDP
 *   POST /strict/tcp?target=IP:PORT&marker=TEXT
 *                                              "edgelab marker=TEXT\n" over TCP
 *
 * Rows 4 and 5 leave from a port of the relay pool (the edge's source ports
 * 50000-59999); strict-tcp from a port of STRICT_PORT_MIN..STRICT_PORT_MAX
 * outside the pool, which the firewall must not let out. Each carries
 * ROWS_MARKER_PREFIX TEXT ("edgelab marker=TEXT", core/rows.h): row 5 in
 * RFC 5389 (the default) in the request's SOFTWARE attribute, in MS-TURN
 * (dialect=msturn) in USERNAME; row 4 as the payload of each RTP packet
 * (control/payload.c). TEXT is 1-ROWS_MARKER_MAX (64) of A-Z a-z 0-9 . _ ~ -
 * (it travels in a URL). Row 5's port defaults to 3478. Answers, each with a
 * one-line text body: 202 sent (row 5) or connecting (TCP), naming the
 * source port, with "Location: /flows/ID", the flow's record
 * (control/flows.h); 400 a bad query (also a dialect other than rfc5389 or
 * msturn, or one on a TCP flow); 503 no port free, too many flows in flight
 * (ORIGINATE_MAX_FLOWS, all three together), or a socket error. How each
 * flow ended is logged and recorded. The transport is media/originate.c's. */
#include <errno.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/api.h"
#include "control/payload.h"
#include "core/addr.h"
#include "core/log.h"
#include "core/rows.h"
#include "media/originate.h"

#define WAIT_MS         3000 /* per flow: connect, answer, the client's close */
#define STRICT_PORT_MIN 32768
#define STRICT_PORT_MAX 49999

/* The handlers' state: the flows in flight and where they are recorded. */
struct rows_media {
	struct originator *orig;
	struct flows *flows;
	struct sockaddr_storage bind;
};

/* One flow's context, for its done handler. */
struct job {
	struct rows_media *rm;
	enum flow_kind kind;
	uint64_t flow_id;
	char target[ADDR_STR_MAX];
	uint8_t tid[STUN_TID_LEN]; /* row 5: to recognise the answer */
	enum stun_dialect dialect; /* row 5: what the request (and answer) speak */
};

/* Row 5's dialect=: rfc5389 (also when absent) or msturn; 0 or EINVAL. */
static int parse_dialect(const char *d, enum stun_dialect *dialect)
{
	if (!d || strcmp(d, stun_dialect_name(STUN_DIALECT_RFC5389)) == 0)
		*dialect = STUN_DIALECT_RFC5389;
	else if (strcmp(d, stun_dialect_name(STUN_DIALECT_MSTURN)) == 0)
		*dialect = STUN_DIALECT_MSTURN;
	else
		return EINVAL;
	return 0;
}

/* target, marker and (row 5) dialect from the query; 0, or 400 with msg. */
static int parse_query(struct evhttp_request *req, struct job *j, struct sockaddr_storage *target,
                       char *marker, char *msg, size_t msg_len)
{
	struct evkeyvalq q;
	const char *query = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
	bool row5 = j->kind == FLOW_ROW5;
	int code = 0;
	if (evhttp_parse_query_str(query ? query : "", &q)) {
		snprintf(msg, msg_len, "bad query string\n");
		return 400;
	}
	const char *t = evhttp_find_header(&q, "target");
	const char *m = evhttp_find_header(&q, "marker");
	const char *d = evhttp_find_header(&q, "dialect");
	/* TCP has no port of its own: the client says where it listens. */
	if (!t || addr_parse(t, row5 ? 3478 : 0, target) || !addr_port((struct sockaddr *)target)) {
		code = 400;
		snprintf(msg, msg_len, "target must be IP:PORT, e.g. target=192.0.2.10:%s\n",
		         row5 ? "3478" : "443");
	} else if (!m || !rows_marker_valid(m)) {
		code = 400;
		snprintf(msg, msg_len, "marker must be 1-%d of A-Z a-z 0-9 . _ ~ -\n",
		         ROWS_MARKER_MAX);
	} else if ((d && !row5) || parse_dialect(d, &j->dialect)) {
		/* Row 4 is RTP: a dialect there is a mistake worth saying. */
		code = 400;
		snprintf(msg, msg_len, "%s\n",
		         row5 ? "dialect must be rfc5389 (the default) or msturn"
		              : "only row 5 has a dialect");
	} else {
		snprintf(marker, ROWS_MARKER_MAX + 1, "%s", m);
	}
	evhttp_clear_headers(&q);
	return code;
}

/* The flow's name in the log: the STUN dialect is part of it for row 5. */
static const char *flow_name(const struct job *j)
{
	if (j->kind == FLOW_ROW4)
		return "RTP/TCP";
	if (j->kind == FLOW_STRICT_TCP)
		return "TCP";
	return j->dialect == STUN_DIALECT_MSTURN ? "MS-TURN/UDP" : "STUN/UDP";
}

/* The log's words for a TCP flow's end. */
static void tcp_log(const struct job *j, const struct originate_result *res, char *out, size_t cap)
{
	if (res->err == ETIMEDOUT)
		snprintf(out, cap, "%s in %.1f s",
		         res->connected ? "connected, but could not send" : "no connection",
		         WAIT_MS / 1000.0);
	else if (res->err)
		snprintf(out, cap, "%s", strerror(res->err));
	else if (j->kind == FLOW_STRICT_TCP)
		snprintf(out, cap, "marker sent; the client %s",
		         res->peer_closed ? "closed" : "did not close in time");
	else
		snprintf(out, cap, "%d RTP packets sent; the client %s", PAYLOAD_RTP_PACKETS,
		         res->peer_closed ? "closed" : "did not close in time");
}

/* The record of a TCP flow's end (rows 4 and strict-tcp). */
static void tcp_record(const struct job *j, const struct originate_result *res,
                       struct flow_record *r)
{
	char what[ADDR_STR_MAX + 16];
	snprintf(what, sizeof(what), "SYN to %s", j->target);
	if (res->icmp)
		flows_set_icmp(r, what, &res->icmp_err);
	else if (res->err == ECONNREFUSED)
		flows_set(r, FLOW_RESET, "the edge's SYN to %s was answered with RST", j->target);
	else if (res->err == ETIMEDOUT && !res->connected)
		flows_set(r, FLOW_TIMEOUT, "no SYN-ACK from %s in %.1f s", j->target,
		          WAIT_MS / 1000.0);
	else if (res->err == ETIMEDOUT)
		flows_set(r, FLOW_TIMEOUT, "connected to %s, but the bytes were not sent in %.1f s",
		          j->target, WAIT_MS / 1000.0);
	else if (res->err == ECONNRESET && res->connected)
		flows_set(r, FLOW_RESET, "connected to %s, then reset before the bytes were sent",
		          j->target);
	else if (res->err)
		flows_set(r, FLOW_ERROR, "%s: %s", j->target, strerror(res->err));
	else
		flows_set(r, FLOW_CONNECTED, "the edge connected to %s and sent %s; the client %s",
		          j->target, j->kind == FLOW_ROW4 ? "3 RTP packets" : "its marker line",
		          res->peer_closed ? "closed" : "did not close in time");
}

/* The record of row 5's end; answer: what the answer said. */
static void udp_record(const struct job *j, const struct originate_result *res, const char *answer,
                       struct flow_record *r)
{
	char what[ADDR_STR_MAX + 24];
	snprintf(what, sizeof(what), "STUN request to %s", j->target);
	if (res->icmp)
		flows_set_icmp(r, what, &res->icmp_err);
	else if (res->err == ETIMEDOUT)
		flows_set(r, FLOW_TIMEOUT,
		          "the edge's STUN request to %s was sent; no answer in %.1f s", j->target,
		          WAIT_MS / 1000.0);
	else if (res->err)
		flows_set(r, FLOW_ERROR, "%s: %s", j->target, strerror(res->err));
	else
		flows_set(r, FLOW_ANSWERED, "the edge's STUN request to %s was %s", j->target,
		          answer);
}

static void record_end(const struct job *j, const struct originate_result *res, const char *answer)
{
	struct flow_record *r = flows_find(j->rm->flows, j->flow_id);
	if (!r)
		return; /* forgotten already */
	if (res->local.ss_family != AF_UNSPEC)
		addr_str((const struct sockaddr *)&res->local, r->source, sizeof(r->source));
	if (res->err == ECANCELED)
		flows_set(r, FLOW_CANCELLED, "the edge shut down first");
	else if (j->kind == FLOW_ROW5)
		udp_record(j, res, answer, r);
	else
		tcp_record(j, res, r);
	flows_ended(j->rm->flows, r);
}

static void job_done(const struct originate_result *res, void *arg)
{
	struct job *j = arg;
	char what[200] = "";
	if (res->err == ECANCELED) {
		snprintf(what, sizeof(what), "cancelled (shutting down)");
	} else if (j->kind != FLOW_ROW5) {
		tcp_log(j, res, what, sizeof(what));
	} else if (res->err == ETIMEDOUT) {
		snprintf(what, sizeof(what), "sent; no answer in %.1f s", WAIT_MS / 1000.0);
	} else if (res->err) {
		snprintf(what, sizeof(what), "sent; then %s",
		         res->err == ECONNREFUSED ? "ICMP port unreachable" : strerror(res->err));
	} else {
		payload_stun_answer(j->tid, j->dialect, res->reply, res->reply_len, what,
		                    sizeof(what));
	}
	if (j->kind == FLOW_STRICT_TCP)
		log_info("strict: TCP from port %u to %s: %s", res->port, j->target, what);
	else
		log_info("row %d: %s from port %u to %s: %s", j->kind == FLOW_ROW4 ? 4 : 5,
		         flow_name(j), res->port, j->target, what);
	record_end(j, res, what);
	free(j);
}

/* The flow's bytes and its start; 0 with *port, or an errno. */
static int originate(struct job *j, const struct sockaddr_storage *target, const char *marker,
                     uint16_t *port)
{
	struct originator *o = j->rm->orig;
	uint8_t buf[ORIGINATE_MAX_DATA];
	size_t len = 0;
	int rc;
	switch (j->kind) {
	case FLOW_ROW5:
		rc = payload_stun_request(marker, j->dialect, j->tid, buf, sizeof(buf), &len);
		return rc ? rc : originate_udp(o, target, buf, len, job_done, j, port);
	case FLOW_ROW4:
		rc = payload_rtp_stream(marker, buf, sizeof(buf), &len);
		return rc ? rc : originate_tcp(o, target, buf, len, job_done, j, port);
	default:
		rc = payload_marker_line(marker, buf, sizeof(buf), &len);
		return rc ? rc
		          : originate_tcp_range(o, target, buf, len, STRICT_PORT_MIN,
		                                STRICT_PORT_MAX, job_done, j, port);
	}
}

/* A new pending record for the flow just started from port. */
static void record_start(struct job *j, uint16_t port)
{
	struct flow_record *r = flows_add(j->rm->flows, j->kind);
	struct sockaddr_storage src = j->rm->bind;
	j->flow_id = r->id;
	snprintf(r->target, sizeof(r->target), "%s", j->target);
	if (j->kind == FLOW_ROW5)
		snprintf(r->dialect, sizeof(r->dialect), "%s", stun_dialect_name(j->dialect));
	/* Until it ends, the source as bound (the end has getsockname's). */
	addr_set_port((struct sockaddr *)&src, port);
	addr_str((const struct sockaddr *)&src, r->source, sizeof(r->source));
}

/* Starts the flow; 202, or 400/503 with msg. */
static int start_flow(struct job *j, const struct sockaddr_storage *target, const char *marker,
                      char *msg, size_t msg_len)
{
	uint16_t port = 0;
	int rc = originate(j, target, marker, &port);
	if (!rc) {
		record_start(j, port);
		snprintf(msg, msg_len, "%s %s from port %u\n",
		         j->kind == FLOW_ROW4                ? "RTP/TCP connecting to"
		         : j->kind == FLOW_STRICT_TCP        ? "TCP connecting to"
		         : j->dialect == STUN_DIALECT_MSTURN ? "MS-TURN Binding request sent to"
		                                             : "STUN Binding request sent to",
		         j->target, port);
		return 202;
	}
	snprintf(msg, msg_len, "%s\n",
	         rc == ENOSPC                                     ? "no relay port free"
	         : rc == EADDRINUSE && j->kind == FLOW_STRICT_TCP ? "no source port free"
	         : rc == EBUSY                                    ? "too many flows in flight"
	                                                          : strerror(rc));
	return rc == EAFNOSUPPORT || rc == EINVAL ? 400 : 503;
}

/* A POST (the server saw to that) for one of the flows. */
static void rows_media_handle(struct rows_media *rm, struct evhttp_request *req,
                              enum flow_kind kind, const char *path)
{
	char msg[200], marker[ROWS_MARKER_MAX + 1], loc[48];
	struct sockaddr_storage target;
	struct job *j = calloc(1, sizeof(*j));
	int code = 503;
	snprintf(msg, sizeof(msg), "out of memory\n");
	if (j) {
		*j = (struct job){.rm = rm, .kind = kind, .dialect = STUN_DIALECT_RFC5389};
		code = parse_query(req, j, &target, marker, msg, sizeof(msg));
	}
	if (j && !code) {
		addr_str((struct sockaddr *)&target, j->target, sizeof(j->target));
		code = start_flow(j, &target, marker, msg, sizeof(msg));
	}
	if (code == 202) {
		snprintf(loc, sizeof(loc), "/flows/%llu", (unsigned long long)j->flow_id);
		evhttp_add_header(evhttp_request_get_output_headers(req), "Location", loc);
	} else {
		free(j); /* the flow did not start: its handler will not run */
	}
	log_info("control: POST %s: %d %.*s", path, code, (int)strcspn(msg, "\n"), msg);
	control_reply_text(req, code, msg);
}

static void row4_handler(struct evhttp_request *req, void *arg)
{
	rows_media_handle(arg, req, FLOW_ROW4, "/rows/4");
}

static void row5_handler(struct evhttp_request *req, void *arg)
{
	rows_media_handle(arg, req, FLOW_ROW5, "/rows/5");
}

static void strict_tcp_handler(struct evhttp_request *req, void *arg)
{
	rows_media_handle(arg, req, FLOW_STRICT_TCP, "/strict/tcp");
}

static int rows_media_open(void **statep, const struct control_ctx *ctx, struct flows *flows)
{
	struct rows_media *rm = calloc(1, sizeof(*rm));
	if (!rm)
		return ENOMEM;
	rm->flows = flows;
	addr_unmap((const struct sockaddr *)&ctx->bind_addr, &rm->bind);
	int rc = originator_alloc(&rm->orig, ctx->base, ctx->pool, &ctx->bind_addr, WAIT_MS);
	if (rc) {
		free(rm);
		return rc;
	}
	*statep = rm;
	return 0;
}

/* Each flow in flight ends with ECANCELED, logged and recorded by job_done. */
static void rows_media_close(void *state)
{
	struct rows_media *rm = state;
	originator_free(rm->orig);
	free(rm);
}

static const struct control_route routes[] = {
    {"/rows/4", EVHTTP_REQ_POST, row4_handler, "POST /rows/4?target=IP:PORT&marker=TEXT\n"},
    {"/rows/5", EVHTTP_REQ_POST, row5_handler,
     "POST /rows/5?target=IP:PORT&marker=TEXT[&dialect=rfc5389|msturn]\n"},
    {"/strict/tcp", EVHTTP_REQ_POST, strict_tcp_handler,
     "POST /strict/tcp?target=IP:PORT&marker=TEXT\n"},
    {NULL, 0, NULL, NULL},
};

const struct control_api control_api_rows_media = {
    .name = "rows_media",
    .routes = routes,
    .open = rows_media_open,
    .close = rows_media_close,
};
