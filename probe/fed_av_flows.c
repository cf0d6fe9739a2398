/* A/V in the federation lab (probe/fed.h): a client of each site holds an
 * MS-TURN allocation on its own edge and, through it, one on the other
 * edge (TURN over TURN, probe/fed_av.h, docs/federation-av.md); 500 RTP
 * packets go each way. Two variants, six results each: each client's
 * allocation, each edge's relay to the other, the media each way.
 *   - UDP: the allocations on UDP 3478 (row 6 of the site), the relays to
 *     the other's UDP 3478 (row 5 of one, row 6 of the other).
 *   - TCP: the allocations on the A/V edge's TCP 443 (pseudo-TLS; not a
 *     row of this table: the fw's A/V edge rule, rules.h av_edge), the
 *     relays connecting from 50000-59999 to the other's (row 4 of one, the
 *     A/V edge rule of the other).
 * A failure is placed like the federation hop's: the client sees its own
 * firewall only, the counters on the internet bridge tell whether the
 * relay's packets left the site, and our policy's own counters whether the
 * near fw dropped them (BLOCKED) or a rule refused them (REJECTED). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/addr.h"
#include "probe/fed_av.h"
#include "probe/fed_int.h"

#define AV_WAIT_MS 20000 /* the child: the run's 5 s, the deletions, slack */

/* What differs between the variants. */
struct av_variant {
	bool tcp;
	int relay_row;        /* the row a relay leaves its site on */
	const char *own_rule; /* the fw rule a client's allocation comes in on */
	const char *far_rule; /* the fw rule the other relay comes in on */
	struct {
		const char *site, *rows, *flow;
		int row;
	} flows[6];
	const char *fw_flow[LAB_SITES];
};

static const struct av_variant udp_variant = {
    false,
    5,
    "row 6",
    "row 6",
    {
        {"a", "a6", "client A -> edge A MS-TURN allocation (UDP 3478)", 6},
        {"b", "b6", "client B -> edge B MS-TURN allocation (UDP 3478)", 6},
        {"a>b", "a5 b6", "edge A relay -> edge B MS-TURN (UDP 3478, TURN over TURN)", 5},
        {"b>a", "b5 a6", "edge B relay -> edge A MS-TURN (UDP 3478, TURN over TURN)", 5},
        {"a>b", "a6 a5 b6", "A/V client A -> client B (RTP through both edges)", PROBE_ROW_NONE},
        {"b>a", "b6 b5 a6", "A/V client B -> client A (RTP through both edges)", PROBE_ROW_NONE},
    },
    {"fw A's counters during the A/V: rows 5 and 6 only",
     "fw B's counters during the A/V: rows 5 and 6 only"},
};

/* In ROWS, "-" stands for the A/V edge's TCP 443 rule: not a table row. */
static const struct av_variant tcp_variant = {
    true,
    4,
    "the A/V edge TCP 443 rule",
    "the A/V edge TCP 443 rule",
    {
        {"a", "-", "client A -> edge A MS-TURN allocation (A/V edge TCP 443, pseudo-TLS)",
         PROBE_ROW_NONE},
        {"b", "-", "client B -> edge B MS-TURN allocation (A/V edge TCP 443, pseudo-TLS)",
         PROBE_ROW_NONE},
        {"a>b", "a4", "edge A relay -> edge B A/V TCP 443 (pseudo-TLS, TURN over TURN)", 4},
        {"b>a", "b4", "edge B relay -> edge A A/V TCP 443 (pseudo-TLS, TURN over TURN)", 4},
        {"a>b", "a4", "A/V over TCP client A -> client B (RTP through both edges)", PROBE_ROW_NONE},
        {"b>a", "b4", "A/V over TCP client B -> client A (RTP through both edges)", PROBE_ROW_NONE},
    },
    {"fw A's counters during the A/V over TCP: row 4 and the A/V edge rule only",
     "fw B's counters during the A/V over TCP: row 4 and the A/V edge rule only"},
};

struct av_run {
	struct fed_av_result r;
	struct lab_fed_wire before, after;
	int rc;
};

/* In the internet segment (lab_fed_in_inet); the counters are read by the
 * parent around it. arg: the variant. */
static int av_child(void *arg, void *out, size_t len)
{
	const struct av_variant *v = arg;
	struct fed_av_opts o;
	struct av_run *run = out;
	if (len != sizeof(*run))
		return EINVAL;
	fed_av_opts_default(&o);
	o.tcp = v->tcp;
	for (int s = 0; s < LAB_SITES; s++) {
		struct fed_av_side *side = s ? &o.b : &o.a;
		const struct lab_fed_site *st = lab_fed_site((enum lab_site)s);
		side->name = st->title;
		if (v->tcp)
			addr_parse(st->av_addr, 443, &side->edge);
		else
			addr_parse(st->edge_addr, 3478, &side->edge);
		side->user = st->turn_user;
		side->pass = st->turn_pass;
	}
	run->rc = fed_av_run(&o, &run->r);
	return 0;
}

