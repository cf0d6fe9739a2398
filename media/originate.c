#include "media/originate.h"

#include <errno.h>
#include <event2/buffer.h>
#include <openssl/rand.h>
#include <event2/bufferevent.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/addr.h"
#include "media/relay_sock.h"

struct flow {
	LIST_ENTRY(flow) link;
	struct originator *o;
	uint16_t port;
	bool pool_port;          /* port is the pool's, to give back */
	int fd;                  /* UDP; TCP's belongs to bev */
	struct event *read_ev;   /* UDP */
	struct bufferevent *bev; /* TCP */
	struct event *deadline;
	struct sockaddr_storage dst; /* IPv4-mapped IPv6 made plain IPv4 */
	struct originate_result res;
	originate_done_h *done;
	void *arg;
};

struct originator {
	struct event_base *base;
	struct port_pool *pool;
	struct sockaddr_storage bind;
	struct timeval wait;
	size_t n_flows;
	LIST_HEAD(, flow) flows;
};

int originator_alloc(struct originator **op, struct event_base *base, struct port_pool *pool,
                     const struct sockaddr_storage *bind, unsigned wait_ms)
{
	if (!op || !base || !pool || !bind || !wait_ms ||
	    (bind->ss_family != AF_INET && bind->ss_family != AF_INET6))
		return EINVAL;
	struct originator *o = calloc(1, sizeof(*o));
	if (!o)
		return ENOMEM;
	o->base = base;
	o->pool = pool;
	addr_unmap((const struct sockaddr *)bind, &o->bind);
	o->wait.tv_sec = wait_ms / 1000;
	o->wait.tv_usec = (wait_ms % 1000) * 1000;
	LIST_INIT(&o->flows);
	*op = o;
	return 0;
}

size_t originator_in_flight(const struct originator *o)
{
	return o ? o->n_flows : 0;
}

/* Closes everything the flow holds and gives its port back; the only place
 * a flow is freed. */
static void flow_free(struct flow *f)
{
	if (f->deadline)
		event_free(f->deadline);
	if (f->read_ev)
		event_free(f->read_ev);
	if (f->bev)
		bufferevent_free(f->bev); /* closes its socket */
	else if (f->fd >= 0)
		close(f->fd);
	if (f->pool_port)
		port_pool_release(f->o->pool, f->port);
	if (f->link.le_prev) {
		LIST_REMOVE(f, link);
		f->o->n_flows--;
	}
	free(f);
}

/* The flow is freed before the handler runs, so that the handler may start
 * another flow or free the originator. */
static void flow_end(struct flow *f, int err, const uint8_t *reply, size_t reply_len)
{
	int fd = f->bev ? bufferevent_getfd(f->bev) : f->fd;
	/* A failure's cause, read before the socket closes. */
	if (err && err != ECANCELED && fd >= 0)
		f->res.icmp = sockerr_icmp(fd, &f->res.icmp_err);
	struct originate_result res = f->res;
	originate_done_h *done = f->done;
	void *arg = f->arg;
	res.err = err;
	res.reply = reply;
	res.reply_len = reply_len;
	flow_free(f);
	done(&res, arg);
}

void originator_free(struct originator *o)
{
	if (!o)
		return;
	while (!LIST_EMPTY(&o->flows))
		flow_end(LIST_FIRST(&o->flows), ECANCELED, NULL, 0);
	free(o);
}

static bool is_wildcard(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ((const struct sockaddr_in *)ss)->sin_addr.s_addr == htonl(INADDR_ANY);
	return IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)ss)->sin6_addr);
}

/* The local address for target: the bind address, or a wildcard of the
 * target's family when the bind address is a wildcard of the other one. */
static int local_for(const struct originator *o, const struct sockaddr_storage *target,
                     struct sockaddr_storage *local)
{
	*local = o->bind;
	if (local->ss_family == target->ss_family)
		return 0;
	if (!is_wildcard(&o->bind))
		return EAFNOSUPPORT;
	return addr_parse(target->ss_family == AF_INET6 ? "::" : "0.0.0.0", 0, local);
}

/* Every flow's socket queues ICMP errors, so that its end can tell an
 * unreachable from an RST. */
static int sock_ready(int fd, int family)
{
	return sockerr_enable(fd, family);
}

/* A socket of that type bound to a pool port (taken on success; a port some
 * other program holds is skipped by relay_sock_open). */
