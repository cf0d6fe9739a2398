/* canary/: the marker in a hit's first bytes, the ring of hits kept, and
 * the canaries themselves on loopback, driven by a real event loop: a TCP
 * hit with and without a marker, the TCP connection limit, a UDP hit, the
 * relay pool's ports, and the start-up clashes. */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "canary/canary.h"
#include "canary/canary_int.h"
#include "canary/marker.h"

static enum canary_marker find(const char *s, bool at_end, char *out)
{
	return canary_marker_find((const uint8_t *)s, strlen(s), at_end, out);
}

static void test_marker_found(void **state)
{
	char out[ROWS_MARKER_MAX + 1];
	char long_text[ROWS_MARKER_MAX + 2], line[128];
	(void)state;
	assert_int_equal(find("edgelab marker=abc\n", false, out), CANARY_MARKER_FOUND);
	assert_string_equal(out, "abc");
	/* anywhere in the bytes, e.g. inside a STUN attribute, NUL-padded */
	static const uint8_t stun[] =
	    "\x00\x01\x00\x1c\x21\x12\xa4\x42....edgelab marker=A.b_c~d-9\0\0";
	assert_int_equal(canary_marker_find(stun, sizeof(stun) - 1, false, out),
	                 CANARY_MARKER_FOUND);
	assert_string_equal(out, "A.b_c~d-9");
	/* a text that reaches the end is whole only at the end */
	assert_int_equal(find("edgelab marker=abc", false, out), CANARY_MARKER_MORE);
	assert_int_equal(find("edgelab marker=abc", true, out), CANARY_MARKER_FOUND);
	assert_string_equal(out, "abc");
	/* exactly ROWS_MARKER_MAX characters */
	memset(long_text, 'x', ROWS_MARKER_MAX);
	long_text[ROWS_MARKER_MAX] = '\0';
	snprintf(line, sizeof(line), "edgelab marker=%s\n", long_text);
	assert_int_equal(find(line, false, out), CANARY_MARKER_FOUND);
	assert_string_equal(out, long_text);
	/* the first good one wins, after a bad one */
	assert_int_equal(find("edgelab marker= edgelab marker=two edgelab marker=three", true, out),
	                 CANARY_MARKER_FOUND);
	assert_string_equal(out, "two");
}

static void test_marker_none(void **state)
{
	char out[ROWS_MARKER_MAX + 1] = "untouched";
	char line[128];
	(void)state;
	assert_int_equal(find("GET / HTTP/1.0\r\n\r\n", true, out), CANARY_MARKER_NONE);
	assert_int_equal(find("edgelab marker=\n", true, out), CANARY_MARKER_NONE);
	assert_int_equal(find("edgelab marker=a b", false, out), CANARY_MARKER_FOUND);
	assert_string_equal(out, "a");
	snprintf(out, sizeof(out), "untouched");
	assert_int_equal(find("edgelab  marker=abc", true, out), CANARY_MARKER_NONE);
	assert_int_equal(find("Edgelab marker=abc", true, out), CANARY_MARKER_NONE);
	assert_int_equal(find("", true, out), CANARY_MARKER_NONE);
	assert_int_equal(canary_marker_find(NULL, 0, true, out), CANARY_MARKER_NONE);
	/* one character too long is no marker, cut or not */
	memset(line, 'y', sizeof(line));
	memcpy(line, ROWS_MARKER_PREFIX, strlen(ROWS_MARKER_PREFIX));
	line[strlen(ROWS_MARKER_PREFIX) + ROWS_MARKER_MAX + 1] = '\n';
	line[strlen(ROWS_MARKER_PREFIX) + ROWS_MARKER_MAX + 2] = '\0';
	assert_int_equal(find(line, true, out), CANARY_MARKER_NONE);
	assert_int_equal(find(line, false, out), CANARY_MARKER_NONE);
	assert_string_equal(out, "untouched");
	/* the start of the prefix at the end: more may come */
	assert_int_equal(find("hello edgelab mar", false, out), CANARY_MARKER_MORE);
	assert_int_equal(find("hello edgelab mar", true, out), CANARY_MARKER_NONE);
	/* a marker after a text too long, which holds the prefix's start */
	memset(line, 'z', sizeof(line));
	memcpy(line, ROWS_MARKER_PREFIX, strlen(ROWS_MARKER_PREFIX));
	snprintf(line + strlen(ROWS_MARKER_PREFIX) + 60, 40, "edgelab marker=ok\n");
	assert_int_equal(find(line, true, out), CANARY_MARKER_FOUND);
	assert_string_equal(out, "ok");
}

