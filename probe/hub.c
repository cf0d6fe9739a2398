#include "probe/hub.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/addr.h"

#define HUB_LISTENERS 8
#define HUB_PENDING   32 /* TCP connections whose marker has not come yet */
#define SLOT_QUEUE    4  /* a flow's arrivals not yet taken (row 5: retransmissions) */

struct hub_listener {
	int type, fd;
	uint16_t port;
	unsigned stray;
	struct hub_slot *slots;
};

struct hub_slot {
	struct probe_hub *hub;
	struct hub_listener *l;
	char expect[128];
	struct hub_item q[SLOT_QUEUE];
	size_t head, count;
	bool done;
	struct hub_slot *next;
};

struct pending {
	struct hub_listener *l;
	struct hub_item it;
};

struct probe_hub {
	pthread_mutex_t mu;
	pthread_cond_t cond; /* an arrival was queued */
	pthread_t thread;
	bool stop;
	int wake[2]; /* tells the thread to look again: a new listener, or stop */
	struct hub_listener l[HUB_LISTENERS];
	size_t nl;
	/* The thread's own: not locked. */
	struct pending p[HUB_PENDING];
	size_t np;
};

/* Gives it to the slot on l whose marker it carries; false: none (then
 * counted as stray when final). Takes the lock. A TCP connection nobody
 * takes any more is closed here. */
static bool route(struct probe_hub *h, struct hub_listener *l, const struct hub_item *it,
                  bool final)
{
	bool found = false;
	pthread_mutex_lock(&h->mu);
	for (struct hub_slot *s = l->slots; s && !found; s = s->next) {
		if (!memmem(it->data, it->len, s->expect, strlen(s->expect)))
			continue;
		found = true;
		if (!s->done && s->count < SLOT_QUEUE) {
			s->q[(s->head + s->count++) % SLOT_QUEUE] = *it;
			pthread_cond_broadcast(&h->cond);
		} else if (l->type == SOCK_STREAM) {
			close(it->fd);
		}
	}
	if (!found && final)
		l->stray++;
	pthread_mutex_unlock(&h->mu);
	return found;
}

static void pending_drop(struct probe_hub *h, size_t i, bool stray)
{
	close(h->p[i].it.fd);
	if (stray) {
		pthread_mutex_lock(&h->mu);
		h->p[i].l->stray++;
		pthread_mutex_unlock(&h->mu);
	}
	h->p[i] = h->p[--h->np];
}

static void on_listener(struct probe_hub *h, struct hub_listener *l)
{
	struct hub_item it = {.fd = l->fd};
	socklen_t alen = sizeof(it.from);
	if (l->type == SOCK_DGRAM) {
		ssize_t n = recvfrom(l->fd, it.data, sizeof(it.data), MSG_DONTWAIT,
		                     (struct sockaddr *)&it.from, &alen);
		if (n >= 0) {
			it.len = (size_t)n;
			route(h, l, &it, true);
		}
		return;
	}
	int fd = accept4(l->fd, (struct sockaddr *)&it.from, &alen, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0) {
		/* Out of descriptors, the connection stays queued and the listener
		 * readable: pause rather than spin until a flow ends. */
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
			nanosleep(&(struct timespec){.tv_nsec = 10 * 1000 * 1000}, NULL);
		return;
	}
	it.fd = fd;
	h->p[h->np].l = l;
	h->p[h->np++].it = it;
	if (h->np == HUB_PENDING) /* the oldest makes room */
		pending_drop(h, 0, true);
}

/* More of a connection's first bytes: routed once they hold a marker. */
static void on_pending(struct probe_hub *h, size_t i)
{
	struct hub_item *it = &h->p[i].it;
	ssize_t n = recv(it->fd, it->data + it->len, sizeof(it->data) - it->len, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0)
		return pending_drop(h, i, true);
	it->len += (size_t)n;
	/* Blocking again: the flow reads it as a plain socket. */
	fcntl(it->fd, F_SETFL, fcntl(it->fd, F_GETFL) & ~O_NONBLOCK);
	if (route(h, h->p[i].l, it, false)) {
		h->p[i] = h->p[--h->np];
		return;
	}
	fcntl(it->fd, F_SETFL, fcntl(it->fd, F_GETFL) | O_NONBLOCK);
	if (it->len == sizeof(it->data))
		pending_drop(h, i, true);
}

static void *hub_thread(void *arg)
{
	struct probe_hub *h = arg;
	struct pollfd pfd[1 + HUB_LISTENERS + HUB_PENDING];
	struct hub_listener *ls[HUB_LISTENERS];
	for (;;) {
		size_t n = 0, nl = 0;
		pthread_mutex_lock(&h->mu);
		bool stop = h->stop;
		pfd[n++] = (struct pollfd){.fd = h->wake[0], .events = POLLIN};
		for (size_t i = 0; i < h->nl; i++) {
			ls[nl++] = &h->l[i];
			pfd[n++] = (struct pollfd){.fd = h->l[i].fd, .events = POLLIN};
		}
		pthread_mutex_unlock(&h->mu);
		if (stop)
			break;
		size_t np = h->np;
		for (size_t i = 0; i < np; i++)
			pfd[n++] = (struct pollfd){.fd = h->p[i].it.fd, .events = POLLIN};
		if (poll(pfd, n, -1) <= 0)
			continue;
		if (pfd[0].revents) {
			char b[16];
			while (read(h->wake[0], b, sizeof(b)) > 0)
				;
		}
		/* Pending connections first, from the end: dropping or routing
		 * one moves the last into its place. */
		for (size_t i = np; i-- > 0;)
			if (pfd[1 + nl + i].revents)
				on_pending(h, i);
		for (size_t i = 0; i < nl; i++)
			if (pfd[1 + i].revents)
				on_listener(h, ls[i]);
	}
	return NULL;
}