/* What the fws counted around the run: deltas, per site; ok[s] false when
 * fw s has no counters of ours (the user's ruleset). */
struct av_fws {
	bool ok[LAB_SITES];
	struct lab_fed_fw d[LAB_SITES];
};

/* The site a hop's failure belongs to, and whether it is the client's leg
 * (row 6 of its site), the edges' (row 5 of one, row 6 of the other) or
 * the edge's own relaying. */
static bool hop_site(enum fed_av_hop h, enum lab_site *s)
{
	switch (h) {
	case FED_AV_HOP_CLIENT_A_TO_EDGE_A:
	case FED_AV_HOP_EDGE_A_TO_EDGE_B:
	case FED_AV_HOP_EDGE_A_RELAY:
	case FED_AV_HOP_PATH_A_TO_B:
		return *s = LAB_SITE_A, true;
	case FED_AV_HOP_NONE:
		return false;
	default:
		return *s = LAB_SITE_B, true;
	}
}

/* Edge s's relay did not reach the other edge. The bridge's counters say
 * whether its packets left site s; when they did not, our policy's counters
 * say how fw s stopped them (the relay row's rule counted them and they
 * went no further: a reject rule; the policy's drop counted them: a drop;
 * neither: the edge never sent them). When they did, the SYN-ACKs (TCP) say
 * whether fw B let the connection through. */
static void judge_relay(const struct av_variant *v, const struct fed_av_result *av,
                        const struct lab_fed_wire *d, const struct av_fws *fws, enum lab_site s,
                        enum probe_verdict verdict, struct probe_result *r)
{
	const struct lab_fed_site *me = lab_fed_site(s), *it = lab_fed_site(!s);
	const struct lab_fed_fw *fw = &fws->d[s];
	unsigned long long left = v->tcp ? d->av_syn[s] : d->turn[s];
	if (left == 0 && fws->ok[s] && fw->row[v->relay_row] == 0 && fw->dropped == 0)
		return fed_verdict(r, VERDICT_FAILED, fed_edge(s),
		                   "edge %s's relay sent nothing: fw %s counted none of it; %s",
		                   me->title, me->title, av->detail);
	if (left == 0) {
		if (fws->ok[s])
			verdict = fw->row[v->relay_row] > 0 ? VERDICT_REJECTED : VERDICT_BLOCKED;
		return fed_verdict(r, verdict, fed_fw(s),
		                   "edge %s's relay never reached the internet: fw %s (row %d of "
		                   "%s); %s",
		                   me->title, me->title, v->relay_row, me->title, av->detail);
	}
	if (v->tcp && d->av_synack[s] > 0)
		return fed_verdict(
		    r, VERDICT_FAILED, fed_edge(!s),
		    "edge %s's A/V TCP 443 took edge %s's relay's connection (SYN-ACK "
		    "seen), but did not answer on it; %s",
		    it->title, me->title, av->detail);
	return fed_verdict(r, verdict, fed_fw(!s),
	                   "edge %s's relay crossed the internet, nothing came back: fw %s (%s "
	                   "of %s); %s",
	                   me->title, it->title, v->far_rule, it->title, av->detail);
}

/* Where the failure was, as a verdict: silence is BLOCKED and a refusal
 * REJECTED at the firewall the packets stopped at; an answer that said
 * no, or media lost or altered once every leg had carried control
 * traffic, is FAILED at the edge. */
static void judge_failure(const struct av_variant *v, const struct av_run *run,
                          const struct lab_fed_wire *d, const struct av_fws *fws,
                          struct probe_result *r)
{
	const struct fed_av_result *av = &run->r;
	enum lab_site s = LAB_SITE_A;
	if (!hop_site(av->hop, &s)) /* our own set-up: options, a socket */
		return fed_verdict(r, VERDICT_FAILED, "inet", "%s (%s)", av->detail,
		                   fed_av_why_name(av->why));
	const struct lab_fed_site *me = lab_fed_site(s);
	bool silent = av->why == FED_AV_WHY_NO_ANSWER;
	enum probe_verdict verdict = silent ? VERDICT_BLOCKED : VERDICT_REJECTED;
	if (!silent && av->why != FED_AV_WHY_UNREACHABLE)
		return fed_verdict(
		    r, VERDICT_FAILED,
		    fed_edge(av->hop == FED_AV_HOP_PATH_A_TO_B || av->hop == FED_AV_HOP_PATH_B_TO_A
		                 ? !s
		                 : s),
		    "%s (%s)", av->detail, fed_av_why_name(av->why));
	switch (av->hop) {
	case FED_AV_HOP_CLIENT_A_TO_EDGE_A:
	case FED_AV_HOP_CLIENT_B_TO_EDGE_B:
		/* Our policy accepts the A/V edge rule and cannot reject it: a
		 * reset there is the edge's (nothing listens on its A/V 443). */
		if (v->tcp && !silent && fws->ok[s])
			return fed_verdict(
			    r, VERDICT_FAILED, fed_edge(s),
			    "edge %s reset the connection to its A/V TCP 443 (fw %s's "
			    "policy lets it in): %s",
			    me->title, me->title, av->detail);
		return fed_verdict(r, verdict, fed_fw(s), "fw %s (%s of %s): %s", me->title,
		                   v->own_rule, me->title, av->detail);
	case FED_AV_HOP_EDGE_A_TO_EDGE_B:
	case FED_AV_HOP_EDGE_B_TO_EDGE_A:
		return judge_relay(v, av, d, fws, s, verdict, r);
	default:
		return fed_verdict(r, verdict, fed_edge(s), "%s (%s)", av->detail,
		                   fed_av_why_name(av->why));
	}
}