static void test_marker_valid(void **state)
{
	char text[ROWS_MARKER_MAX + 2];
	(void)state;
	assert_true(canary_marker_valid("3fa2c01b99e04d1a"));
	assert_true(canary_marker_valid("A.b_c~d-9"));
	assert_false(canary_marker_valid(""));
	assert_false(canary_marker_valid("a b"));
	assert_false(canary_marker_valid("a/b"));
	memset(text, 'x', sizeof(text));
	text[ROWS_MARKER_MAX] = '\0';
	assert_true(canary_marker_valid(text));
	text[ROWS_MARKER_MAX] = 'x';
	text[ROWS_MARKER_MAX + 1] = '\0';
	assert_false(canary_marker_valid(text));
}

/* --- the ring ------------------------------------------------------------ */

struct seen {
	uint64_t ids[CANARY_HITS_MAX + 8];
	size_t n;
};

static void collect(const struct canary_hit *hit, void *arg)
{
	struct seen *s = arg;
	s->ids[s->n++] = hit->id;
}

static void record(struct canary_hits *h, const char *bytes)
{
	struct sockaddr_in src = {.sin_family = AF_INET, .sin_port = htons(40122)};
	inet_pton(AF_INET, "192.0.2.10", &src.sin_addr);
	canary_hits_record(h, CANARY_UDP, 3479, (struct sockaddr *)&src, 1796566330123ull,
	                   (const uint8_t *)bytes, strlen(bytes), true);
}

static void test_ring(void **state)
{
	static struct canary_hits h;
	static struct seen s;
	(void)state;
	canary_hits_init(&h, NULL);
	memset(&s, 0, sizeof(s));
	assert_int_equal(canary_hits_each(&h, NULL, collect, &s), 0);
	record(&h, "edgelab marker=a\n");
	record(&h, "nothing");
	record(&h, "edgelab marker=b\n");
	record(&h, "edgelab marker=a\n");
	assert_int_equal(canary_hits_each(&h, NULL, collect, &s), 4);
	assert_int_equal(s.ids[0], 1);
	assert_int_equal(s.ids[3], 4);
	s.n = 0;
	assert_int_equal(canary_hits_each(&h, "a", collect, &s), 2);
	assert_int_equal(s.ids[0], 1);
	assert_int_equal(s.ids[1], 4);
	s.n = 0;
	assert_int_equal(canary_hits_each(&h, "c", collect, &s), 0);
	/* what a hit holds */
	const struct canary_hit *last = &h.ring[(h.last_id - 1) % CANARY_HITS_MAX];
	assert_int_equal(last->proto, CANARY_UDP);
	assert_int_equal(last->port, 3479);
	assert_int_equal(last->ms, 1796566330123ull);
	assert_int_equal(ntohs(((struct sockaddr_in *)&last->src)->sin_port), 40122);
	assert_string_equal(h.ring[1].marker, "");
	/* the last CANARY_HITS_MAX are kept, oldest first, ids counting on */
	for (int i = 0; i < CANARY_HITS_MAX + 3; i++)
		record(&h, i == CANARY_HITS_MAX + 2 ? "edgelab marker=a\n" : "x");
	assert_int_equal(canary_hits_each(&h, NULL, collect, &s), CANARY_HITS_MAX);
	assert_int_equal(s.ids[0], 4 + 3 + 1);
	assert_int_equal(s.ids[CANARY_HITS_MAX - 1], 4 + CANARY_HITS_MAX + 3);
	s.n = 0;
	assert_int_equal(canary_hits_each(&h, "a", collect, &s), 1);
	assert_int_equal(s.ids[0], 4 + CANARY_HITS_MAX + 3);
}

