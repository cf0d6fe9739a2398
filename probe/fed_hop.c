/* The federation hop, edge S to edge O (row 2 of S, row 1 of O), asked of
 * edge S through its control socket and placed by the wire's counters
 * (probe/fed.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "probe/fed_int.h"
#include "probe/flow.h"

#define HOP_WAIT_MS 9000 /* the edge ends the ping in 3 s (its DNS lookup included): ample */

/* POST /rows/2?partner=DOMAIN on edge S's socket and its record once it
 * has ended. 0, or an errno with why. */
static int ping(const struct lab_fed *lab, enum lab_site s, struct ctl_flow *rec, char *why,
                size_t len)
{
	struct ctl_target t = {0};
	struct ctl_answer a;
	char path[CTL_LOCATION_MAX + 64];
	if (ctl_target_parse(lab_fed_control(lab, s), &t))
		return snprintf(why, len, "no control socket"), EINVAL;
	snprintf(path, sizeof(path), "/rows/2?partner=%s", lab_fed_site(!s)->domain);
	int rc = ctl_request(&t, "POST", path, flow_now() + 5, &a, why, len);
	if (!rc && a.status != 202)
		return snprintf(why, len, "POST /rows/2 answered %d: %.120s", a.status, a.body),
		       EIO;
	if (rc)
		return rc;
	snprintf(path, sizeof(path), "%s?wait=%d", a.location, HOP_WAIT_MS);
	rc = ctl_request(&t, "GET", path, flow_now() + HOP_WAIT_MS / 1000.0 + 3, &a, why, len);
	if (!rc && (a.status != 200 || ctl_flow_parse(a.body, strlen(a.body), rec)))
		return snprintf(why, len, "GET %.100s answered %d", a.location, a.status), EIO;
	return rc;
}

/* Where a flow that got no answer, or a reject, was stopped: it never
 * reached the internet (fw S), or it did and nothing came back (fw O). */
static void place(struct probe_result *r, enum probe_verdict v, enum lab_site s,
                  const struct lab_fed_wire *d, const struct ctl_flow *rec)
{
	const struct lab_fed_site *me = lab_fed_site(s), *it = lab_fed_site(!s);
	const char *how = v == VERDICT_REJECTED ? "rejected" : "dropped";
	char port[80] = "";
	const char *colon = strrchr(rec->target, ':');
	if (colon && strcmp(colon, ":5061"))
		snprintf(port, sizeof(port), "; the SRV record of %s sends it to port %s, not 5061",
		         it->domain, colon + 1);
	/* A connection the edge already had sends no SYN: any of its packets
	 * on the wire says it left the site. */
	if (d->syn[s] == 0 && d->tcp[s] == 0)
		return fed_verdict(
		    r, v, fed_fw(s),
		    "edge %s's connection to %s never reached the internet: fw %s %s "
		    "it (row 2 of %s)%s",
		    me->title, rec->target, me->title, how, me->title, port);
	fed_verdict(
	    r, v, fed_fw(!s),
	    "edge %s's packets to %s crossed the internet, but %s came back: fw %s %s it (row 1 "
	    "of %s)%s",
	    me->title, rec->target, v == VERDICT_REJECTED ? "a reject" : "nothing", it->title, how,
	    it->title, port);
}

static void judge(struct probe_result *r, enum lab_site s, const struct ctl_flow *rec,
                  const struct lab_fed_wire *d)
{
	const struct lab_fed_site *me = lab_fed_site(s), *it = lab_fed_site(!s);
	switch (rec->outcome) {
	case CTL_OUTCOME_DNS:
		if (d->dns[s] == 0)
			return fed_verdict(
			    r, VERDICT_BLOCKED, fed_fw(s),
			    "edge %s's DNS queries never reached the DNS server " LAB_FED_DNS_ADDR
			    ": fw %s dropped them (the edge needs UDP "
			    "and TCP 53 to it); %s",
			    me->title, me->title, rec->detail);
		return fed_verdict(r, VERDICT_FAILED, "dns", "edge %s: %s", me->title, rec->detail);
	case CTL_OUTCOME_ANSWERED:
		return fed_verdict(r, VERDICT_PASS, "",
		                   "edge %s found %s by DNS at %s (%llu queries); %s", me->title,
		                   it->domain, rec->target, d->dns[s], rec->detail);
	case CTL_OUTCOME_TIMEOUT:
		if ((d->syn[s] && d->synack[s]) || (!d->syn[s] && d->tcp[s] && d->tcp_back[s]))
			return fed_verdict(r, VERDICT_FAILED, fed_edge(!s),
			                   "TCP to %s came up, then: %s", rec->target, rec->detail);
		return place(r, VERDICT_BLOCKED, s, d, rec);
	case CTL_OUTCOME_ICMP:
		if (!strcmp(rec->icmp_from, me->fw_edge))
			return fed_verdict(r, VERDICT_REJECTED, fed_fw(s),
			                   "%s: fw %s (row 2 of %s)", rec->detail, me->title,
			                   me->title);
		if (!strcmp(rec->icmp_from, it->fw_outside))
			return fed_verdict(r, VERDICT_REJECTED, fed_fw(!s),
			                   "%s: fw %s (row 1 of %s)", rec->detail, it->title,
			                   it->title);
		return place(r, VERDICT_REJECTED, s, d, rec);
	case CTL_OUTCOME_RESET:
		return place(r, VERDICT_REJECTED, s, d, rec);
	case CTL_OUTCOME_TLS_FAILED:
		return fed_verdict(r, VERDICT_FAILED, fed_edge(!s), "edge %s's MTLS to %s: %s",
		                   me->title, it->domain, rec->detail);
	default:
		return fed_verdict(r, VERDICT_FAILED, fed_edge(!s), "edge %s's record says %s: %s",
		                   me->title, rec->outcome_word, rec->detail);
	}
}

void probe_fed_hop(const struct lab_fed *lab, enum lab_site s, struct probe_result *r)
{
	const struct lab_fed_site *me = lab_fed_site(s), *it = lab_fed_site(!s);
	struct lab_fed_wire before, after, d;
	struct ctl_flow rec;
	char why[256];
	double t0 = flow_now();
	snprintf(r->site, sizeof(r->site), "%s>%s", me->name, it->name);
	snprintf(r->rows, sizeof(r->rows), "%s2 %s1", me->name, it->name);
	r->row = 2;
	int rc = lab_fed_wire_read(lab, &before, why, sizeof(why));
	if (!rc)
		rc = ping(lab, s, &rec, why, sizeof(why));
	if (!rc)
		rc = lab_fed_wire_read(lab, &after, why, sizeof(why));
	r->seconds = flow_now() - t0;
	if (rc)
		return fed_verdict(r, VERDICT_FAILED, fed_edge(s), "asking edge %s: %s", me->title,
		                   why);
	probe_fed_wire_diff(&after, &before, &d);
	judge(r, s, &rec, &d);
}
