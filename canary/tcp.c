/* The TCP canaries (canary/canary_int.h): each accepted connection is read
 * for up to CANARY_READ_MAX bytes and CANARY_TCP_READ_MS, recorded once,
 * and closed; nothing is ever written to it. */
#include <errno.h>
#include <event2/listener.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <unistd.h>

#include "canary/canary_int.h"
#include "canary/marker.h"

struct tcp_conn;

struct tcp_listener {
	struct canary_tcp *owner;
	struct evconnlistener *lev;
	uint16_t port;
};

struct canary_tcp {
	struct event_base *base;
	struct canary_hits *hits;
	struct tcp_listener listeners[CONF_PORTS_MAX];
	size_t n_listeners;
	LIST_HEAD(, tcp_conn) conns;
	size_t n_conns;
};

struct tcp_conn {
	LIST_ENTRY(tcp_conn) link;
	struct canary_tcp *owner;
	uint16_t port;
	evutil_socket_t fd;
	struct event *read_ev, *deadline;
	struct sockaddr_storage src;
	uint64_t ms;
	uint8_t buf[CANARY_READ_MAX];
	size_t len;
};

static void conn_free(struct tcp_conn *c)
{
	LIST_REMOVE(c, link);
	c->owner->n_conns--;
	if (c->read_ev)
		event_free(c->read_ev);
	if (c->deadline)
		event_free(c->deadline);
	close(c->fd);
	free(c);
}

/* The one end of a connection read: recorded, then closed. */
static void conn_end(struct tcp_conn *c, bool at_end)
{
	canary_hits_record(c->owner->hits, CANARY_TCP, c->port, (struct sockaddr *)&c->src, c->ms,
	                   c->buf, c->len, at_end);
	conn_free(c);
}

static void deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	conn_end(arg, true); /* the sender has stopped: what we have is all */
}

static void read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tcp_conn *c = arg;
	char marker[ROWS_MARKER_MAX + 1];
	(void)what;
	ssize_t n = recv(fd, c->buf + c->len, sizeof(c->buf) - c->len, 0);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (n <= 0) {
		conn_end(c, true); /* closed or reset: no more bytes */
		return;
	}
	c->len += (size_t)n;
	/* A whole marker needs no more waiting; nor does a full buffer. */
	if (c->len == sizeof(c->buf) ||
	    canary_marker_find(c->buf, c->len, false, marker) == CANARY_MARKER_FOUND)
		conn_end(c, false);
}

/* Over the limit: recorded now, without reading. */
static void refuse(struct tcp_listener *l, evutil_socket_t fd, const struct sockaddr *src)
{
	canary_hits_record(l->owner->hits, CANARY_TCP, l->port, src, canary_now_ms(), NULL, 0,
	                   true);
	close(fd);
}

static void accept_cb(struct evconnlistener *lev, evutil_socket_t fd, struct sockaddr *src,
                      int srclen, void *arg)
{
	struct tcp_listener *l = arg;
	struct canary_tcp *t = l->owner;
	const struct timeval tv = {CANARY_TCP_READ_MS / 1000, CANARY_TCP_READ_MS % 1000 * 1000};
	struct tcp_conn *c = t->n_conns < CANARY_TCP_CONNS_MAX ? calloc(1, sizeof(*c)) : NULL;
	(void)lev;
	if (!c) {
		refuse(l, fd, src);
		return;
	}
	c->owner = t;
	c->port = l->port;
	c->fd = fd;
	c->ms = canary_now_ms();
	memcpy(&c->src, src, (size_t)srclen < sizeof(c->src) ? (size_t)srclen : sizeof(c->src));
	LIST_INSERT_HEAD(&t->conns, c, link);
	t->n_conns++;
	c->read_ev = event_new(t->base, fd, EV_READ | EV_PERSIST, read_cb, c);
	c->deadline = evtimer_new(t->base, deadline_cb, c);
	if (!c->read_ev || !c->deadline || event_add(c->read_ev, NULL) ||
	    evtimer_add(c->deadline, &tv))
		conn_end(c, true); /* no memory to read it: recorded as it is */
}

int canary_tcp_alloc(struct canary_tcp **tp, struct event_base *base, struct canary_hits *hits)
{
	struct canary_tcp *t = calloc(1, sizeof(*t));
	if (!t)
		return ENOMEM;
	t->base = base;
	t->hits = hits;
	LIST_INIT(&t->conns);
	*tp = t;
	return 0;
}

int canary_tcp_add(struct canary_tcp *t, const struct sockaddr_storage *addr, uint16_t port)
{
	struct tcp_listener *l = &t->listeners[t->n_listeners];
	int fd = -1;
	int rc =
	    t->n_listeners == CONF_PORTS_MAX ? ENOSPC : canary_bind(SOCK_STREAM, addr, port, &fd);
	if (rc)
		return rc;
	l->owner = t;
	l->port = port;
	l->lev = evconnlistener_new(t->base, accept_cb, l, LEV_OPT_CLOSE_ON_FREE, -1, fd);
	if (!l->lev) {
		close(fd);
		return ENOMEM;
	}
	t->n_listeners++;
	return 0;
}

void canary_tcp_free(struct canary_tcp *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n_listeners; i++)
		evconnlistener_free(t->listeners[i].lev);
	while (!LIST_EMPTY(&t->conns))
		conn_free(LIST_FIRST(&t->conns));
	free(t);
}
