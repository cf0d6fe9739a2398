/* assess_run (assess/assess.h): the steps, one event loop each; the calls
 * of a step start spread over its first second, so that neither their
 * Allocates nor their packets come all at once. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "assess/assess_int.h"
#include "core/addr.h"

#define STEP_SPREAD_US 1000000 /* the calls' starts, spread over this */
#define STEP_SLACK_S   5       /* a step's bound beyond its calls' own */

static double cpu_seconds(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
	       ru.ru_stime.tv_usec / 1e6;
}

/* A call's start, when its turn in the spread comes. */
struct start {
	struct call *c;
	struct step_loop *loop;
	struct assess_call *out;
	struct event *ev;
};

static void on_start(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what;
	struct start *s = arg;
	(void)call_start(s->c, s->loop, s->out);
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what;
	event_base_loopbreak(arg);
}

/* One step of n calls, numbered from first_id, into st. */
static int step_run(const struct assess_opts *o, struct event_base *base, struct reflector *refl,
                    uint32_t n, uint32_t first_id, struct assess_step *st, char *err,
                    size_t err_len)
{
	int rc = ENOMEM;
	struct event *deadline = NULL;
	struct call *calls = calloc(n, sizeof(*calls));
	struct start *starts = calloc(n, sizeof(*starts));
	st->calls = n;
	st->call = calloc(n, sizeof(*st->call));
	if (!calls || !starts || !st->call) {
		snprintf(err, err_len, "no memory for %u calls", n);
		goto out;
	}
	struct timeval period = {0, 1000000 / (long)o->rate};
	struct step_loop loop = {.base = base, .o = o, .running = n};
	loop.tick = event_base_init_common_timeout(base, &period);
	if (!loop.tick)
		goto out;
	for (uint32_t i = 0; i < n; i++) {
		st->call[i].id = first_id + i;
		calls[i].fd = -1;
		starts[i] = (struct start){&calls[i], &loop, &st->call[i], NULL};
		starts[i].ev = evtimer_new(base, on_start, &starts[i]);
		long at = (long)((uint64_t)i * STEP_SPREAD_US / n);
		struct timeval tv = {at / 1000000, at % 1000000};
		if (!starts[i].ev || evtimer_add(starts[i].ev, &tv))
			goto out;
	}
	struct timeval bound = {
	    (time_t)(1 + o->setup_ms / 1000 + o->duration_s + o->grace_ms / 1000 + STEP_SLACK_S),
	    0};
	deadline = evtimer_new(base, on_deadline, base);
	if (!deadline || evtimer_add(deadline, &bound))
		goto out;
	double cpu0 = cpu_seconds();
	int64_t t0 = assess_now_us();
	uint64_t reflected0 = reflector_count(refl);
	event_base_dispatch(base);
	st->cpu = (cpu_seconds() - cpu0) / ((double)(assess_now_us() - t0) / 1e6);
	st->reflected = reflector_count(refl) - reflected0;
	for (uint32_t i = 0; i < n; i++)
		if (calls[i].loop) {
			if (calls[i].state < CALL_MEDIA && !st->call[i].error[0])
				snprintf(st->call[i].error, sizeof(st->call[i].error),
				         "still setting up at the step's end");
			call_stop(&calls[i]);
		}
	if (o->transport != ASSESS_TRANSPORT_UDP) {
		/* The calls' deletes, queued on their streams, go before the
		 * streams are freed. */
		struct timeval flush = {0, 200000};
		event_add(deadline, &flush);
		event_base_dispatch(base);
	}
	for (uint32_t i = 0; i < n; i++) {
		struct assess_call *c = &st->call[i];
		if (!calls[i].loop && !c->error[0])
			snprintf(c->error, sizeof(c->error), "never started");
		if (calls[i].loop)
			call_finish(&calls[i]);
		if (c->error[0])
			st->failed++;
		else if (!c->miss)
			st->met++;
	}
	rc = 0;
out:
	if (deadline)
		event_free(deadline);
	for (uint32_t i = 0; starts && i < n; i++)
		if (starts[i].ev)
			event_free(starts[i].ev);
	free(starts);
	free(calls);
	if (rc) {
		free(st->call);
		st->call = NULL;
	}
	return rc;
}

bool assess_relays_over_tcp(const struct assess_opts *o)
{
	return o->dialect == ASSESS_DIALECT_MSTURN && o->transport != ASSESS_TRANSPORT_UDP;
}

