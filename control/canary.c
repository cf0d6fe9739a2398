/* GET /canary[?marker=TEXT][&wait=MS]: the hits of the strict mode's
 * canaries (canary/canary.h), text/plain, one line each, oldest first:
 *
 *   hit: ID PROTO PORT SRCIP:SRCPORT MS marker=TEXT|-
 *
 * marker: only the hits with that marker (TEXT as canary_marker_valid).
 * wait (0-10000 ms, more is taken as 10000): when no hit matches yet, the
 * request is held until one does or the wait is over (a long poll), then
 * answered the same way. At most MAX_HELD are held at once (beyond: 503); a
 * held request whose client goes away is dropped with its connection, and
 * so is every held request when the API stops. 400 for a bad marker or
 * wait. Without canaries: 200 with an empty body at once. */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include "canary/marker.h"
#include "control/api.h"
#include "core/addr.h"

#define WAIT_MAX_MS 10000
#define MAX_HELD    256

struct held;

struct canary_api {
	struct canary *canary;
	struct event_base *base;
	LIST_HEAD(, held) held;
	size_t n_held;
};

/* A request waiting for a hit with its marker. */
struct held {
	LIST_ENTRY(held) link;
	struct canary_api *api;
	struct evhttp_request *req;
	struct event *timer, *gone; /* the wait's end; the client's end */
	bool any;                   /* no marker: any hit will do */
	char marker[ROWS_MARKER_MAX + 1];
};

static const char *const proto_names[] = {"tcp", "udp"};

static void add_line(const struct canary_hit *hit, void *arg)
{
	char src[ADDR_STR_MAX];
	evbuffer_add_printf(arg, "hit: %llu %s %u %s %llu marker=%s\n", (unsigned long long)hit->id,
	                    proto_names[hit->proto], hit->port,
	                    addr_str((const struct sockaddr *)&hit->src, src, sizeof(src)),
	                    (unsigned long long)hit->ms, hit->marker[0] ? hit->marker : "-");
}

/* The answer: every hit kept that matches (all, without a marker). */
/* "listening: tcp 80 3478 ...", a line per protocol that has canaries: a
 * probe must know where a canary would have seen its flow, since an RST or
 * ICMP from a port without one may come from the edge itself. */
static void add_listening(const struct canary *c, struct evbuffer *body)
{
	static const char *const names[] = {[CANARY_TCP] = "tcp", [CANARY_UDP] = "udp"};
	for (int p = CANARY_TCP; p <= CANARY_UDP; p++) {
		const uint16_t *ports;
		size_t n = canary_ports(c, (enum canary_proto)p, &ports);
		if (!n)
			continue;
		evbuffer_add_printf(body, "listening: %s", names[p]);
		for (size_t i = 0; i < n; i++)
			evbuffer_add_printf(body, " %u", ports[i]);
		evbuffer_add(body, "\n", 1);
	}
}

static void answer(struct canary_api *a, struct evhttp_request *req, const char *marker)
{
	struct evbuffer *body = evbuffer_new();
	if (!body) {
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
		return;
	}
	add_listening(a->canary, body);
	canary_hits(a->canary, marker, add_line, body);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "text/plain");
	control_send(req, HTTP_OK, body);
	evbuffer_free(body);
}

static void held_free(struct held *h)
{
	LIST_REMOVE(h, link);
	h->api->n_held--;
	if (h->timer)
		event_free(h->timer);
	if (h->gone)
		event_free(h->gone);
	free(h);
}

static void held_answer(struct held *h)
{
	struct evhttp_request *req = h->req;
	struct canary_api *a = h->api;
	char marker[ROWS_MARKER_MAX + 1];
	bool any = h->any;
	memcpy(marker, h->marker, sizeof(marker));
	held_free(h);
	answer(a, req, any ? NULL : marker);
}

static void wait_over_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	held_answer(arg);
}

/* The connection is readable while its request waits: the client closed it
 * (or reset it), or sent more. Only a close ends the wait early: the
 * connection goes, and the request with it. */
static void gone_cb(evutil_socket_t fd, short what, void *arg)
{
	struct held *h = arg;
	char c;
	(void)what;
	ssize_t n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
	if (n > 0)
		return; /* more bytes (a pipelined request): the wait goes on */
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
		event_add(h->gone, NULL);
		return;
	}
	struct evhttp_connection *evcon = evhttp_request_get_connection(h->req);
	held_free(h);
	evhttp_connection_free(evcon);
}

static void on_hit(const struct canary_hit *hit, void *arg)
{
	struct canary_api *a = arg;
	struct held *h = LIST_FIRST(&a->held);
	while (h) {
		struct held *next = LIST_NEXT(h, link);
		if (h->any || strcmp(h->marker, hit->marker) == 0)
			held_answer(h);
		h = next;
	}
}

