/* The federation lab's report, for the one-shot lab and a standing one
 * (probe/fed.h). */
#include <stdio.h>
#include <time.h>

#include "probe/fed.h"
#include "probe/fed_int.h"
#include "probe/flow.h"

void probe_fed_clock(struct fed_clock *c)
{
	time_t now = time(NULL);
	strftime(c->started, sizeof(c->started), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
	c->t0 = flow_now();
}

bool probe_fed_ok(const struct probe_result *res, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!probe_result_ok(&res[i]))
			return false;
	return true;
}

int probe_fed_report(FILE *out, enum report_format format, const struct fed_clock *c,
                     const struct probe_result *res, size_t n, char *err, size_t len)
{
	struct report_meta meta = {
	    .target = "federation: a.example (sip.a.example) <-> b.example (sip.b.example)",
	    .started = c->started,
	    .seconds = flow_now() - c->t0,
	};
	if (report_write(out, format, &meta, res, n)) {
		snprintf(err, len, "writing the report failed");
		return -1;
	}
	return probe_fed_ok(res, n) ? 0 : 1;
}
