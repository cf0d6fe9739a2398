/* The flow registry (control/flows.h): a ring of records and a list of
 * waiters, each with its timer. */
#include "control/flows.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

struct flows_waiter {
	LIST_ENTRY(flows_waiter) link;
	struct flows *f;
	uint64_t id;
	struct event *timer;
	flows_wake_h *wake;
	void *arg;
};

struct flows {
	struct event_base *base;
	uint64_t last_id; /* ids 1..last_id given; the last FLOWS_KEEP kept */
	struct flow_record ring[FLOWS_KEEP];
	LIST_HEAD(, flows_waiter) waiters;
	size_t n_waiters;
};

static const char *const kind_names[] = {
    [FLOW_ROW2] = "row2",
    [FLOW_ROW4] = "row4",
    [FLOW_ROW5] = "row5",
    [FLOW_STRICT_TCP] = "strict-tcp",
};

static const char *const outcome_names[] = {
    [FLOW_PENDING] = "pending", [FLOW_ANSWERED] = "answered", [FLOW_CONNECTED] = "connected",
    [FLOW_RESET] = "reset",     [FLOW_ICMP] = "icmp",         [FLOW_TLS_FAILED] = "tls-failed",
    [FLOW_TIMEOUT] = "timeout", [FLOW_ERROR] = "error",       [FLOW_CANCELLED] = "cancelled",
    [FLOW_DNS] = "dns",
};

const char *flows_kind_name(enum flow_kind kind)
{
	return kind_names[kind];
}

const char *flows_outcome_name(enum flow_outcome outcome)
{
	return outcome_names[outcome];
}

int flows_alloc(struct flows **fp, struct event_base *base)
{
	if (!fp || !base)
		return EINVAL;
	struct flows *f = calloc(1, sizeof(*f));
	if (!f)
		return ENOMEM;
	f->base = base;
	LIST_INIT(&f->waiters);
	*fp = f;
	return 0;
}

/* Unlinks and frees w; the caller has called it, or must not. */
static void waiter_free(struct flows_waiter *w)
{
	LIST_REMOVE(w, link);
	w->f->n_waiters--;
	event_free(w->timer);
	free(w);
}

/* Calls each waiter of id (every waiter when all), once, and frees it. A
 * wake handler may add or cancel other waiters: start over after each. */
static void wake(struct flows *f, uint64_t id, bool all)
{
	struct flows_waiter *w;
	for (;;) {
		LIST_FOREACH(w, &f->waiters, link)
		if (all || w->id == id)
			break;
		if (!w)
			return;
		flows_wake_h *h = w->wake;
		void *arg = w->arg;
		uint64_t wid = w->id;
		waiter_free(w);
		h(flows_find(f, wid), arg);
	}
}

void flows_free(struct flows *f)
{
	if (!f)
		return;
	wake(f, 0, true);
	free(f);
}

struct flow_record *flows_find(struct flows *f, uint64_t id)
{
	if (!f || id == 0 || id > f->last_id || f->last_id - id >= FLOWS_KEEP)
		return NULL;
	return &f->ring[(id - 1) % FLOWS_KEEP];
}

struct flow_record *flows_add(struct flows *f, enum flow_kind kind)
{
	uint64_t id = f->last_id + 1;
	struct flow_record *r = &f->ring[(id - 1) % FLOWS_KEEP];
	/* The oldest goes: whoever waits on it gets it as it is. */
	if (r->id)
		wake(f, r->id, false);
	memset(r, 0, sizeof(*r));
	r->id = id;
	r->kind = kind;
	r->outcome = FLOW_PENDING;
	clock_gettime(CLOCK_MONOTONIC, &r->started);
	f->last_id = id;
	return r;
}

void flows_set(struct flow_record *r, enum flow_outcome outcome, const char *fmt, ...)
{
	va_list ap;
	r->outcome = outcome;
	va_start(ap, fmt);
	vsnprintf(r->detail, sizeof(r->detail), fmt, ap);
	va_end(ap);
}

