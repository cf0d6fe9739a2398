/* The federation A/V test's run (probe/fed_av.h, docs/federation-av.md):
 * the options, the two clients, the stages in order over the transport the
 * options ask (UDP: fed_av_udp.c, TCP: fed_av_tcp.c), the deletion, and
 * the summary. */
#include "probe/fed_av.h"

#include <errno.h>
#include <netinet/in.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "probe/fed_av_run.h"
#include "probe/flow.h"

static const char *const stage_names[] = {"start",
                                          "own-allocate",
                                          "own-active-destination",
                                          "inner-allocate",
                                          "inner-active-destination",
                                          "permission",
                                          "media",
                                          "done"};
static const char *const hop_names[] = {"none",
                                        "client-a-to-edge-a",
                                        "client-b-to-edge-b",
                                        "edge-a-to-edge-b",
                                        "edge-b-to-edge-a",
                                        "edge-a-relay",
                                        "edge-b-relay",
                                        "path-a-to-b",
                                        "path-b-to-a"};
static const char *const why_names[] = {"none",      "options", "socket", "unreachable",
                                        "no-answer", "error",   "auth",   "bad-answer",
                                        "lost",      "corrupt"};

const char *fed_av_stage_name(enum fed_av_stage s)
{
	return (unsigned)s < sizeof(stage_names) / sizeof(*stage_names) ? stage_names[s] : "?";
}

const char *fed_av_hop_name(enum fed_av_hop h)
{
	return (unsigned)h < sizeof(hop_names) / sizeof(*hop_names) ? hop_names[h] : "?";
}

const char *fed_av_why_name(enum fed_av_why w)
{
	return (unsigned)w < sizeof(why_names) / sizeof(*why_names) ? why_names[w] : "?";
}

void fed_av_opts_default(struct fed_av_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->packets = 500;
	o->payload = 160;
	o->timeout_ms = 5000;
}

/* --- set-up ---------------------------------------------------------------- */

static int check_side(struct run *R, const struct fed_av_side *s, const char *name)
{
	const struct sockaddr_in *in = (const struct sockaddr_in *)&s->edge;
	if (s->edge.ss_family != AF_INET || !in->sin_port)
		return fed_av_fail(R, FED_AV_HOP_NONE, FED_AV_WHY_OPTIONS, 0, EINVAL,
		                   "side %s: the edge must be an IPv4 address with a port", name);
	if (s->peer_edge.ss_family != AF_UNSPEC &&
	    (s->peer_edge.ss_family != AF_INET || !((struct sockaddr_in *)&s->peer_edge)->sin_port))
		return fed_av_fail(
		    R, FED_AV_HOP_NONE, FED_AV_WHY_OPTIONS, 0, EINVAL,
		    "side %s: peer_edge must be unset or an IPv4 address with a port", name);
	if (!s->user || !s->pass || !*s->user)
		return fed_av_fail(R, FED_AV_HOP_NONE, FED_AV_WHY_OPTIONS, 0, EINVAL,
		                   "side %s: a TURN user and password are needed", name);
	return 0;
}

static int check_opts(struct run *R)
{
	const struct fed_av_opts *o = R->o;
	int rc = check_side(R, &o->a, "A");
	if (!rc)
		rc = check_side(R, &o->b, "B");
	if (!rc &&
	    (o->packets < 1 || o->packets > FED_AV_MAX_PACKETS || o->payload < FED_AV_MIN_PAYLOAD ||
	     o->payload > FED_AV_MAX_PAYLOAD || !o->timeout_ms))
		rc = fed_av_fail(R, FED_AV_HOP_NONE, FED_AV_WHY_OPTIONS, 0, EINVAL,
		                 "packets must be 1-%u, payload %u-%u bytes, the timeout above 0",
		                 FED_AV_MAX_PACKETS, FED_AV_MIN_PAYLOAD, FED_AV_MAX_PAYLOAD);
	return rc;
}

static int client_open(struct run *R, struct client *c, const struct fed_av_side *own,
                       const struct fed_av_side *far, struct fed_av_client *res)
{
	c->res = res;
	c->edge = own->edge;
	c->far_edge = far->peer_edge.ss_family == AF_UNSPEC ? far->edge : far->peer_edge;
	c->expect.far_edge = c->far_edge;
	c->own = (struct stun_cred){.user = own->user, .pass = own->pass};
	c->far = (struct stun_cred){.user = far->user, .pass = far->pass};
	c->seen = calloc(R->o->packets / 8 + 1, 1);
	uint8_t rnd[10];
	if (!c->seen || RAND_bytes(rnd, sizeof(rnd)) != 1)
		return fed_av_fail(R, FED_AV_HOP_NONE, FED_AV_WHY_SOCKET, 0, ENOMEM,
		                   "out of memory");
	c->out = (struct fed_av_stream){
	    .ssrc = (uint32_t)rnd[0] << 24 | rnd[1] << 16 | rnd[2] << 8 | rnd[3],
	    .seq0 = (uint16_t)(rnd[4] << 8 | rnd[5]),
	    .ts0 = (uint32_t)rnd[6] << 24 | rnd[7] << 16 | rnd[8] << 8 | rnd[9],
	    .payload = R->o->payload,
	    .packets = R->o->packets};
	return R->T->open(R, c);
}