static int bind_pool_port(struct flow *f, const struct sockaddr_storage *target, int type, int *fdp)
{
	struct sockaddr_storage local;
	struct relay_sock_opts opts = {.type = type};
	int rc = local_for(f->o, target, &local);
	if (!rc)
		rc = relay_sock_open(f->o->pool, (struct sockaddr *)&local, &opts, fdp, &f->port);
	if (rc)
		return rc;
	f->pool_port = true;
	return sock_ready(*fdp, local.ss_family);
}

/* A TCP socket bound to local (its port included), queueing ICMP errors. */
static int bind_exact(const struct sockaddr_storage *local, int *fdp)
{
	int on = 1, rc = 0;
	int fd = socket(local->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errno;
	if (local->ss_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)))
		rc = errno;
	if (!rc &&
	    bind(fd, (const struct sockaddr *)local, addr_len((const struct sockaddr *)local)))
		rc = errno;
	if (!rc)
		rc = sock_ready(fd, local->ss_family);
	if (rc)
		close(fd);
	else
		*fdp = fd;
	return rc;
}

/* A TCP socket bound to a port of min..max outside the pool, drawn at
 * random: an explicit bind, so that the kernel never picks it. */
static int bind_range_port(struct flow *f, const struct sockaddr_storage *target, uint16_t min,
                           uint16_t max, int *fdp)
{
	struct sockaddr_storage local;
	int rc = local_for(f->o, target, &local);
	if (rc)
		return rc;
	rc = EADDRINUSE;
	for (int i = 0; rc == EADDRINUSE && i < ORIGINATE_PORT_TRIES; i++) {
		uint16_t r;
		if (RAND_bytes((unsigned char *)&r, sizeof(r)) != 1)
			return EIO;
		uint16_t port = (uint16_t)(min + r % ((unsigned)max - min + 1));
		if (port_pool_contains(f->o->pool, port))
			continue; /* a relay port: never */
		addr_set_port((struct sockaddr *)&local, port);
		rc = bind_exact(&local, fdp);
		if (!rc)
			f->port = port;
	}
	return rc;
}

static void deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct flow *f = arg;
	/* A TCP flow whose bytes all went out has done its job; the far side
	 * only failed to close in time. */
	flow_end(f, f->bev && f->res.sent ? 0 : ETIMEDOUT, NULL, 0);
}

/* A flow with its deadline running, linked into o; or EINVAL/EBUSY/ENOMEM. */
static int flow_new(struct originator *o, const struct sockaddr_storage *target, const void *data,
                    size_t len, originate_done_h *done, void *arg, const uint16_t *port,
                    struct flow **fp)
{
	if (!o || !target || !data || !done || !port || !len || len > ORIGINATE_MAX_DATA ||
	    (target->ss_family != AF_INET && target->ss_family != AF_INET6) ||
	    !addr_port((const struct sockaddr *)target))
		return EINVAL;
	if (o->n_flows >= ORIGINATE_MAX_FLOWS)
		return EBUSY;
	struct flow *f = calloc(1, sizeof(*f));
	if (!f)
		return ENOMEM;
	f->o = o;
	f->fd = -1;
	addr_unmap((const struct sockaddr *)target, &f->dst);
	f->done = done;
	f->arg = arg;
	f->deadline = evtimer_new(o->base, deadline_cb, f);
	if (!f->deadline || evtimer_add(f->deadline, &o->wait)) {
		flow_free(f);
		return ENOMEM;
	}
	LIST_INSERT_HEAD(&o->flows, f, link);
	o->n_flows++;
	*fp = f;
	return 0;
}

/* The end of originate_*: on failure nothing is left behind. */
static int flow_started(struct flow *f, int rc, uint16_t *port)
{
	if (rc) {
		if (f)
			flow_free(f);
		return rc;
	}
	f->res.port = *port = f->port;
	/* Bound and connecting: the kernel has chosen the source address. */
	int fd = f->bev ? bufferevent_getfd(f->bev) : f->fd;
	socklen_t sl = sizeof(f->res.local);
	if (getsockname(fd, (struct sockaddr *)&f->res.local, &sl))
		f->res.local.ss_family = AF_UNSPEC;
	return 0;
}

/* ---- UDP ---- */

static void udp_read_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	struct flow *f = arg;
	uint8_t buf[2048];
	/* Connected: only the target's datagrams arrive, and its ICMP errors
	 * come back as ECONNREFUSED & co. */
	ssize_t n = recv(fd, buf, sizeof(buf), 0);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0)
		flow_end(f, errno, NULL, 0);
	else
		flow_end(f, 0, buf, (size_t)n);
}

