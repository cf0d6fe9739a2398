/* The JSON format: the run, the rows' results, the negative flows' and a
 * summary of both, in one object. */
#include <string.h>

#include "probe/report_int.h"

/* A row's result, or (row 0) a negative flow's, which has no row or dialect. */
static void json_result(struct out *w, const struct probe_result *r)
{
	if (r->site[0]) { /* the federation lab's: site, rows and where it broke */
		out_printf(w, "    {\"site\": ");
		out_json_str(w, r->site, field_len(r->site, sizeof(r->site)));
		out_printf(w, ", \"rows\": ");
		out_json_str(w, r->rows, field_len(r->rows, sizeof(r->rows)));
		out_printf(w, ", \"at\": ");
		out_json_str(w, r->where, field_len(r->where, sizeof(r->where)));
		if (r->row > 0)
			out_printf(w, ", \"row\": %d", r->row);
		out_printf(w, ", \"flow\": ");
		out_json_str(w, r->flow, r->flow ? strlen(r->flow) : 0);
	} else if (r->row) {
		out_printf(w, "    {\"row\": %d, \"flow\": ", r->row);
		out_json_str(w, r->flow, r->flow ? strlen(r->flow) : 0);
		out_printf(w, ", \"dialect\": ");
		out_json_str(w, r->dialect, field_len(r->dialect, sizeof(r->dialect)));
	} else {
		out_printf(w, "    {\"flow\": ");
		out_json_str(w, r->flow, r->flow ? strlen(r->flow) : 0);
	}
	out_printf(w, ", \"verdict\": \"%s\", \"detail\": ", probe_verdict_name(r->verdict));
	out_json_str(w, r->detail, field_len(r->detail, sizeof(r->detail)));
	out_printf(w, ", \"seconds\": ");
	out_json_num(w, r->seconds);
	out_printf(w, ", \"start\": ");
	out_json_num(w, r->start);
	out_printf(w, ", \"end\": ");
	out_json_num(w, r->end);
	out_printf(w, "}");
}

/* "NAME": [ the rows' results, or the negative flows' ], */
static void json_array(struct out *w, const char *name, const struct probe_result *res, size_t n,
                       bool neg)
{
	size_t k = 0;
	out_printf(w, "  \"%s\": [", name);
	for (size_t i = 0; i < n; i++) {
		if ((res[i].row == 0) != neg)
			continue;
		out_printf(w, k++ ? ",\n" : "\n");
		json_result(w, &res[i]);
	}
	out_printf(w, "%s],\n", k ? "\n  " : "");
}

void write_json(struct out *w, const struct report_meta *m, const struct probe_result *res,
                size_t n, const struct counts *c)
{
	out_printf(w, "{\n  \"target\": ");
	out_json_str(w, m->target, m->target ? strlen(m->target) : 0);
	out_printf(w, ",\n  \"started\": ");
	out_json_str(w, m->started, m->started ? strlen(m->started) : 0);
	out_printf(w, ",\n  \"seconds\": ");
	out_json_num(w, m->seconds);
	out_printf(w, ",\n");
	json_array(w, "results", res, n, false);
	json_array(w, "closed", res, n, true);
	out_printf(w,
	           "  \"summary\": {\"passed\": %zu, \"blocked\": %zu, \"rejected\": %zu, "
	           "\"failed\": %zu, \"total\": %zu, \"strict\": {\"closed\": %zu, "
	           "\"exposed\": %zu, \"failed\": %zu, \"total\": %zu}}\n}\n",
	           c->v[VERDICT_PASS], c->v[VERDICT_BLOCKED], c->v[VERDICT_REJECTED],
	           c->v[VERDICT_FAILED], c->rows, c->neg[VERDICT_CLOSED], c->neg[VERDICT_EXPOSED],
	           neg_failed(c), c->negs);
}
