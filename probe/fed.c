/* The federation lab's run: up, every flow, the report, down
 * (probe/fed.h). */
#include "probe/fed.h"

#include <errno.h>

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "lab/proc.h"
#include "probe/fed_int.h"
#include "probe/flow.h"

/* Each result's clock, relative to the run's start. */
static void timed(struct probe_result *r, double t0, double begin)
{
	r->start = begin - t0;
	r->end = flow_now() - t0;
	if (r->seconds == 0)
		r->seconds = r->end - r->start;
}

int probe_fed_run(const struct lab_fed *lab, struct probe_result *res, size_t *n)
{
	double t0 = flow_now();
	*n = 0;
	if (proc_interrupted())
		return EINTR;
	for (int s = 0; s < LAB_SITES; s++) {
		struct probe_result *r = &res[(*n)++];
		double begin = flow_now();
		memset(r, 0, sizeof(*r));
		r->flow = s ? "edge B -> edge A SIP/MTLS (federation, found by DNS SRV)"
		            : "edge A -> edge B SIP/MTLS (federation, found by DNS SRV)";
		probe_fed_hop(lab, (enum lab_site)s, r);
		timed(r, t0, begin);
	}
	if (proc_interrupted())
		return EINTR;
	size_t first = *n;
	double begin = flow_now();
	memset(&res[first], 0, 4 * sizeof(res[0]));
	probe_fed_im(lab, res, res, n);
	for (size_t i = first; i < *n; i++)
		timed(&res[i], t0, begin);
	if (proc_interrupted())
		return EINTR;
	void (*const av[])(const struct lab_fed *, struct probe_result *,
	                   size_t *) = {probe_fed_av, probe_fed_av_tcp};
	for (size_t k = 0; k < sizeof(av) / sizeof(av[0]); k++) {
		if (proc_interrupted())
			return EINTR;
		first = *n;
		begin = flow_now();
		memset(&res[first], 0, 8 * sizeof(res[0]));
		av[k](lab, res, n);
		for (size_t i = first; i < *n; i++)
			timed(&res[i], t0, begin);
	}
	return proc_interrupted() ? EINTR : 0;
}

int probe_fed_lab(const struct probe_fed_opts *o, FILE *out, char *err, size_t len)
{
	struct lab_fed *lab;
	struct probe_result res[PROBE_FED_RESULTS_MAX];
	size_t n = 0;
	struct fed_clock c;
	probe_fed_clock(&c);
	if (lab_fed_up(&lab, &o->lab, err, len))
		return -1;
	if (probe_fed_run(lab, res, &n)) {
		lab_fed_down(lab);
		snprintf(err, len, "interrupted");
		return -1;
	}
	if (!probe_fed_ok(res, n) || o->lab.verbose)
		lab_fed_print_logs(lab);
	lab_fed_down(lab);
	return probe_fed_report(out, o->format, &c, res, n, err, len);
}