int originate_udp(struct originator *o, const struct sockaddr_storage *target, const void *data,
                  size_t len, originate_done_h *done, void *arg, uint16_t *port)
{
	struct flow *f = NULL;
	int rc = flow_new(o, target, data, len, done, arg, port, &f);
	if (!rc)
		rc = bind_pool_port(f, &f->dst, SOCK_DGRAM, &f->fd);
	if (!rc && connect(f->fd, (struct sockaddr *)&f->dst, addr_len((struct sockaddr *)&f->dst)))
		rc = errno;
	if (!rc && send(f->fd, data, len, 0) != (ssize_t)len)
		rc = errno ? errno : EIO;
	if (!rc)
		f->res.sent = true;
	if (!rc) {
		f->read_ev = event_new(o->base, f->fd, EV_READ | EV_PERSIST, udp_read_cb, f);
		if (!f->read_ev || event_add(f->read_ev, NULL))
			rc = ENOMEM;
	}
	return flow_started(f, rc, port);
}

/* ---- TCP ---- */

static void tcp_read_cb(struct bufferevent *bev, void *arg)
{
	(void)arg;
	/* Whatever the client sends is not this flow's business: drop it, so
	 * that the buffer stays bounded. */
	struct evbuffer *in = bufferevent_get_input(bev);
	evbuffer_drain(in, evbuffer_get_length(in));
}

static void tcp_write_cb(struct bufferevent *bev, void *arg)
{
	(void)bev;
	struct flow *f = arg;
	f->res.sent = true;
}

static void tcp_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct flow *f = arg;
	if (what & BEV_EVENT_CONNECTED) {
		f->res.connected = true;
		return;
	}
	if (what & BEV_EVENT_EOF) {
		f->res.peer_closed = f->res.sent;
		return flow_end(f, f->res.sent ? 0 : EPIPE, NULL, 0);
	}
	/* A connect that failed at once is reported on a later loop turn, when
	 * errno may say something else: SO_ERROR first. */
	int err = 0;
	socklen_t len = sizeof(err);
	if (getsockopt(bufferevent_getfd(bev), SOL_SOCKET, SO_ERROR, &err, &len) || !err)
		err = EVUTIL_SOCKET_ERROR();
	flow_end(f, err ? err : EIO, NULL, 0);
}

/* The TCP flow f, bound to fd (or rc: a failure to bind). */
static int tcp_start(struct flow *f, int rc, int fd, const void *data, size_t len, uint16_t *port)
{
	if (!rc) {
		f->bev = bufferevent_socket_new(f->o->base, fd, BEV_OPT_CLOSE_ON_FREE);
		if (!f->bev) {
			close(fd);
			rc = ENOMEM;
		}
	}
	if (!rc) {
		/* Queued now, written once connected; the write callback says
		 * when the output buffer is empty. */
		bufferevent_setcb(f->bev, tcp_read_cb, tcp_write_cb, tcp_event_cb, f);
		if (bufferevent_write(f->bev, data, len))
			rc = ENOMEM;
	}
	/* A refusal known at once is reported through the event callback, on
	 * a later loop turn, like any other. */
	if (!rc && bufferevent_socket_connect(f->bev, (struct sockaddr *)&f->dst,
	                                      (int)addr_len((struct sockaddr *)&f->dst)))
		rc = EVUTIL_SOCKET_ERROR() ? EVUTIL_SOCKET_ERROR() : EIO;
	if (!rc && bufferevent_enable(f->bev, EV_READ | EV_WRITE))
		rc = ENOMEM;
	return flow_started(f, rc, port);
}

int originate_tcp(struct originator *o, const struct sockaddr_storage *target, const void *data,
                  size_t len, originate_done_h *done, void *arg, uint16_t *port)
{
	struct flow *f = NULL;
	int fd = -1;
	int rc = flow_new(o, target, data, len, done, arg, port, &f);
	if (rc)
		return rc;
	rc = bind_pool_port(f, &f->dst, SOCK_STREAM, &fd);
	return tcp_start(f, rc, fd, data, len, port);
}

int originate_tcp_range(struct originator *o, const struct sockaddr_storage *target,
                        const void *data, size_t len, uint16_t min, uint16_t max,
                        originate_done_h *done, void *arg, uint16_t *port)
{
	struct flow *f = NULL;
	int fd = -1;
	if (!min || min > max)
		return EINVAL;
	int rc = flow_new(o, target, data, len, done, arg, port, &f);
	if (rc)
		return rc;
	rc = bind_range_port(f, &f->dst, min, max, &fd);
	return tcp_start(f, rc, fd, data, len, port);
}