/* Which of the six results a failure on hop h sits in. */
static int failed_index(enum fed_av_hop h)
{
	switch (h) {
	case FED_AV_HOP_CLIENT_B_TO_EDGE_B:
		return 1;
	case FED_AV_HOP_EDGE_A_TO_EDGE_B:
	case FED_AV_HOP_EDGE_B_RELAY:
		return 2;
	case FED_AV_HOP_EDGE_B_TO_EDGE_A:
	case FED_AV_HOP_EDGE_A_RELAY:
		return 3;
	case FED_AV_HOP_PATH_A_TO_B:
		return 4;
	case FED_AV_HOP_PATH_B_TO_A:
		return 5;
	default:
		return 0;
	}
}

/* Whether result i passed: a client's own allocation once it has its
 * relayed address, an edge's relay to the other once the inner allocation
 * it carried was answered (fed_av tries both clients' allocations even when
 * one fails), the media once every packet arrived. */
static bool through(int i, const struct fed_av_result *av)
{
	const struct fed_av_client *c = i % 2 ? &av->b : &av->a;
	if (i < 2)
		return c->relayed.ss_family != AF_UNSPEC;
	if (i < 4)
		return c->inner_relayed.ss_family != AF_UNSPEC;
	return av->ok;
}

static void passed(const struct fed_av_result *av, int i, struct probe_result *r)
{
	char x[ADDR_STR_MAX], y[ADDR_STR_MAX];
	const struct fed_av_client *c = i % 2 ? &av->b : &av->a;
	const struct fed_av_dir *d = i % 2 ? &av->b_to_a : &av->a_to_b;
	if (i < 2) {
		addr_str((const struct sockaddr *)&c->relayed, x, sizeof(x));
		return fed_verdict(r, VERDICT_PASS, "", "relayed address %s", x);
	}
	if (i < 4) {
		addr_str((const struct sockaddr *)&c->inner_relayed, x, sizeof(x));
		addr_str((const struct sockaddr *)&c->inner_mapped, y, sizeof(y));
		return fed_verdict(r, VERDICT_PASS, "",
		                   "inner allocation %s; the far edge saw it come from %s (a relay "
		                   "port of the near edge)",
		                   x, y);
	}
	fed_verdict(r, VERDICT_PASS, "",
	            "%u RTP packets of %u intact (0 lost, %u corrupt, %u out of order) in %.3f s",
	            d->intact, d->sent, d->corrupt, d->out_of_order, d->seconds);
}

/* What site s's fw counted while the media ran: new flows on the
 * variant's rows only, nothing on the others, nothing dropped, and the
 * packets on the replies' rule.
 *   - UDP: rows 5 and 6 (each edge's relay out to the other's 3478; each
 *     client, and the other edge's relay, in to its own 3478).
 *   - TCP: row 4 (the relay's connection out) and the A/V edge rule (the
 *     client's connection and the other relay's, in). */
