/* The set-up stages of a federation A/V run (probe/fed_av_run.h): each
 * client's allocation on its own edge and its active destination, its inner
 * allocation on the far edge and that one's active destination; and the
 * deletion of whatever was made. The transport (UDP or TCP) carries the
 * requests; the sentences name the leg each one crossed. */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>

#include "probe/fed_av_run.h"
#include "probe/flow.h"

#define DELETE_MS 1000 /* the deletions' own bound, after the run's */

/* Allocate: unauthenticated first (401 and its nonce), then with the
 * credentials; once more after a 438. A 401 after the credentials ends it. */
static int allocate(struct run *R, struct client *c, bool inner, struct msturn_answer *a,
                    unsigned *sent)
{
	struct msturn_req q = {.method = STUN_METHOD_ALLOCATE};
	unsigned n;
	int rc = 0;
	*sent = 0;
	for (int round = 0; round < 3; round++) {
		bool had_nonce = (inner ? &c->far : &c->own)->have_nonce;
		rc = fed_av_request(R, c, inner, &q, R->deadline, a, &n);
		*sent += n;
		if (rc || (a->code != 401 && a->code != 438) || (a->code == 401 && had_nonce))
			break;
	}
	return rc;
}

/* An Allocate (inner: on the far edge, through the own allocation) and its
 * outcome, a success without an IPv4 relayed address a bad answer. */
static enum fed_av_why allocation(struct run *R, struct client *c, bool inner,
                                  struct msturn_answer *a, char *why, size_t cap, int *err)
{
	unsigned sent;
	double t0 = flow_now();
	int rc = allocate(R, c, inner, a, &sent);
	enum fed_av_why w = fed_av_outcome(rc, a, sent, t0, why, cap, err);
	if (w == FED_AV_WHY_NONE && a->relayed.ss_family != AF_INET) {
		*err = EPROTO;
		snprintf(why, cap, "got a success without an IPv4 relayed address");
		return FED_AV_WHY_BAD_ANSWER;
	}
	return w;
}

/* A Set Active Destination to dest on the own allocation or (inner) on the
 * inner one, and its outcome. */
static enum fed_av_why active_dest(struct run *R, struct client *c, bool inner,
                                   const struct sockaddr_storage *dest, struct msturn_answer *a,
                                   char *why, size_t cap, int *err)
{
	struct msturn_req q = {.method = STUN_MSTURN_METHOD_SET_ACTIVE_DEST,
	                       .dest = (const struct sockaddr *)dest};
	unsigned sent;
	double t0 = flow_now();
	int rc = fed_av_request(R, c, inner, &q, R->deadline, a, &sent);
	return fed_av_outcome(rc, a, sent, t0, why, cap, err);
}

int fed_av_own_allocate(struct run *R, struct client *c)
{
	struct msturn_answer a;
	char why[160], e[ADDR_STR_MAX];
	int err = R->T->connect ? R->T->connect(R, c, false) : 0;
	if (err)
		return err;
	enum fed_av_why w = allocation(R, c, false, &a, why, sizeof(why), &err);
	if (w == FED_AV_WHY_AUTH)
		return fed_av_fail(
		    R, fed_av_own_hop(R, c), w, a.code, err,
		    "edge %s (%s) refused client %s's credentials (user %s): its Allocate %s",
		    c->name, fed_av_str(&c->edge, e), c->name, c->own.user, why);
	if (w != FED_AV_WHY_NONE)
		return fed_av_fail(R, fed_av_own_hop(R, c), w, a.code, err,
		                   "client %s's Allocate to edge %s (%s) %s", c->name, c->name,
		                   fed_av_str(&c->edge, e), why);
	c->own_made = true;
	c->res->relayed = a.relayed;
	c->res->mapped = a.mapped;
	return 0;
}