/* Holds req for ms; 0, or an errno (the caller answers at once). */
static int hold(struct canary_api *a, struct evhttp_request *req, const char *marker, unsigned ms)
{
	const struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct bufferevent *bev = evcon ? evhttp_connection_get_bufferevent(evcon) : NULL;
	evutil_socket_t fd = bev ? bufferevent_getfd(bev) : -1;
	if (a->n_held == MAX_HELD)
		return EBUSY;
	struct held *h = calloc(1, sizeof(*h));
	if (!h)
		return ENOMEM;
	h->api = a;
	h->req = req;
	h->any = marker == NULL;
	snprintf(h->marker, sizeof(h->marker), "%s", marker ? marker : "");
	LIST_INSERT_HEAD(&a->held, h, link);
	a->n_held++;
	h->timer = evtimer_new(a->base, wait_over_cb, h);
	h->gone = fd >= 0 ? event_new(a->base, fd, EV_READ, gone_cb, h) : NULL;
	if (!h->timer || !h->gone || evtimer_add(h->timer, &tv) || event_add(h->gone, NULL)) {
		held_free(h);
		return ENOMEM;
	}
	return 0;
}

/* marker and wait from the query; 0, or 400 with msg. */
static int parse_query(struct evhttp_request *req, char *marker, bool *any, unsigned *wait_ms,
                       char *msg, size_t msg_len)
{
	struct evkeyvalq q;
	const char *query = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
	int code = 0;
	if (evhttp_parse_query_str(query ? query : "", &q)) {
		snprintf(msg, msg_len, "bad query string\n");
		return 400;
	}
	const char *m = evhttp_find_header(&q, "marker");
	const char *w = evhttp_find_header(&q, "wait");
	*any = m == NULL;
	*wait_ms = 0;
	if (m && !canary_marker_valid(m)) {
		code = 400;
		snprintf(msg, msg_len, "marker must be 1-%d of A-Z a-z 0-9 . _ ~ -\n",
		         ROWS_MARKER_MAX);
	} else if (w && (!w[0] || strspn(w, "0123456789") != strlen(w))) {
		code = 400;
		snprintf(msg, msg_len, "wait must be milliseconds, 0-%d\n", WAIT_MAX_MS);
	} else {
		if (m)
			snprintf(marker, ROWS_MARKER_MAX + 1, "%s", m);
		/* Digits only: a long string is simply a long wait. */
		*wait_ms = !w ? 0 : strlen(w) > 5 ? WAIT_MAX_MS : (unsigned)strtoul(w, NULL, 10);
		if (*wait_ms > WAIT_MAX_MS)
			*wait_ms = WAIT_MAX_MS;
	}
	evhttp_clear_headers(&q);
	return code;
}

static void skip(const struct canary_hit *hit, void *arg)
{
	(void)hit;
	(void)arg;
}

static void canary_handler(struct evhttp_request *req, void *arg)
{
	struct canary_api *a = arg;
	char msg[100], marker[ROWS_MARKER_MAX + 1];
	bool any = true;
	unsigned wait_ms = 0;
	int code = parse_query(req, marker, &any, &wait_ms, msg, sizeof(msg));
	const char *filter = any ? NULL : marker;
	if (code) {
		control_reply_text(req, code, msg);
		return;
	}
	/* Nothing to wait for without canaries, or with a match already. */
	if (!a->canary || !wait_ms || canary_hits(a->canary, filter, skip, NULL)) {
		answer(a, req, filter);
		return;
	}
	int rc = hold(a, req, filter, wait_ms);
	if (rc)
		control_reply_text(req, 503,
		                   rc == EBUSY ? "too many requests waiting\n" : "out of memory\n");
}

static int canary_api_open(void **statep, const struct control_ctx *ctx, struct flows *flows)
{
	(void)flows; /* the canaries' hits are not triggered flows */
	struct canary_api *a = calloc(1, sizeof(*a));
	if (!a)
		return ENOMEM;
	a->canary = ctx->canary;
	a->base = ctx->base;
	LIST_INIT(&a->held);
	canary_set_observer(a->canary, on_hit, a);
	*statep = a;
	return 0;
}

/* Held requests are dropped: the loop that would send an answer has
 * stopped, and freeing the listeners next closes their connections. */
static void canary_api_stop(void *state)
{
	struct canary_api *a = state;
	canary_set_observer(a->canary, NULL, NULL);
	while (!LIST_EMPTY(&a->held))
		held_free(LIST_FIRST(&a->held));
}

static void canary_api_close(void *state)
{
	struct canary_api *a = state;
	canary_api_stop(a); /* nothing is held by now; the observer goes */
	free(a);
}

static const struct control_route routes[] = {
    {"/canary", EVHTTP_REQ_GET, canary_handler, "GET /canary[?marker=TEXT][&wait=MS]\n"},
    {NULL, 0, NULL, NULL},
};

const struct control_api control_api_canary = {
    .name = "canary",
    .routes = routes,
    .open = canary_api_open,
    .stop = canary_api_stop,
    .close = canary_api_close,
};
