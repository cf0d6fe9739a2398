/* control/: the control API's server on a temporary unix socket, driven by
 * a real event loop (each request bounded by a timeout): dispatch by table,
 * 404, 405 with Allow, the socket file's life; admission with credentials
 * (the token; certificates are tests/cli/test_control_https.sh's) and the
 * trigger rate, refusals counted; control_open serving the edge's own
 * tables; and the pure pieces: the token file's and Authorization header's
 * parsers, the constant-time comparison, the rate table. */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "control/auth.h"
#include "control/control.h"
#include "control/metrics.h"
#include "control/ratelimit.h"
#include "control/server.h"
#include "core/addr.h"

#define TIMEOUT_S 3

struct fix {
	struct event_base *base;
	struct control_server *srv;
	char dir[64];   /* the temporary directory */
	char sub[80];   /* dir/sub: made by the server */
	char path[100]; /* dir/sub/control.sock */
	/* the test handler's calls */
	int calls;
	void *arg_seen;
	/* the last answer */
	bool done;
	int status;
	char allow[64];
	char head[1024]; /* the status line and headers */
	char body[512];
	struct evbuffer *in;
};

static struct fix *the_fix; /* the test handler counts its calls here */
static int the_arg;         /* what the test table's handlers get */

static int setup(void **state)
{
	static struct fix f;
	memset(&f, 0, sizeof(f));
	snprintf(f.dir, sizeof(f.dir), "/tmp/test_control.XXXXXX");
	assert_non_null(mkdtemp(f.dir));
	snprintf(f.sub, sizeof(f.sub), "%s/sub", f.dir);
	snprintf(f.path, sizeof(f.path), "%s/control.sock", f.sub);
	f.base = event_base_new();
	assert_non_null(f.base);
	assert_int_equal(control_server_alloc(&f.srv, f.base, NULL), 0);
	the_fix = &f;
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;
	control_server_free(f->srv);
	event_base_free(f->base);
	unlink(f->path);
	rmdir(f->sub);
	rmdir(f->dir);
	return 0;
}

static void hello_handler(struct evhttp_request *req, void *arg)
{
	the_fix->calls++;
	the_fix->arg_seen = arg;
	control_reply_text(req, 200, "hello\n");
}

static const struct control_route test_routes[] = {
    {"/t", EVHTTP_REQ_GET, hello_handler, "GET /t\n"},
    {"/p", EVHTTP_REQ_POST, hello_handler, "POST /p?x=Y\n"},
    {NULL, 0, NULL, NULL},
};

/* The status line, the Allow header and the body of what came back. */
static void parse_answer(struct fix *f)
{
	size_t len = evbuffer_get_length(f->in);
	char *text = calloc(1, len + 1);
	assert_non_null(text);
	evbuffer_remove(f->in, text, len);
	assert_int_equal(strncmp(text, "HTTP/1.", 7), 0);
	f->status = (int)strtol(text + 9, NULL, 10); /* "HTTP/1.x NNN" */
	const char *a = strstr(text, "\r\nAllow: ");
	if (a)
		snprintf(f->allow, sizeof(f->allow), "%.*s", (int)strcspn(a + 9, "\r"), a + 9);
	const char *b = strstr(text, "\r\n\r\n");
	assert_non_null(b);
	snprintf(f->head, sizeof(f->head), "%.*s", (int)(b - text), text);
	snprintf(f->body, sizeof(f->body), "%s", b + 4);
	free(text);
}

static void client_read_cb(struct bufferevent *bev, void *arg)
{
	struct fix *f = arg;
	evbuffer_add_buffer(f->in, bufferevent_get_input(bev));
}

/* HTTP/1.0: the server closes once it has answered. */
static void client_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct fix *f = arg;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
		evbuffer_add_buffer(f->in, bufferevent_get_input(bev));
		f->done = true;
		event_base_loopbreak(f->base);
	}
}

/* A connected socket, or -errno. */
static int connect_unix(const char *path)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun))) {
		int err = errno;
		close(fd);
		return -err;
	}
	return fd;
}

/* Sends METHOD TARGET with extra header lines (each ending "\r\n") on the
 * socket and runs the loop until the answer is whole, or fails after
 * TIMEOUT_S. */
