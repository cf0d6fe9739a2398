/* The outbound flows' truth. From outside, a flow the firewall dropped and
 * one it rejected look the same: nothing arrives. The RST or ICMP went to
 * the edge, which keeps each flow's outcome (GET /flows/ID,
 * docs/control-api.md); reading it tells REJECTED from BLOCKED, and shows
 * a flow that something between the edge and the probe answered. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "probe/flow.h"

int flow_edge_record(const struct probe_opts *o, const char *location, struct ctl_flow *rec,
                     char *why, size_t why_len)
{
	struct ctl_answer a;
	char path[CTL_LOCATION_MAX + 32];
	int wait_ms = FLOW_EDGE_WAIT_MS + FLOW_EXTRA_WAIT_MS / 2 - (int)o->timeout_ms;
	if (wait_ms < FLOW_EXTRA_WAIT_MS)
		wait_ms = FLOW_EXTRA_WAIT_MS;
	snprintf(path, sizeof(path), "%s%swait=%d", location, strchr(location, '?') ? "&" : "?",
	         wait_ms);
	double deadline = flow_now() + wait_ms / 1000.0 + 2.0;
	int rc = flow_control_get(o, path, deadline, &a, why, why_len);
	if (rc)
		return rc;
	if (ctl_flow_parse(a.body, strlen(a.body), rec)) {
		snprintf(why, why_len, "no outcome in the edge's record");
		return EBADMSG;
	}
	return 0;
}

/* ICMP's unreachable codes in words (RFC 792, RFC 1812; ICMPv6: RFC 4443). */
static const char *icmp_name(const struct ctl_flow *rec)
{
	static const char *const v4[] = {
	    [0] = "network unreachable",          [1] = "host unreachable",
	    [2] = "protocol unreachable",         [3] = "port unreachable",
	    [9] = "network prohibited",           [10] = "host prohibited",
	    [13] = "administratively prohibited",
	};
	static const char *const v6[] = {
	    [0] = "no route",
	    [1] = "administratively prohibited",
	    [3] = "address unreachable",
	    [4] = "port unreachable",
	};
	int c = rec->icmp_code;
	bool is_v6 = rec->target[0] == '[' || strchr(rec->icmp_from, ':');
	if (!is_v6 && rec->icmp_type == 3 && c >= 0 && c < (int)(sizeof(v4) / sizeof(v4[0])) &&
	    v4[c])
		return v4[c];
	if (is_v6 && rec->icmp_type == 1 && c >= 0 && c < (int)(sizeof(v6) / sizeof(v6[0])) &&
	    v6[c])
		return v6[c];
	return "unreachable";
}

void flow_edge_view(const struct ctl_flow *rec, const char *what, char *buf, size_t cap)
{
	const char *to = rec->target[0] ? rec->target : "us";
	switch (rec->outcome) {
	case CTL_OUTCOME_RESET:
		snprintf(buf, cap, "the edge's %s to %s was answered with RST", what, to);
		break;
	case CTL_OUTCOME_ICMP:
		snprintf(buf, cap, "the edge's %s to %s drew ICMP %s (type %d code %d) from %s",
		         what, to, icmp_name(rec), rec->icmp_type, rec->icmp_code,
		         rec->icmp_from[0] ? rec->icmp_from : "?");
		break;
	case CTL_OUTCOME_PENDING:
		snprintf(buf, cap, "the edge's %s to %s has no answer yet", what, to);
		break;
	default:
		snprintf(buf, cap, "the edge's %s to %s got no answer%s%s", what, to,
		         rec->detail[0] ? ": " : "", rec->detail);
	}
}

/* A failed lookup in words: its reason's (the first word of the edge's
 * detail), then the rest of the detail, which names the server. */
static void dns_view(const struct ctl_flow *rec, char *buf, size_t cap)
{
	static const struct {
		const char *word, *words;
	} reasons[] = {
	    {"nxdomain", "NXDOMAIN (no such domain)"},
	    {"nodata", "no usable record (no SRV record, target \".\", or no address)"},
	    {"timeout", "the DNS server did not answer"},
	    {"servfail", "SERVFAIL (the DNS server failed)"},
	    {"refused", "REFUSED (the DNS server would not answer)"},
	    {"bad-answer", "a malformed or unsupported answer"},
	    {"error", "an error on the edge"},
	};
	const char *why = "for a reason this probe does not know", *rest = rec->detail;
	size_t n = strcspn(rec->detail, ":");
	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (rec->detail[n] == ':' && n == strlen(reasons[i].word) &&
		    strncmp(rec->detail, reasons[i].word, n) == 0) {
			why = reasons[i].words;
			rest = rec->detail + n + 1 + (rec->detail[n + 1] == ' ');
		}
	snprintf(buf, cap, "the edge's DNS lookup of %s failed: %s%s%s",
	         rec->dns_name[0] ? rec->dns_name : "the partner", why, rest[0] ? "; " : "", rest);
}

void flow_judge_unseen(const struct probe_opts *o, const char *location, const char *what,
                       struct probe_result *r)
{
	struct ctl_flow rec;
	char mine[sizeof(r->detail)], why[200],
	    view[sizeof(rec.dns_name) + sizeof(rec.detail) + 128];
	const char *to;
	if (!location || !location[0])
		return;
	snprintf(mine, sizeof(mine), "%s", r->detail);
	if (flow_edge_record(o, location, &rec, why, sizeof(why))) {
		flow_verdict(r, r->verdict, "%s (the edge's record %s: %s)", mine, location, why);
		return;
	}
	to = rec.target[0] ? rec.target : "us";
	switch (rec.outcome) {
	case CTL_OUTCOME_RESET:
	case CTL_OUTCOME_ICMP:
		flow_edge_view(&rec, what, view, sizeof(view));
		return flow_verdict(r, VERDICT_REJECTED, "%s", view);
	case CTL_OUTCOME_TIMEOUT:
		return flow_verdict(r, VERDICT_BLOCKED, "%s; the edge saw no answer%s%s", mine,
		                    rec.detail[0] ? ": " : "", rec.detail);
	case CTL_OUTCOME_PENDING: /* unknown yet: an RST or ICMP may still come */
		return flow_verdict(r, VERDICT_FAILED,
		                    "%s; the edge's flow had not ended when asked, so BLOCKED "
		                    "cannot be told from REJECTED",
		                    mine);
	case CTL_OUTCOME_TLS_FAILED:
		return flow_verdict(
		    r, VERDICT_FAILED,
		    "the edge's TLS handshake with %s failed (%s), yet no connection "
		    "reached the probe: something between answered TLS",
		    to, rec.detail);
	case CTL_OUTCOME_ANSWERED:
	case CTL_OUTCOME_CONNECTED:
		return flow_verdict(
		    r, VERDICT_FAILED,
		    "the edge's %s to %s was answered (%s), yet nothing reached the "
		    "probe: something between answered",
		    what, to, rec.outcome_word);
	case CTL_OUTCOME_ERROR:
		return flow_verdict(r, VERDICT_FAILED, "the edge could not send it: %s",
		                    rec.detail);
	case CTL_OUTCOME_CANCELLED:
		return flow_verdict(r, VERDICT_FAILED, "the edge shut down before the flow ended");
	case CTL_OUTCOME_DNS: /* the edge never knew where to send it */
		dns_view(&rec, view, sizeof(view));
		return flow_verdict(r, VERDICT_FAILED, "%s", view);
	default:
		return flow_verdict(r, VERDICT_FAILED, "the edge's record says outcome '%s'",
		                    rec.outcome_word);
	}
}