int fed_av_own_active_dest(struct run *R, struct client *c)
{
	struct msturn_answer a;
	char why[160], e[ADDR_STR_MAX], f[ADDR_STR_MAX];
	int err;
	enum fed_av_why w = active_dest(R, c, false, &c->far_edge, &a, why, sizeof(why), &err);
	if (w == FED_AV_WHY_ERROR && a.code == 403)
		return fed_av_fail(
		    R, fed_av_cross_hop(R, c), w, a.code, err,
		    "edge %s refuses to relay to edge %s's %s: client %s's Set Active "
		    "Destination %s (edge %s's peer policy: peer_deny, or a built-in denial)",
		    c->name, c->far_name, fed_av_str(&c->far_edge, f), c->name, why, c->name);
	if (w != FED_AV_WHY_NONE)
		return fed_av_fail(R, fed_av_own_hop(R, c), w, a.code, err,
		                   "client %s's Set Active Destination %s to edge %s (%s) %s",
		                   c->name, fed_av_str(&c->far_edge, f), c->name,
		                   fed_av_str(&c->edge, e), why);
	return 0;
}

int fed_av_inner_allocate(struct run *R, struct client *c)
{
	struct msturn_answer a;
	char why[160], f[ADDR_STR_MAX], ra[ADDR_STR_MAX];
	int err = R->T->connect ? R->T->connect(R, c, true) : 0;
	if (err)
		return err;
	enum fed_av_why w = allocation(R, c, true, &a, why, sizeof(why), &err);
	fed_av_str(&c->far_edge, f);
	fed_av_str(&c->res->relayed, ra);
	if (w == FED_AV_WHY_NO_ANSWER) {
		char what[512];
		snprintf(what, sizeof(what),
		         "the Allocate to edge %s (%s) sent through edge %s's relay (%s) %s",
		         c->far_name, f, c->name, ra, why);
		return fed_av_fail_unreached(R, c, err, what);
	}
	if (w != FED_AV_WHY_NONE)
		return fed_av_fail(
		    R, fed_av_cross_hop(R, c), w, a.code, err,
		    "the Allocate to edge %s (%s) sent through edge %s's relay (%s) as user "
		    "%s %s",
		    c->far_name, f, c->name, ra, c->far.user, why);
	c->inner_made = true;
	c->res->inner_relayed = a.relayed;
	c->res->inner_mapped = a.mapped;
	return 0;
}

int fed_av_inner_active_dest(struct run *R, struct client *c)
{
	struct msturn_answer a;
	char why[160], f[ADDR_STR_MAX], in[ADDR_STR_MAX], to[ADDR_STR_MAX];
	int err;
	enum fed_av_why w =
	    active_dest(R, c, true, &c->peer->res->relayed, &a, why, sizeof(why), &err);
	fed_av_str(&c->res->inner_relayed, in);
	fed_av_str(&c->peer->res->relayed, to);
	if (w == FED_AV_WHY_ERROR && a.code == 403)
		return fed_av_fail(
		    R, fed_av_relay_hop(R, c->peer), w, a.code, err,
		    "edge %s refuses to relay from client %s's inner allocation (%s) to "
		    "client %s's allocation (%s), its own address: the Set Active Destination "
		    "%s; its peer policy must allow its own address (peer_allow, or "
		    "allow_loopback_peers yes on loopback)",
		    c->far_name, c->name, in, c->far_name, to, why);
	if (w != FED_AV_WHY_NONE)
		return fed_av_fail(
		    R, fed_av_cross_hop(R, c), w, a.code, err,
		    "client %s's Set Active Destination %s sent to edge %s (%s) through edge "
		    "%s's relay %s",
		    c->name, to, c->far_name, fed_av_str(&c->far_edge, f), c->name, why);
	return 0;
}

/* Inner allocations first: they are reached through the own ones. */
void fed_av_delete_all(struct run *R)
{
	double until = flow_now() + DELETE_MS / 1000.0;
	struct msturn_req q = {.method = STUN_METHOD_ALLOCATE, .delete = true};
	struct msturn_answer a;
	unsigned sent;
	for (int inner = 1; inner >= 0; inner--)
		for (int i = 0; i < 2; i++) {
			struct client *c = &R->c[i];
			if (!(inner ? c->inner_made : c->own_made))
				continue;
			if (!fed_av_request(R, c, inner, &q, until, &a, &sent) && !a.code)
				R->r->deleted++;
		}
}
