/* edgelab ctl's requests: one GET for healthz and metrics; for row N a
 * POST, then the 202's Location long-polled until the flow's record is no
 * longer pending. Each failure is said once, here, on stderr. */
#include "cli/ctl_run.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cmd.h"
#include "core/addr.h"

/* The longest wait= the edge holds a GET /flows/ID (docs/control-api.md). */
#define EDGE_WAIT_MAX_MS 10000

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double deadline(const struct ctl_args *a, unsigned wait_ms)
{
	return now() + (wait_ms + a->timeout_ms) / 1000.0;
}

/* A request (method, path) that failed (rc, with err), or its answer
 * other than the one wanted, in one line; EXIT_FAIL. */
static int fail(const struct ctl_args *a, const char *method, const char *path, int rc,
                const char *err, const struct ctl_answer *ans)
{
	const struct ctl_target *t = &a->ctl.target;
	if (rc == ENOENT && t->kind == CTL_UNIX)
		fprintf(stderr, "edgelab ctl: %s: no such socket (is edgelab serve running?)\n",
		        t->spec);
	else if (rc == ECONNREFUSED && t->kind == CTL_UNIX)
		fprintf(stderr, "edgelab ctl: %s: connection refused (nothing listens on it)\n",
		        t->spec);
	else if (rc)
		fprintf(stderr, "edgelab ctl: %s: %s\n", t->spec, err);
	else
		fprintf(stderr, "edgelab ctl: %s: %s %s: status %d %.*s\n", t->spec, method, path,
		        ans->status, (int)strcspn(ans->body, "\r\n"), ans->body);
	return EXIT_FAIL;
}

static int healthz(const struct ctl_args *a)
{
	struct ctl_answer ans;
	char err[256];
	int rc =
	    ctl_request(&a->ctl.target, "GET", "/healthz", deadline(a, 0), &ans, err, sizeof(err));
	bool ok = !rc && ans.status == 200 && strcspn(ans.body, "\r\n") == 2 &&
	          strncmp(ans.body, "ok", 2) == 0;
	if (!ok)
		return fail(a, "GET", "/healthz", rc, err, &ans);
	printf("ok\n");
	return EXIT_OK;
}

static int metrics(const struct ctl_args *a)
{
	struct ctl_answer ans;
	char err[256];
	int rc = ctl_request_whole(&a->ctl.target, "GET", "/metrics", deadline(a, 0), &ans, err,
	                           sizeof(err));
	if (rc || ans.status != 200) {
		free(ans.whole);
		return fail(a, "GET", "/metrics", rc, err, &ans);
	}
	bool written = fwrite(ans.whole, 1, ans.body_len, stdout) == ans.body_len;
	free(ans.whole);
	if (!written || fflush(stdout)) {
		fprintf(stderr, "edgelab ctl: writing the metrics: %s\n", strerror(errno));
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

/* POST /rows/N and its query: row 2 the partner, rows 4 and 5 the target
 * and the marker, row 5 the dialect. */
static void row_path(const struct ctl_args *a, const char *marker, char *path, size_t cap)
{
	char target[3 * ADDR_STR_MAX];
	if (a->row == 2) {
		snprintf(path, cap, "/rows/2%s%s", a->partner[0] ? "?partner=" : "", a->partner);
		return;
	}
	ctl_url_encode(a->target, target, sizeof(target));
	snprintf(path, cap, "/rows/%d?target=%s&marker=%s%s%s", a->row, target, marker,
	         a->dialect ? "&dialect=" : "", a->dialect ? a->dialect : "");
}

/* GET location?wait=MS until the flow's record is not pending or
 * a->wait_ms is over: 0 with the record in ans and f, else EXIT_FAIL
 * (said). */
static int follow(const struct ctl_args *a, const char *location, struct ctl_answer *ans,
                  struct ctl_flow *f)
{
	static const struct timespec pause = {.tv_nsec = 200L * 1000 * 1000};
	char path[CTL_LOCATION_MAX + 32], err[256];
	double end = now() + a->wait_ms / 1000.0;
	for (;;) {
		double asked = now();
		unsigned ms = end > asked ? (unsigned)((end - asked) * 1000) : 0;
		if (ms > EDGE_WAIT_MAX_MS)
			ms = EDGE_WAIT_MAX_MS;
		snprintf(path, sizeof(path), "%s%swait=%u", location,
		         strchr(location, '?') ? "&" : "?", ms);
		int rc = ctl_request(&a->ctl.target, "GET", path, deadline(a, ms), ans, err,
		                     sizeof(err));
		if (rc || ans->status != 200)
			return fail(a, "GET", path, rc, err, ans);
		if (ctl_flow_parse(ans->body, strlen(ans->body), f)) {
			fprintf(stderr, "edgelab ctl: %s: GET %s: no outcome in the record\n",
			        a->ctl.target.spec, path);
			return EXIT_FAIL;
		}
		if (f->outcome != CTL_OUTCOME_PENDING || now() >= end)
			return 0;
		/* Pending well before the wait asked for: the edge holds too many
		 * long polls and answered at once; do not ask again at once. */
		if (now() - asked < ms / 2000.0)
			nanosleep(&pause, NULL);
	}
}

static int row(const struct ctl_args *a)
{
	char marker[ROWS_MARKER_MAX + 1], path[512], location[CTL_LOCATION_MAX], err[256];
	struct ctl_answer ans;
	struct ctl_flow f;
	snprintf(marker, sizeof(marker), "%s", a->marker);
	if (!marker[0] && a->row != 2 && ctl_marker_new(marker)) {
		fprintf(stderr, "edgelab ctl: no random marker: give --marker\n");
		return EXIT_FAIL;
	}
	row_path(a, marker, path, sizeof(path));
	int rc = ctl_request(&a->ctl.target, "POST", path, deadline(a, 0), &ans, err, sizeof(err));
	if (rc || ans.status != 202)
		return fail(a, "POST", path, rc, err, &ans);
	if (!ans.location[0]) {
		fprintf(stderr,
		        "edgelab ctl: %s: POST %s: 202 without a Location: no record to follow\n",
		        a->ctl.target.spec, path);
		return EXIT_FAIL;
	}
	snprintf(location, sizeof(location), "%s", ans.location);
	if ((rc = follow(a, location, &ans, &f)))
		return rc;
	fputs(ans.body, stdout);
	if (f.outcome == CTL_OUTCOME_PENDING)
		fprintf(stderr, "edgelab ctl: %s has not ended in %.1f s (--wait)\n", location,
		        a->wait_ms / 1000.0);
	return f.outcome == CTL_OUTCOME_ANSWERED || f.outcome == CTL_OUTCOME_CONNECTED ? EXIT_OK
	                                                                               : EXIT_FAIL;
}

int ctl_run(const struct ctl_args *a)
{
	switch (a->cmd) {
	case CTL_CMD_HEALTHZ:
		return healthz(a);
	case CTL_CMD_METRICS:
		return metrics(a);
	case CTL_CMD_ROW:
		return row(a);
	default:
		return EXIT_USAGE;
	}
}