static void request_h(struct fix *f, const char *method, const char *target, const char *headers)
{
	struct timeval limit = {.tv_sec = TIMEOUT_S};
	int fd = connect_unix(f->path);
	assert_true(fd >= 0);
	evutil_make_socket_nonblocking(fd);
	struct bufferevent *bev = bufferevent_socket_new(f->base, fd, BEV_OPT_CLOSE_ON_FREE);
	assert_non_null(bev);
	f->in = evbuffer_new();
	assert_non_null(f->in);
	f->done = false;
	f->status = 0;
	f->allow[0] = f->head[0] = f->body[0] = '\0';
	bufferevent_setcb(bev, client_read_cb, NULL, client_event_cb, f);
	bufferevent_enable(bev, EV_READ);
	evbuffer_add_printf(bufferevent_get_output(bev),
	                    "%s %s HTTP/1.0\r\nHost: t\r\n%sContent-Length: 0\r\n\r\n", method,
	                    target, headers);
	event_base_loopexit(f->base, &limit);
	event_base_dispatch(f->base);
	bufferevent_free(bev);
	assert_true(f->done); /* else the timeout ended the loop */
	parse_answer(f);
	evbuffer_free(f->in);
	f->in = NULL;
}

static void request(struct fix *f, const char *method, const char *target)
{
	request_h(f, method, target, "");
}

static void listen_with_table(struct fix *f)
{
	char err[200];
	assert_int_equal(control_server_add(f->srv, test_routes, &the_arg), 0);
	assert_int_equal(control_server_listen_unix(f->srv, f->path, 0, err, sizeof(err)), 0);
}

