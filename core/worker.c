#include "core/worker.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

struct worker {
	unsigned index;
	struct event_base *base;
	pthread_t thread;
	bool set_up;
	bool running;
	void *data;
};

struct workers {
	unsigned count;
	worker_teardown_h *teardown;
	void *arg;
	struct worker w[];
};

struct event_base *worker_base(struct worker *w)
{
	return w->base;
}
unsigned worker_index(const struct worker *w)
{
	return w->index;
}
void *worker_data(struct worker *w)
{
	return w->data;
}
void worker_set_data(struct worker *w, void *data)
{
	w->data = data;
}
unsigned workers_count(const struct workers *ws)
{
	return ws->count;
}
struct worker *workers_at(struct workers *ws, unsigned i)
{
	return i < ws->count ? &ws->w[i] : NULL;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	/* EVLOOP_NO_EXIT_ON_EMPTY: a worker with no events yet must keep waiting
	 * for posted messages. */
	event_base_loop(w->base, EVLOOP_NO_EXIT_ON_EMPTY);
	return NULL;
}

struct posted {
	struct worker *w;
	worker_msg_h *h;
	void *arg;
};

static void posted_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct posted *p = arg;
	p->h(p->w, p->arg);
	free(p);
}

int worker_post(struct worker *w, worker_msg_h *h, void *arg)
{
	struct posted *p = malloc(sizeof(*p));
	if (!p)
		return ENOMEM;
	*p = (struct posted){w, h, arg};
	/* event_base_once takes the base lock and wakes the loop (evthread). */
	if (event_base_once(w->base, -1, EV_TIMEOUT, posted_cb, p, NULL)) {
		free(p);
		return ENOMEM;
	}
	return 0;
}

void workers_stop(struct workers *ws)
{
	if (!ws)
		return;
	for (unsigned i = 0; i < ws->count; i++)
		if (ws->w[i].running)
			event_base_loopexit(ws->w[i].base, NULL);
	for (unsigned i = 0; i < ws->count; i++)
		if (ws->w[i].running)
			pthread_join(ws->w[i].thread, NULL);
	/* Shutdown mirrors start-up: the last worker set up is torn down first. */
	for (unsigned i = ws->count; i-- > 0;) {
		struct worker *w = &ws->w[i];
		if (w->set_up && ws->teardown)
			ws->teardown(w, ws->arg);
		if (w->base)
			event_base_free(w->base);
	}
	free(ws);
}

int workers_start(struct workers **wsp, unsigned count, worker_setup_h *setup,
                  worker_teardown_h *teardown, void *arg)
{
	if (!wsp || count == 0 || !setup)
		return EINVAL;
	struct workers *ws = calloc(1, sizeof(*ws) + count * sizeof(ws->w[0]));
	if (!ws)
		return ENOMEM;
	ws->count = count;
	ws->teardown = teardown;
	ws->arg = arg;
	int err = 0;
	for (unsigned i = 0; i < count && !err; i++) {
		struct worker *w = &ws->w[i];
		w->index = i;
		w->base = event_base_new();
		if (!w->base)
			err = ENOMEM;
		else if (!(err = setup(w, arg)))
			w->set_up = true;
	}
	for (unsigned i = 0; i < count && !err; i++) {
		err = pthread_create(&ws->w[i].thread, NULL, worker_main, &ws->w[i]);
		ws->w[i].running = !err;
	}
	if (err) {
		workers_stop(ws);
		return err;
	}
	*wsp = ws;
	return 0;
}
