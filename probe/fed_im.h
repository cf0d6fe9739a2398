/* IM end to end between two federated edges (issue 14, point 3), the
 * clients' side. One process plays a remote client of each site, from the
 * internet segment: each opens TLS to its own edge's 443, verifying the
 * edge's certificate against its own site's CA and the edge's name, and
 * registers there (answering a Digest challenge when it has a password).
 * Then a's user sends a MESSAGE to b's user, and b's to a's: edge A carries
 * a -> b to edge B over MTLS 5061 (A's row 2, B's row 1), and the other way
 * for b -> a. The callee's client checks what arrives (the body's random
 * marker, From, To), answers 200, and the caller waits for the final
 * response (1xx ignored). A client that is not ours (external: baresip, a
 * Lync client) can stand in for one user.
 *
 * Blocking; every connect, handshake and read is bounded. Never logs: the
 * result says how far each direction got, the status the caller got and,
 * when it failed, the hop at fault as far as the clients can tell, with a
 * sentence. The connections close (bindings with them) before it returns. */
#ifndef EDGELAB_PROBE_FED_IM_H
#define EDGELAB_PROBE_FED_IM_H

#include <stdbool.h>
#include <sys/socket.h>

#define FED_IM_TIMEOUT_DEFAULT 5000 /* ms */
#define FED_IM_REASON_MAX      128
#define FED_IM_WHY_MAX         600
#define FED_IM_BODY_MAX        200

struct fed_im_user {
	struct sockaddr_storage edge; /* its own edge's TLS listener (443), with the port */
	const char *edge_fqdn;        /* the name that certificate must carry: "sip.a.example" */
	const char *ca_file;          /* its own site's CA */
	const char *aor_user;         /* "alice" */
	const char *domain;           /* "a.example": the edge's SIP domain */
	const char *password;         /* answers a 401 Digest challenge; NULL: none */
	bool skip_register;           /* connect but send no REGISTER: the edge has no
	                               * binding, the other's MESSAGE should get 480 */
	bool external;                /* another client plays this user: ours neither
	                               * connects nor sends as it, and a 200 towards it
	                               * is taken as delivered, unchecked */
};

/* Which directions run, in this order. */
enum {
	FED_IM_A_TO_B = 1u << 0,
	FED_IM_B_TO_A = 1u << 1,
	FED_IM_BOTH = FED_IM_A_TO_B | FED_IM_B_TO_A,
};

struct fed_im_opts {
	struct fed_im_user a, b;
	unsigned directions; /* FED_IM_*; 0 is both */
	unsigned timeout_ms; /* bounds each step: one client's connect, handshake and
	                      * REGISTER; one MESSAGE's exchange. 0: FED_IM_TIMEOUT_DEFAULT */
};

/* How far one direction got; each stage implies the ones before. */
enum fed_im_stage {
	FED_IM_STAGE_NONE,       /* the caller has no registered connection: nothing sent */
	FED_IM_STAGE_REGISTERED, /* the caller is registered (skip_register: connected);
	                          * the callee's client: see fed_im_client */
	FED_IM_STAGE_SENT,       /* the MESSAGE went to the caller's edge */
	FED_IM_STAGE_RECEIVED,   /* the callee's client got it, marker, From and To
	                          * right, and answered 200 */
	FED_IM_STAGE_DELIVERED,  /* that 200 came back to the caller: PASS */
};

/* What failed, named by the hop along caller -> caller's edge -> callee's
 * edge -> callee; the first one that failed. */
