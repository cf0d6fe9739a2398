/* The impairer (lab/impair.h): fw's forwarded packets, each direction
 * through its NFQUEUE, held, dropped or passed at once as the direction's
 * spec says, as tc netem would; each packet's fate drawn on its own (a
 * xorshift generator seeded from the kernel). A packet is given back with
 * NF_ACCEPT: fw's own rules judge it after. */
#include <errno.h>
#include <event2/event.h>
#include <libnetfilter_queue/libnetfilter_queue.h>
#include <linux/netfilter.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>

#include "lab/impair.h"

#define QUEUE_MAXLEN 65536 /* packets held at once, per direction */
#define RCVBUF       (8 << 20)

/* A packet held until its time, in its direction's queue. */
struct held {
	uint32_t id;
	int64_t due_us;
	struct held *prev, *next;
};

struct direction {
	const char *name;
	struct impair_spec spec;
	struct nfq_q_handle *q;
	struct event *timer; /* at the queue's head's time */
	uint64_t *rng;
	struct held *head, *tail;          /* by time, then by arrival: netem's tfifo */
	uint64_t seen, dropped, held, now; /* counts; now: sent at once */
};

static int64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static uint64_t next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* True with probability ppm / IMPAIR_PPM. */
static bool chance(uint64_t *rng, uint32_t ppm)
{
	return ppm && next(rng) % IMPAIR_PPM < ppm;
}

/* The timer at the head's time (or none when nothing is held). */
static void arm(struct direction *d)
{
	if (!d->head) {
		event_del(d->timer);
		return;
	}
	int64_t wait = d->head->due_us - now_us();
	if (wait < 0)
		wait = 0;
	struct timeval tv = {(time_t)(wait / 1000000), (long)(wait % 1000000)};
	evtimer_add(d->timer, &tv);
}

/* Gives back every packet whose time has come (all with all). */
static void release_due(struct direction *d, bool all)
{
	int64_t now = now_us();
	while (d->head && (all || d->head->due_us <= now)) {
		struct held *h = d->head;
		d->head = h->next;
		if (d->head)
			d->head->prev = NULL;
		else
			d->tail = NULL;
		nfq_set_verdict(d->q, h->id, NF_ACCEPT, 0, NULL);
		free(h);
	}
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what;
	release_due(arg, false);
	arm(arg);
}

/* Into the queue after every packet due no later: equal times keep their
 * order of arrival, as netem keeps it. */
static void hold(struct direction *d, struct held *h)
{
	struct held *after = d->tail;
	while (after && after->due_us > h->due_us)
		after = after->prev;
	h->prev = after;
	h->next = after ? after->next : d->head;
	if (h->next)
		h->next->prev = h;
	else
		d->tail = h;
	if (after)
		after->next = h;
	else
		d->head = h;
	if (d->head == h)
		arm(d);
}

static int on_packet(struct nfq_q_handle *q, struct nfgenmsg *msg, struct nfq_data *nfa, void *arg)
{
	(void)msg;
	struct direction *d = arg;
	struct nfqnl_msg_packet_hdr *ph = nfq_get_msg_packet_hdr(nfa);
	if (!ph)
		return 0;
	uint32_t id = ntohl(ph->packet_id);
	const struct impair_spec *s = &d->spec;
	d->seen++;
	if (chance(d->rng, s->loss_ppm)) {
		d->dropped++;
		return nfq_set_verdict(q, id, NF_DROP, 0, NULL);
	}
	if (!s->delay_us || chance(d->rng, s->reorder_ppm)) {
		d->now++;
		return nfq_set_verdict(q, id, NF_ACCEPT, 0, NULL);
	}
	int64_t us = s->delay_us;
	if (s->jitter_us)
		us += (int64_t)(next(d->rng) % (2ull * s->jitter_us + 1)) - s->jitter_us;
	struct held *h = malloc(sizeof(*h));
	if (!h)
		return nfq_set_verdict(q, id, NF_ACCEPT, 0, NULL); /* no memory: pass it */
	h->id = id;
	h->due_us = now_us() + us;
	hold(d, h);
	d->held++;
	return 0;
}

