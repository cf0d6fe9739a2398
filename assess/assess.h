/* edgelab assess: calls through an edge's relay, measured as Microsoft's
 * Network Assessment Tool measures them (assess/stats.h) and judged on
 * Microsoft's targets; with a ramp, the most concurrent calls the path
 * carries within them (docs/assess.md).
 *
 * A call allocates on the edge's STUN/TURN port (MS-TURN or RFC 5766, over
 * UDP or TCP), points its allocation at the reflector (MS-TURN's Set Active
 * Destination, RFC 5766's ChannelBind), and streams RTP-sized packets at a
 * codec's rate; the reflector sends each back the way it came, through the
 * relay, and the call reads it back. The reflector runs in this process
 * unless another runs it (`edgelab assess --reflect-only`). One thread, one
 * event loop; the process's own CPU share is reported beside each step, so
 * that a caller at its limit is not taken for the path's. */
#ifndef EDGELAB_ASSESS_ASSESS_H
#define EDGELAB_ASSESS_ASSESS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <time.h>

#include "assess/stats.h"

#define ASSESS_MAX_CALLS 2000
/* A call's longest: its allocation and permission are not refreshed, and
 * RFC 5766's permissions last 300 s (Microsoft's tool makes 17 s calls). */
#define ASSESS_MAX_DURATION 240 /* seconds */
/* Packets kept for a whole step (16 bytes each): 320 MB at most. */
#define ASSESS_MAX_STEP_PACKETS 20000000u
#define ASSESS_ERR_MAX          160
/* The reflector's port by default: a far edge's STUN/TURN port, where the
 * port table's row 5 lets an edge's relay send. */
#define ASSESS_REFLECTOR_PORT 3478

enum assess_dialect { ASSESS_DIALECT_MSTURN, ASSESS_DIALECT_RFC5766 };
/* How a call reaches the server: UDP, TCP, or TCP opened with MS-TURN's
 * pseudo-TLS hello (an A/V edge's 443). Over TCP, RFC 5766 relays over
 * UDP still (its stream: STUN messages and ChannelData); MS-TURN relays
 * over TCP (its allocation connects out to the reflector, row 4), its
 * packets RFC 4571 frames in that byte stream (assess/packet.h). */
enum assess_transport { ASSESS_TRANSPORT_UDP, ASSESS_TRANSPORT_TCP, ASSESS_TRANSPORT_PSEUDO_TLS };

struct assess_opts {
	struct sockaddr_storage server;    /* the edge's STUN/TURN address (UDP or TCP) */
	struct sockaddr_storage reflector; /* where the relay sends the calls' packets */
	bool reflect_here;                 /* run the reflector, bound to reflector */
	const char *user, *pass;
	enum assess_dialect dialect;
	enum assess_transport transport;
	enum assess_profile profile;
	uint32_t calls;      /* concurrent calls; with a ramp, the most tried */
	uint32_t ramp_step;  /* 0: one step; else ramp_step, 2 ramp_step... up to calls */
	uint32_t duration_s; /* each call's media */
	uint32_t rate;       /* packets a second */
	uint32_t size;       /* bytes a packet (ASSESS_PKT_MIN..ASSESS_PKT_MAX) */
	uint32_t setup_ms;   /* a call's bound to allocate and point at the reflector */
	uint32_t grace_ms;   /* after the last packet, waiting for it */
};

/* Whether the calls' relayed side is TCP: the reflector must listen on it. */
bool assess_relays_over_tcp(const struct assess_opts *o);

/* One call of a step. */
struct assess_call {
	uint32_t id;
	time_t start;               /* wall clock when it began streaming; 0: never */
	char error[ASSESS_ERR_MAX]; /* why it failed (it never streamed, or its TCP stream was lost)
	                             */
	struct sockaddr_storage relayed;
	struct assess_stats stats;
	unsigned miss;           /* assess_judge's mask on the opts' profile */
	struct assess_bin *bins; /* its seconds, for the report's plot */
	uint32_t nbins;
};

struct assess_step {
	uint32_t calls;
	uint32_t met;       /* calls that met every target */
	uint32_t failed;    /* calls that never streamed */
	double cpu;         /* this process's CPU over the step, in cores (1.0: one busy core) */
	uint64_t reflected; /* packets the reflector here sent back */
	struct assess_call *call; /* [calls] */
};

struct assess_result {
	struct assess_step *steps;
	uint32_t nsteps;
	uint32_t capacity; /* the most calls of a step whose every call met every target */
	bool ramp_stopped; /* a step missed, so the ramp went no further */
};

/* Runs the steps. 0 with r filled (whatever the calls' fate), or an errno
 * code with err written when it could not run (the reflector's address
 * taken, no memory, no sockets left). */
int assess_run(const struct assess_opts *o, struct assess_result *r, char *err, size_t err_len);
void assess_result_free(struct assess_result *r);

/* The reflector's address by default: the one this host's packets to
 * server leave from, port ASSESS_REFLECTOR_PORT. 0 or an errno code (no
 * route). */
int assess_reflector_default(const struct sockaddr_storage *server, struct sockaddr_storage *out);

/* Only the reflector, on addr, until SIGINT or SIGTERM (the far side of a
 * relay on another host): UDP, and TCP when the port is free there; once
 * it listens, "reflecting on ADDR, UDP and TCP" (or "..., UDP only (why)")
 * and a newline go to ready (NULL: nowhere), flushed, for whoever waits
 * for it. 0 or an errno code with err written (UDP could not listen). */
int assess_reflect(const struct sockaddr_storage *addr, FILE *ready, char *err, size_t err_len);

#endif
