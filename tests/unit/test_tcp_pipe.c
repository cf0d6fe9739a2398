/* media/tcp_pipe.c: the TCP relay's pipe between a peer connection and a
 * client data connection. Two socketpairs stand for the two TCP
 * connections: bytes cross both ways intact, a reader that stops makes the
 * pipe stop reading from the writer (the queue stays bounded), reading
 * resumes when the reader drains, and a close is reported once. */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "media/tcp_pipe.h"

struct rig {
	struct event_base *base;
	int outer[2]; /* the far ends: outer[0] is "the client", outer[1] "the peer" */
	struct bufferevent *side[2];
	struct tcp_pipe *pipe;
	int closed;
};

static void closed_cb(struct tcp_pipe *p, void *arg)
{
	(void)p;
	((struct rig *)arg)->closed++;
}

static void rig_up(struct rig *r)
{
	int a[2], b[2];
	memset(r, 0, sizeof(*r));
	r->base = event_base_new();
	assert_non_null(r->base);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, a), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, b), 0);
	int small = 64 * 1024; /* keep the kernel's share small, so the pipe's shows */
	for (int i = 0; i < 2; i++) {
		setsockopt(a[i], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
		setsockopt(a[i], SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
		setsockopt(b[i], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
		setsockopt(b[i], SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	}
	r->outer[0] = a[0];
	r->outer[1] = b[0];
	evutil_make_socket_nonblocking(a[1]);
	evutil_make_socket_nonblocking(b[1]);
	evutil_make_socket_nonblocking(a[0]);
	evutil_make_socket_nonblocking(b[0]);
	r->side[0] = bufferevent_socket_new(r->base, a[1], BEV_OPT_CLOSE_ON_FREE);
	r->side[1] = bufferevent_socket_new(r->base, b[1], BEV_OPT_CLOSE_ON_FREE);
	assert_int_equal(tcp_pipe_join(&r->pipe, r->side[0], r->side[1], closed_cb, r), 0);
}

static void rig_down(struct rig *r)
{
	tcp_pipe_free(r->pipe);
	bufferevent_free(r->side[0]);
	bufferevent_free(r->side[1]);
	if (r->outer[0] >= 0)
		close(r->outer[0]);
	if (r->outer[1] >= 0)
		close(r->outer[1]);
	event_base_free(r->base);
}

static void spin(struct rig *r, int rounds)
{
	for (int i = 0; i < rounds; i++)
		event_base_loop(r->base, EVLOOP_NONBLOCK);
}

static void test_tcp_pipe_carries_both_ways(void **state)
{
	(void)state;
	struct rig r;
	char buf[64];
	rig_up(&r);
	assert_int_equal(write(r.outer[0], "to the peer", 11), 11);
	assert_int_equal(write(r.outer[1], "to the client", 13), 13);
	spin(&r, 10);
	assert_int_equal(read(r.outer[1], buf, sizeof(buf)), 11);
	assert_memory_equal(buf, "to the peer", 11);
	assert_int_equal(read(r.outer[0], buf, sizeof(buf)), 13);
	assert_memory_equal(buf, "to the client", 13);
	uint64_t ab, ba;
	tcp_pipe_counts(r.pipe, &ab, &ba);
	assert_int_equal(ab, 11);
	assert_int_equal(ba, 13);
	rig_down(&r);
}

static void test_tcp_pipe_backpressure_bounds_the_queue(void **state)
{
	(void)state;
	struct rig r;
	static uint8_t chunk[16384], sink[65536];
	rig_up(&r);
	/* The client writes 8 MiB as fast as it can; the peer reads nothing. */
	size_t written = 0, max_queued = 0;
	for (int i = 0; i < 2000 && written < 8u << 20; i++) {
		ssize_t n = write(r.outer[0], chunk, sizeof(chunk));
		if (n > 0)
			written += (size_t)n;
		spin(&r, 2);
		size_t q = evbuffer_get_length(bufferevent_get_output(r.side[1]));
		if (q > max_queued)
			max_queued = q;
	}
	/* The writer got stuck: TCP (here the socketpair) pushed back. */
	assert_true(written < 8u << 20);
	/* At most the pipe's bound plus one read's worth waits in edgelab. */
	assert_true(max_queued <= TCP_PIPE_MAX + 64 * 1024);
	assert_true(max_queued >= TCP_PIPE_MAX / 2); /* it did fill up */
	/* The peer drains: everything written arrives, in order of bytes. */
	size_t got = 0;
	for (int i = 0; i < 20000 && got < written; i++) {
		ssize_t n = read(r.outer[1], sink, sizeof(sink));
		if (n > 0)
			got += (size_t)n;
		spin(&r, 1);
	}
	assert_int_equal(got, written);
	rig_down(&r);
}

static void test_tcp_pipe_reports_a_close_once(void **state)
{
	(void)state;
	struct rig r;
	rig_up(&r);
	close(r.outer[1]);
	r.outer[1] = -1;
	spin(&r, 10);
	assert_int_equal(r.closed, 1);
	close(r.outer[0]);
	r.outer[0] = -1;
	spin(&r, 10);
	assert_int_equal(r.closed, 1);
	rig_down(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tcp_pipe_carries_both_ways),
	    cmocka_unit_test(test_tcp_pipe_backpressure_bounds_the_queue),
	    cmocka_unit_test(test_tcp_pipe_reports_a_close_once),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
