/* fuzz_control: the control API's request path (control/server.c dispatch,
 * control/admit.c admission and trigger rate) on a real control server,
 * and the bearer token's parsers (control/auth.c) and the rate table
 * (control/ratelimit.c) as pure functions.
 *
 * The input's first byte picks a listener, the rest is what a client
 * writes: an HTTP request (request line, query, headers, Authorization,
 * body) or anything else. The server listens on two unix sockets in a
 * temporary directory (libevent 2.1 cannot take an already connected
 * socket into evhttp): one as the edge's unix socket (every client is
 * "unix") and one with CONTROL_LISTEN_CREDENTIALS, admitting as HTTPS does
 * (no TLS, so no certificates: the token). Each input connects, writes,
 * shuts its side down and runs the loop until the server closes (at most
 * 2 s). Nothing goes to the network: the routes' handlers only parse (the
 * query as the triggers do, the Authorization header), they send nothing.
 *
 * Invariants: what comes back is an HTTP response; on the listener
 * with credentials a handler runs only for GET /healthz or with the good
 * token (no refused request reaches a handler); the parsers' results lie
 * inside their input and within their bounds; a token equals itself and
 * not a changed copy. */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/queue.h>
#include <sys/un.h>
#include <unistd.h>

#include "control/auth.h"
#include "control/ratelimit.h"
#include "control/server.h"
#include "core/log.h"
#include "tests/fuzz/fuzz.h"

#define TOKEN  "fuzz-token-0123456789"
#define WAIT_S 2

static struct event_base *base;
static struct control_server *srv;
static char dir[64];
static char paths[2][96]; /* [0] the plain unix socket, [1] with credentials */
static struct control_token good;

/* The input being served: which listener, and what came back. */
static struct {
	bool credentials;
	bool done;
	int handler_calls;
	size_t answer_len;
	char answer[16];
} cur;

/* Whether req carries the good token (as admission decides it). */
static bool has_good_token(struct evhttp_request *req)
{
	const char *value =
	    evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization");
	const char *tok;
	size_t len;
	return value && control_bearer_parse(value, &tok, &len) == 0 &&
	       control_token_equal(&good, tok, len);
}

/* Every route's handler: checks that admission let only the right requests
 * through, then parses the query the way the triggers do. */
static void parse_handler(struct evhttp_request *req, void *arg)
{
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = evhttp_uri_get_path(uri);
	const char *query = evhttp_uri_get_query(uri);
	struct evkeyvalq q;
	(void)arg;
	cur.handler_calls++;
	if (cur.credentials) {
		/* The server matches the decoded path: "/health%7a" is /healthz. */
		char *decoded = evhttp_uridecode(path ? path : "", 0, NULL);
		bool healthz = evhttp_request_get_command(req) == EVHTTP_REQ_GET && decoded &&
		               strcmp(decoded, "/healthz") == 0;
		free(decoded);
		FUZZ_CHECK(healthz || has_good_token(req));
	}
	if (evhttp_parse_query_str(query ? query : "", &q) == 0) {
		struct evkeyval *kv;
		TAILQ_FOREACH(kv, &q, next)
		FUZZ_CHECK(kv->key && kv->value);
		evhttp_clear_headers(&q);
	}
	control_reply_text(req, 200, "parsed\n");
}

/* The edge's routes, by path and methods; none does what the edge's does. */
static const struct control_route routes[] = {
    {"/healthz", EVHTTP_REQ_GET | EVHTTP_REQ_POST, parse_handler, "GET /healthz\n"},
    {"/metrics", EVHTTP_REQ_GET | EVHTTP_REQ_POST, parse_handler, "GET /metrics\n"},
    {"/rows/2", EVHTTP_REQ_POST, parse_handler, "POST /rows/2[?partner=DOMAIN]\n"},
    {"/rows/4", EVHTTP_REQ_POST, parse_handler, "POST /rows/4?target=IP:PORT&marker=TEXT\n"},
    {"/rows/5", EVHTTP_REQ_POST, parse_handler, "POST /rows/5?target=IP[:PORT]&marker=TEXT\n"},
    {"/strict/tcp", EVHTTP_REQ_POST, parse_handler, "POST /strict/tcp?target=IP:PORT\n"},
    {"/flows", EVHTTP_REQ_GET, parse_handler, "GET /flows/ID[?wait=MS]\n"},
    {"/canary", EVHTTP_REQ_GET, parse_handler, "GET /canary[?marker=TEXT][&wait=MS]\n"},
    {NULL, 0, NULL, NULL},
};

static void cleanup(void)
{
	control_server_free(srv);
	event_base_free(base);
	rmdir(dir);
}

