/* media/originate.c: flows from pool ports on loopback, driven by a real
 * event loop with a safety timeout. The pool here is 45000-45999, away from
 * the 50000-59999 a relay on the same host may be using. */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/addr.h"
#include "media/originate.h"

#define POOL_MIN 45000
#define POOL_MAX 45999
#define WAIT_MS  300

struct fix {
	struct event_base *base;
	struct port_pool *pool;
	struct originator *o;
	struct originate_result res;
	uint8_t reply[64];
	int done; /* handler calls */
	int peer; /* the far side's socket */
	struct sockaddr_storage peer_addr;
	struct sockaddr_storage seen; /* where the far side saw us come from */
	uint8_t got[256];
	size_t got_len;
};

static int setup(void **state)
{
	static struct fix f;
	struct sockaddr_storage bind;
	memset(&f, 0, sizeof(f));
	f.peer = -1;
	f.base = event_base_new();
	assert_non_null(f.base);
	assert_int_equal(port_pool_alloc(&f.pool, POOL_MIN, POOL_MAX), 0);
	assert_int_equal(addr_parse("127.0.0.1", 0, &bind), 0);
	assert_int_equal(originator_alloc(&f.o, f.base, f.pool, &bind, WAIT_MS), 0);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;
	originator_free(f->o);
	port_pool_free(f->pool);
	if (f->peer >= 0)
		close(f->peer);
	event_base_free(f->base);
	return 0;
}

static void done_cb(const struct originate_result *res, void *arg)
{
	struct fix *f = arg;
	f->res = *res;
	if (res->reply) {
		memcpy(f->reply, res->reply, res->reply_len < 64 ? res->reply_len : 64);
		f->res.reply = f->reply;
	}
	f->done++;
	event_base_loopbreak(f->base);
}

/* Runs the loop until the handler ran, or 3 s. */
static void run(struct fix *f)
{
	struct timeval limit = {.tv_sec = 3};
	event_base_loopexit(f->base, &limit);
	event_base_dispatch(f->base);
}

/* A far side on 127.0.0.1, any port. */
static void peer_open(struct fix *f, int type)
{
	socklen_t len = sizeof(f->peer_addr);
	assert_int_equal(addr_parse("127.0.0.1", 0, &f->peer_addr), 0);
	f->peer = socket(AF_INET, type | SOCK_NONBLOCK, 0);
	assert_true(f->peer >= 0);
	assert_int_equal(
	    bind(f->peer, (struct sockaddr *)&f->peer_addr, sizeof(struct sockaddr_in)), 0);
	if (type == SOCK_STREAM)
		assert_int_equal(listen(f->peer, 4), 0);
	assert_int_equal(getsockname(f->peer, (struct sockaddr *)&f->peer_addr, &len), 0);
}

static void udp_echo_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	struct fix *f = arg;
	socklen_t len = sizeof(f->seen);
	ssize_t n = recvfrom(fd, f->got, sizeof(f->got), 0, (struct sockaddr *)&f->seen, &len);
	assert_true(n > 0);
	f->got_len = (size_t)n;
	sendto(fd, "pong", 4, 0, (struct sockaddr *)&f->seen, len);
}

static void test_originate_udp_answered(void **state)
{
	struct fix *f = *state;
	uint16_t port;
	peer_open(f, SOCK_DGRAM);
	struct event *ev = event_new(f->base, f->peer, EV_READ, udp_echo_cb, f);
	event_add(ev, NULL);
	assert_int_equal(originate_udp(f->o, &f->peer_addr, "ping", 4, done_cb, f, &port), 0);
	assert_in_range(port, POOL_MIN, POOL_MAX);
	assert_int_equal(port_pool_in_use(f->pool), 1);
	assert_int_equal(originator_in_flight(f->o), 1);
	run(f);
	event_free(ev);
	assert_int_equal(f->done, 1);
	assert_int_equal(f->res.err, 0);
	assert_int_equal(f->res.port, port);
	assert_int_equal(f->got_len, 4);
	assert_memory_equal(f->got, "ping", 4);
	/* The datagram left from the pool port, and the answer came back. */
	assert_int_equal(addr_port((struct sockaddr *)&f->seen), port);
	assert_int_equal(f->res.reply_len, 4);
	assert_memory_equal(f->res.reply, "pong", 4);
	assert_int_equal(port_pool_in_use(f->pool), 0);
	assert_int_equal(originator_in_flight(f->o), 0);
}

static void test_originate_udp_silent_and_refused(void **state)
{
	struct fix *f = *state;
	uint16_t port;
	peer_open(f, SOCK_DGRAM); /* bound, never reads */
	assert_int_equal(originate_udp(f->o, &f->peer_addr, "ping", 4, done_cb, f, &port), 0);
	run(f);
	assert_int_equal(f->done, 1);
	assert_int_equal(f->res.err, ETIMEDOUT);
	assert_null(f->res.reply);
	close(f->peer); /* now nothing listens there: ICMP port unreachable */
	f->peer = -1;
	assert_int_equal(originate_udp(f->o, &f->peer_addr, "ping", 4, done_cb, f, &port), 0);
	run(f);
	assert_int_equal(f->done, 2);
	assert_int_equal(f->res.err, ECONNREFUSED);
	assert_int_equal(port_pool_in_use(f->pool), 0);
}

static struct event *conn_ev;

/* Reads what the edge sends; closes once it has it all (5 bytes). */
static void tcp_conn_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	struct fix *f = arg;
	ssize_t n = recv(fd, f->got + f->got_len, sizeof(f->got) - f->got_len, 0);
	if (n > 0)
		f->got_len += (size_t)n;
	if (n <= 0 || f->got_len >= 5) {
		event_free(conn_ev);
		conn_ev = NULL;
		close(fd);
	}
}