/* --- the canaries on loopback --------------------------------------------- */

/* A port free on 127.0.0.1 for both TCP and UDP just now. */
static uint16_t free_port(void)
{
	for (;;) {
		struct sockaddr_in sa = {.sin_family = AF_INET,
		                         .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
		socklen_t len = sizeof(sa);
		int t = socket(AF_INET, SOCK_STREAM, 0), u = socket(AF_INET, SOCK_DGRAM, 0);
		assert_true(t >= 0 && u >= 0);
		assert_int_equal(bind(t, (struct sockaddr *)&sa, sizeof(sa)), 0);
		assert_int_equal(getsockname(t, (struct sockaddr *)&sa, &len), 0);
		int ok = bind(u, (struct sockaddr *)&sa, sizeof(sa)) == 0;
		close(t);
		close(u);
		if (ok)
			return ntohs(sa.sin_port);
	}
}

static struct conf *conf_with(const char *tcp, const char *udp)
{
	struct conf *c;
	assert_int_equal(conf_defaults(&c), 0);
	assert_int_equal(conf_set(c, "stun_udp_listen", "127.0.0.1:1", NULL, 0), 0);
	assert_int_equal(conf_set(c, "stun_tcp_listen", "off", NULL, 0), 0);
	assert_int_equal(conf_set(c, "sip_tls_listen", "off", NULL, 0), 0);
	assert_int_equal(conf_set(c, "sip_mtls_listen", "off", NULL, 0), 0);
	assert_int_equal(conf_set(c, "canary_tcp", tcp, NULL, 0), 0);
	assert_int_equal(conf_set(c, "canary_udp", udp, NULL, 0), 0);
	return c;
}

static int connect_to(uint16_t port, int type)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
	                         .sin_port = htons(port),
	                         .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int fd = socket(AF_INET, type, 0);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

static void run_for(struct event_base *base, int ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
}

struct watch {
	struct seen seen;
	char markers[8][ROWS_MARKER_MAX + 1];
	enum canary_proto protos[8];
};

static void observe(const struct canary_hit *hit, void *arg)
{
	struct watch *w = arg;
	if (w->seen.n < 8) {
		snprintf(w->markers[w->seen.n], sizeof(w->markers[0]), "%s", hit->marker);
		w->protos[w->seen.n] = hit->proto;
	}
	w->seen.ids[w->seen.n++] = hit->id;
}

/* A canary on a free port, TCP and/or UDP, its hits observed. */
struct rig {
	struct event_base *base;
	struct conf *conf;
	struct canary *c;
	uint16_t port;
	struct watch w;
};

static void rig_open(struct rig *r, bool tcp, bool udp)
{
	char ports[16], err[256];
	memset(r, 0, sizeof(*r));
	r->port = free_port();
	snprintf(ports, sizeof(ports), "%u", r->port);
	r->base = event_base_new();
	r->conf = conf_with(tcp ? ports : "off", udp ? ports : "off");
	assert_int_equal(canary_open(&r->c, r->base, r->conf, NULL, NULL, err, sizeof(err)), 0);
	assert_non_null(r->c);
	canary_set_observer(r->c, observe, &r->w);
}

static void rig_close(struct rig *r)
{
	canary_close(r->c);
	conf_unref(r->conf);
	event_base_free(r->base);
}

/* Runs the loop until n hits were seen, for at most ms (a loaded host is
 * slow, not wrong). */
static void wait_hits(struct rig *r, size_t n, int ms)
{
	for (int t = 0; t < ms && r->w.seen.n < n; t += 50)
		run_for(r->base, 50);
}

static void test_canary_hits(void **state)
{
	static struct rig r;
	char b;
	(void)state;
	rig_open(&r, true, true);
	/* a marker ends the read at once; no byte comes back */
	int fd = connect_to(r.port, SOCK_STREAM);
	assert_int_equal(send(fd, "edgelab marker=abc\n", 19, 0), 19);
	wait_hits(&r, 1, 800); /* well before the second's end */
	assert_int_equal(r.w.seen.n, 1);
	assert_string_equal(r.w.markers[0], "abc");
	assert_int_equal(r.w.protos[0], CANARY_TCP);
	assert_int_equal(recv(fd, &b, 1, MSG_DONTWAIT), 0); /* closed, nothing said */
	close(fd);
	/* no marker: recorded at the second's end */
	fd = connect_to(r.port, SOCK_STREAM);
	assert_int_equal(send(fd, "hello", 5, 0), 5);
	run_for(r.base, 300);
	assert_int_equal(r.w.seen.n, 1);
	wait_hits(&r, 2, 3000);
	assert_int_equal(r.w.seen.n, 2);
	assert_string_equal(r.w.markers[1], "");
	close(fd);
	/* UDP */
	fd = connect_to(r.port, SOCK_DGRAM);
	assert_int_equal(send(fd, "edgelab marker=u.1", 18, 0), 18);
	wait_hits(&r, 3, 3000);
	assert_int_equal(r.w.seen.n, 3);
	assert_int_equal(r.w.protos[2], CANARY_UDP);
	assert_string_equal(r.w.markers[2], "u.1");
	close(fd);
	assert_int_equal(canary_hits(r.c, NULL, collect, &(struct seen){0}), 3);
	rig_close(&r);
}

/* Beyond CANARY_TCP_CONNS_MAX being read, a connection is recorded at once. */
static void test_canary_tcp_limit(void **state)
{
	static struct rig r;
	int fds[CANARY_TCP_CONNS_MAX + 1];
	(void)state;
	rig_open(&r, true, false);
	for (int i = 0; i < CANARY_TCP_CONNS_MAX; i++)
		fds[i] = connect_to(r.port, SOCK_STREAM);
	run_for(r.base, 300);
	assert_int_equal(r.w.seen.n, 0);
	fds[CANARY_TCP_CONNS_MAX] = connect_to(r.port, SOCK_STREAM);
	wait_hits(&r, 1, 600); /* before the others' second is over */
	assert_int_equal(r.w.seen.n, 1);
	wait_hits(&r, CANARY_TCP_CONNS_MAX + 1, 3000);
	assert_int_equal(r.w.seen.n, CANARY_TCP_CONNS_MAX + 1);
	for (int i = 0; i <= CANARY_TCP_CONNS_MAX; i++)
		close(fds[i]);
	rig_close(&r);
}

/* A canary port inside the pool leaves it (once, for TCP and UDP) and comes
 * back on close; a clash is EADDRINUSE with a sentence. */
static void test_canary_pool_and_clashes(void **state)
{
	char ports[16], err[256];
	uint16_t p = free_port();
	struct event_base *base = event_base_new();
	struct port_pool *pool;
	struct canary *c = NULL;
	(void)state;
	snprintf(ports, sizeof(ports), "%u", p);
	assert_int_equal(port_pool_alloc(&pool, p, p + 1), 0);
	struct conf *conf = conf_with(ports, ports);
	assert_int_equal(canary_open(&c, base, conf, pool, NULL, err, sizeof(err)), 0);
	assert_int_equal(port_pool_in_use(pool), 1);
	uint16_t got;
	assert_int_equal(port_pool_take(pool, false, false, &got), 0);
	assert_int_equal(got, p + 1);
	port_pool_release(pool, got);
	canary_close(c);
	assert_int_equal(port_pool_in_use(pool), 0);

	/* the pool port is taken already */
	assert_int_equal(port_pool_take_exact(pool, p), 0);
	err[0] = '\0';
	assert_int_equal(canary_open(&c, base, conf, pool, NULL, err, sizeof(err)), EADDRINUSE);
	assert_null(c);
	assert_non_null(strstr(err, "relay pool"));
	assert_int_equal(port_pool_in_use(pool), 1);
	port_pool_release(pool, p);
	conf_unref(conf);

	/* an edge listener's port */
	conf = conf_with("off", "1");
	assert_int_equal(canary_open(&c, base, conf, pool, NULL, err, sizeof(err)), EADDRINUSE);
	assert_string_equal(err, "canary_udp 1: the port of stun_udp_listen");
	conf_unref(conf);

	/* a port another socket holds: nothing is left, the pool port is back */
	struct sockaddr_in sa = {
	    .sin_family = AF_INET, .sin_port = htons(p), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	conf = conf_with(ports, ports);
	assert_int_equal(canary_open(&c, base, conf, pool, NULL, err, sizeof(err)), EADDRINUSE);
	char want[64];
	snprintf(want, sizeof(want), "canary udp 127.0.0.1:%u: ", p);
	assert_memory_equal(err, want, strlen(want));
	assert_int_equal(port_pool_in_use(pool), 0);
	close(fd);
	conf_unref(conf);

	/* none configured: nothing opened, no error */
	conf = conf_with("off", "off");
	c = (struct canary *)1;
	assert_int_equal(canary_open(&c, base, conf, pool, NULL, err, sizeof(err)), 0);
	assert_null(c);
	conf_unref(conf);
	port_pool_free(pool);
	event_base_free(base);
}

static void test_conf_keys(void **state)
{
	struct conf *c;
	char err[256];
	(void)state;
	assert_int_equal(conf_defaults(&c), 0);
	assert_int_equal(c->canary_tcp.n, 0);
	assert_false(c->canary_address_set);
	assert_int_equal(conf_set(c, "canary_tcp", "80 3478  5060\t59999", err, sizeof(err)), 0);
	assert_int_equal(c->canary_tcp.n, 4);
	assert_int_equal(c->canary_tcp.port[3], 59999);
	assert_int_equal(conf_set(c, "canary_tcp", "off", err, sizeof(err)), 0);
	assert_int_equal(c->canary_tcp.n, 0);
	assert_int_equal(
	    conf_set(c, "canary_udp", "1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16", err, sizeof(err)),
	    0);
	assert_int_equal(c->canary_udp.n, 16);
	assert_int_equal(conf_set(c, "canary_udp", "1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17", err,
	                          sizeof(err)),
	                 EINVAL);
	assert_int_equal(conf_set(c, "canary_udp", "5060 5060", err, sizeof(err)), EINVAL);
	assert_int_equal(conf_set(c, "canary_udp", "0", err, sizeof(err)), EINVAL);
	assert_int_equal(conf_set(c, "canary_udp", "65536", err, sizeof(err)), EINVAL);
	assert_int_equal(conf_set(c, "canary_udp", "80,81", err, sizeof(err)), EINVAL);
	assert_int_equal(conf_set(c, "canary_address", "198.51.100.10", err, sizeof(err)), 0);
	assert_true(c->canary_address_set);
	assert_int_equal(conf_set(c, "canary_address", "2001:db8::1", err, sizeof(err)), 0);
	assert_int_equal(conf_set(c, "canary_address", "198.51.100.10:80", err, sizeof(err)),
	                 EINVAL);
	assert_int_equal(conf_set(c, "canary_address", "[::1]:80", err, sizeof(err)), EINVAL);
	assert_int_equal(conf_set(c, "canary_address", "auto", err, sizeof(err)), 0);
	assert_false(c->canary_address_set);
	conf_unref(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_marker_found),     cmocka_unit_test(test_marker_none),
	    cmocka_unit_test(test_marker_valid),     cmocka_unit_test(test_ring),
	    cmocka_unit_test(test_conf_keys),        cmocka_unit_test(test_canary_hits),
	    cmocka_unit_test(test_canary_tcp_limit), cmocka_unit_test(test_canary_pool_and_clashes),
	};
	return cmocka_run_group_tests_name("canary", tests, NULL, NULL);
}