static void on_queue(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	struct nfq_handle *h = arg;
	char buf[4096] __attribute__((aligned));
	for (int i = 0; i < 64; i++) {
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n <= 0)
			return; /* EAGAIN; ENOBUFS: the kernel dropped some, as a full link */
		nfq_handle_packet(h, buf, (int)n);
	}
}

static void on_signal(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what;
	event_base_loopbreak(arg);
}

int lab_impairer_run(const struct impair_spec *in, const struct impair_spec *out, FILE *ready,
                     char *err, size_t len)
{
	uint64_t rng = 0;
	if (getrandom(&rng, sizeof(rng), 0) != sizeof(rng) || !rng)
		rng = 0x9e3779b97f4a7c15ull;
	/* Timers to the microsecond (a timerfd), not epoll's millisecond: a
	 * delay of D is D, not up to D + 1 ms each way. */
	struct event_config *cfg = event_config_new();
	if (cfg)
		event_config_set_flag(cfg, EVENT_BASE_FLAG_PRECISE_TIMER);
	struct event_base *base = cfg ? event_base_new_with_config(cfg) : NULL;
	if (cfg)
		event_config_free(cfg);
	struct nfq_handle *h = nfq_open();
	struct direction dirs[2] = {{.name = "in", .spec = *in, .rng = &rng},
	                            {.name = "out", .spec = *out, .rng = &rng}};
	const uint16_t queues[2] = {LAB_IMPAIR_QUEUE_IN, LAB_IMPAIR_QUEUE_OUT};
	struct event *rd = NULL, *sigterm = NULL, *sigint = NULL;
	int rc = 0;
	if (!base || !h) {
		snprintf(err, len, "NFQUEUE: cannot open (nfnetlink_queue): %s", strerror(errno));
		rc = errno ? errno : ENOMEM;
		goto out;
	}
	for (int i = 0; i < 2; i++) {
		dirs[i].timer = evtimer_new(base, on_timer, &dirs[i]);
		dirs[i].q = nfq_create_queue(h, queues[i], on_packet, &dirs[i]);
		if (!dirs[i].timer || !dirs[i].q ||
		    nfq_set_mode(dirs[i].q, NFQNL_COPY_META, 0) < 0 ||
		    nfq_set_queue_maxlen(dirs[i].q, QUEUE_MAXLEN) < 0) {
			snprintf(err, len, "NFQUEUE %u: cannot bind: %s", queues[i],
			         strerror(errno));
			rc = errno ? errno : EIO;
			goto out;
		}
	}
	nfnl_rcvbufsiz(nfq_nfnlh(h), RCVBUF);
	rd = event_new(base, nfq_fd(h), EV_READ | EV_PERSIST, on_queue, h);
	sigterm = evsignal_new(base, SIGTERM, on_signal, base);
	sigint = evsignal_new(base, SIGINT, on_signal, base);
	if (!rd || !sigterm || !sigint || event_add(rd, NULL) || evsignal_add(sigterm, NULL) ||
	    evsignal_add(sigint, NULL)) {
		snprintf(err, len, "out of memory");
		rc = ENOMEM;
		goto out;
	}
	if (ready) {
		char a[IMPAIR_SPEC_MAX], b[IMPAIR_SPEC_MAX];
		fprintf(ready, "impairing: in %s; out %s\n", impair_spec_str(in, a, sizeof(a)),
		        impair_spec_str(out, b, sizeof(b)));
		fflush(ready);
	}
	event_base_dispatch(base);
	for (int i = 0; i < 2; i++) /* what is still held goes now */
		release_due(&dirs[i], true);
	for (int i = 0; ready && i < 2; i++)
		fprintf(ready, "%s: %llu packets, %llu dropped, %llu held, %llu at once\n",
		        dirs[i].name, (unsigned long long)dirs[i].seen,
		        (unsigned long long)dirs[i].dropped, (unsigned long long)dirs[i].held,
		        (unsigned long long)dirs[i].now);
out:
	if (rd)
		event_free(rd);
	if (sigterm)
		event_free(sigterm);
	if (sigint)
		event_free(sigint);
	for (int i = 0; i < 2; i++) {
		if (dirs[i].q)
			nfq_destroy_queue(dirs[i].q);
		if (dirs[i].timer)
			event_free(dirs[i].timer);
	}
	if (h)
		nfq_close(h);
	if (base)
		event_base_free(base);
	return rc;
}