static void fw_counted(const struct av_variant *v, enum lab_site s, const struct lab_fed_fw *d,
                       const struct fed_av_result *av, struct probe_result *r)
{
	const struct lab_fed_site *st = lab_fed_site(s);
	unsigned long long other = 0, media = (unsigned long long)av->a_to_b.sent + av->b_to_a.sent;
	for (int i = 1; i <= 6; i++)
		if (v->tcp ? i != 4 : i < 5)
			other += d->row[i];
	if (!v->tcp)
		other += d->av_edge;
	snprintf(r->site, sizeof(r->site), "%s", st->name);
	if (v->tcp)
		snprintf(r->rows, sizeof(r->rows), "%s4 -", st->name);
	else
		snprintf(r->rows, sizeof(r->rows), "%s5 %s6", st->name, st->name);
	r->row = PROBE_ROW_NONE;
	r->flow = v->fw_flow[s];
	/* When the A/V failed elsewhere, this fw is right as long as it dropped
	 * nothing and opened no other row. Over TCP the media shares segments,
	 * so the replies' rule counts at least one packet per direction. */
	bool opened = v->tcp ? d->row[4] >= 1 && d->av_edge >= 2 : d->row[5] >= 1 && d->row[6] >= 1;
	bool ok = other == 0 && d->dropped == 0 &&
	          (!av->ok || (opened && d->established >= (v->tcp ? 2 : media)));
	if (v->tcp)
		return fed_verdict(r, ok ? VERDICT_PASS : VERDICT_FAILED, fed_fw(s),
		                   "new flows: row 4 %llu, A/V edge TCP 443 %llu, other rows %llu; "
		                   "replies and later packets %llu; dropped by the policy %llu",
		                   d->row[4], d->av_edge, other, d->established, d->dropped);
	fed_verdict(r, ok ? VERDICT_PASS : VERDICT_FAILED, fed_fw(s),
	            "new flows: row 5 %llu, row 6 %llu, rows 1-4 %llu; replies and later packets "
	            "%llu; dropped by the policy %llu",
	            d->row[5], d->row[6], other, d->established, d->dropped);
}

static void fw_diff(const struct lab_fed_fw *a, const struct lab_fed_fw *b, struct lab_fed_fw *d)
{
	for (int i = 1; i <= 6; i++)
		d->row[i] = a->row[i] - b->row[i];
	d->established = a->established - b->established;
	d->dropped = a->dropped - b->dropped;
	d->av_edge = a->av_edge - b->av_edge;
}

static void av_variant_run(const struct av_variant *v, const struct lab_fed *lab,
                           struct probe_result *res, size_t *n)
{
	struct av_run run;
	struct lab_fed_wire d;
	struct av_fws fws;
	char err[256];
	struct lab_fed_fw before[LAB_SITES], after;
	memset(&run, 0, sizeof(run));
	memset(&fws, 0, sizeof(fws));
	for (int s = 0; s < LAB_SITES; s++)
		fws.ok[s] = !lab_fed_fw_read(lab, (enum lab_site)s, &before[s], err, sizeof(err));
	int rc = lab_fed_wire_read(lab, &run.before, err, sizeof(err));
	if (!rc)
		rc = lab_fed_in_inet(lab, av_child, (void *)v, &run, sizeof(run), AV_WAIT_MS, err,
		                     sizeof(err));
	if (!rc)
		rc = lab_fed_wire_read(lab, &run.after, err, sizeof(err));
	for (int s = 0; s < LAB_SITES && !rc; s++) { /* our policy's counters; not a user's */
		fws.ok[s] =
		    fws.ok[s] && !lab_fed_fw_read(lab, (enum lab_site)s, &after, err, sizeof(err));
		if (fws.ok[s])
			fw_diff(&after, &before[s], &fws.d[s]);
	}
	probe_fed_wire_diff(&run.after, &run.before, &d);
	int bad = run.r.ok ? -1 : failed_index(run.r.hop);
	struct probe_result *first = &res[*n];
	for (int i = 0; i < 6; i++) {
		struct probe_result *r = &first[i];
		snprintf(r->site, sizeof(r->site), "%s", v->flows[i].site);
		snprintf(r->rows, sizeof(r->rows), "%s", v->flows[i].rows);
		r->flow = v->flows[i].flow;
		r->row = v->flows[i].row;
		r->seconds = run.r.seconds;
	}
	for (int i = 0; i < 6 && !rc && bad >= 0; i++)
		if (i == bad)
			judge_failure(v, &run, &d, &fws, &first[i]);
	for (int i = 0; i < 6; i++) {
		struct probe_result *r = &first[i];
		if (rc)
			fed_verdict(r, VERDICT_FAILED, "inet", "the clients did not run: %s", err);
		else if (run.r.ok || (i != bad && through(i, &run.r)))
			passed(&run.r, i, r);
		else if (i != bad) /* stopped by the failure: it names the hop */
			fed_verdict(r, first[bad].verdict, first[bad].where, "not completed: %s",
			            run.r.detail);
	}
	*n += 6;
	for (int s = 0; s < LAB_SITES && !rc; s++)
		if (fws.ok[s])
			fw_counted(v, (enum lab_site)s, &fws.d[s], &run.r, &res[(*n)++]);
}

void probe_fed_av(const struct lab_fed *lab, struct probe_result *res, size_t *n)
{
	av_variant_run(&udp_variant, lab, res, n);
}

void probe_fed_av_tcp(const struct lab_fed *lab, struct probe_result *res, size_t *n)
{
	av_variant_run(&tcp_variant, lab, res, n);
}
