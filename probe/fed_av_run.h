/* Inside a federation A/V run (probe/fed_av.h): the two clients' state, what
 * the UDP and the TCP variant do differently (struct transport:
 * fed_av_udp.c, fed_av_tcp.c), the pieces every stage uses (fed_av_run.c),
 * and the stages (fed_av_setup.c, fed_av_media_stage.c) that fed_av.c runs
 * in order. Blocking, single-threaded, no logging. Private to probe/. */
#ifndef EDGELAB_PROBE_FED_AV_RUN_H
#define EDGELAB_PROBE_FED_AV_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"
#include "probe/fed_av_int.h"

#define FED_AV_RTO_MS      500       /* the first retransmission, doubling (RFC 5389 7.2.1) */
#define FED_AV_SOCK_BUFFER (1 << 20) /* each socket's, both ways */
/* The largest thing a client writes at once: a request wrapped for the
 * inner layer (a Send around it, or two frame headers). */
#define FED_AV_WIRE_MAX (STUN_MAX_MSG_LEN + 64)

struct run;
struct fed_av_tcp_conn; /* fed_av_tcp.c's */

struct client {
	const char *name, *far_name;
	int fd;
	struct sockaddr_storage edge;     /* its own edge's listener */
	struct sockaddr_storage far_edge; /* the far edge's as its own edge reaches it */
	struct stun_cred own, far;      /* its account on each edge */
	struct fed_av_stream out;         /* what it sends */
	struct fed_av_expect expect;      /* what it receives */
	struct fed_av_client *res;
	struct fed_av_dir *tx, *rx;
	struct client *peer;
	struct fed_av_tcp_conn *tcp; /* the TCP variant's connection state */
	bool own_made, inner_made;

	/* The transaction waited for, and its answer. */
	bool waiting;
	uint8_t want[STUN_TID_LEN];
	uint8_t answer[STUN_MAX_MSG_LEN];
	size_t answer_len;
	int sock_err;

	/* Media. */
	bool permit_seen; /* the far client's permit packet reached us */
	uint8_t *seen;    /* a bit per packet of expect.in */
	uint32_t highest;
	bool any;
	double tx_first, tx_last, rx_last;
};

/* How a client's message travels. */
enum fed_av_way {
	FED_AV_WAY_OWN,   /* a request to its own edge (or the permit's Send) */
	FED_AV_WAY_INNER, /* a request to the far edge, through its own allocation */
	FED_AV_WAY_MEDIA, /* an RTP packet (framed when the transport says so) */
};

/* What the UDP and the TCP variant do differently. */
struct transport {
	/* In sentences: the far edge's listener, the firewall rows its leg
	 * between the edges crosses, out of the near site and into the far, and
	 * what else a silence on that leg may mean. */
	const char *listener, *row_out, *row_in, *or_else;
	bool resend; /* requests again every RTO (UDP); once on a reliable stream (TCP) */
	bool framed; /* RTP in RFC 4571 frames: the relayed legs are byte streams */
	/* The client's socket (at the start), 0 or fed_av_fail's return. */
	int (*open)(struct run *R, struct client *c);
	/* Before the own (inner false) or the inner Allocate: what the
	 * transport needs first (TCP: its connection and the pseudo-TLS hello);
	 * NULL for nothing. 0 or fed_av_fail's return. */
	int (*connect)(struct run *R, struct client *c, bool inner);
	/* The bytes to write for a message or packet going the way way. 0, or
	 * ENOSPC, EMSGSIZE, EIO. */
	int (*wrap)(const struct client *c, enum fed_av_way way, const uint8_t *in, size_t len,
	            uint8_t *out, size_t cap, size_t *out_len);
	/* Writes them: 0, EAGAIN (no room now: later), or the socket's errno. */
	int (*send)(struct client *c, const uint8_t *buf, size_t len);
	/* Reads both clients' sockets until until (flow_now() seconds) or
	 * something came, each arrival through fed_av_arrived. */
	void (*pump)(struct run *R, double until);
	void (*close)(struct client *c); /* its state (the socket is closed for it) */
};

extern const struct transport fed_av_udp, fed_av_tcp;

struct run {
	const struct fed_av_opts *o;
	const struct transport *T;
	struct fed_av_result *r;
	struct client c[2];
	double start, deadline;
	int err; /* fed_av_run's return once failed */
};

/* --- fed_av_run.c ---------------------------------------------------------- */

/* The first failure wins: hop, why, code and the sentence go into the
 * result; returns err (or the first failure's) for the caller to pass on. */
__attribute__((format(printf, 6, 7))) int fed_av_fail(struct run *R, enum fed_av_hop hop,
                                                      enum fed_av_why why, int code, int err,
                                                      const char *fmt, ...);
const char *fed_av_str(const struct sockaddr_storage *sa, char buf[ADDR_STR_MAX]);

/* The legs a client's exchanges cross: to its own edge, its own edge's
 * relay to the far edge, and its own edge relaying to itself. */
enum fed_av_hop fed_av_own_hop(const struct run *R, const struct client *c);
enum fed_av_hop fed_av_cross_hop(const struct run *R, const struct client *c);
enum fed_av_hop fed_av_relay_hop(const struct run *R, const struct client *c);

/* Nothing came back through c's own relay from the far edge, which what
 * says ("the Allocate to edge B (...) sent through edge A's relay (...) got
 * no answer in 1.5 s"): the far client's own exchanges proved the far edge
 * answers on the internet segment, so the leg between the edges it is. */
int fed_av_fail_unreached(struct run *R, struct client *c, int err, const char *what);

/* One classified arrival at client (a struct client *): an answer awaited,
 * the far client's permit, media, or a stray. */
void fed_av_arrived(void *client, const struct fed_av_datagram *d);

/* A request of c's on its own edge or (inner) on the far edge through its
 * own allocation, until its answer (0 and a), until (ETIMEDOUT), a socket
 * error, msturn_answer_read's errors or the encoder's; *sent: how often it
 * went out. */
int fed_av_request(struct run *R, struct client *c, bool inner, const struct msturn_req *q,
                   double until, struct msturn_answer *a, unsigned *sent);

/* Why a request failed, as the end of a sentence in buf ("got no answer in
 * 1.5 s (3 requests)"), and fed_av_run's return in *err; NONE when it did
 * not. */
enum fed_av_why fed_av_outcome(int rc, const struct msturn_answer *a, unsigned sent, double t0,
                               char *buf, size_t cap, int *err);

/* --- the stages: 0 or fed_av_fail's return ------------------------------- */

int fed_av_own_allocate(struct run *R, struct client *c);    /* fed_av_setup.c */
int fed_av_own_active_dest(struct run *R, struct client *c); /* ... */
int fed_av_inner_allocate(struct run *R, struct client *c);
int fed_av_inner_active_dest(struct run *R, struct client *c);
/* Every allocation made, inner ones first, within DELETE_MS. */
void fed_av_delete_all(struct run *R);
int fed_av_permission(struct run *R); /* fed_av_media_stage.c */
int fed_av_media(struct run *R);

#endif
