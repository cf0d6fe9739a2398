#include "media/tcp_pipe.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <stdbool.h>
#include <stdlib.h>

struct tcp_pipe {
	struct bufferevent *side[2];
	uint64_t carried[2]; /* from side i to the other */
	tcp_pipe_closed_h *closed;
	void *arg;
	bool done;
};

static int side_of(const struct tcp_pipe *p, const struct bufferevent *bev)
{
	return p->side[0] == bev ? 0 : 1;
}

static void pass_on(struct tcp_pipe *p, int from)
{
	struct bufferevent *src = p->side[from], *dst = p->side[!from];
	struct evbuffer *in = bufferevent_get_input(src);
	p->carried[from] += evbuffer_get_length(in);
	bufferevent_write_buffer(dst, in);
	if (evbuffer_get_length(bufferevent_get_output(dst)) > TCP_PIPE_MAX)
		bufferevent_disable(src, EV_READ);
}

static void read_cb(struct bufferevent *bev, void *arg)
{
	struct tcp_pipe *p = arg;
	pass_on(p, side_of(p, bev));
}

/* At the write low-water mark: the other side may read again. */
static void write_cb(struct bufferevent *bev, void *arg)
{
	struct tcp_pipe *p = arg;
	bufferevent_enable(p->side[!side_of(p, bev)], EV_READ);
}

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	struct tcp_pipe *p = arg;
	if (!(what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)) || p->done)
		return;
	p->done = true;
	p->closed(p, p->arg);
}

int tcp_pipe_join(struct tcp_pipe **pp, struct bufferevent *a, struct bufferevent *b,
                  tcp_pipe_closed_h *closed, void *arg)
{
	struct tcp_pipe *p = calloc(1, sizeof(*p));
	if (!p)
		return ENOMEM;
	p->side[0] = a;
	p->side[1] = b;
	p->closed = closed;
	p->arg = arg;
	for (int i = 0; i < 2; i++) {
		bufferevent_set_timeouts(p->side[i], NULL, NULL);
		bufferevent_setwatermark(p->side[i], EV_READ, 0, TCP_PIPE_MAX);
		bufferevent_setwatermark(p->side[i], EV_WRITE, TCP_PIPE_MAX / 4, 0);
		bufferevent_setcb(p->side[i], read_cb, write_cb, event_cb, p);
		bufferevent_enable(p->side[i], EV_READ | EV_WRITE);
	}
	*pp = p;
	for (int i = 0; i < 2; i++)
		if (evbuffer_get_length(bufferevent_get_input(p->side[i])))
			pass_on(p, i);
	return 0;
}

void tcp_pipe_counts(const struct tcp_pipe *p, uint64_t *a_to_b, uint64_t *b_to_a)
{
	*a_to_b = p->carried[0];
	*b_to_a = p->carried[1];
}

void tcp_pipe_free(struct tcp_pipe *p)
{
	if (!p)
		return;
	for (int i = 0; i < 2; i++)
		bufferevent_setcb(p->side[i], NULL, NULL, NULL, NULL);
	free(p);
}
