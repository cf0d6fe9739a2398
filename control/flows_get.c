/* GET /flows/ID[?wait=MS]: how a triggered flow ended (control/flows.h),
 * as "key: value" lines, 200 text/plain; 404 for an id never given or
 * forgotten; 400 for an id or wait that is not a decimal number. wait
 * (clamped to FLOWS_WAIT_MAX_MS) holds the request while the record is
 * pending: it is answered when the flow ends or the wait is over. A held
 * request whose client goes away is dropped with its connection at once
 * (evhttp reads nothing while a request is held, so the socket is watched
 * here); when FLOWS_WAITERS_MAX are held, the pending record is the answer
 * at once. */
#include <errno.h>
#include <event2/bufferevent.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "control/api.h"

#define PREFIX "/flows/"

/* One held request. */
struct held {
	struct evhttp_request *req;
	struct evhttp_connection *evcon;
	struct flows_waiter *w;
	struct event *watch; /* the client's socket: its end */
};

static void held_free(struct held *h)
{
	if (h->watch)
		event_free(h->watch);
	free(h);
}

static void reply_record(struct evhttp_request *req, const struct flow_record *r)
{
	char text[FLOWS_TEXT_MAX];
	if (!r) {
		control_reply_text(req, HTTP_NOTFOUND, "no such flow (unknown, or forgotten)\n");
		return;
	}
	size_t n = flows_format(r, text, sizeof(text));
	control_reply(req, HTTP_OK, "text/plain", text, n);
}

/* The record ended, the wait is over, or the registry goes. */
static void wake_cb(const struct flow_record *r, void *arg)
{
	struct held *h = arg;
	/* The connection may live on (keep-alive) after this request. */
	evhttp_connection_set_closecb(h->evcon, NULL, NULL);
	reply_record(h->req, r);
	held_free(h);
}

/* The client went away (or the listener is being freed) first. A request
 * evhttp has detached from its connection is ours to free; one still
 * attached goes with the connection. */
static void close_cb(struct evhttp_connection *evcon, void *arg)
{
	(void)evcon;
	struct held *h = arg;
	flows_wait_cancel(h->w);
	if (!evhttp_request_get_connection(h->req))
		evhttp_request_free(h->req);
	held_free(h);
}

/* The held request's socket is readable: the client's end (EOF, an error)
 * drops the connection, and with it the request (close_cb); anything else
 * (a pipelined request) waits for the answer, unwatched. */
static void watch_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	struct held *h = arg;
	char c;
	ssize_t n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0)
		event_del(h->watch);
	else
		evhttp_connection_free(h->evcon);
}

/* A decimal number of 1-19 digits and nothing else; 0 or EINVAL. */
static int parse_u64(const char *s, unsigned long long *v)
{
	size_t n = strspn(s, "0123456789");
	if (n == 0 || n > 19 || s[n] != '\0')
		return EINVAL;
	*v = strtoull(s, NULL, 10);
	return 0;
}

/* The id from the path and the wait from the query; 0 or EINVAL. */
static int parse_request(struct evhttp_request *req, unsigned long long *id, unsigned *wait_ms)
{
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *query = evhttp_uri_get_query(uri);
	char *path = evhttp_uridecode(evhttp_uri_get_path(uri), 0, NULL);
	struct evkeyvalq q;
	unsigned long long ms = 0;
	int rc = path && strncmp(path, PREFIX, strlen(PREFIX)) == 0
	             ? parse_u64(path + strlen(PREFIX), id)
	             : EINVAL;
	free(path);
	if (rc || evhttp_parse_query_str(query ? query : "", &q))
		return EINVAL;
	const char *w = evhttp_find_header(&q, "wait");
	if (w && parse_u64(w, &ms))
		rc = EINVAL;
	evhttp_clear_headers(&q);
	*wait_ms = ms > FLOWS_WAIT_MAX_MS ? FLOWS_WAIT_MAX_MS : (unsigned)ms;
	return rc;
}

/* Holds req until record id ends; false when it cannot (answer now). */
static bool hold(struct flows *f, struct evhttp_request *req, uint64_t id, unsigned ms)
{
	struct held *h = calloc(1, sizeof(*h));
	if (!h)
		return false;
	h->req = req;
	h->evcon = evhttp_request_get_connection(req);
	struct bufferevent *bev = h->evcon ? evhttp_connection_get_bufferevent(h->evcon) : NULL;
	if (bev)
		h->watch = event_new(evhttp_connection_get_base(h->evcon), bufferevent_getfd(bev),
		                     EV_READ | EV_PERSIST, watch_cb, h);
	if (!h->watch || event_add(h->watch, NULL) || flows_wait(f, id, ms, wake_cb, h, &h->w)) {
		held_free(h);
		return false;
	}
	evhttp_connection_set_closecb(h->evcon, close_cb, h);
	return true;
}

static void flow_handler(struct evhttp_request *req, void *arg)
{
	struct flows *f = arg;
	unsigned long long id = 0;
	unsigned ms = 0;
	if (parse_request(req, &id, &ms)) {
		control_reply_text(req, HTTP_BADREQUEST,
		                   "GET /flows/ID[?wait=MS]: ID and MS are decimal numbers\n");
		return;
	}
	const struct flow_record *r = flows_find(f, id);
	if (r && r->outcome == FLOW_PENDING && ms && hold(f, req, id, ms))
		return;
	reply_record(req, r);
}

static int flows_open(void **statep, const struct control_ctx *ctx, struct flows *flows)
{
	(void)ctx;
	*statep = flows;
	return 0;
}

static const struct control_route routes[] = {
    {PREFIX, EVHTTP_REQ_GET, flow_handler, "GET /flows/ID[?wait=MS]\n"},
    {NULL, 0, NULL, NULL},
};

const struct control_api control_api_flows = {
    .name = "flows",
    .routes = routes,
    .open = flows_open,
};
