/* Worker threads in the style of memcached's thread.c: every event_base is
 * made, and every worker set up, before any thread starts (so a port in use
 * fails start-up with a clear error); each thread then runs its own loop and
 * owns what lives on it. Other threads talk to a worker only through
 * worker_post(). Call evthread_use_pthreads() before workers_start(). */
#ifndef EDGELAB_CORE_WORKER_H
#define EDGELAB_CORE_WORKER_H

#include <event2/event.h>

struct worker;
struct workers;

/* Runs on the main thread before the threads start / after they stopped.
 * A setup error stops start-up; teardown is called for every worker whose
 * setup succeeded, in reverse order. */
typedef int(worker_setup_h)(struct worker *w, void *arg);
typedef void(worker_teardown_h)(struct worker *w, void *arg);
/* Runs on the worker's own thread. */
typedef void(worker_msg_h)(struct worker *w, void *arg);

int workers_start(struct workers **wsp, unsigned count, worker_setup_h *setup,
                  worker_teardown_h *teardown, void *arg);
/* Ends every loop, joins the threads, tears down and frees. NULL is fine. */
void workers_stop(struct workers *ws);

unsigned workers_count(const struct workers *ws);
struct worker *workers_at(struct workers *ws, unsigned i);

struct event_base *worker_base(struct worker *w);
unsigned worker_index(const struct worker *w); /* 0-based */
void *worker_data(struct worker *w);
void worker_set_data(struct worker *w, void *data);
/* Queues h(w, arg) to run on w's thread. 0 or ENOMEM. */
int worker_post(struct worker *w, worker_msg_h *h, void *arg);

#endif
