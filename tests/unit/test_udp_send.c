/* relay/udp_send.c on loopback: a batch with runs of equal datagrams goes
 * out as UDP_SEGMENT sends (one packet each, as a GRO receiver shows) and
 * arrives as the same datagrams, in order, each with its own bytes; runs
 * end where the address, the size or the layout changes; a kernel that
 * refuses GSO on the socket gets every datagram one by one. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <poll.h>
#include <stdbool.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "relay/udp_send.h"

#define N_MAX 100

static int bound_socket(struct sockaddr_in *sa)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	assert_true(fd >= 0);
	int big = 4 << 20; /* past rmem_max as root: every datagram of a test fits */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	*sa =
	    (struct sockaddr_in){.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	assert_int_equal(bind(fd, (struct sockaddr *)sa, sizeof(*sa)), 0);
	socklen_t len = sizeof(*sa);
	assert_int_equal(getsockname(fd, (struct sockaddr *)sa, &len), 0);
	return fd;
}

struct plan {
	struct mmsghdr msg[N_MAX];
	struct iovec iov[N_MAX];
	uint8_t buf[N_MAX][1500];
	int to[N_MAX]; /* which receiver */
	unsigned n;
};

static void add(struct plan *p, struct sockaddr_in *dest, int to, size_t len)
{
	unsigned i = p->n++;
	memset(p->buf[i], (int)(i + 1), len);
	p->buf[i][0] = (uint8_t)i;
	p->iov[i] = (struct iovec){p->buf[i], len};
	p->to[i] = to;
	p->msg[i].msg_hdr = (struct msghdr){
	    .msg_name = dest, .msg_namelen = sizeof(*dest), .msg_iov = &p->iov[i], .msg_iovlen = 1};
}

/* Every datagram of the plan for receiver fd arrives once, in order, whole. */
static void expect_all(const struct plan *p, int fd, int to)
{
	for (unsigned i = 0; i < p->n; i++) {
		if (p->to[i] != to)
			continue;
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		assert_int_equal(poll(&pfd, 1, 2000), 1);
		uint8_t got[2000];
		ssize_t len = recv(fd, got, sizeof(got), 0);
		assert_int_equal(len, p->iov[i].iov_len);
		assert_memory_equal(got, p->buf[i], (size_t)len);
	}
	uint8_t extra[16];
	assert_int_equal(recv(fd, extra, sizeof(extra), MSG_DONTWAIT), -1);
}

/* 30 of 172 bytes to A with a shorter one that ends the run, 5 to B, one
 * to A, 3 of 1200 to A and 2 of 1300 to A: runs of 31, 5, 3 and 2. */
static void make_plan(struct plan *p, struct sockaddr_in *a, struct sockaddr_in *b)
{
	p->n = 0;
	for (int i = 0; i < 30; i++)
		add(p, a, 0, 172);
	add(p, a, 0, 100);
	for (int i = 0; i < 5; i++)
		add(p, b, 1, 172);
	add(p, a, 0, 172);
	for (int i = 0; i < 3; i++)
		add(p, a, 0, 1200);
	for (int i = 0; i < 2; i++)
		add(p, a, 0, 1300);
}

static struct plan plan;

/* The plan from a sender (SO_NO_CHECK when no_check) to two receivers;
 * every datagram arrives as sent. Returns how many went in runs. */
static unsigned run_plan(bool no_check, bool gso)
{
	struct sockaddr_in a, b, me;
	int ra = bound_socket(&a), rb = bound_socket(&b), tx = bound_socket(&me);
	int on = 1;
	if (no_check)
		assert_int_equal(setsockopt(tx, SOL_SOCKET, SO_NO_CHECK, &on, sizeof(on)), 0);
	make_plan(&plan, &a, &b);
	unsigned coalesced = 99;
	assert_int_equal(udp_send_batch(tx, plan.msg, plan.n, gso, &coalesced), 0);
	expect_all(&plan, ra, 0);
	expect_all(&plan, rb, 1);
	close(ra);
	close(rb);
	close(tx);
	return coalesced;
}

static void test_runs_arrive_as_the_same_datagrams(void **state)
{
	(void)state;
	assert_int_equal(run_plan(false, true), 31 + 5 + 3 + 2);
	/* Without gso: the same datagrams, none coalesced. */
	assert_int_equal(run_plan(false, false), 0);
}