static void wake(struct probe_hub *h)
{
	ssize_t rc = write(h->wake[1], "x", 1);
	(void)rc; /* full: the thread is awake already */
}

int hub_new(struct probe_hub **out)
{
	struct probe_hub *h = calloc(1, sizeof(*h));
	pthread_condattr_t ca;
	int rc = h ? 0 : ENOMEM;
	if (!rc && pipe2(h->wake, O_CLOEXEC | O_NONBLOCK))
		rc = errno;
	if (rc) {
		free(h);
		return rc;
	}
	pthread_mutex_init(&h->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&h->cond, &ca);
	pthread_condattr_destroy(&ca);
	rc = pthread_create(&h->thread, NULL, hub_thread, h);
	if (rc) {
		close(h->wake[0]);
		close(h->wake[1]);
		pthread_cond_destroy(&h->cond);
		pthread_mutex_destroy(&h->mu);
		free(h);
		return rc;
	}
	*out = h;
	return 0;
}

void hub_free(struct probe_hub *h)
{
	if (!h)
		return;
	pthread_mutex_lock(&h->mu);
	h->stop = true;
	pthread_mutex_unlock(&h->mu);
	wake(h);
	pthread_join(h->thread, NULL);
	for (size_t i = 0; i < h->np; i++)
		close(h->p[i].it.fd);
	for (size_t i = 0; i < h->nl; i++) {
		struct hub_listener *l = &h->l[i];
		while (l->slots) {
			struct hub_slot *s = l->slots;
			l->slots = s->next;
			for (size_t k = 0; l->type == SOCK_STREAM && k < s->count; k++)
				close(s->q[(s->head + k) % SLOT_QUEUE].fd);
			free(s);
		}
		close(l->fd);
	}
	close(h->wake[0]);
	close(h->wake[1]);
	pthread_cond_destroy(&h->cond);
	pthread_mutex_destroy(&h->mu);
	free(h);
}

/* The listener for type on at's port, opened if need be; called locked. */
static int listener_get(struct probe_hub *h, int type, const struct sockaddr *at,
                        struct hub_listener **out)
{
	uint16_t port = addr_port(at);
	int on = 1;
	for (size_t i = 0; i < h->nl; i++) {
		if (h->l[i].type == type && h->l[i].port == port) {
			*out = &h->l[i];
			return 0;
		}
	}
	if (h->nl == HUB_LISTENERS)
		return ENOSPC;
	int fd = socket(at->sa_family, type | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) ||
	    bind(fd, at, addr_len(at)) || (type == SOCK_STREAM && listen(fd, 16))) {
		int rc = errno;
		close(fd);
		return rc;
	}
	h->l[h->nl] = (struct hub_listener){.type = type, .fd = fd, .port = port};
	*out = &h->l[h->nl++];
	wake(h);
	return 0;
}

int hub_expect(struct probe_hub *h, int type, const struct sockaddr *at, const char *expect,
               struct hub_slot **out)
{
	struct hub_slot *s = calloc(1, sizeof(*s));
	struct hub_listener *l = NULL;
	if (!s || !expect[0] || strlen(expect) >= sizeof(s->expect)) {
		free(s);
		return s ? EINVAL : ENOMEM;
	}
	pthread_mutex_lock(&h->mu);
	int rc = listener_get(h, type, at, &l);
	if (!rc) {
		s->hub = h;
		s->l = l;
		strcpy(s->expect, expect);
		s->next = l->slots;
		l->slots = s;
		*out = s;
	}
	pthread_mutex_unlock(&h->mu);
	if (rc)
		free(s);
	return rc;
}

int hub_wait(struct hub_slot *s, double deadline, struct hub_item *it)
{
	struct probe_hub *h = s->hub;
	struct timespec ts = {.tv_sec = (time_t)deadline};
	ts.tv_nsec = (long)((deadline - (double)ts.tv_sec) * 1e9);
	int rc = 0;
	pthread_mutex_lock(&h->mu);
	while (!s->count && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&h->cond, &h->mu, &ts);
	if (s->count) {
		*it = s->q[s->head];
		s->head = (s->head + 1) % SLOT_QUEUE;
		s->count--;
		rc = 0;
	}
	pthread_mutex_unlock(&h->mu);
	return rc ? ETIMEDOUT : 0;
}

void hub_done(struct hub_slot *s)
{
	pthread_mutex_lock(&s->hub->mu);
	s->done = true;
	pthread_mutex_unlock(&s->hub->mu);
}

unsigned hub_stray(const struct hub_slot *s)
{
	pthread_mutex_lock(&s->hub->mu);
	unsigned n = s->l->stray;
	pthread_mutex_unlock(&s->hub->mu);
	return n;
}