#define OTHER_TRY_S 1.5 /* the other client's try after the first one failed */

/* A step for both clients. When the first fails, the second still tries,
 * on a budget of its own (the first may have spent the run's), so that a
 * report can tell whether its leg works; the first failure stays the one
 * reported. */
static int both(struct run *R, int (*step)(struct run *, struct client *))
{
	struct fed_av_result *r = R->r;
	int rc = step(R, &R->c[0]);
	if (!rc)
		return step(R, &R->c[1]);
	enum fed_av_hop hop = r->hop;
	enum fed_av_why why = r->why;
	int code = r->code;
	char detail[sizeof(r->detail)];
	memcpy(detail, r->detail, sizeof(detail));
	double deadline = R->deadline;
	R->deadline = flow_now() + OTHER_TRY_S;
	step(R, &R->c[1]);
	R->deadline = deadline;
	r->hop = hop;
	r->why = why;
	r->code = code;
	memcpy(r->detail, detail, sizeof(detail));
	return rc;
}

/* The stages in order; the first failure ends the run (the other client
 * having tried the same step: both). */
static int stages(struct run *R)
{
	struct fed_av_result *r = R->r;
	int rc;
	r->stage = FED_AV_STAGE_OWN_ALLOCATE;
	if ((rc = both(R, fed_av_own_allocate)))
		return rc;
	r->stage = FED_AV_STAGE_OWN_ACTIVE_DEST;
	if ((rc = fed_av_own_active_dest(R, &R->c[0])) ||
	    (rc = fed_av_own_active_dest(R, &R->c[1])))
		return rc;
	r->stage = FED_AV_STAGE_INNER_ALLOCATE;
	if ((rc = both(R, fed_av_inner_allocate)))
		return rc;
	/* Media comes from the far client's inner allocation, on our edge. */
	for (int i = 0; i < 2; i++)
		R->c[i].expect.media_from = R->c[i].peer->res->inner_relayed;
	r->stage = FED_AV_STAGE_INNER_ACTIVE_DEST;
	if ((rc = fed_av_inner_active_dest(R, &R->c[0])) ||
	    (rc = fed_av_inner_active_dest(R, &R->c[1])))
		return rc;
	r->stage = FED_AV_STAGE_PERMISSION;
	if ((rc = fed_av_permission(R)))
		return rc;
	r->stage = FED_AV_STAGE_MEDIA;
	if ((rc = fed_av_media(R)))
		return rc;
	r->stage = FED_AV_STAGE_DONE;
	return 0;
}

int fed_av_run(const struct fed_av_opts *o, struct fed_av_result *r)
{
	memset(r, 0, sizeof(*r));
	struct run *R = calloc(1, sizeof(*R));
	if (!R) {
		snprintf(r->detail, sizeof(r->detail), "out of memory");
		r->why = FED_AV_WHY_SOCKET;
		return ENOMEM;
	}
	R->o = o;
	R->T = o->tcp ? &fed_av_tcp : &fed_av_udp;
	R->r = r;
	R->start = flow_now();
	R->deadline = R->start + o->timeout_ms / 1000.0;
	struct client *a = &R->c[0], *b = &R->c[1];
	a->fd = b->fd = -1;
	a->name = b->far_name = o->a.name ? o->a.name : "A";
	b->name = a->far_name = o->b.name ? o->b.name : "B";
	a->peer = b;
	b->peer = a;
	a->tx = b->rx = &r->a_to_b;
	b->tx = a->rx = &r->b_to_a;
	a->expect.in = &b->out;
	b->expect.in = &a->out;
	int rc = check_opts(R);
	if (!rc)
		rc = client_open(R, a, &o->a, &o->b, &r->a);
	if (!rc)
		rc = client_open(R, b, &o->b, &o->a, &r->b);
	if (!rc)
		rc = stages(R);
	fed_av_delete_all(R);
	r->ok = !rc;
	r->seconds = flow_now() - R->start;
	if (r->ok) {
		char ra[ADDR_STR_MAX], rb[ADDR_STR_MAX];
		snprintf(r->detail, sizeof(r->detail),
		         "%u RTP packets of %zu bytes each way, all intact: %s to %s in %.2f s "
		         "through %s's relay %s, %s to %s in %.2f s through %s's relay %s",
		         o->packets, o->payload, a->name, b->name, r->a_to_b.seconds, a->name,
		         fed_av_str(&r->a.relayed, ra), b->name, a->name, r->b_to_a.seconds,
		         b->name, fed_av_str(&r->b.relayed, rb));
	}
	for (int i = 0; i < 2; i++) {
		if (R->c[i].fd >= 0)
			close(R->c[i].fd);
		if (R->T->close)
			R->T->close(&R->c[i]);
		free(R->c[i].seen);
	}
	free(R);
	return rc;
}
