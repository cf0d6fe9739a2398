/* The probe's matrix: one result per row (and per dialect where a row has
 * several), and the strict mode's negative flows (row 0) apart from them,
 * written as a table, JSON, JUnit XML, TAP or an HTML page. */
#ifndef EDGELAB_PROBE_REPORT_H
#define EDGELAB_PROBE_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum probe_verdict {
	VERDICT_PASS,
	VERDICT_BLOCKED,  /* no answer in time */
	VERDICT_REJECTED, /* RST or ICMP unreachable */
	VERDICT_FAILED,   /* an answer, but a wrong one */
	VERDICT_CLOSED,   /* a negative flow (strict) found no way through: good */
	VERDICT_EXPOSED,  /* a negative flow got through: bad */
};

#define PROBE_ROW_NONE (-1) /* a flow that is no one row: DNS, IM or A/V end to end */

struct probe_result {
	int row;          /* 1..6; 0: a negative flow of the strict mode; PROBE_ROW_NONE */
	const char *flow; /* "client -> edge STUN/UDP" (static string) */
	char dialect[16]; /* "rfc5389", "msturn", or "" when the row has one */
	enum probe_verdict verdict;
	char detail[256];  /* why: "mapped 192.0.2.10:40000 as expected" */
	double seconds;    /* how long the flow took */
	double start, end; /* seconds since the run's start */
	/* The federation lab's (probe/fed.h); "" elsewhere. */
	char site[8];   /* "a", "b", or "a>b" for a flow from site A to site B */
	char rows[24];  /* the table rows it crosses, per site: "a2 b1" */
	char where[16]; /* not PASS: where it broke: "fw-a", "fw-b", "dns", "edge-b", ... */
};

struct report_meta {
	const char *target;  /* the edge address probed, as text */
	const char *started; /* ISO 8601 UTC start time */
	double seconds;      /* the whole run */
};

enum report_format { REPORT_TABLE, REPORT_JSON, REPORT_JUNIT, REPORT_TAP, REPORT_HTML };

const char *probe_verdict_name(enum probe_verdict v); /* "PASS", "BLOCKED", ... */
/* Whether a result is good: PASS, or CLOSED for a negative flow. */
bool probe_result_ok(const struct probe_result *r);
/* "table", "json", "junit", "tap", "html"; 0 or EINVAL. */
int report_format_parse(const char *name, enum report_format *fmt);
/* Writes the whole report; 0 or the errno of a failed write. */
int report_write(FILE *out, enum report_format fmt, const struct report_meta *meta,
                 const struct probe_result *results, size_t n);
/* report_write into path, whole or not at all: into "path.tmp", then
 * renamed over path; on failure the .tmp is removed and path is as it was.
 * 0 or an errno. */
int report_write_file(const char *path, enum report_format fmt, const struct report_meta *meta,
                      const struct probe_result *results, size_t n);

#endif