int assess_reflector_default(const struct sockaddr_storage *server, struct sockaddr_storage *out)
{
	/* The address this host's packets to the server leave from: a UDP
	 * socket's connect picks the route and sends nothing. */
	int fd = socket(server->ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	socklen_t len = sizeof(*out);
	int rc = fd < 0 ? errno : 0;
	if (!rc && (connect(fd, (const struct sockaddr *)server,
	                    addr_len((const struct sockaddr *)server)) ||
	            getsockname(fd, (struct sockaddr *)out, &len)))
		rc = errno;
	if (fd >= 0)
		close(fd);
	if (!rc)
		addr_set_port((struct sockaddr *)out, ASSESS_REFLECTOR_PORT);
	return rc;
}

/* Descriptors: one a call, and a few. */
static void descriptors_raise(void)
{
	struct rlimit rl;
	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int assess_run(const struct assess_opts *o, struct assess_result *r, char *err, size_t err_len)
{
	memset(r, 0, sizeof(*r));
	descriptors_raise();
	uint32_t step = o->ramp_step && o->ramp_step < o->calls ? o->ramp_step : o->calls;
	uint32_t nsteps = (o->calls + step - 1) / step;
	r->steps = calloc(nsteps, sizeof(*r->steps));
	if (!r->steps)
		return ENOMEM;
	struct reflector *refl = NULL;
	struct event_base *base = event_base_new();
	int rc = base ? 0 : ENOMEM;
	if (!rc && o->reflect_here &&
	    ((rc = reflector_open(base, &o->reflector, &refl, err, err_len)) ||
	     (assess_relays_over_tcp(o) &&
	      (rc = reflector_add_tcp(refl, base, &o->reflector, err, err_len)))))
		goto out;
	uint32_t id = 1;
	for (uint32_t k = 0; k < nsteps; k++) {
		uint32_t n = k + 1 == nsteps ? o->calls : (k + 1) * step;
		struct assess_step *st = &r->steps[r->nsteps];
		if ((rc = step_run(o, base, refl, n, id, st, err, err_len)))
			break;
		r->nsteps++;
		id += n;
		if (st->met < n) {
			r->ramp_stopped = k + 1 < nsteps;
			break;
		}
		r->capacity = n;
	}
out:
	reflector_close(refl);
	if (base)
		event_base_free(base);
	if (rc)
		assess_result_free(r);
	return rc;
}

static void on_signal(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what;
	event_base_loopbreak(arg);
}

int assess_reflect(const struct sockaddr_storage *addr, FILE *ready, char *err, size_t err_len)
{
	if (err_len)
		err[0] = '\0';
	descriptors_raise(); /* a TCP connection a call */
	struct event_base *base = event_base_new();
	struct reflector *refl = NULL;
	struct event *sigint = NULL, *sigterm = NULL;
	int rc = base ? reflector_open(base, addr, &refl, err, err_len) : ENOMEM;
	if (!rc) {
		sigint = evsignal_new(base, SIGINT, on_signal, base);
		sigterm = evsignal_new(base, SIGTERM, on_signal, base);
		if (!sigint || !sigterm || evsignal_add(sigint, NULL) ||
		    evsignal_add(sigterm, NULL))
			rc = ENOMEM;
	}
	/* TCP as well, for MS-TURN's TCP relays, when the port is free there:
	 * UDP calls need none, so a TCP port taken is said, not fatal. */
	char tcp_err[160] = "";
	if (!rc)
		(void)reflector_add_tcp(refl, base, addr, tcp_err, sizeof(tcp_err));
	if (!rc && ready) {
		char where[64];
		addr_str((const struct sockaddr *)addr, where, sizeof(where));
		if (tcp_err[0])
			fprintf(ready, "reflecting on %s, UDP only (%s)\n", where, tcp_err);
		else
			fprintf(ready, "reflecting on %s, UDP and TCP\n", where);
		fflush(ready);
	}
	if (!rc)
		event_base_dispatch(base);
	if (sigint)
		event_free(sigint);
	if (sigterm)
		event_free(sigterm);
	reflector_close(refl);
	if (base)
		event_base_free(base);
	if (rc == ENOMEM && !err[0])
		snprintf(err, err_len, "out of memory");
	return rc;
}

void assess_result_free(struct assess_result *r)
{
	for (uint32_t k = 0; k < r->nsteps; k++) {
		for (uint32_t i = 0; i < r->steps[k].calls; i++)
			free(r->steps[k].call[i].bins);
		free(r->steps[k].call);
	}
	free(r->steps);
	memset(r, 0, sizeof(*r));
}
