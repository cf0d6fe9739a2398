/* The JUnit XML format: one test suite for the rows and, when the strict
 * mode ran, one for the negative flows; a result not good is a failure. */
#include <string.h>

#include "probe/report_int.h"

static void junit_result(struct out *w, const struct probe_result *r)
{
	char buf[64];
	size_t dl = field_len(r->detail, sizeof(r->detail));
	const char *v = probe_verdict_name(r->verdict);

	/* The federation lab's site in the class name, as CI tools group by it. */
	out_printf(w, "    <testcase classname=\"edgelab.probe%s", r->site[0] ? ".site." : "");
	out_xml(w, r->site, field_len(r->site, sizeof(r->site)));
	out_printf(w, "\" name=\"");
	out_name(w, r, esc_xml, "&#xFFFD;");
	out_printf(w, "\" time=\"%s\"", secs_str(buf, sizeof(buf), r->seconds, "", "0"));
	if (probe_result_ok(r)) {
		out_printf(w, "/>\n");
		return;
	}
	out_printf(w, ">\n      <failure type=\"%s\" message=\"%s: ", v, v);
	out_xml(w, r->detail, dl);
	out_printf(w, "\">");
	out_xml(w, r->detail, dl);
	out_printf(w, "</failure>\n    </testcase>\n");
}

static void junit_property(struct out *w, const char *name, const char *value)
{
	out_printf(w, "      <property name=\"%s\" value=\"", name);
	out_xml(w, value, value ? strlen(value) : 0);
	out_printf(w, "\"/>\n");
}

/* One suite: the rows, or (neg) the negative flows. The start time goes in
 * a property: JUnit's timestamp attribute wants a local time without a
 * zone, and the probe's is UTC with one. */
static void junit_suite(struct out *w, const struct report_meta *m, const struct probe_result *res,
                        size_t n, bool neg, size_t tests, size_t fail)
{
	char buf[64];
	const char *t = secs_str(buf, sizeof(buf), m->seconds, "", "0");

	out_printf(w, "  <testsuite name=\"edgelab probe ");
	out_xml(w, m->target, m->target ? strlen(m->target) : 0);
	out_printf(w, "%s\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" time=\"%s\">\n",
	           neg ? " must stay closed" : "", tests, fail, t);
	out_printf(w, "    <properties>\n");
	junit_property(w, "target", m->target);
	junit_property(w, "started", m->started);
	out_printf(w, "    </properties>\n");
	for (size_t i = 0; i < n; i++)
		if ((res[i].row == 0) == neg)
			junit_result(w, &res[i]);
	out_printf(w, "  </testsuite>\n");
}

void write_junit(struct out *w, const struct report_meta *m, const struct probe_result *res,
                 size_t n, const struct counts *c)
{
	char buf[64];
	const char *t = secs_str(buf, sizeof(buf), m->seconds, "", "0");

	out_printf(w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	out_printf(w,
	           "<testsuites name=\"edgelab probe\" tests=\"%zu\" failures=\"%zu\" "
	           "errors=\"0\" time=\"%s\">\n",
	           n, c->not_ok, t);
	junit_suite(w, m, res, n, false, c->rows, c->rows - c->v[VERDICT_PASS]);
	if (c->negs)
		junit_suite(w, m, res, n, true, c->negs, c->negs - c->neg[VERDICT_CLOSED]);
	out_printf(w, "</testsuites>\n");
}
