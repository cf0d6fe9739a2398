/* The federation lab's flows on a standing lab (probe/fed.h). */
#include "probe/fed.h"

#include <stdio.h>

#include "probe/fed_int.h"

int probe_fed_standing(const struct lab_fed *lab, enum report_format format, FILE *out, char *err,
                       size_t len)
{
	struct probe_result res[PROBE_FED_RESULTS_MAX];
	struct fed_clock c;
	size_t n = 0;
	probe_fed_clock(&c);
	if (probe_fed_run(lab, res, &n))
		return snprintf(err, len, "interrupted"), -1;
	return probe_fed_report(out, format, &c, res, n, err, len);
}