enum fed_im_fault {
	FED_IM_FAULT_NONE,
	FED_IM_FAULT_LOCAL,           /* our own set-up: a CA file, a socket, memory */
	FED_IM_FAULT_CALLER_CONNECT,  /* caller -> its edge's 443: TCP refused, unreachable,
	                               * unanswered, or the connection closed */
	FED_IM_FAULT_CALLER_TLS,      /* caller -> its edge: the handshake (certificate,
	                               * name) */
	FED_IM_FAULT_CALLER_REGISTER, /* the caller's edge refused its REGISTER or did
	                               * not answer it */
	FED_IM_FAULT_REFUSED,         /* an edge refused the MESSAGE (a 4xx or 6xx other
	                               * than 404, 408, 480: 403 not a federation partner);
	                               * the reason phrase says which */
	FED_IM_FAULT_FEDERATION,      /* the caller's edge could not reach the callee's
	                               * over 5061: 408, or a 5xx (503 partner unreachable) */
	FED_IM_FAULT_CALLEE_UNKNOWN,  /* the callee's edge has no registration for the
	                               * callee: 404 or 480 */
	FED_IM_FAULT_CALLEE_CONNECT,  /* ... because the callee's client could not reach
	                               * its edge (as CALLER_CONNECT), */
	FED_IM_FAULT_CALLEE_TLS,      /* ... could not complete the handshake, */
	FED_IM_FAULT_CALLEE_REGISTER, /* ... or was refused its REGISTER */
	FED_IM_FAULT_NOT_DELIVERED,   /* the caller got 200, the callee's client nothing */
	FED_IM_FAULT_ALTERED,         /* the callee got it with another body, From or To */
	FED_IM_FAULT_RESPONSE_LOST,   /* the callee answered 200; the caller got no final
	                               * response, or another one */
	FED_IM_FAULT_LOST,            /* no final response and nothing at the callee: lost
	                               * between the caller's edge and the callee */
};

/* Where a fault sits on the path, for a report's rows. */
enum fed_im_hop {
	FED_IM_HOP_NONE,
	FED_IM_HOP_LOCAL,      /* this process */
	FED_IM_HOP_CALLER,     /* caller <-> its edge (the caller's site's row 3) */
	FED_IM_HOP_FEDERATION, /* edge <-> edge over 5061 (row 2 of one, row 1 of the other) */
	FED_IM_HOP_CALLEE,     /* the callee's edge <-> callee (its site's row 3) */
	FED_IM_HOP_UNKNOWN,    /* somewhere between: refused, lost, altered */
};

/* One client: its connection and REGISTER. */
struct fed_im_client {
	bool connected;                 /* TLS up, the edge's certificate verified */
	bool registered;                /* its REGISTER got 200 */
	int status;                     /* the REGISTER's final status; 0: none */
	char reason[FED_IM_REASON_MAX]; /* its reason phrase */
	char why[FED_IM_WHY_MAX];       /* a sentence: what happened */
	double connect_ms;              /* TCP and TLS */
	double register_ms;             /* REGISTER to its final response, a challenge included */
};

/* One direction: a MESSAGE from the caller to the callee. */
struct fed_im_dir {
	bool ran; /* asked for (opts.directions) and the caller not external */
	enum fed_im_stage stage;
	bool checked;                   /* the callee's client was ours and checked it */
	int status;                     /* the caller's final status; 0: none */
	char reason[FED_IM_REASON_MAX]; /* its reason phrase */
	enum fed_im_fault fault;
	char why[FED_IM_WHY_MAX];   /* a sentence: what happened, or why it failed */
	char body[FED_IM_BODY_MAX]; /* the text sent, its marker in it */
	double delivery_ms;         /* MESSAGE sent -> at the callee's client; 0: never */
	double rtt_ms;              /* MESSAGE sent -> the caller's final response; 0: none */
};

struct fed_im_result {
	struct fed_im_client a, b;
	struct fed_im_dir a_to_b, b_to_a;
};

/* Runs it all; fills r whatever happens. 0: every direction asked for was
 * delivered; EIO: one was not (r says which and why); EINVAL: o is not
 * usable (a name missing, both users external), said in r's whys. */
int fed_im_run(const struct fed_im_opts *o, struct fed_im_result *r);

/* Short names for reports: "delivered", "federation", "callee". */
const char *fed_im_stage_name(enum fed_im_stage s);
const char *fed_im_fault_name(enum fed_im_fault f);
const char *fed_im_hop_name(enum fed_im_hop h);
enum fed_im_hop fed_im_fault_hop(enum fed_im_fault f);

#endif