static void test_control_handler_called(void **state)
{
	struct fix *f = *state;
	struct stat st;
	listen_with_table(f);
	/* The directory was made private, the socket group-writable. */
	assert_int_equal(stat(f->sub, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0660);
	request(f, "GET", "/t");
	assert_int_equal(f->status, 200);
	assert_string_equal(f->body, "hello\n");
	assert_int_equal(f->calls, 1);
	assert_ptr_equal(f->arg_seen, &the_arg);
	/* The query is not part of the path; the path is percent-decoded. */
	request(f, "GET", "/t?x=1");
	assert_int_equal(f->status, 200);
	request(f, "POST", "/%70");
	assert_int_equal(f->status, 200);
	assert_int_equal(f->calls, 3);
}

static void test_control_unknown_path_404(void **state)
{
	struct fix *f = *state;
	listen_with_table(f);
	request(f, "GET", "/nope");
	assert_int_equal(f->status, 404);
	assert_string_equal(f->body, "not found\n");
	request(f, "POST", "/t/");
	assert_int_equal(f->status, 404);
	assert_int_equal(f->calls, 0);
}

static void test_control_wrong_method_405(void **state)
{
	struct fix *f = *state;
	listen_with_table(f);
	request(f, "POST", "/t");
	assert_int_equal(f->status, 405);
	assert_string_equal(f->allow, "GET");
	assert_string_equal(f->body, "GET /t\n");
	request(f, "GET", "/p?x=1");
	assert_int_equal(f->status, 405);
	assert_string_equal(f->allow, "POST");
	assert_string_equal(f->body, "POST /p?x=Y\n");
	assert_int_equal(f->calls, 0);
	/* No route allows PUT: evhttp refuses it before dispatch. */
	request(f, "PUT", "/t");
	assert_int_equal(f->status, 501);
	assert_int_equal(f->calls, 0);
}

static void test_control_table_checked(void **state)
{
	struct fix *f = *state;
	static const struct control_route dup[] = {
	    {"/x", EVHTTP_REQ_GET, hello_handler, "GET /x\n"},
	    {"/x", EVHTTP_REQ_POST, hello_handler, "POST /x\n"},
	    {NULL, 0, NULL, NULL},
	};
	static const struct control_route put[] = {
	    {"/y", EVHTTP_REQ_PUT, hello_handler, "PUT /y\n"},
	    {NULL, 0, NULL, NULL},
	};
	static const struct control_route no_usage[] = {
	    {"/z", EVHTTP_REQ_GET, hello_handler, NULL},
	    {NULL, 0, NULL, NULL},
	};
	assert_int_equal(control_server_add(f->srv, test_routes, NULL), 0);
	assert_int_equal(control_server_add(f->srv, test_routes, NULL), EEXIST);
	assert_int_equal(control_server_add(f->srv, dup, NULL), EEXIST);
	assert_int_equal(control_server_add(f->srv, put, NULL), EINVAL);
	assert_int_equal(control_server_add(f->srv, no_usage, NULL), EINVAL);
}

static void test_control_stale_socket_replaced(void **state)
{
	struct fix *f = *state;
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", f->path);
	/* A socket file nobody listens on, as a crash leaves it. */
	assert_int_equal(mkdir(f->sub, 0700), 0);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	close(fd);
	assert_int_equal(connect_unix(f->path), -ECONNREFUSED);
	listen_with_table(f);
	request(f, "GET", "/t");
	assert_int_equal(f->status, 200);
	assert_int_equal(f->calls, 1);
	/* Closing removes the file. */
	control_server_free(f->srv);
	f->srv = NULL;
	assert_int_equal(access(f->path, F_OK), -1);
}

static void test_control_socket_in_use(void **state)
{
	struct fix *f = *state;
	char err[200] = "";
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", f->path);
	assert_int_equal(mkdir(f->sub, 0700), 0);
	int other = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(other >= 0);
	assert_int_equal(bind(other, (struct sockaddr *)&sun, sizeof(sun)), 0);
	assert_int_equal(listen(other, 4), 0);
	assert_int_equal(control_server_listen_unix(f->srv, f->path, 0, err, sizeof(err)),
	                 EADDRINUSE);
	assert_non_null(strstr(err, "control socket "));
	assert_non_null(strstr(err, "Address already in use"));
	/* The other server's socket is left alone, even once we are gone. */
	control_server_free(f->srv);
	f->srv = NULL;
	int fd = connect_unix(f->path);
	assert_true(fd >= 0);
	close(fd);
	close(other);
}

/* control_open: the edge's tables, registered in one place, on one socket. */
static void test_control_open_serves_the_tables(void **state)
{
	struct fix *f = *state;
	struct control *c = NULL;
	struct conf *conf;
	struct port_pool *pool;
	char err[200];
	assert_int_equal(conf_defaults(&conf), 0);
	assert_int_equal(port_pool_alloc(&pool, 46000, 46099), 0);
	struct control_ctx ctx = {.base = f->base, .conf = conf, .pool = pool};
	assert_int_equal(addr_parse("127.0.0.1", 0, &ctx.bind_addr), 0);
	assert_int_equal(control_open(&c, &ctx, f->path, err, sizeof(err)), 0);
	conf_unref(conf); /* the control API holds its own */
	request(f, "GET", "/healthz");
	assert_int_equal(f->status, 200);
	assert_string_equal(f->body, "ok\n");
	request(f, "GET", "/rows/4");
	assert_int_equal(f->status, 405);
	assert_string_equal(f->allow, "POST");
	assert_string_equal(f->body, "POST /rows/4?target=IP:PORT&marker=TEXT\n");
	request(f, "POST", "/rows/2");
	assert_int_equal(f->status, 503);
	assert_string_equal(f->body, "SIP is off (no certificates)\n");
	request(f, "POST", "/rows/5?marker=abc");
	assert_int_equal(f->status, 400);
	request(f, "GET", "/rows/6");
	assert_int_equal(f->status, 404);
	/* A second API on the same path is refused, the first left whole. */
	struct control *c2 = NULL;
	assert_int_equal(control_open(&c2, &ctx, f->path, err, sizeof(err)), EADDRINUSE);
	assert_null(c2);
	request(f, "GET", "/healthz");
	assert_int_equal(f->status, 200);
	control_close(c);
	assert_int_equal(access(f->path, F_OK), -1);
	port_pool_free(pool);
}

/* A listener with credentials (the HTTPS admission without TLS): the token
 * or nothing; a refused request reaches no handler and is counted; a
 * trigger (a POST-only route) takes from its client's bucket. */
static void test_control_credentials_and_rate(void **state)
{
	struct fix *f = *state;
	struct metrics *m;
	struct control_access a = {.trigger_rate = 1, .max_connections = 4};
	const char *why;
	char err[200], bearer[128];
	assert_int_equal(control_metrics_register(), 0);
	assert_int_equal(metrics_alloc(&m, 1), 0);
	control_server_free(f->srv);
	assert_int_equal(control_server_alloc(&f->srv, f->base, metrics_shard(m, 0)), 0);
	assert_int_equal(control_token_parse("0123456789abcdef\n", 17, &a.token, &why), 0);
	control_server_set_access(f->srv, &a);
	assert_int_equal(control_server_add(f->srv, test_routes, &the_arg), 0);
	assert_int_equal(control_server_listen_unix(f->srv, f->path, CONTROL_LISTEN_CREDENTIALS,
	                                            err, sizeof(err)),
	                 0);
	request(f, "GET", "/t");
	assert_int_equal(f->status, 401);
	assert_non_null(strstr(f->head, "\r\nWWW-Authenticate: Bearer realm=\"edgelab\""));
	request_h(f, "GET", "/t", "Authorization: Bearer 0123456789abcdeX\r\n");
	assert_int_equal(f->status, 401);
	request_h(f, "GET", "/t", "Authorization: Basic MDEyMzQ1Njc4OWFiY2RlZg==\r\n");
	assert_int_equal(f->status, 401);
	/* Two, one of them good: refused, as ambiguous. */
	request_h(f, "GET", "/t",
	          "Authorization: Bearer 0123456789abcdef\r\nAuthorization: Bearer x\r\n");
	assert_int_equal(f->status, 401);
	request(f, "GET", "/nowhere"); /* credentials first: 401, not 404 */
	assert_int_equal(f->status, 401);
	assert_int_equal(f->calls, 0);
	assert_int_equal(
	    metrics_get(m, &metric_control_refused_total, CONTROL_REFUSED_NO_CREDENTIALS), 2);
	assert_int_equal(metrics_get(m, &metric_control_refused_total, CONTROL_REFUSED_BAD_TOKEN),
	                 3);
	snprintf(bearer, sizeof(bearer), "authorization: bearer  0123456789abcdef \r\n");
	request_h(f, "GET", "/t", bearer);
	assert_int_equal(f->status, 200);
	assert_int_equal(f->calls, 1);
	/* Triggers: a burst of 2, then 429 with Retry-After. */
	request_h(f, "POST", "/p", bearer);
	assert_int_equal(f->status, 200);
	request_h(f, "POST", "/p", bearer);
	assert_int_equal(f->status, 200);
	request_h(f, "POST", "/p", bearer);
	assert_int_equal(f->status, 429);
	assert_non_null(strstr(f->head, "\r\nRetry-After: 1"));
	assert_int_equal(f->calls, 3);
	assert_int_equal(
	    metrics_get(m, &metric_control_refused_total, CONTROL_REFUSED_RATE_LIMITED), 1);
	/* A GET route is no trigger. */
	request_h(f, "GET", "/t", bearer);
	assert_int_equal(f->status, 200);
	control_server_free(f->srv);
	f->srv = NULL;
	metrics_free(m);
}

/* The unix socket without credentials is one client, "unix": rate-limited
 * like any other, nothing else asked. */
static void test_control_unix_is_one_client(void **state)
{
	struct fix *f = *state;
	struct control_access a = {.trigger_rate = 1, .max_connections = 4};
	listen_with_table(f);
	control_server_set_access(f->srv, &a);
	request(f, "POST", "/p");
	request(f, "POST", "/p");
	assert_int_equal(f->status, 200);
	request(f, "POST", "/p");
	assert_int_equal(f->status, 429);
	assert_int_equal(f->calls, 2);
}

static void test_control_token_parse(void **state)
{
	struct control_token t;
	const char *why = NULL;
	char long_line[300];
	(void)state;
	assert_int_equal(control_token_parse("0123456789abcdef \t\r\nsecond\n", 30, &t, &why), 0);
	assert_int_equal(t.len, 16);
	assert_string_equal(t.text, "0123456789abcdef");
	assert_int_equal(control_token_parse("0123456789abcdef", 16, &t, &why), 0); /* no newline */
	assert_int_equal(control_token_parse("0123456789abcde\n", 16, &t, &why), EINVAL);
	assert_non_null(strstr(why, "16-256"));
	assert_int_equal(control_token_parse("\n0123456789abcdef\n", 18, &t, &why), EINVAL);
	assert_string_equal(why, "the first line is empty");
	assert_int_equal(control_token_parse("01234567 89abcdef\n", 18, &t, &why), EINVAL);
	assert_non_null(strstr(why, "printable"));
	assert_int_equal(control_token_parse(" 0123456789abcdef\n", 18, &t, &why), EINVAL);
	memset(long_line, 'a', sizeof(long_line));
	assert_int_equal(control_token_parse(long_line, 256, &t, &why), 0);
	assert_int_equal(t.len, 256);
	assert_int_equal(control_token_parse(long_line, 257, &t, &why), EINVAL);
}

static void test_control_bearer_parse(void **state)
{
	const char *tok;
	size_t len;
	(void)state;
	assert_int_equal(control_bearer_parse("Bearer abc", &tok, &len), 0);
	assert_int_equal(len, 3);
	assert_memory_equal(tok, "abc", 3);
	assert_int_equal(control_bearer_parse("bEARER   abc \t", &tok, &len), 0);
	assert_int_equal(len, 3);
	assert_int_equal(control_bearer_parse("Basic abc", &tok, &len), EINVAL);
	assert_int_equal(control_bearer_parse("Bearer", &tok, &len), EINVAL);
	assert_int_equal(control_bearer_parse("Bearer   ", &tok, &len), EINVAL);
	assert_int_equal(control_bearer_parse("Bearerabc", &tok, &len), EINVAL);
	assert_int_equal(control_bearer_parse("Bearer a b", &tok, &len), EINVAL);
	assert_int_equal(control_bearer_parse("Bearer a\x01", &tok, &len), EINVAL);
	char big[300] = "Bearer ";
	memset(big + 7, 'a', 257);
	big[7 + 257] = '\0';
	assert_int_equal(control_bearer_parse(big, &tok, &len), EINVAL);
	big[7 + 256] = '\0';
	assert_int_equal(control_bearer_parse(big, &tok, &len), 0);
	assert_int_equal(len, 256);
}

static void test_control_token_equal(void **state)
{
	struct control_token t, none = {{0}, 0};
	const char *why;
	(void)state;
	assert_int_equal(control_token_parse("0123456789abcdef", 16, &t, &why), 0);
	assert_true(control_token_equal(&t, "0123456789abcdef", 16));
	assert_false(control_token_equal(&t, "0123456789abcdeF", 16));
	assert_false(control_token_equal(&t, "0123456789abcde", 15));
	assert_false(control_token_equal(&t, "0123456789abcdef0", 17));
	/* zero padding never makes a longer one equal */
	assert_false(control_token_equal(&t, "0123456789abcdef\0", 17));
	assert_false(control_token_equal(&none, "", 0));
}

static void test_control_rate_table(void **state)
{
	static struct control_ratelimit rl;
	char name[16];
	(void)state;
	/* rate 2: a burst of 4, then one every 500 ms. */
	for (int i = 0; i < 4; i++)
		assert_true(control_rate_take(&rl, "a", 2, 1000));
	assert_false(control_rate_take(&rl, "a", 2, 1000));
	assert_false(control_rate_take(&rl, "a", 2, 1499));
	assert_true(control_rate_take(&rl, "a", 2, 1500));
	assert_false(control_rate_take(&rl, "a", 2, 1500));
	assert_true(control_rate_take(&rl, "b", 2, 1500)); /* its own bucket */
	/* Never more than the burst, however long the pause. */
	for (int i = 0; i < 4; i++)
		assert_true(control_rate_take(&rl, "a", 2, 100000));
	assert_false(control_rate_take(&rl, "a", 2, 100000));
	/* 2 + 63 clients in 64 places: the last takes the place of the one
	 * idle longest, "b"; "a" stays, empty; "b" comes back full. */
	for (int i = 0; i < CONTROL_RATE_CLIENTS - 1; i++) {
		snprintf(name, sizeof(name), "c%d", i);
		assert_true(control_rate_take(&rl, name, 2, 100000));
	}
	assert_int_equal(rl.n, CONTROL_RATE_CLIENTS);
	assert_false(control_rate_take(&rl, "a", 2, 100000));
	for (int i = 0; i < 4; i++)
		assert_true(control_rate_take(&rl, "b", 2, 100000));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_control_handler_called, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_control_unknown_path_404, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_control_wrong_method_405, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_control_table_checked, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_control_stale_socket_replaced, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_control_socket_in_use, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_control_open_serves_the_tables, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_control_credentials_and_rate, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_control_unix_is_one_client, setup, teardown),
	    cmocka_unit_test(test_control_token_parse),
	    cmocka_unit_test(test_control_bearer_parse),
	    cmocka_unit_test(test_control_token_equal),
	    cmocka_unit_test(test_control_rate_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