static void tcp_accept_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	struct fix *f = arg;
	socklen_t len = sizeof(f->seen);
	int c = accept(fd, (struct sockaddr *)&f->seen, &len);
	assert_true(c >= 0);
	conn_ev = event_new(f->base, c, EV_READ | EV_PERSIST, tcp_conn_cb, f);
	event_add(conn_ev, NULL);
}

static void test_originate_tcp_sent_and_closed(void **state)
{
	struct fix *f = *state;
	uint16_t port;
	peer_open(f, SOCK_STREAM);
	struct event *ev = event_new(f->base, f->peer, EV_READ, tcp_accept_cb, f);
	event_add(ev, NULL);
	assert_int_equal(originate_tcp(f->o, &f->peer_addr, "hello", 5, done_cb, f, &port), 0);
	assert_in_range(port, POOL_MIN, POOL_MAX);
	run(f);
	event_free(ev);
	assert_int_equal(f->done, 1);
	assert_int_equal(f->res.err, 0);
	assert_true(f->res.connected);
	assert_true(f->res.sent);
	assert_true(f->res.peer_closed);
	assert_int_equal(addr_port((struct sockaddr *)&f->seen), port);
	assert_int_equal(f->got_len, 5);
	assert_memory_equal(f->got, "hello", 5);
	assert_int_equal(port_pool_in_use(f->pool), 0);
}

static void test_originate_tcp_refused_and_unclosed(void **state)
{
	struct fix *f = *state;
	uint16_t port;
	peer_open(f, SOCK_STREAM); /* accepts in the kernel, never closes */
	assert_int_equal(originate_tcp(f->o, &f->peer_addr, "hello", 5, done_cb, f, &port), 0);
	run(f);
	assert_int_equal(f->done, 1);
	assert_int_equal(f->res.err, 0); /* sent: its job is done */
	assert_true(f->res.sent);
	assert_false(f->res.peer_closed);
	close(f->peer);
	f->peer = -1;
	assert_int_equal(originate_tcp(f->o, &f->peer_addr, "hello", 5, done_cb, f, &port), 0);
	run(f);
	assert_int_equal(f->done, 2);
	assert_int_equal(f->res.err, ECONNREFUSED);
	assert_false(f->res.connected);
	assert_int_equal(port_pool_in_use(f->pool), 0);
}

static void test_originate_free_cancels(void **state)
{
	struct fix *f = *state;
	uint16_t port;
	peer_open(f, SOCK_DGRAM);
	assert_int_equal(originate_udp(f->o, &f->peer_addr, "a", 1, done_cb, f, &port), 0);
	assert_int_equal(originate_tcp(f->o, &f->peer_addr, "b", 1, done_cb, f, &port), 0);
	assert_int_equal(port_pool_in_use(f->pool), 2);
	originator_free(f->o);
	f->o = NULL;
	assert_int_equal(f->done, 2);
	assert_int_equal(f->res.err, ECANCELED);
	assert_int_equal(port_pool_in_use(f->pool), 0);
}

static void test_originate_refusals(void **state)
{
	struct fix *f = *state;
	struct sockaddr_storage v6, any;
	struct originator *o2;
	struct port_pool *one;
	uint16_t port;
	peer_open(f, SOCK_DGRAM);
	assert_int_equal(originate_udp(f->o, &f->peer_addr, "a", 0, done_cb, f, &port), EINVAL);
	assert_int_equal(
	    originate_udp(f->o, &f->peer_addr, "a", ORIGINATE_MAX_DATA + 1, done_cb, f, &port),
	    EINVAL);
	assert_int_equal(addr_parse("127.0.0.1", 0, &any), 0); /* port 0 */
	assert_int_equal(originate_tcp(f->o, &any, "a", 1, done_cb, f, &port), EINVAL);
	/* A bound IPv4 address cannot reach an IPv6 target. */
	assert_int_equal(addr_parse("[::1]:9", 0, &v6), 0);
	assert_int_equal(originate_udp(f->o, &v6, "a", 1, done_cb, f, &port), EAFNOSUPPORT);
	/* One port in the pool, held by a flow: the next one finds none. */
	assert_int_equal(port_pool_alloc(&one, POOL_MIN, POOL_MIN), 0);
	assert_int_equal(addr_parse("0.0.0.0", 0, &any), 0);
	assert_int_equal(originator_alloc(&o2, f->base, one, &any, WAIT_MS), 0);
	assert_int_equal(originate_udp(o2, &f->peer_addr, "a", 1, done_cb, f, &port), 0);
	assert_int_equal(port, POOL_MIN);
	assert_int_equal(originate_udp(o2, &f->peer_addr, "a", 1, done_cb, f, &port), ENOSPC);
	originator_free(o2);
	port_pool_free(one);
	assert_int_equal(f->done, 1); /* only the flow that started */
	/* At most ORIGINATE_MAX_FLOWS at once. */
	for (int i = 0; i < ORIGINATE_MAX_FLOWS; i++)
		assert_int_equal(originate_udp(f->o, &f->peer_addr, "a", 1, done_cb, f, &port), 0);
	assert_int_equal(originate_udp(f->o, &f->peer_addr, "a", 1, done_cb, f, &port), EBUSY);
	assert_int_equal(port_pool_in_use(f->pool), ORIGINATE_MAX_FLOWS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_originate_udp_answered, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_originate_udp_silent_and_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_originate_tcp_sent_and_closed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_originate_tcp_refused_and_unclosed, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_originate_free_cancels, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_originate_refusals, setup, teardown),
	};
	return cmocka_run_group_tests_name("originate", tests, NULL, NULL);
}