/* More than a run may hold: 100 datagrams of 200 bytes go as runs of at
 * most 64 datagrams, 50 of 1400 bytes as runs of at most 65,000 bytes;
 * the kernel takes every run (a run over its bounds would go one by one,
 * and not count). */
static void test_runs_are_bounded(void **state)
{
	(void)state;
	struct sockaddr_in a, me;
	int ra = bound_socket(&a), tx = bound_socket(&me);
	static const size_t sizes[] = {200, 1400};
	static const unsigned counts[] = {N_MAX, 50};
	for (int t = 0; t < 2; t++) {
		plan.n = 0;
		for (unsigned i = 0; i < counts[t]; i++)
			add(&plan, &a, 0, sizes[t]);
		unsigned coalesced;
		assert_int_equal(udp_send_batch(tx, plan.msg, plan.n, true, &coalesced), 0);
		assert_int_equal(coalesced, counts[t]);
		expect_all(&plan, ra, 0);
	}
	close(ra);
	close(tx);
}

/* The kernel really sends a run as one GSO packet: a receiver with UDP GRO
 * takes it whole, with the segment size. */
static void test_a_run_is_one_packet(void **state)
{
	(void)state;
	struct sockaddr_in a, me;
	int ra = bound_socket(&a), tx = bound_socket(&me);
	int on = 1;
	assert_int_equal(setsockopt(ra, SOL_UDP, UDP_GRO, &on, sizeof(on)), 0);
	plan.n = 0;
	for (int i = 0; i < 10; i++)
		add(&plan, &a, 0, 172);
	unsigned coalesced;
	assert_int_equal(udp_send_batch(tx, plan.msg, plan.n, true, &coalesced), 0);
	assert_int_equal(coalesced, 10);
	static uint8_t got[65536];
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct iovec iov = {got, sizeof(got)};
	struct msghdr m = {.msg_iov = &iov,
	                   .msg_iovlen = 1,
	                   .msg_control = ctl.buf,
	                   .msg_controllen = sizeof(ctl)};
	struct pollfd pfd = {.fd = ra, .events = POLLIN};
	assert_int_equal(poll(&pfd, 1, 2000), 1);
	assert_int_equal(recvmsg(ra, &m, 0), 10 * 172);
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	assert_non_null(c);
	assert_int_equal(c->cmsg_level, SOL_UDP);
	assert_int_equal(c->cmsg_type, UDP_GRO);
	int seg;
	memcpy(&seg, CMSG_DATA(c), sizeof(seg));
	assert_int_equal(seg, 172);
	for (int i = 0; i < 10; i++)
		assert_memory_equal(got + i * 172, plan.buf[i], 172);
	close(ra);
	close(tx);
}

/* SO_NO_CHECK: the kernel refuses UDP_SEGMENT sends (EINVAL), and each run
 * goes again datagram by datagram. */
static void test_refused_runs_go_one_by_one(void **state)
{
	(void)state;
	assert_int_equal(run_plan(true, true), 0);
}

/* What the kernel refuses is counted, not lost silently: four datagrams to
 * an address of no family the socket knows (EAFNOSUPPORT), then one that
 * goes. */
static void test_refused_datagrams_are_counted(void **state)
{
	(void)state;
	struct sockaddr_in a, me;
	int ra = bound_socket(&a), tx = bound_socket(&me);
	struct sockaddr_in bad = a;
	bad.sin_family = AF_UNSPEC + 99;
	plan.n = 0;
	for (int i = 0; i < 4; i++)
		add(&plan, &bad, 1, 200);
	add(&plan, &a, 0, 200);
	unsigned coalesced;
	assert_int_equal(udp_send_batch(tx, plan.msg, plan.n, true, &coalesced), 4);
	assert_int_equal(coalesced, 0);
	expect_all(&plan, ra, 0);
	assert_int_equal(udp_send_batch(tx, plan.msg, plan.n, false, &coalesced), 4);
	expect_all(&plan, ra, 0);
	close(ra);
	close(tx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_runs_arrive_as_the_same_datagrams),
	    cmocka_unit_test(test_runs_are_bounded),
	    cmocka_unit_test(test_a_run_is_one_packet),
	    cmocka_unit_test(test_refused_runs_go_one_by_one),
	    cmocka_unit_test(test_refused_datagrams_are_counted),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