static void fuzz_init(void)
{
	char err[256];
	struct control_access a = {.trigger_rate = 20, .max_connections = 32, .n_clients = 1};
	const char *why;
	log_set_level(LOG_LVL_ERROR); /* refusals are warnings: a line each */
	snprintf(dir, sizeof(dir), "/tmp/fuzz_control.XXXXXX");
	FUZZ_CHECK(mkdtemp(dir));
	snprintf(paths[0], sizeof(paths[0]), "%s/plain.sock", dir);
	snprintf(paths[1], sizeof(paths[1]), "%s/credentials.sock", dir);
	FUZZ_CHECK(control_token_parse(TOKEN, strlen(TOKEN), &good, &why) == 0);
	snprintf(a.clients[0], sizeof(a.clients[0]), "probe.lab");
	a.token = good;
	base = event_base_new();
	FUZZ_CHECK(base && control_server_alloc(&srv, base, NULL) == 0);
	control_server_set_access(srv, &a);
	FUZZ_CHECK(control_server_add(srv, routes, NULL) == 0);
	FUZZ_CHECK(control_server_listen_unix(srv, paths[0], 0, err, sizeof(err)) == 0);
	FUZZ_CHECK(control_server_listen_unix(srv, paths[1], CONTROL_LISTEN_CREDENTIALS, err,
	                                      sizeof(err)) == 0);
	atexit(cleanup);
}

static void client_read(struct bufferevent *bev, void *arg)
{
	struct evbuffer *in = bufferevent_get_input(bev);
	(void)arg;
	while (evbuffer_get_length(in) > 0) {
		char buf[4096];
		int n = evbuffer_remove(in, buf, sizeof(buf));
		if (n <= 0)
			break;
		size_t keep = sizeof(cur.answer) - cur.answer_len;
		memcpy(cur.answer + cur.answer_len, buf, (size_t)n < keep ? (size_t)n : keep);
		cur.answer_len += (size_t)n < keep ? (size_t)n : keep;
	}
}

/* Everything written: half-close, so that the server sees the end. */
static void client_write(struct bufferevent *bev, void *arg)
{
	(void)arg;
	if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		shutdown(bufferevent_getfd(bev), SHUT_WR);
}

static void client_event(struct bufferevent *bev, short what, void *arg)
{
	(void)arg;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
		client_read(bev, NULL);
		cur.done = true;
		event_base_loopbreak(base);
	}
}

static void give_up(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	event_base_loopbreak(base);
}

/* One connection to the chosen socket, carrying data. */
static void serve_one(const uint8_t *data, size_t size)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", paths[cur.credentials]);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	FUZZ_CHECK(fd >= 0 && connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0);
	FUZZ_CHECK(evutil_make_socket_nonblocking(fd) == 0);
	struct bufferevent *bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
	FUZZ_CHECK(bev);
	bufferevent_setcb(bev, client_read, client_write, client_event, NULL);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
	if (size)
		bufferevent_write(bev, data, size);
	else
		shutdown(fd, SHUT_WR);
	struct timeval limit = {.tv_sec = WAIT_S};
	struct event *timer = evtimer_new(base, give_up, NULL);
	FUZZ_CHECK(timer && evtimer_add(timer, &limit) == 0);
	event_base_dispatch(base);
	event_free(timer);
	bufferevent_free(bev);
	/* Let the server end its side of the connection before the next. */
	event_base_loop(base, EVLOOP_NONBLOCK);
	/* evhttp answers in the request's version, HTTP/0.1 included. */
	size_t n = cur.answer_len < 5 ? cur.answer_len : 5;
	FUZZ_CHECK(memcmp(cur.answer, "HTTP/", n) == 0);
}

/* The parsers as pure functions over the same bytes. */
static void fuzz_parsers(const uint8_t *data, size_t size)
{
	struct control_token t;
	const char *why = NULL;
	if (control_token_parse((const char *)data, size, &t, &why) == 0) {
		FUZZ_CHECK(t.len >= CONTROL_TOKEN_MIN && t.len <= CONTROL_TOKEN_MAX);
		FUZZ_CHECK(memcmp(t.text, data, t.len) == 0 && t.text[t.len] == '\0');
		FUZZ_CHECK(control_token_equal(&t, t.text, t.len));
		FUZZ_CHECK(!control_token_equal(&t, t.text, t.len - 1));
	} else {
		FUZZ_CHECK(why && *why);
	}
	char *value = malloc(size + 1);
	FUZZ_CHECK(value);
	memcpy(value, data, size);
	value[size] = '\0';
	const char *tok;
	size_t len;
	if (control_bearer_parse(value, &tok, &len) == 0) {
		FUZZ_CHECK(len >= 1 && len <= CONTROL_TOKEN_MAX);
		FUZZ_CHECK(tok > value && tok + len <= value + strlen(value));
		FUZZ_CHECK(strncasecmp(value, "Bearer ", 7) == 0);
		FUZZ_CHECK(control_token_equal(&good, tok, len) ==
		           (len == strlen(TOKEN) && memcmp(tok, TOKEN, len) == 0));
	}
	/* The rate table: clients from the input, time always forward. */
	static struct control_ratelimit rl;
	static uint64_t now;
	for (size_t i = 0; i + 1 < size && i < 64; i += 2) {
		char client[2] = {(char)(data[i] % 80 + '0'), '\0'};
		now += data[i + 1];
		control_rate_take(&rl, client, 1 + data[i + 1] % 4, now);
		FUZZ_CHECK(rl.n <= CONTROL_RATE_CLIENTS);
	}
	free(value);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!base)
		fuzz_init();
	fuzz_parsers(data, size);
	memset(&cur, 0, sizeof(cur));
	cur.credentials = size > 0 && (data[0] & 1);
	if (size > 0) {
		data++;
		size--;
	}
	serve_one(data, size);
	return 0;
}
