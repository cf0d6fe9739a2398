/* IM in the federation lab (probe/fed.h): the two remote clients register
 * at their own edges and send a MESSAGE each way (probe/fed_im.h), from
 * inside the internet segment. Four results: each client's registration
 * (row 3 of its site), then each direction end to end; a direction that
 * failed on the federation hop takes that hop's verdict and place, which
 * the hop's own result has already found (fed_hop.c). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/addr.h"
#include "probe/fed_im.h"
#include "probe/fed_int.h"

#define IM_STEP_MS 5000  /* each client's set-up, each MESSAGE */
#define IM_WAIT_MS 40000 /* the whole child: two set-ups, two MESSAGEs, the goodbyes */

struct im_arg {
	const struct lab_fed *lab;
};

static void user_of(const struct lab_fed *lab, enum lab_site s, struct fed_im_user *u)
{
	const struct lab_fed_site *st = lab_fed_site(s);
	memset(u, 0, sizeof(*u));
	addr_parse(st->edge_addr, 443, &u->edge);
	u->edge_fqdn = st->fqdn;
	u->ca_file = lab_fed_client_ca(lab, s);
	u->aor_user = st->user;
	u->domain = st->domain;
}

/* In the internet segment's namespace (lab_fed_in_inet). */
static int im_child(void *arg, void *out, size_t len)
{
	const struct im_arg *a = arg;
	struct fed_im_opts o = {.directions = FED_IM_BOTH, .timeout_ms = IM_STEP_MS};
	if (len != sizeof(struct fed_im_result))
		return EINVAL;
	user_of(a->lab, LAB_SITE_A, &o.a);
	user_of(a->lab, LAB_SITE_B, &o.b);
	fed_im_run(&o, out);
	return 0;
}

/* A client's registration at its own edge (row 3 of its site): only its
 * firewall is between, so a connection that got no answer or a refusal
 * was stopped there. */
static void registration(const struct fed_im_client *c, enum lab_site s, struct probe_result *r)
{
	const struct lab_fed_site *st = lab_fed_site(s);
	snprintf(r->site, sizeof(r->site), "%s", st->name);
	snprintf(r->rows, sizeof(r->rows), "%s3", st->name);
	r->row = 3;
	r->flow = s ? "bob -> edge B SIP/TLS (REGISTER from the internet)"
	            : "alice -> edge A SIP/TLS (REGISTER from the internet)";
	r->seconds = (c->connect_ms + c->register_ms) / 1000;
	if (c->registered)
		return fed_verdict(r, VERDICT_PASS, "", "%s", c->why);
	if (!c->connected && strstr(c->why, "no answer to the TCP SYN"))
		return fed_verdict(r, VERDICT_BLOCKED, fed_fw(s),
		                   "%s: fw %s dropped it (row 3 of %s)", c->why, st->title,
		                   st->title);
	if (!c->connected && (strstr(c->why, "refused") || strstr(c->why, "unreachable")))
		return fed_verdict(r, VERDICT_REJECTED, fed_fw(s),
		                   "%s: fw %s rejected it (row 3 of %s)", c->why, st->title,
		                   st->title);
	fed_verdict(r, VERDICT_FAILED, fed_edge(s), "%s", c->why);
}

/* One direction end to end: site "a>b", every row it crosses. */
static void direction(const struct fed_im_dir *d, enum lab_site from,
                      const struct probe_result *hop, const struct probe_result *reg_from,
                      const struct probe_result *reg_to, struct probe_result *r)
{
	const char *f = lab_fed_site(from)->name, *t = lab_fed_site(!from)->name;
	snprintf(r->site, sizeof(r->site), "%s>%s", f, t);
	snprintf(r->rows, sizeof(r->rows), "%s3 %s2 %s1 %s3", f, f, t, t);
	r->row = PROBE_ROW_NONE;
	r->flow = from ? "IM bob@b.example -> alice@a.example (MESSAGE, 200 back)"
	               : "IM alice@a.example -> bob@b.example (MESSAGE, 200 back)";
	r->seconds = d->rtt_ms / 1000;
	if (d->stage == FED_IM_STAGE_DELIVERED)
		return fed_verdict(r, VERDICT_PASS, "",
		                   "delivered in %.1f ms, 200 back in %.1f ms; %s", d->delivery_ms,
		                   d->rtt_ms, d->why);
	/* Where it broke: the client's own hops are their registrations; a
	 * MESSAGE the caller's edge could not pass on (5xx, 408, nothing at
	 * all) broke where the federation hop did, when it did. */
	enum fed_im_hop h = fed_im_fault_hop(d->fault);
	const struct probe_result *at = h == FED_IM_HOP_CALLER   ? reg_from
	                                : h == FED_IM_HOP_CALLEE ? reg_to
	                                : h == FED_IM_HOP_FEDERATION ||
	                                        d->fault == FED_IM_FAULT_LOST ||
	                                        d->fault == FED_IM_FAULT_RESPONSE_LOST
	                                    ? hop
	                                    : NULL;
	if (at && at->verdict != VERDICT_PASS && at == hop)
		return fed_verdict(r, at->verdict, at->where,
		                   "not delivered: %s; the federation hop: %s", d->why, at->detail);
	if (at && at->verdict != VERDICT_PASS)
		return fed_verdict(r, at->verdict, at->where, "not delivered: %s", d->why);
	fed_verdict(r, VERDICT_FAILED, h == FED_IM_HOP_CALLEE ? fed_edge(!from) : fed_edge(from),
	            "not delivered: %s (%s)", d->why, fed_im_fault_name(d->fault));
}

void probe_fed_im(const struct lab_fed *lab, const struct probe_result hops[LAB_SITES],
                  struct probe_result *res, size_t *n)
{
	struct fed_im_result im;
	struct im_arg arg = {.lab = lab};
	char err[256];
	memset(&im, 0, sizeof(im));
	int rc =
	    lab_fed_in_inet(lab, im_child, &arg, &im, sizeof(im), IM_WAIT_MS, err, sizeof(err));
	struct probe_result *reg = &res[*n];
	for (int s = 0; s < LAB_SITES; s++) {
		struct probe_result *r = &res[(*n)++];
		registration(s ? &im.b : &im.a, (enum lab_site)s, r);
		if (rc)
			fed_verdict(r, VERDICT_FAILED, "inet", "the clients did not run: %s", err);
	}
	for (int s = 0; s < LAB_SITES; s++) {
		struct probe_result *r = &res[(*n)++];
		direction(s ? &im.b_to_a : &im.a_to_b, (enum lab_site)s, &hops[s], &reg[s],
		          &reg[!s], r);
		if (rc)
			fed_verdict(r, VERDICT_FAILED, "inet", "the clients did not run: %s", err);
	}
}