void flows_set_icmp(struct flow_record *r, const char *what, const struct sockerr_icmp *e)
{
	char name[64], from[ADDR_STR_MAX] = "an unknown sender";
	r->icmp = true;
	r->icmp_err = *e;
	if (e->from.ss_family != AF_UNSPEC)
		addr_ip_str((const struct sockaddr *)&e->from, from, sizeof(from));
	flows_set(r, FLOW_ICMP, "the edge's %s drew %s %s (type %u code %u) from %s", what,
	          e->family == AF_INET6 ? "ICMPv6" : "ICMP",
	          sockerr_icmp_name(e, name, sizeof(name)), e->type, e->code, from);
}

void flows_ended(struct flows *f, struct flow_record *r)
{
	clock_gettime(CLOCK_MONOTONIC, &r->ended);
	wake(f, r->id, false);
}

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct flows_waiter *w = arg;
	struct flows *f = w->f;
	flows_wake_h *h = w->wake;
	void *harg = w->arg;
	uint64_t id = w->id;
	waiter_free(w);
	h(flows_find(f, id), harg);
}

int flows_wait(struct flows *f, uint64_t id, unsigned ms, flows_wake_h *wake_h, void *arg,
               struct flows_waiter **wp)
{
	if (!flows_find(f, id))
		return ENOENT;
	if (f->n_waiters >= FLOWS_WAITERS_MAX)
		return EBUSY;
	struct flows_waiter *w = calloc(1, sizeof(*w));
	struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
	if (w)
		w->timer = evtimer_new(f->base, timer_cb, w);
	if (!w || !w->timer || evtimer_add(w->timer, &tv)) {
		if (w && w->timer)
			event_free(w->timer);
		free(w);
		return ENOMEM;
	}
	*w = (struct flows_waiter){.f = f, .id = id, .timer = w->timer, .wake = wake_h, .arg = arg};
	LIST_INSERT_HEAD(&f->waiters, w, link);
	f->n_waiters++;
	*wp = w;
	return 0;
}

void flows_wait_cancel(struct flows_waiter *w)
{
	if (w)
		waiter_free(w);
}

size_t flows_waiting(const struct flows *f)
{
	return f ? f->n_waiters : 0;
}

static double seconds_of(const struct flow_record *r)
{
	struct timespec end = r->ended;
	if (r->outcome == FLOW_PENDING)
		clock_gettime(CLOCK_MONOTONIC, &end);
	return (double)(end.tv_sec - r->started.tv_sec) +
	       (double)(end.tv_nsec - r->started.tv_nsec) / 1e9;
}

/* Appends "key: value\n" when value is set. */
static size_t line(char *buf, size_t cap, size_t n, const char *key, const char *value)
{
	if (!value[0] || n >= cap)
		return n;
	int k = snprintf(buf + n, cap - n, "%s: %s\n", key, value);
	return k < 0 ? n : n + (size_t)k;
}

size_t flows_format(const struct flow_record *r, char *buf, size_t cap)
{
	char num[32], type[8] = "", code[8] = "", from[ADDR_STR_MAX] = "";
	size_t n = 0;
	snprintf(num, sizeof(num), "%llu", (unsigned long long)r->id);
	if (r->icmp) {
		snprintf(type, sizeof(type), "%u", r->icmp_err.type);
		snprintf(code, sizeof(code), "%u", r->icmp_err.code);
		if (r->icmp_err.from.ss_family != AF_UNSPEC)
			addr_ip_str((const struct sockaddr *)&r->icmp_err.from, from, sizeof(from));
	}
	buf[0] = '\0';
	n = line(buf, cap, n, "id", num);
	n = line(buf, cap, n, "kind", flows_kind_name(r->kind));
	n = line(buf, cap, n, "dialect", r->dialect);
	n = line(buf, cap, n, "partner", r->partner);
	n = line(buf, cap, n, "target", r->target);
	n = line(buf, cap, n, "source", r->source);
	n = line(buf, cap, n, "outcome", flows_outcome_name(r->outcome));
	n = line(buf, cap, n, "dns-name", r->dns_name);
	n = line(buf, cap, n, "icmp-type", type);
	n = line(buf, cap, n, "icmp-code", code);
	n = line(buf, cap, n, "icmp-from", from);
	snprintf(num, sizeof(num), "%.3f", seconds_of(r));
	n = line(buf, cap, n, "seconds", num);
	n = line(buf, cap, n, "detail", r->detail);
	return n < cap ? n : cap - 1;
}
